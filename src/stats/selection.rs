//! The one hyperparameter selection protocol of every model type (the Poisson decay, the logistic
//! models' L2 strength, their calibration): which matches a choice is made on, how they are
//! predicted while choosing, and what happens when there are too few of them. It exists so that
//! a model trained at a season boundary, one match into a season or in May chooses the same way:
//! windows are counted in matches (the latest ones, across season boundaries, at least a season's
//! worth of the league's matches), never "the latest season", which in August holds a handful of
//! matches and in October a few dozen.
//!
//! The protocol before this one (`Protocol::Season`: validation and calibration on the latest
//! seasons) stays selectable for comparison; its code lives with the model types.

use std::ops::Range;

use serde::Serialize;

use crate::data::date::Date;

/// How hyperparameters are chosen (`--selection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Protocol {
    /// Windows of the latest matches counted across season boundaries (a season's worth each);
    /// the Poisson decay is chosen on a replay of refits across its window.
    #[default]
    Window,
    /// The latest season validates and the one before calibrates (the earlier protocol, kept
    /// for comparison).
    Season,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Window => "window",
            Protocol::Season => "season",
        }
    }
}

/// The fewest matches a choice is made on: a window (or a calibration set) smaller than this
/// keeps the model type's stated default instead.
pub const MIN_CHOICE_MATCHES: usize = 100;

/// The validation replay refits every this many days across its window (each window match is
/// predicted by a fit on every match dated before the refit that precedes it).
pub const REFIT_DAYS: i32 = 28;

/// A season's worth of a league's matches: the median number of matches its seasons hold in
/// `seasons` (each match's season, in date order; the upper median of an even count), and never
/// fewer than [`MIN_CHOICE_MATCHES`]. The median, not the largest: a season that ran into July
/// (2019-20) puts its last rounds in the next season by date, which then looks too large.
pub fn season_size(seasons: &[i32]) -> usize {
    let mut sizes = Vec::new();
    let mut i = 0;
    while i < seasons.len() {
        let s = seasons[i];
        let j = i + seasons[i..].partition_point(|&x| x == s);
        sizes.push(j - i);
        i = j;
    }
    sizes.sort_unstable();
    sizes
        .get(sizes.len() / 2)
        .copied()
        .unwrap_or(0)
        .max(MIN_CHOICE_MATCHES)
}

/// Consecutive windows of the latest matches: `windows[last]` ends with the latest match.
#[derive(Debug, Clone, PartialEq)]
pub struct Windows {
    /// The matches before the first window (what a choice fits on).
    pub fit: Range<usize>,
    /// Oldest first; each holds at least `season_size` matches and starts on a match day's first
    /// match (a match day is never split between a window and what precedes it).
    pub windows: Vec<Range<usize>>,
    pub season_size: usize,
}

/// `count` windows of a season's worth of matches each, the last ending with the latest match,
/// and at least `min_fit` matches before the first. `dates` and `seasons` are per match, in date
/// order. `Err` names why not (too short a history): the caller falls back to its default.
pub fn latest_windows(
    dates: &[Date],
    seasons: &[i32],
    count: usize,
    min_fit: usize,
) -> Result<Windows, String> {
    let n = dates.len();
    let size = season_size(seasons);
    let mut end = n;
    let mut windows = Vec::with_capacity(count);
    for _ in 0..count {
        let Some(start) = end.checked_sub(size) else {
            return Err(too_short(n, size, count, min_fit));
        };
        // Back to the first match of that day.
        let start = dates[..start].partition_point(|d| *d < dates[start]);
        windows.push(start..end);
        end = start;
    }
    if end < min_fit {
        return Err(too_short(n, size, count, min_fit));
    }
    windows.reverse();
    Ok(Windows {
        fit: 0..end,
        windows,
        season_size: size,
    })
}

fn too_short(n: usize, size: usize, count: usize, min_fit: usize) -> String {
    format!(
        "{n} matches: fewer than {count} window(s) of a season's worth ({size} matches) plus {min_fit} to fit on"
    )
}

