//! What `predict` checks before it answers, so that a mistake is refused (exit 2, naming the fix)
//! or warned about instead of silently answered: a league the models dir does not know, a club
//! name that is a typo of a known one, two clubs of another league, a club with no history,
//! fixtures dated before the end of a model's training data, and a model that did no better than
//! its baseline on validation.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rustc_hash::FxHashMap;

use crate::data::date::Date;
use crate::data::matches::Dataset;
use crate::data::names;
use crate::exit::CommandError;
use crate::models::model_type::Fixture;

/// Fixture rows a refusal names before it says `...`.
const LISTED: usize = 10;

/// A league with neither a directory in the models dir nor matches in the data dir is unknown:
/// refused with the known leagues. (One with data but no model yet goes on, to be refused with
/// exit 1 for want of a model.)
pub fn league_known(
    models_dir: &Path,
    data_dir: &Path,
    as_of: Date,
    league: &str,
) -> Result<(), CommandError> {
    if models_dir.join("leagues").join(league).is_dir() {
        return Ok(());
    }
    let in_data: Vec<String> =
        crate::data::load_data_dir_as_of(data_dir, crate::data::Columns::Required, as_of)
            .map(|l| l.dataset.leagues.into_keys().collect())
            .unwrap_or_default();
    if in_data.iter().any(|l| l == league) {
        return Ok(());
    }
    if !models_dir.is_dir() {
        return Err(CommandError::usage(anyhow::anyhow!(
            "models dir {} does not exist (wrong --models-dir or working directory?)",
            models_dir.display()
        )));
    }
    let mut known = crate::store::detect::leagues_in_models_dir(models_dir);
    known.extend(in_data);
    known.sort();
    known.dedup();
    let close = names::suggest(league, known.iter().map(String::as_str), 3);
    Err(CommandError::usage(anyhow::anyhow!(
        "unknown league {league:?}: the models dir {} has no models for it{}; known leagues: {}",
        models_dir.display(),
        names::did_you_mean(&close),
        if known.is_empty() {
            "none (train first)".to_string()
        } else {
            known.join(", ")
        }
    )))
}

/// Where each club played: its leagues with their first and last match dates.
struct Clubs<'a> {
    by_club: FxHashMap<&'a str, BTreeMap<&'a str, (Date, Date)>>,
}

impl<'a> Clubs<'a> {
    /// Each league's clubs and spans first (one small map a league), then joined by club.
    fn new(dataset: &'a Dataset) -> Clubs<'a> {
        let mut by_club: FxHashMap<&str, BTreeMap<&str, (Date, Date)>> = FxHashMap::default();
        for (slug, l) in &dataset.leagues {
            let mut spans: FxHashMap<&str, (Date, Date)> = FxHashMap::default();
            for m in &l.matches {
                for club in [&m.home, &m.away] {
                    let span = spans.entry(club.as_ref()).or_insert((m.date, m.date));
                    span.0 = span.0.min(m.date);
                    span.1 = span.1.max(m.date);
                }
            }
            for (club, span) in spans {
                by_club.entry(club).or_default().insert(slug.as_str(), span);
            }
        }
        Clubs { by_club }
    }

    fn first_seen(&self, club: &str) -> Option<Date> {
        self.by_club.get(club)?.values().map(|s| s.0).min()
    }

    fn played_in(&self, club: &str, league: &str) -> bool {
        self.by_club
            .get(club)
            .is_some_and(|l| l.contains_key(league))
    }

    /// The league a club played in most recently.
    fn latest_league(&self, club: &str) -> Option<&'a str> {
        self.by_club
            .get(club)?
            .iter()
            .max_by_key(|(_, span)| span.1)
            .map(|(slug, _)| *slug)
    }

    fn of_league(&self, league: &str) -> Vec<&'a str> {
        let mut clubs: Vec<&str> = self
            .by_club
            .iter()
            .filter(|(_, l)| l.contains_key(league))
            .map(|(c, _)| *c)
            .collect();
        clubs.sort_unstable();
        clubs
    }
}

