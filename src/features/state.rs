//! The feature pass as a state that is advanced instead of rebuilt: a backtest day, a
//! `--replay day` morning or a refit adds a handful of matches to what the state has already
//! learnt, and answers its queries from there, so it costs what the new matches cost rather than
//! a replay of the league's whole history. It applies matches in exactly the order of the
//! one-pass [`compute`](super::compute) (date, then league, home, away) and answers a query from
//! the matches dated strictly before it, so its features are bit for bit those of the full pass.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{bail, Result};

use super::{finite, Engine, FeatureCache, LeagueRows, Query, RawFeatures};
use crate::data::date::Date;
use crate::data::matches::{Dataset, Match};
use crate::models::model_type::Fixture;

/// The feature pass after every match dated before [`FeatureState::morning`].
///
/// Advance it with a dataset that extends the one it was advanced with before (the same matches
/// plus later ones, as each morning of a replay does): matches already applied are found by
/// position (each league's matches are sorted by date), and a match dated before the morning
/// that was not applied is refused rather than applied out of order.
#[derive(Default)]
pub struct FeatureState {
    engine: Engine,
    /// How many matches of each league are applied (a prefix of the league's matches).
    applied: BTreeMap<String, usize>,
    /// Every match dated before this day is applied, none dated on or after it.
    morning: Option<Date>,
    /// Each league's training rows (the warm rows of the matches applied), when kept.
    rows: Option<BTreeMap<String, Arc<LeagueRows>>>,
}

impl FeatureState {
    /// A state that has applied nothing.
    pub fn new() -> FeatureState {
        FeatureState::default()
    }

    /// A state that also keeps each league's training rows as it applies matches (what a
    /// [`FeatureCache`] of the applied data would compute): for a caller that trains as it goes.
    pub fn keeping_rows() -> FeatureState {
        FeatureState {
            rows: Some(BTreeMap::new()),
            ..FeatureState::default()
        }
    }

    /// The day the state stands at: every match dated before it has been applied.
    pub fn morning(&self) -> Option<Date> {
        self.morning
    }

    /// Applies every match of `dataset` dated before `day` that is not applied yet (the morning
    /// of `day`). Fails when `day` is before the state's morning or `dataset` does not extend
    /// the data applied so far.
    pub fn advance_to(&mut self, dataset: &Dataset, day: Date) -> Result<()> {
        if let Some(m) = self.morning {
            if day < m {
                bail!("the feature state stands at {m} and cannot go back to {day}");
            }
        }
        let mut new: Vec<(&str, &Match)> = Vec::new();
        for (slug, league) in &dataset.leagues {
            let start = self.applied.get(slug).copied().unwrap_or(0);
            let end = league.matches.partition_point(|m| m.date < day);
            if end < start {
                bail!("{slug}: the data holds fewer matches than the feature state applied");
            }
            let added = &league.matches[start..end];
            if let (Some(first), Some(morning)) = (added.first(), self.morning) {
                if first.date < morning {
                    bail!(
                        "{slug}: a match dated {} arrived after the feature state reached {morning}",
                        first.date
                    );
                }
            }
            new.extend(added.iter().map(|m| (slug.as_str(), m)));
            self.applied.insert(slug.clone(), end);
            if let Some(rows) = self.rows.as_mut() {
                rows.entry(slug.clone())
                    .or_insert_with(|| Arc::new(LeagueRows::empty()));
            }
        }
        new.sort_by(|a, b| {
            (a.1.date, a.0, &a.1.home, &a.1.away).cmp(&(b.1.date, b.0, &b.1.home, &b.1.away))
        });
        for day_matches in new.chunk_by(|a, b| a.1.date == b.1.date) {
            self.keep_rows(day_matches)?;
            for &(slug, m) in day_matches {
                self.engine.apply(slug, m);
            }
        }
        self.morning = Some(day);
        Ok(())
    }

    /// The training rows of one day's matches, each from the state before that day.
    fn keep_rows(&mut self, day_matches: &[(&str, &Match)]) -> Result<()> {
        let Some(rows) = self.rows.as_mut() else {
            return Ok(());
        };
        for &(slug, m) in day_matches {
            let f = finite(self.engine.features(&Query::of_match(slug, m)))?;
            let league = rows
                .entry(slug.to_string())
                .or_insert_with(|| Arc::new(LeagueRows::empty()));
            Arc::make_mut(league).push(m, f);
        }
        Ok(())
    }

    /// The features of `q` from the state as it stands (the matches dated before the morning).
    /// Fails when `q` is dated before the morning (the state has seen matches after it).
    pub fn features(&self, q: &Query) -> Result<RawFeatures> {
        if let Some(m) = self.morning {
            if q.date < m {
                bail!(
                    "a query dated {} is before the feature state's morning {m}",
                    q.date
                );
            }
        }
        finite(self.engine.features(q))
    }

    /// The features of `fixtures` of `league`, in input order, each from the matches of
    /// `dataset` dated strictly before it: advances the state to each fixture's date in turn
    /// (what [`compute`](super::compute) gives for the same dataset).
    pub fn fixture_features(
        &mut self,
        dataset: &Dataset,
        league: &str,
        fixtures: &[Fixture],
    ) -> Result<Vec<RawFeatures>> {
        let mut order: Vec<usize> = (0..fixtures.len()).collect();
        order.sort_by_key(|&i| fixtures[i].date);
        let mut out: Vec<Option<RawFeatures>> = vec![None; fixtures.len()];
        for i in order {
            let f = &fixtures[i];
            if self.morning.is_none_or(|m| m < f.date) {
                self.advance_to(dataset, f.date)?;
            }
            out[i] = Some(self.features(&Query {
                date: f.date,
                league,
                home: &f.home,
                away: &f.away,
                extras: &f.extras,
            })?);
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Each league's training rows so far (`None` unless made by [`FeatureState::keeping_rows`]).
    pub fn rows(&self) -> Option<&BTreeMap<String, Arc<LeagueRows>>> {
        self.rows.as_ref()
    }

    /// A feature cache holding the rows kept so far, for trainers of the data applied (the
    /// rows are shared, not copied; the next advance copies a league's rows only while a cache
    /// still holds them).
    pub fn cache(&self) -> Option<FeatureCache> {
        self.rows.clone().map(FeatureCache::from_rows)
    }
}