/// The refit schedule of a validation replay: refits happen every `days` days on a fixed
/// calendar grid (Mondays, counted from 1970-01-05), and `window` is split where one happens.
/// Each block comes with its refit date: it is predicted by a fit on every match dated before
/// that date (the first block's refit may precede the window). A fixed grid, not one counted
/// from the window's start, makes consecutive trainings (a nightly refresh) share their refits.
pub fn refit_blocks(dates: &[Date], window: Range<usize>, days: i32) -> Vec<(Date, Range<usize>)> {
    let days = days.max(1);
    let grid = |d: Date| Date(d.0 - (d.0 - 4).rem_euclid(days));
    let mut blocks = Vec::new();
    let mut start = window.start;
    while start < window.end {
        let refit = grid(dates[start]);
        let next = Date(refit.0 + days);
        let end = start + dates[start..window.end].partition_point(|d| *d < next);
        blocks.push((refit, start..end));
        start = end;
    }
    blocks
}

/// The place of a refit date on the grid of [`refit_blocks`]: consecutive refits of the grid
/// have consecutive indices (0 is 1970-01-05).
pub fn refit_index(refit: Date, days: i32) -> i32 {
    (refit.0 - 4).div_euclid(days.max(1))
}

/// One candidate value and its validation score.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Candidate {
    pub value: f64,
    pub score: f64,
}

/// The best candidate: the highest score, or the lowest with `lower_is_better`; ties keep the
/// earlier candidate. `None` for no finite score.
pub fn best(candidates: &[Candidate], lower_is_better: bool) -> Option<Candidate> {
    candidates
        .iter()
        .filter(|c| c.score.is_finite())
        .fold(None, |acc: Option<Candidate>, c| match acc {
            Some(b) if (lower_is_better && c.score >= b.score) => Some(b),
            Some(b) if (!lower_is_better && c.score <= b.score) => Some(b),
            _ => Some(*c),
        })
}

/// How many standard errors a candidate must beat the default by before it replaces it
/// ([`beats_default`]).
pub const MIN_STANDARD_ERRORS: f64 = 2.0;

/// Whether a candidate beats the stated default by more than [`MIN_STANDARD_ERRORS`] standard
/// errors of the paired per-match differences (`candidate score - default score`, higher is
/// better, one per window match): a best-of-many choice on one window is otherwise mostly the
/// window's noise (README, "Selection protocol"). Also returns the mean difference and its
/// standard error. Fewer than two matches never beat the default.
pub fn beats_default(differences: &[f64]) -> (bool, f64, f64) {
    let n = differences.len();
    if n < 2 {
        return (false, 0.0, 0.0);
    }
    let mean = differences.iter().sum::<f64>() / n as f64;
    let var = differences
        .iter()
        .map(|d| (d - mean) * (d - mean))
        .sum::<f64>()
        / (n - 1) as f64;
    let se = (var / n as f64).sqrt();
    (
        mean.is_finite() && se.is_finite() && mean > MIN_STANDARD_ERRORS * se,
        mean,
        se,
    )
}