/// Checks every fixture's clubs against the match history, for every model type.
///
/// Refused (exit 2, all such rows named): a club the data never saw whose name is close to a club
/// of the league (a typo: `Man Utd` for `Man United`), and a fixture whose two clubs never played
/// in the league but did play in another one (the wrong `--league`). Warned about on stderr: a
/// club the data never saw and no club's name is close to (a new club: the models use their
/// newcomer defaults), a club that played only in other leagues (promoted or relegated: the
/// Poisson model gives it the promoted-team prior), and a club with no match before the
/// fixture's date.
pub fn check_clubs(
    league: &str,
    fixtures: &[Fixture],
    dataset: &Dataset,
) -> Result<(), CommandError> {
    let clubs = Clubs::new(dataset);
    let league_clubs = clubs.of_league(league);
    let mut refusals = Vec::new();
    for (i, f) in fixtures.iter().enumerate() {
        let row = format!("fixture row {} ({} {} - {})", i + 1, f.date, f.home, f.away);
        let outside: Vec<&str> = [&f.home, &f.away]
            .into_iter()
            .map(|c| c.as_ref())
            .filter(|c| !clubs.played_in(c, league))
            .collect();
        if outside.len() == 2 {
            let (h, a) = (
                clubs.latest_league(outside[0]),
                clubs.latest_league(outside[1]),
            );
            if let (Some(h), Some(a)) = (h, a) {
                let where_ = if h == a {
                    format!("they play in {h} (--league {h}?)")
                } else {
                    format!("{} plays in {h}, {} in {a}", outside[0], outside[1])
                };
                refusals.push(format!(
                    "{row}: {} and {} never played in {league}; {where_}",
                    outside[0], outside[1]
                ));
                continue;
            }
        }
        for club in outside.iter().copied() {
            match clubs.latest_league(club) {
                Some(other) => tracing::warn!(
                    "{row}: {club} has no match in {league} in the data (it played in {other}): \
                     the models treat it as a newcomer to {league} (Poisson: promoted-team prior)"
                ),
                None => {
                    let close = names::suggest(club, league_clubs.iter().copied(), 3);
                    if close.is_empty() {
                        tracing::warn!(
                            "{row}: {club:?} has no match anywhere in the data and no club of \
                             {league} has a close name: a new club? the models use their newcomer \
                             defaults (Poisson: promoted-team prior)"
                        );
                    } else {
                        refusals.push(format!(
                            "{row}: {club:?} has no match in the data{}",
                            names::did_you_mean(&close)
                        ));
                    }
                }
            }
        }
        let no_history: Vec<&str> = [&f.home, &f.away]
            .into_iter()
            .map(|c| c.as_ref())
            .filter(|c| clubs.first_seen(c).is_some_and(|d| d >= f.date))
            .collect();
        if !no_history.is_empty() {
            tracing::warn!(
                "{row}: no history before {} for {}: its features use defaults",
                f.date,
                no_history.join(" and ")
            );
        }
    }
    if refusals.is_empty() {
        return Ok(());
    }
    let n = refusals.len();
    let mut listed: Vec<String> = refusals.into_iter().take(LISTED).collect();
    if n > LISTED {
        listed.push(format!("... and {} more", n - LISTED));
    }
    Err(CommandError::usage(anyhow::anyhow!(
        "{n} fixture{} refused (fix the club names or --league; nothing was predicted): {}",
        if n == 1 { "" } else { "s" },
        listed.join("; ")
    )))
}

/// Warns when fixtures are dated on or before the last match a model was trained on: their
/// results may be in its training data, so its probabilities are not forecasts.
pub fn warn_past_fixtures(league: &str, fixtures: &[Fixture], trained_to: &[(&str, Date)]) {
    for (model, last) in trained_to {
        let past: BTreeSet<usize> = fixtures
            .iter()
            .enumerate()
            .filter(|(_, f)| f.date <= *last)
            .map(|(i, _)| i + 1)
            .collect();
        if let Some(first) = past.first() {
            tracing::warn!(
                "{league} {model}: {} fixture(s) (row {first} first) are dated on or before {last}, \
                 the last match it was trained on: their results may be in its training data",
                past.len()
            );
        }
    }
}

/// Warns when the model in `dir` did no better than its baseline on validation (its metrics.json
/// `validation_check`, written when it was trained): its probabilities add nothing over it.
pub fn warn_weak_model(league: &str, model: &str, dir: &Path) {
    let Some(check) = std::fs::read(dir.join("metrics.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|m| m.get("validation_check").cloned())
    else {
        return;
    };
    if check["beats_baseline"] == false {
        tracing::warn!(
            "{league} {model}: on validation it did no better than the {} ({} {} against {}): \
             its probabilities add nothing over it",
            check["baseline"].as_str().unwrap_or("baseline"),
            check["metric"].as_str().unwrap_or_default(),
            check["model"],
            check["baseline_value"]
        );
    }
}
