//! Typed league matches: what the loader produces and every model consumes. One league's
//! matches are validated, de-duplicated and sorted by date before any model sees them.

use std::sync::Arc;

use crate::data::date::Date;

/// Numeric columns of a row beyond the required ones (odds, shots, ...), kept by name so models
/// can use what a file happens to carry. Missing or non-numeric cells are absent.
///
/// Compact: the rows of one file share one sorted list of column names and each row holds only
/// its values (NaN marks an absent cell; the loader never stores a non-finite number). With
/// about a hundred columns a row this is a sixth of the memory of (name, value) pairs, and
/// memory that is never allocated is never zeroed by the kernel either.
#[derive(Clone, Debug, Default)]
pub struct Extras {
    /// Sorted, without duplicates; shared by every row of a file.
    names: Arc<[Arc<str>]>,
    /// `values[i]` belongs to `names[i]`.
    values: Box<[f32]>,
}

impl Extras {
    /// Builds from (name, value) pairs; later duplicates of a name are dropped.
    pub fn from_pairs(mut pairs: Vec<(Arc<str>, f32)>) -> Extras {
        pairs.retain(|(_, v)| v.is_finite());
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|a, b| a.0 == b.0);
        let (names, values): (Vec<Arc<str>>, Vec<f32>) = pairs.into_iter().unzip();
        Extras {
            names: names.into(),
            values: values.into(),
        }
    }

    /// A row of a file: `names` sorted and unique, `values` of the same length with NaN for
    /// absent cells. Panics if the lengths differ (a bug in the caller, not bad data).
    pub fn from_columns(names: Arc<[Arc<str>]>, values: Box<[f32]>) -> Extras {
        assert_eq!(names.len(), values.len(), "one value per extra column");
        debug_assert!(names.windows(2).all(|w| w[0] < w[1]));
        Extras { names, values }
    }

    /// The value of column `name`, if the row had a number there.
    pub fn get(&self, name: &str) -> Option<f64> {
        let i = self.names.binary_search_by(|n| n.as_ref().cmp(name)).ok()?;
        let v = self.values[i];
        (!v.is_nan()).then_some(v as f64)
    }

    /// The present (name, value) pairs, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.names
            .iter()
            .zip(self.values.iter())
            .filter(|(_, v)| !v.is_nan())
            .map(|(n, v)| (n.as_ref(), *v as f64))
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

/// Reads a fixed list of columns from many rows, finding the columns once for every run of rows
/// that share their column list (the rows of one file) instead of once a row.
#[derive(Debug)]
pub struct ColumnReader<'c> {
    columns: &'c [&'c str],
    /// The column list the slots were found in, and each wanted column's slot in it.
    names: Option<Arc<[Arc<str>]>>,
    slots: Vec<Option<usize>>,
}

impl<'c> ColumnReader<'c> {
    pub fn new(columns: &'c [&'c str]) -> ColumnReader<'c> {
        ColumnReader {
            columns,
            names: None,
            slots: Vec::new(),
        }
    }

    /// The bits of the row's stored `f32` value of each column (in the reader's order), all ones
    /// where it has none: what a fingerprint of the values hashes.
    pub fn read_bits(&mut self, extras: &Extras, out: &mut [u32]) {
        self.find_slots(extras);
        for (o, slot) in out.iter_mut().zip(&self.slots) {
            *o = match slot.map(|i| extras.values[i]) {
                Some(v) if !v.is_nan() => v.to_bits(),
                _ => u32::MAX,
            };
        }
    }

    /// The row's value of each column (in the reader's order), NaN where it has none.
    pub fn read(&mut self, extras: &Extras, out: &mut [f64]) {
        self.find_slots(extras);
        for (o, slot) in out.iter_mut().zip(&self.slots) {
            *o = slot.map_or(f64::NAN, |i| f64::from(extras.values[i]));
        }
    }

    /// Finds the columns in the row's column list, unless it is the list of the row before.
    fn find_slots(&mut self, extras: &Extras) {
        if !self
            .names
            .as_ref()
            .is_some_and(|n| Arc::ptr_eq(n, &extras.names))
        {
            self.slots = self
                .columns
                .iter()
                .map(|c| extras.names.binary_search_by(|n| n.as_ref().cmp(c)).ok())
                .collect();
            self.names = Some(extras.names.clone());
        }
    }
}

/// Equal when the same columns hold the same numbers (however the rows are stored).
impl PartialEq for Extras {
    fn eq(&self, other: &Extras) -> bool {
        self.iter().eq(other.iter())
    }
}

/// One played match.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub date: Date,
    pub home: Arc<str>,
    pub away: Arc<str>,
    pub home_goals: u8,
    pub away_goals: u8,
    pub extras: Extras,
}

impl Match {
    /// The 1X2 outcome: 0 home win, 1 draw, 2 away win.
    pub fn outcome(&self) -> usize {
        match self.home_goals.cmp(&self.away_goals) {
            std::cmp::Ordering::Greater => 0,
            std::cmp::Ordering::Equal => 1,
            std::cmp::Ordering::Less => 2,
        }
    }

    /// Numeric extra column by name.
    pub fn extra(&self, name: &str) -> Option<f64> {
        self.extras.get(name)
    }
}

/// Every usable match of one league, sorted by (date, home, away), without duplicates.
#[derive(Clone, Debug)]
pub struct LeagueMatches {
    pub league: String,
    pub matches: Vec<Match>,
}

impl LeagueMatches {
    pub fn len(&self) -> usize {
        self.matches.len()
    }

    pub fn is_empty(&self) -> bool {
        self.matches.is_empty()
    }

    pub fn first_date(&self) -> Option<Date> {
        self.matches.first().map(|m| m.date)
    }

    pub fn last_date(&self) -> Option<Date> {
        self.matches.last().map(|m| m.date)
    }

    /// The matches dated strictly before `date` (a prefix, since matches are sorted).
    pub fn before(&self, date: Date) -> &[Match] {
        let end = self.matches.partition_point(|m| m.date < date);
        &self.matches[..end]
    }
}

/// Every league of the data dir, by slug.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    pub leagues: std::collections::BTreeMap<String, LeagueMatches>,
}

impl Dataset {
    pub fn league(&self, slug: &str) -> Option<&LeagueMatches> {
        self.leagues.get(slug)
    }

    /// Every match of every league, sorted by date (ties: league, home, away), for features that
    /// follow a club across leagues. Each item carries its league slug.
    pub fn all_matches_by_date(&self) -> Vec<(&str, &Match)> {
        let mut all: Vec<(&str, &Match)> = self
            .leagues
            .iter()
            .flat_map(|(slug, l)| l.matches.iter().map(move |m| (slug.as_str(), m)))
            .collect();
        // Leagues come in slug order and each league's matches by (date, home, away), so a
        // stable sort by date alone gives the (date, league, home, away) order, without
        // comparing names.
        all.sort_by_key(|(_, m)| m.date);
        all
    }
}