/// What metrics.json says about a window: its first and last date and its size.
pub fn describe(dates: &[Date], r: &Range<usize>) -> serde_json::Value {
    match (
        dates.get(r.start),
        r.end.checked_sub(1).and_then(|e| dates.get(e)),
    ) {
        (Some(a), Some(b)) if r.start < r.end => serde_json::json!({
            "first_date": a.to_string(),
            "last_date": b.to_string(),
            "matches": r.len(),
        }),
        _ => serde_json::json!({"matches": 0}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_candidate_replaces_the_default_only_beyond_two_standard_errors() {
        // Mean 0.01, sd about 0.1 over 100 matches: SE about 0.01, one standard error.
        let noisy: Vec<f64> = (0..100)
            .map(|i| if i % 2 == 0 { 0.11 } else { -0.09 })
            .collect();
        let (beats, mean, se) = beats_default(&noisy);
        assert!(!beats);
        assert!((mean - 0.01).abs() < 1e-12);
        assert!(
            (se - 0.1 * (100.0f64 / 99.0).sqrt() / 10.0).abs() < 1e-12,
            "{se}"
        );
        // The same spread around a mean of 0.03 (three standard errors) does.
        let clear: Vec<f64> = noisy.iter().map(|d| d + 0.02).collect();
        assert!(beats_default(&clear).0);
        assert!(!beats_default(&[0.5]).0);
        assert!(!beats_default(&[]).0);
        assert!(!beats_default(&[f64::NAN, 1.0, 2.0]).0);
    }

    fn days(spec: &[(i32, usize)]) -> Vec<Date> {
        // `spec`: (day number, matches that day).
        spec.iter()
            .flat_map(|&(d, k)| std::iter::repeat_n(Date(d), k))
            .collect()
    }

    #[test]
    fn season_size_is_the_median_season() {
        assert_eq!(season_size(&[1; 50]), MIN_CHOICE_MATCHES);
        assert_eq!(season_size(&[]), MIN_CHOICE_MATCHES);
        // 2019-20 ended in July: 66 of its matches count in 2020-21 by date.
        let mut s = vec![2018; 380];
        s.extend(vec![2019; 314]);
        s.extend(vec![2020; 446]);
        s.extend(vec![2021; 380]);
        s.extend(vec![2022; 12]);
        assert_eq!(season_size(&s), 380);
    }

    #[test]
    fn windows_are_counted_in_matches_and_never_split_a_day() {
        // 1000 matches, 10 a day; one season of 1000 is too much, so use two seasons of 500.
        let dates = days(&(0..100).map(|d| (d, 10)).collect::<Vec<_>>());
        let mut seasons = vec![1; 500];
        seasons.extend(vec![2; 500]);
        let w = latest_windows(&dates, &seasons, 1, 100).unwrap();
        assert_eq!(w.windows, vec![500..1000]);
        assert_eq!(w.fit, 0..500);
        // A season of 505: the window starts on the first match of its day (495).
        let mut seasons = vec![1; 495];
        seasons.extend(vec![2; 505]);
        let w = latest_windows(&dates, &seasons, 2, 1).unwrap_err();
        assert!(w.contains("505 matches"), "{w}");
        let w = latest_windows(&dates, &seasons, 1, 100).unwrap();
        assert_eq!(w.windows, vec![490..1000]);
        assert_eq!(w.season_size, 505);
    }

    #[test]
    fn refits_every_few_weeks_across_the_window() {
        // Day 4 is a grid date (1970-01-05, a Monday); so are 32 and 60.
        let dates = days(&[(4, 3), (7, 2), (31, 1), (32, 4), (64, 2), (65, 1)]);
        assert_eq!(
            refit_blocks(&dates, 0..13, 28),
            vec![(Date(4), 0..6), (Date(32), 6..10), (Date(60), 10..13)]
        );
        // A window starting mid-period is predicted from the refit before it.
        assert_eq!(
            refit_blocks(&dates, 3..13, 28),
            vec![(Date(4), 3..6), (Date(32), 6..10), (Date(60), 10..13)]
        );
        assert!(refit_blocks(&dates, 5..5, 28).is_empty());
        assert_eq!(
            [4, 32, 60, -24].map(|d| refit_index(Date(d), 28)),
            [0, 1, 2, -1]
        );
    }

    #[test]
    fn best_keeps_the_first_of_equals() {
        let c = |value, score| Candidate { value, score };
        let cs = [c(0.0, -1.0), c(1.0, -0.5), c(2.0, -0.5), c(3.0, f64::NAN)];
        assert_eq!(best(&cs, false).unwrap().value, 1.0);
        assert_eq!(best(&cs, true).unwrap().value, 0.0);
        assert_eq!(best(&[c(1.0, f64::NAN)], true), None);
    }
}
