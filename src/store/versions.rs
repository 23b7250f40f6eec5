//! The lifecycle of one league x model type: every version published for it (where it lives,
//! its registry key), whether each version's directory is intact, which version is current and
//! whether that one is stale. Read-only; the plan, `status` and `predict` all ask here, so they
//! agree.
//!
//! Layout: the first version lives at the seed's path `leagues/<league>/<type>/`; a later one at
//! `leagues/<league>/<type>@<n>/` (n = 2, 3, ...). Keys: a league and type's first publication
//! keeps the seed's key `<type>_<league>_<version>`, the n-th one is `<seed key>@<n>`.
//! The current model is the intact version with the highest publication number (never the
//! registry's file order); entries that do not form one lineage leave no version current.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::data::date::Date;
use crate::data::matches::{ColumnReader, Dataset, LeagueMatches, Match};
use crate::models::model_type::{ModelSpec, ModelType};
use crate::store::detect;
use crate::store::manifest::{self, ManifestRead, MANIFEST_FILE};
use crate::store::pickle::{self, PickleKind};
use crate::store::registry::{
    OtherLeaguesSummary, RecordedEntry, Registry, RegistryEntry, TrainingDataSummary,
};

/// Separates a model type from the number of a later version in a directory name or key.
pub const VERSION_MARK: char = '@';

/// The directory name of version `n` of a model type.
pub fn version_dir_name(model_type: &str, n: u32) -> String {
    if n <= 1 {
        model_type.to_string()
    } else {
        format!("{model_type}{VERSION_MARK}{n}")
    }
}

/// `leagues/<league>/<dir name>`, the `path` a registry entry records (relative to the models dir).
pub fn rel_path(league: &str, model_type: &str, n: u32) -> String {
    format!("leagues/{league}/{}", version_dir_name(model_type, n))
}

/// The key of the n-th publication of a league and type.
pub fn version_key(seed_key: &str, n: u32) -> String {
    if n <= 1 {
        seed_key.to_string()
    } else {
        format!("{seed_key}{VERSION_MARK}{n}")
    }
}

/// Reads a directory name `<type>@<n>` (n >= 2) as (type, n); the plain type name is version 1.
pub fn parse_version_dir_name(name: &str) -> Option<(&str, u32)> {
    match name.split_once(VERSION_MARK) {
        None => Some((name, 1)),
        Some((ty, digits)) => {
            let n: u32 = digits.parse().ok()?;
            // Only the canonical spelling (`@2`, not `@02` or `@+2`) is a version.
            (n >= 2 && n.to_string() == digits).then_some((ty, n))
        }
    }
}

fn key_number(seed_key: &str, key: &str) -> Option<u32> {
    if key == seed_key {
        return Some(1);
    }
    let rest = key.strip_prefix(seed_key)?.strip_prefix(VERSION_MARK)?;
    rest.parse().ok().filter(|n| *n >= 2)
}

/// What a model type's training reads besides its league's dates, teams and goals: the other
/// columns of its training rows and, for a type whose features follow clubs across leagues,
/// the matches its clubs played in other leagues (with the columns read of those). From
/// [`ModelSpec`]; staleness compares exactly these.
#[derive(Debug, Clone, Copy)]
pub struct Reads<'s> {
    pub columns: &'s [&'s str],
    pub other_leagues: Option<&'s [&'s str]>,
}

impl Reads<'static> {
    /// What `spec`'s training reads.
    pub fn of(spec: &ModelSpec) -> Reads<'static> {
        Reads {
            columns: spec.columns_read,
            other_leagues: spec.other_leagues_read,
        }
    }
}

/// Matches, date range and SHA-256 fingerprints of the rows a model is trained on: of their
/// dates, teams and goals, of the other columns its training reads, and (types that read them)
/// of the matches its clubs played in other leagues before their last match here.
pub fn training_summary(rows: &LeagueRows, reads: Reads) -> TrainingDataSummary {
    let league = rows.league;
    TrainingDataSummary {
        matches: league.len(),
        first_date: league
            .first_date()
            .map(|d| d.to_string())
            .unwrap_or_default(),
        last_date: league
            .last_date()
            .map(|d| d.to_string())
            .unwrap_or_default(),
        fingerprint: fingerprint(&league.matches),
        inputs_fingerprint: Some(rows.inputs_of_first(reads.columns, league.len())),
        inputs_columns: Some(inputs_columns(reads.columns)),
        other_leagues: reads
            .other_leagues
            .map(|columns| rows.other_leagues_of_first(columns, league.len())),
    }
}

/// SHA-256 of the names of `columns`, one a line: which columns an inputs fingerprint covers.
pub fn inputs_columns(columns: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for name in columns {
        hasher.update(name.as_bytes());
        hasher.update(b"\n");
    }
    hex_fingerprint(hasher)
}

/// SHA-256 over each row's values of `columns` (the extra columns a model type's training reads,
/// in that order), four bytes a value: the bits of the stored `f32`, little-endian, or all ones
/// for a row without a number there. A corrected price of an earlier match changes the models
/// trained on it as a corrected score does.
pub fn inputs_fingerprint<'m>(
    rows: impl IntoIterator<Item = &'m Match>,
    columns: &[&str],
) -> String {
    use sha2::{Digest, Sha256};
    let mut reader = ColumnReader::new(columns);
    let mut bits = vec![0u32; columns.len()];
    let mut hasher = Sha256::new();
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    for m in rows {
        reader.read_bits(&m.extras, &mut bits);
        buf.extend(bits.iter().flat_map(|b| b.to_le_bytes()));
        if buf.len() >= (1 << 16) - 4 * columns.len() {
            hasher.update(&buf);
            buf.clear();
        }
    }
    hasher.update(&buf);
    hex_fingerprint(hasher)
}

/// SHA-256 over (date, home, away, goals) of each row, in order: one line
/// `date,home,away,home_goals,away_goals\n` a row.
pub fn fingerprint(matches: &[Match]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    // The lines are written by hand (no formatter): this runs over every row of a league for
    // each model published.
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    for m in matches {
        push_line(&mut buf, m);
        if buf.len() >= (1 << 16) - 512 {
            hasher.update(&buf);
            buf.clear();
        }
    }
    hasher.update(&buf);
    hex_fingerprint(hasher)
}

/// A row's fingerprint line.
fn push_line(buf: &mut Vec<u8>, m: &Match) {
    push_date(buf, m.date);
    buf.push(b',');
    buf.extend_from_slice(m.home.as_bytes());
    buf.push(b',');
    buf.extend_from_slice(m.away.as_bytes());
    buf.push(b',');
    push_decimal(buf, m.home_goals);
    buf.push(b',');
    push_decimal(buf, m.away_goals);
    buf.push(b'\n');
}

/// `sha256:<hex>` of what `hasher` has seen.
fn hex_fingerprint(hasher: sha2::Sha256) -> String {
    use sha2::Digest;
    use std::fmt::Write;
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hasher.finalize() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `date` as `Date`'s `Display` writes it (`yyyy-mm-dd`).
fn push_date(buf: &mut Vec<u8>, date: Date) {
    let (y, m, d) = date.ymd();
    if !(0..=9999).contains(&y) {
        buf.extend_from_slice(date.to_string().as_bytes());
        return;
    }
    let digit = |v: u32| b'0' + (v % 10) as u8;
    let y = y as u32;
    buf.extend_from_slice(&[
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(d / 10),
        digit(d),
    ]);
}

fn push_decimal(buf: &mut Vec<u8>, v: u8) {
    if v >= 100 {
        buf.push(b'0' + v / 100);
    }
    if v >= 10 {
        buf.push(b'0' + v / 10 % 10);
    }
    buf.push(b'0' + v % 10);
}

/// Whether a model's training data is still the league's data.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Staleness {
    /// False when the model has no training record (not made by this tool): never called fresh.
    pub known: bool,
    pub stale: bool,
    /// Matches the model was not trained on: dated after its training `last_date`, or dated on
    /// it and added after training (late results of its last day).
    pub new_matches: usize,
    /// Of `new_matches`, those dated on the training `last_date`.
    pub late_on_last_day: usize,
    /// The rows up to `last_date` differ from those it was trained on (a corrected score, or
    /// corrected odds when the record fingerprints them ...).
    pub rows_changed: bool,
    /// The data holds less than the model was trained on: it ends before the model's last
    /// match (a clock behind, a wrong `--as-of`) or lost rows up to it (a season file gone).
    /// A new version would be trained on less or older data: never published.
    pub behind: bool,
    /// One line for people, e.g. `380 new matches since 2023-05-28`.
    pub reason: String,
}

/// A league's current matches, as staleness reads them: with the inputs fingerprints
/// (`inputs_fingerprint`) of its first rows and the summaries of the matches their clubs played
/// in other leagues, each computed once (model types reading the same columns, trained on the
/// same rows, share one).
#[derive(Debug)]
pub struct LeagueRows<'a> {
    pub league: &'a LeagueMatches,
    /// The dataset's rows by club, shared by its leagues and built on first use, with this
    /// league's place in it; `None`: a league read alone (no other leagues).
    clubs: Option<(Arc<OnceLock<ClubRows<'a>>>, &'a Dataset, usize)>,
    /// By (`inputs_columns` of the columns, count of first rows): computed by the first caller,
    /// waited for by the others.
    inputs: std::sync::Mutex<BTreeMap<(String, usize), Memo<String>>>,
    /// The same for the other leagues' matches of the clubs of the first rows.
    other_leagues: std::sync::Mutex<BTreeMap<(String, usize), Memo<OtherLeaguesSummary>>>,
}

/// One fingerprint, computed once.
type Memo<T> = Arc<OnceLock<T>>;

/// The value of `key` in `memo`, computed by `compute` the first time it is asked for.
fn memoised<T: Clone>(
    memo: &std::sync::Mutex<BTreeMap<(String, usize), Memo<T>>>,
    key: (String, usize),
    compute: impl FnOnce() -> T,
) -> T {
    let cell = match memo.lock() {
        Ok(mut memo) => memo.entry(key).or_default().clone(),
        Err(_) => Arc::default(),
    };
    cell.get_or_init(compute).clone()
}

impl<'a> LeagueRows<'a> {
    /// A league read alone: no other league's matches count.
    pub fn new(league: &'a LeagueMatches) -> LeagueRows<'a> {
        LeagueRows {
            league,
            clubs: None,
            inputs: Default::default(),
            other_leagues: Default::default(),
        }
    }

    /// Every league of `dataset`, by slug, each seeing the others.
    pub fn of_dataset(dataset: &'a Dataset) -> BTreeMap<&'a str, LeagueRows<'a>> {
        let clubs: Arc<OnceLock<ClubRows>> = Arc::default();
        dataset
            .leagues
            .iter()
            .enumerate()
            .map(|(i, (slug, league))| {
                let rows = LeagueRows {
                    clubs: Some((clubs.clone(), dataset, i)),
                    ..LeagueRows::new(league)
                };
                (slug.as_str(), rows)
            })
            .collect()
    }

    /// The inputs fingerprint of `columns` over the first `end` rows.
    fn inputs_of_first(&self, columns: &[&str], end: usize) -> String {
        memoised(&self.inputs, (inputs_columns(columns), end), || {
            inputs_fingerprint(&self.league.matches[..end], columns)
        })
    }

    /// [`LeagueRows::other_leagues_of`] the first `end` rows.
    fn other_leagues_of_first(&self, columns: &[&str], end: usize) -> OtherLeaguesSummary {
        memoised(&self.other_leagues, (inputs_columns(columns), end), || {
            self.other_leagues_of(Trained::First(end), columns)
        })
    }

    /// The matches of other leagues that the clubs of `trained` (rows of this league) played
    /// before their last match among them: what a feature pass that follows clubs across
    /// leagues (their recent form and draw rate, the count that makes a row warm) reads of
    /// other leagues for those rows. Every such match counts, not only the few each feature
    /// reaches back to: a change there may make a model stale that did not need retraining,
    /// never the reverse. Fingerprinted in league then row order: a line of league, date,
    /// teams and goals, then the `columns` values as [`inputs_fingerprint`] writes them.
    fn other_leagues_of(&self, trained: Trained, columns: &[&str]) -> OtherLeaguesSummary {
        let mut picked: Vec<(&str, &Match)> = Vec::new();
        if let Some((cell, dataset, own)) = &self.clubs {
            let clubs = cell.get_or_init(|| ClubRows::new(dataset));
            // Each club's last day among the trained rows.
            let mut until: Vec<Option<Date>> = vec![None; clubs.by_club.len()];
            let mut seen = |id: Option<u32>, date: Date| {
                if let Some(day) = id.and_then(|id| until.get_mut(id as usize)) {
                    *day = Some(day.map_or(date, |d| d.max(date)));
                }
            };
            match trained {
                Trained::First(end) => {
                    let ids = &clubs.row_clubs[*own][..end];
                    for (m, [h, a]) in self.league.matches.iter().zip(ids) {
                        seen(Some(*h), m.date);
                        seen(Some(*a), m.date);
                    }
                }
                Trained::Rows(rows) => {
                    for m in rows {
                        seen(clubs.ids.get(&*m.home).copied(), m.date);
                        seen(clubs.ids.get(&*m.away).copied(), m.date);
                    }
                }
            }
            let mut at: Vec<(u32, u32)> = Vec::new();
            for (rows, day) in clubs.by_club.iter().zip(&until) {
                let Some(day) = day else { continue };
                for &(l, r) in rows {
                    let (_, matches) = clubs.leagues[l as usize];
                    if l as usize != *own && matches[r as usize].date < *day {
                        at.push((l, r));
                    }
                }
            }
            at.sort_unstable();
            at.dedup();
            picked = at
                .into_iter()
                .map(|(l, r)| {
                    let (slug, matches) = clubs.leagues[l as usize];
                    (slug, &matches[r as usize])
                })
                .collect();
        }
        OtherLeaguesSummary {
            matches: picked.len(),
            columns: inputs_columns(columns),
            fingerprint: other_leagues_fingerprint(&picked, columns),
        }
    }
}

/// Which of a league's rows a model was trained on.
#[derive(Clone, Copy)]
enum Trained<'t> {
    /// The first `n`.
    First(usize),
    /// These (the first rows but some late results of the last day).
    Rows(&'t [&'t Match]),
}

/// SHA-256 over matches of other leagues, in order: a line `league,` then the
/// [`fingerprint`] line, then the values of `columns` as [`inputs_fingerprint`] writes them.
fn other_leagues_fingerprint(rows: &[(&str, &Match)], columns: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut reader = ColumnReader::new(columns);
    let mut bits = vec![0u32; columns.len()];
    let mut hasher = Sha256::new();
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    for (slug, m) in rows {
        buf.extend_from_slice(slug.as_bytes());
        buf.push(b',');
        push_line(&mut buf, m);
        reader.read_bits(&m.extras, &mut bits);
        buf.extend(bits.iter().flat_map(|b| b.to_le_bytes()));
        if buf.len() >= (1 << 15) {
            hasher.update(&buf);
            buf.clear();
        }
    }
    hasher.update(&buf);
    hex_fingerprint(hasher)
}

/// Where each club's matches are in a dataset: clubs numbered, by name.
#[derive(Debug)]
struct ClubRows<'a> {
    /// Each league's slug and matches, in the dataset's (slug) order.
    leagues: Vec<(&'a str, &'a [Match])>,
    /// Each club's number.
    ids: rustc_hash::FxHashMap<&'a str, u32>,
    /// Each league's rows' (home, away) club numbers.
    row_clubs: Vec<Vec<[u32; 2]>>,
    /// Each club's rows, (league, row), in league then row order.
    by_club: Vec<Vec<(u32, u32)>>,
}

impl<'a> ClubRows<'a> {
    fn new(dataset: &'a Dataset) -> ClubRows<'a> {
        let mut clubs = ClubRows {
            leagues: Vec::new(),
            ids: Default::default(),
            row_clubs: Vec::new(),
            by_club: Vec::new(),
        };
        for (l, (slug, league)) in dataset.leagues.iter().enumerate() {
            clubs
                .leagues
                .push((slug.as_str(), league.matches.as_slice()));
            // A league's rows share one allocation a name (the loader's interning): each
            // allocation's name is looked up once. (Rows that do not share one are still
            // numbered by name, only more slowly.)
            let mut by_allocation: rustc_hash::FxHashMap<*const u8, u32> = Default::default();
            let mut ids = Vec::with_capacity(league.matches.len());
            for (r, m) in league.matches.iter().enumerate() {
                let mut id = |name: &'a Arc<str>| -> u32 {
                    let next = clubs.by_club.len() as u32;
                    let id = *by_allocation
                        .entry(Arc::as_ptr(name) as *const u8)
                        .or_insert_with(|| *clubs.ids.entry(name).or_insert(next));
                    if id == next {
                        clubs.by_club.push(Vec::new());
                    }
                    id
                };
                let pair = [id(&m.home), id(&m.away)];
                ids.push(pair);
                let at = (l as u32, r as u32);
                clubs.by_club[pair[0] as usize].push(at);
                if pair[1] != pair[0] {
                    clubs.by_club[pair[1] as usize].push(at);
                }
            }
            clubs.row_clubs.push(ids);
        }
        clubs
    }
}

/// Compares a training record with the league's current matches (`reads`: what the model's
/// type reads besides its rows' dates, teams and goals).
pub fn staleness(
    record: Option<&TrainingDataSummary>,
    rows: &LeagueRows,
    reads: Reads,
) -> Staleness {
    let league = rows.league;
    let Some(record) = record else {
        return Staleness {
            reason: "unknown: no training record (not made by auto-train)".into(),
            ..Staleness::default()
        };
    };
    let Some(last) = Date::parse(&record.last_date) else {
        return Staleness {
            reason: format!(
                "unknown: training record has no valid last_date ({:?})",
                record.last_date
            ),
            ..Staleness::default()
        };
    };
    let end = league.matches.partition_point(|m| m.date <= last);
    let known = Staleness {
        known: true,
        ..Staleness::default()
    };
    let data_last = league.last_date();
    if data_last.is_none_or(|d| d < last) {
        let ends = data_last.map_or("holds no match".to_string(), |d| format!("ends on {d}"));
        return Staleness {
            behind: true,
            reason: format!(
                "the data {ends}, before the last match this version was trained on ({last}): \
                 the clock or --as-of is behind, or rows are gone (or set aside as impossible dates)"
            ),
            ..known
        };
    }
    if end < record.matches {
        return Staleness {
            behind: true,
            reason: format!(
                "the data holds {end} matches up to {last}, fewer than the {} this version was \
                 trained on: rows or a season file are gone",
                record.matches
            ),
            ..known
        };
    }
    let after = league.len() - end;
    let up_to_last = &league.matches[..end];
    // The rows it was trained on, when their dates, teams and goals are still in the data.
    let trained: Option<Vec<&Match>> = if end == record.matches {
        (fingerprint(up_to_last) == record.fingerprint).then(|| up_to_last.iter().collect())
    } else {
        trained_on_all_but_late(up_to_last, last, record)
    };
    let late = trained.as_ref().map_or(0, |rows| end - rows.len());
    let inputs_changed = inputs_changed(record, rows, reads, trained.as_deref(), end);
    let other_leagues = other_leagues_changed(record, rows, reads, trained.as_deref(), end);
    let rows_changed = trained.is_none() || inputs_changed || other_leagues.is_some();
    let new_matches = after + late;
    let mut reasons = Vec::new();
    if new_matches > 0 && late == 0 {
        reasons.push(format!("{new_matches} new matches since {last}"));
    } else if new_matches > 0 {
        reasons.push(format!(
            "{new_matches} new matches since {last} ({late} of them dated {last}, added after \
             training)"
        ));
    }
    if trained.is_none() {
        reasons.push(format!(
            "the rows up to {last} changed since training ({} then, {end} now)",
            record.matches
        ));
    } else if inputs_changed {
        reasons.push(format!(
            "the odds or shots on target of rows up to {last} changed since training"
        ));
    }
    if let Some((then, now)) = other_leagues {
        reasons.push(format!(
            "the matches its clubs played in other leagues before {last} changed since training \
             ({then} then, {now} now)"
        ));
    }
    Staleness {
        stale: new_matches > 0 || rows_changed,
        new_matches,
        late_on_last_day: late,
        rows_changed,
        reason: if reasons.is_empty() {
            "fresh".into()
        } else {
            reasons.join("; ")
        },
        ..known
    }
}

/// Whether the values of the columns a record's training read (`reads.columns`) differ from
/// the data's: compared only when the training rows are still there (`trained`, the first `end`
/// rows when all of them) and the record covers the columns this release's type reads.
fn inputs_changed(
    record: &TrainingDataSummary,
    rows: &LeagueRows,
    reads: Reads,
    trained: Option<&[&Match]>,
    end: usize,
) -> bool {
    let columns = reads.columns;
    let recorded = record
        .inputs_fingerprint
        .as_ref()
        .filter(|_| record.inputs_columns.as_deref() == Some(inputs_columns(columns).as_str()));
    match (trained, recorded) {
        (Some(trained), Some(recorded)) if trained.len() == end => {
            rows.inputs_of_first(columns, end) != *recorded
        }
        (Some(trained), Some(recorded)) => {
            inputs_fingerprint(trained.iter().copied(), columns) != *recorded
        }
        _ => false,
    }
}

/// The counts of matches (then, now) when the matches of other leagues that a record's
/// training read differ from the data's: compared only when the training rows are still there
/// (`trained`, the first `end` rows when all of them) and the record covers what this
/// release's type reads of other leagues (a record of an earlier release has no summary).
fn other_leagues_changed(
    record: &TrainingDataSummary,
    rows: &LeagueRows,
    reads: Reads,
    trained: Option<&[&Match]>,
    end: usize,
) -> Option<(usize, usize)> {
    let columns = reads.other_leagues?;
    let recorded = record
        .other_leagues
        .as_ref()
        .filter(|o| o.columns == inputs_columns(columns))?;
    let trained = trained?;
    let now = if trained.len() == end {
        rows.other_leagues_of_first(columns, end)
    } else {
        rows.other_leagues_of(Trained::Rows(trained), columns)
    };
    (now.fingerprint != recorded.fingerprint).then_some((recorded.matches, now.matches))
}

/// Most subsets of a last day's matches tried when looking for the ones a model was trained on.
const MAX_LAST_DAY_SUBSETS: u64 = 100_000;

/// The rows `record` was trained on when `matches` (every match up to `last`, sorted) are
/// those plus some dated `last` itself: results of the model's last day that arrived after
/// training. The rows before `last` must be unchanged; the rows of `last` are tried as subsets
/// of the size trained on (the day's matches are few; past `MAX_LAST_DAY_SUBSETS`, `None`).
fn trained_on_all_but_late<'m>(
    matches: &'m [Match],
    last: Date,
    record: &TrainingDataSummary,
) -> Option<Vec<&'m Match>> {
    use sha2::{Digest, Sha256};
    let first_of_day = matches.partition_point(|m| m.date < last);
    let day = &matches[first_of_day..];
    let keep = record.matches.checked_sub(first_of_day)?;
    if keep > day.len() || binomial(day.len() as u64, keep as u64) > MAX_LAST_DAY_SUBSETS {
        return None;
    }
    let mut before = Sha256::new();
    let mut line = Vec::new();
    for m in &matches[..first_of_day] {
        line.clear();
        push_line(&mut line, m);
        before.update(&line);
    }
    let mut chosen: Vec<usize> = (0..keep).collect();
    loop {
        let mut h = before.clone();
        for &i in &chosen {
            line.clear();
            push_line(&mut line, &day[i]);
            h.update(&line);
        }
        if hex_fingerprint(h) == record.fingerprint {
            let trained = matches[..first_of_day].iter();
            return Some(trained.chain(chosen.iter().map(|&i| &day[i])).collect());
        }
        // The next subset of `keep` indices, in lexicographic order.
        let i = (0..keep)
            .rev()
            .find(|&i| chosen[i] < day.len() - keep + i)?;
        chosen[i] += 1;
        for j in i + 1..keep {
            chosen[j] = chosen[j - 1] + 1;
        }
    }
}

fn binomial(n: u64, k: u64) -> u64 {
    let k = k.min(n - k);
    (0..k).fold(1u64, |acc, i| acc.saturating_mul(n - i) / (i + 1))
}

/// What checking a version's directory found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "health", content = "reason", rename_all = "snake_case")]
pub enum Health {
    /// Published by this tool and every check passed.
    Intact,
    /// No manifest (not published by this tool) and it loads: used as found, unverifiable.
    Foreign,
    /// No manifest, and its pickles are well-formed pickles of another tool's classes (the old
    /// service's scikit-learn or LightGBM objects): left alone, never used.
    Unreadable(String),
    /// Something is wrong: a file missing, empty, changed, unloadable, or of another league/type.
    Damaged(String),
}

impl Health {
    /// Loadable and of this league and type: usable by `predict`.
    pub fn usable(&self) -> bool {
        matches!(self, Health::Intact | Health::Foreign)
    }
}

/// Checks one version directory, with or without a manifest, by one rule: required files
/// present and not empty; the manifest (when there is one) readable, of this league and type,
/// and every file's hash equal to `expected` (the registry's) or else the manifest's; then the
/// model must load, and every file that records a league or model type (the pickles and
/// `metrics.json`) must record this one. A directory without a manifest whose model does not
/// load is another tool's when its pickles are well-formed pickles of other classes
/// (`Unreadable`: left alone, never used); anything else that does not load is damaged.
pub fn verify(
    ty: &dyn ModelType,
    dir: &Path,
    league: &str,
    expected: Option<&BTreeMap<String, String>>,
) -> (Health, Option<manifest::Manifest>) {
    let spec = ty.spec();
    let manifest = match manifest::read(dir) {
        ManifestRead::Present(m) => Some(*m),
        ManifestRead::Absent => None,
        ManifestRead::Unreadable(reason) => return (Health::Damaged(reason), None),
    };
    // The manifest comes back with a damaged file too: it says which version the directory is.
    for f in spec.required_files {
        let damage = match std::fs::metadata(dir.join(f)) {
            Err(_) => format!("{f} is missing"),
            Ok(m) if !m.is_file() => format!("{f} is not a file"),
            Ok(m) if m.len() == 0 => format!("{f} is empty"),
            Ok(_) => continue,
        };
        return (Health::Damaged(damage), manifest);
    }
    if let Some(m) = &manifest {
        if let Err(reason) = check_manifest(m, spec.name, dir, league, expected) {
            return (Health::Damaged(reason), manifest);
        }
    }
    let predictor = match ty.load(dir) {
        Ok(p) => p,
        Err(e) if manifest.is_some() => {
            return (Health::Damaged(format!("loads NO: {e:#}")), manifest)
        }
        Err(e) => return (not_ours_or_damaged(spec.required_files, dir, &e), manifest),
    };
    let in_model_files: Identity = (
        predictor.recorded_league().map(String::from),
        Some(predictor.recorded_model_type().to_string()),
        "its model files say so",
    );
    let in_metrics = match read_metrics_identity(dir) {
        Ok(m) => m,
        Err(reason) => return (Health::Damaged(reason), manifest),
    };
    for (rec_league, rec_type, source) in std::iter::once(in_model_files).chain(in_metrics) {
        if let Some(l) = rec_league.filter(|l| l != league) {
            return (
                Health::Damaged(format!("belongs to {l} ({source})")),
                manifest,
            );
        }
        if let Some(rec_type) = rec_type.filter(|t| !same_model_type(t, spec.name)) {
            return (
                Health::Damaged(format!("is a {rec_type} model ({source})")),
                manifest,
            );
        }
    }
    match manifest {
        Some(_) => (Health::Intact, manifest),
        None => (Health::Foreign, manifest),
    }
}

/// The manifest's league and type, and every file's hash (`expected`, the registry's, else the
/// manifest's own list).
fn check_manifest(
    m: &manifest::Manifest,
    model_type: &str,
    dir: &Path,
    league: &str,
    expected: Option<&BTreeMap<String, String>>,
) -> Result<(), String> {
    let e = &m.registry_entry;
    if e.league != league {
        return Err(format!("belongs to {} (its manifest says so)", e.league));
    }
    if e.model_type != model_type {
        return Err(format!(
            "is a {} model (its manifest says so)",
            e.model_type
        ));
    }
    let hashes = match expected {
        Some(h) if !h.is_empty() => h,
        _ => &e.files,
    };
    for (name, hash) in hashes {
        if name == MANIFEST_FILE && expected.is_none() {
            continue;
        }
        match std::fs::read(dir.join(name)) {
            Err(_) => return Err(format!("{name} is missing")),
            Ok(bytes) if &manifest::sha256(&bytes) != hash => {
                return Err(format!("{name} changed since it was published"))
            }
            Ok(_) => {}
        }
    }
    Ok(())
}

/// A model type as a file records it: its name, or its name with a suffix (`1x2_v2_binary`,
/// the old pipeline's metrics.json spelling).
fn same_model_type(recorded: &str, model_type: &str) -> bool {
    recorded == model_type
        || recorded
            .strip_prefix(model_type)
            .is_some_and(|rest| rest.starts_with('_'))
}

/// The league (if recorded), model type and where they were read (`its metrics.json says so`).
type Identity = (Option<String>, Option<String>, &'static str);

/// metrics.json's league and model type, when it records either; an error when it is not a
/// JSON object.
fn read_metrics_identity(dir: &Path) -> Result<Option<Identity>, String> {
    let bytes = std::fs::read(dir.join("metrics.json"))
        .map_err(|e| format!("metrics.json cannot be read: {e}"))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("metrics.json is not valid JSON: {e}"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| "metrics.json is not a JSON object".to_string())?;
    let text = |k: &str| obj.get(k).and_then(|v| v.as_str()).map(String::from);
    let (league, model_type) = (text("league"), text("model_type"));
    Ok((league.is_some() || model_type.is_some()).then_some((
        league,
        model_type,
        "its metrics.json says so",
    )))
}

/// A directory without a manifest whose model does not load: another tool's when one of its
/// pickles is a well-formed pickle of other classes (or a joblib file), else damaged.
fn not_ours_or_damaged(required: &[&str], dir: &Path, error: &anyhow::Error) -> Health {
    let mut found = None;
    for f in required.iter().filter(|f| f.ends_with(".pkl")) {
        let bytes = std::fs::read(dir.join(f)).unwrap_or_default();
        match pickle::classify(&bytes) {
            PickleKind::OtherTool(what) => {
                found = Some(format!(
                    "another tool's model ({f} is a pickle of {what}): left alone, never used"
                ));
                break;
            }
            PickleKind::NotAPickle(why) => {
                return Health::Damaged(format!("loads NO: {f} is not a complete pickle ({why})"))
            }
            PickleKind::PlainData => {}
        }
    }
    match found {
        Some(reason) => Health::Unreadable(reason),
        None => Health::Damaged(format!("loads NO: {error:#}")),
    }
}

/// One version of a league and type: a registry entry, a directory, or both.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    /// Registry key (or, for an unregistered directory of ours, the key its manifest holds).
    pub key: Option<String>,
    /// Relative to the models dir.
    pub path: String,
    pub registered: bool,
    /// The directory exists and holds this version (not a later model moved into its place).
    pub present: bool,
    /// None when the directory is not present.
    pub health: Option<Health>,
    /// What it was trained on.
    #[serde(skip)]
    pub record: Option<TrainingDataSummary>,
    pub supersedes: Option<String>,
    /// The publication number its key holds (`<seed key>@<n>`; the seed's key is 1).
    pub number: Option<u32>,
    /// `current`, `superseded`, `gone`, `damaged`, `unregistered`, `foreign`, `unreadable`.
    pub role: &'static str,
}

/// Every version of one league and type, and which one is current.
#[derive(Debug, Clone, Serialize)]
pub struct Lineage {
    pub league: String,
    pub model_type: String,
    /// Registry entries (oldest first), then directories on disk no entry accounts for.
    pub versions: Vec<Version>,
    /// Index into `versions`.
    pub current: Option<usize>,
    /// The next publication number (its key is `version_key(seed, next)`).
    pub next: u32,
    /// The directory number (>= 2) of the next refreshed version: free on disk.
    pub next_dir: u32,
    /// Why the registry's entries of this league and type do not form one lineage (a key outside
    /// the numbering, a `supersedes` that names no earlier entry): then no version is current.
    pub inconsistent: Option<String>,
}

impl Lineage {
    pub fn current(&self) -> Option<&Version> {
        self.current.map(|i| &self.versions[i])
    }

    /// Versions whose directory is present and damaged.
    pub fn damaged(&self) -> impl Iterator<Item = (&Version, &str)> {
        self.versions.iter().filter_map(|v| match &v.health {
            Some(Health::Damaged(reason)) => Some((v, reason.as_str())),
            _ => None,
        })
    }

    /// Any version directory on disk at all.
    pub fn any_present(&self) -> bool {
        self.versions.iter().any(|v| v.present)
    }

    /// The registered version with the highest publication number (present or not).
    pub fn newest_registered(&self) -> Option<&Version> {
        self.versions
            .iter()
            .filter(|v| v.registered)
            .max_by_key(|v| v.number)
    }
}

/// Version directories of a league and type on disk (of its directory name or a legacy one; an
/// empty directory holds no version): (n, directory name), n ascending.
fn dirs_on_disk(models_dir: &Path, league: &str, spec: &ModelSpec) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let Ok(read) = std::fs::read_dir(models_dir.join("leagues").join(league)) else {
        return out;
    };
    for e in read.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if let Some((ty, n)) = parse_version_dir_name(&name) {
            if spec.dir_names().any(|d| d == ty) && !detect::is_empty_dir(&e.path()) {
                out.push((n, name));
            }
        }
    }
    out.sort();
    out
}

/// Works out every version of `league` x `ty` from the registry and the models dir.
pub fn lineage(
    models_dir: &Path,
    registry: Option<&Registry>,
    league: &str,
    ty: &dyn ModelType,
) -> Lineage {
    let spec = ty.spec();
    let seed_key = RegistryEntry::key_for(spec.name, league, spec.version);
    let entries: Vec<&RecordedEntry> = registry
        .map(|r| {
            r.records()
                .iter()
                .filter(|e| {
                    e.league.as_deref() == Some(league)
                        && e.model_type.as_deref() == Some(spec.name)
                })
                .collect()
        })
        .unwrap_or_default();
    let on_disk = dirs_on_disk(models_dir, league, spec);
    let check = |name: &str, expected: Option<&BTreeMap<String, String>>| {
        let dir = models_dir.join("leagues").join(league).join(name);
        (dir.is_dir() && !detect::is_empty_dir(&dir)).then(|| verify(ty, &dir, league, expected))
    };

    let mut versions = Vec::new();
    let mut accounted: Vec<String> = Vec::new();
    for e in &entries {
        let path = e
            .path
            .clone()
            .unwrap_or_else(|| rel_path(league, spec.dir_name, 1));
        let name = path.rsplit('/').next().unwrap_or_default().to_string();
        let in_layout = path == format!("leagues/{league}/{name}")
            && parse_version_dir_name(&name).is_some_and(|(t, _)| spec.dir_names().any(|d| d == t));
        let expected = (!e.files.is_empty()).then_some(&e.files);
        let found = if in_layout {
            check(&name, expected)
        } else {
            None
        };
        // The directory holds this entry's version when its manifest names this key, or, for a
        // directory without a manifest (the old pipeline's), when the entry is the seed's.
        // A directory at the entry's path is that version unless its manifest names another; a
        // damaged one without a readable manifest is the registered version, damaged (not gone).
        let holds = match &found {
            None => false,
            Some((_, Some(m))) => m.registry_entry.key == e.key,
            Some((Health::Damaged(_), None)) => true,
            Some((_, None)) => e.files.is_empty(),
        };
        if holds {
            accounted.push(name.clone());
        }
        let health = if holds { found.map(|(h, _)| h) } else { None };
        versions.push(Version {
            number: key_number(&seed_key, &e.key),
            key: Some(e.key.clone()),
            path,
            registered: true,
            present: holds,
            record: e.training_data.clone(),
            supersedes: e.supersedes.clone(),
            role: "",
            health,
        });
    }
    for (_, name) in &on_disk {
        if accounted.contains(name) {
            continue;
        }
        let (health, manifest) =
            check(name, None).unwrap_or((Health::Damaged("not a directory".into()), None));
        let key = manifest.as_ref().map(|m| m.registry_entry.key.clone());
        versions.push(Version {
            number: key.as_deref().and_then(|k| key_number(&seed_key, k)),
            key,
            path: format!("leagues/{league}/{name}"),
            registered: false,
            present: true,
            record: manifest
                .as_ref()
                .map(|m| m.registry_entry.training_data.clone()),
            supersedes: manifest
                .as_ref()
                .and_then(|m| m.registry_entry.supersedes.clone()),
            role: "",
            health: Some(health),
        });
    }

    let inconsistent = inconsistency(&versions[..entries.len()], league, spec.name);
    let current = match inconsistent {
        Some(_) => None,
        None => current_version(&versions, registry),
    };
    assign_roles(&mut versions, current);
    let (next, next_dir) = next_numbers(&versions, &on_disk, registry, &seed_key);
    Lineage {
        league: league.to_string(),
        model_type: spec.name.to_string(),
        versions,
        current,
        next,
        next_dir,
        inconsistent,
    }
}

/// Why the registered versions of a league and type do not form one lineage: every key must
/// be the seed's or `<seed key>@<n>`, and a `supersedes` must name an entry of the same league
/// and type with a lower number. The order of the entries in the file does not matter.
fn inconsistency(registered: &[Version], league: &str, model_type: &str) -> Option<String> {
    let what = format!("the registry's {league} {model_type} entries do not form one lineage");
    for v in registered {
        let key = v.key.as_deref().unwrap_or_default();
        let Some(n) = v.number else {
            return Some(format!(
                "{what}: key {key:?} is not numbered as the lineage's keys are"
            ));
        };
        let Some(old) = &v.supersedes else { continue };
        match registered.iter().find(|o| o.key.as_ref() == Some(old)) {
            None => {
                return Some(format!(
                    "{what}: {key} supersedes {old}, which is not an entry of {league} {model_type}"
                ))
            }
            Some(o) if o.number.is_none_or(|m| m >= n) => {
                return Some(format!(
                    "{what}: {key} supersedes {old}, which is not an earlier version"
                ))
            }
            Some(_) => {}
        }
    }
    None
}

/// The newest version whose directory is intact: the highest publication number among the
/// registry's entries and the versions of ours that a killed run published but did not register
/// (their manifest's key, not yet in the registry); the order of the registry's entries plays
/// no part. Else a model made by something else that loads.
fn current_version(versions: &[Version], registry: Option<&Registry>) -> Option<usize> {
    let usable = |v: &Version| v.present && v.health.as_ref().is_some_and(Health::usable);
    let ours = |v: &Version| {
        v.registered
            || (v.health == Some(Health::Intact)
                && v.key
                    .as_deref()
                    .is_some_and(|k| registry.is_none_or(|r| !r.contains(k))))
    };
    (0..versions.len())
        .filter(|&i| usable(&versions[i]) && ours(&versions[i]) && versions[i].number.is_some())
        .max_by_key(|&i| versions[i].number)
        .or_else(|| {
            (0..versions.len()).find(|&i| {
                usable(&versions[i]) && !versions[i].registered && versions[i].key.is_none()
            })
        })
}

/// Each version's role beside the current one.
fn assign_roles(versions: &mut [Version], current: Option<usize>) {
    for (i, v) in versions.iter_mut().enumerate() {
        v.role = if Some(i) == current {
            "current"
        } else if !v.present {
            "gone"
        } else {
            match &v.health {
                Some(Health::Damaged(_)) => "damaged",
                Some(Health::Unreadable(_)) => "unreadable",
                _ if !v.registered && v.key.is_some() => "unregistered",
                Some(Health::Foreign) if !v.registered => "foreign",
                _ => "superseded",
            }
        };
    }
}

/// (next publication number, next free directory number >= 2). Every key any version holds
/// (the registry's and the manifests') and every directory on disk counts as taken.
fn next_numbers(
    versions: &[Version],
    on_disk: &[(u32, String)],
    registry: Option<&Registry>,
    seed_key: &str,
) -> (u32, u32) {
    let max_key = versions
        .iter()
        .filter_map(|v| v.key.as_deref().and_then(|k| key_number(seed_key, k)))
        .max();
    let max_dir = on_disk.iter().map(|(n, _)| *n).max();
    let taken_elsewhere = registry.is_some_and(|r| r.contains(seed_key));
    let next = match (max_key, max_dir) {
        (None, None) if !taken_elsewhere => 1,
        (a, b) => a.unwrap_or(1).max(b.unwrap_or(1)) + 1,
    };
    (next, next.max(max_dir.unwrap_or(1) + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::matches::Extras;

    /// The fingerprint's lines, as `format!` writes them.
    fn formatted(matches: &[Match]) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for m in matches {
            hasher.update(
                format!(
                    "{},{},{},{},{}\n",
                    m.date, m.home, m.away, m.home_goals, m.away_goals
                )
                .as_bytes(),
            );
        }
        let hex: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("sha256:{hex}")
    }

    #[test]
    fn fingerprint_writes_the_lines_format_writes() {
        let days = [
            -800_000, -719_468, -1, 0, 19_000, 2_932_896, 2_932_897, 5_000_000,
        ];
        let goals = [0u8, 7, 9, 10, 42, 99, 100, 101, 255];
        let matches: Vec<Match> = days
            .iter()
            .flat_map(|&d| goals.iter().map(move |&g| (d, g)))
            .map(|(d, g)| Match {
                date: Date(d),
                home: "Köln".into(),
                away: "Man United".into(),
                home_goals: g,
                away_goals: 255 - g,
                extras: Extras::default(),
            })
            .collect();
        for m in &matches {
            assert_eq!(
                fingerprint(std::slice::from_ref(m)),
                formatted(std::slice::from_ref(m)),
                "{m:?}"
            );
        }
        // Long enough to be hashed in more than one block.
        let many: Vec<Match> = matches.iter().cycle().take(5000).cloned().collect();
        assert_eq!(fingerprint(&many), formatted(&many));
    }

    /// A match on day `day` with a closing home price and a count of fouls (a column no training
    /// reads).
    fn priced(day: i32, home: &str, psch: f32, fouls: f32) -> Match {
        Match {
            date: Date(day),
            home: home.into(),
            away: "Away".into(),
            home_goals: 1,
            away_goals: 0,
            extras: Extras::from_pairs(vec![("PSCH".into(), psch), ("HF".into(), fouls)]),
        }
    }

    /// What poisson_v2 reads besides goals: PSCH among them.
    const POISSON_READS: &[&str] = &crate::models::poisson_v2::MARKET_COLUMNS;

    /// Staleness of a poisson_v2 record against `matches`.
    fn stale_of(record: &TrainingDataSummary, matches: Vec<Match>) -> Staleness {
        let league = LeagueMatches {
            league: "test".into(),
            matches,
        };
        staleness(Some(record), &LeagueRows::new(&league), poisson_reads())
    }

    /// What poisson_v2 reads.
    fn poisson_reads() -> Reads<'static> {
        Reads::of(&crate::models::poisson_v2::SPEC)
    }

    #[test]
    fn corrected_odds_of_a_trained_row_make_a_model_stale_and_unread_columns_do_not() {
        let trained = vec![
            priced(10, "A", 2.0, 11.0),
            priced(11, "B", 2.5, 12.0),
            priced(12, "C", 3.0, 13.0),
        ];
        let trained_league = LeagueMatches {
            league: "test".into(),
            matches: trained.clone(),
        };
        let record = training_summary(&LeagueRows::new(&trained_league), poisson_reads());
        assert!(record
            .inputs_fingerprint
            .as_deref()
            .is_some_and(|f| f.starts_with("sha256:") && f.len() == 71));
        assert_eq!(stale_of(&record, trained.clone()).reason, "fresh");
        // A late result of the last day, dated on it and sorted before a trained row: found
        // by the subset search, and the trained rows' prices are still compared.
        let mut with_late = trained.clone();
        with_late.insert(2, priced(12, "Bay", 4.0, 9.0));
        let st = stale_of(&record, with_late.clone());
        assert_eq!(
            (st.stale, st.rows_changed, st.late_on_last_day),
            (true, false, 1)
        );
        with_late[1] = priced(11, "B", 2.6, 12.0);
        let st = stale_of(&record, with_late);
        assert!(st.rows_changed, "{st:?}");
        // A corrected price: stale, and said so.
        let mut corrected = trained.clone();
        corrected[0] = priced(10, "A", 2.1, 11.0);
        let st = stale_of(&record, corrected.clone());
        assert_eq!((st.stale, st.rows_changed, st.new_matches), (true, true, 0));
        assert_eq!(
            st.reason,
            "the odds or shots on target of rows up to 1970-01-13 changed since training"
        );
        // A price that appears where there was none, or goes: stale too.
        let mut unpriced = trained.clone();
        unpriced[2].extras = Extras::from_pairs(vec![("HF".into(), 13.0)]);
        assert!(stale_of(&record, unpriced).rows_changed);
        // A column no training reads: fresh.
        let mut fouls = trained.clone();
        fouls[1] = priced(11, "B", 2.5, 20.0);
        assert_eq!(stale_of(&record, fouls).reason, "fresh");
        // A closing price is no column of the feature models (1x2_v2, draw_specialist): their
        // records stay fresh.
        let features = Reads::of(&crate::models::one_x_two_v2::SPEC);
        assert!(!features.columns.contains(&"PSCH") && POISSON_READS.contains(&"PSCH"));
        let feature_record = training_summary(&LeagueRows::new(&trained_league), features);
        let league = LeagueMatches {
            league: "test".into(),
            matches: corrected.clone(),
        };
        let st = staleness(Some(&feature_record), &LeagueRows::new(&league), features);
        assert_eq!(st.reason, "fresh");
        // A record of an earlier release (no inputs fingerprint), or of a release that read
        // other columns, is judged on goals alone.
        let other_columns = TrainingDataSummary {
            inputs_columns: Some("sha256:0".into()),
            ..record.clone()
        };
        assert_eq!(stale_of(&other_columns, corrected.clone()).reason, "fresh");
        let earlier = TrainingDataSummary {
            inputs_fingerprint: None,
            inputs_columns: None,
            ..record
        };
        assert_eq!(stale_of(&earlier, corrected).reason, "fresh");
    }

    /// A match of `league`'s data on day `day` with shots on target.
    fn played(day: i32, home: &str, away: &str, goals: u8, hst: f32) -> Match {
        Match {
            date: Date(day),
            home: home.into(),
            away: away.into(),
            home_goals: goals,
            away_goals: 1,
            extras: Extras::from_pairs(vec![("HST".into(), hst), ("HF".into(), 10.0)]),
        }
    }

    /// A dataset of two leagues: `top`, where Promoted arrives on day 20, and `second`,
    /// where it played before (and Stays plays throughout).
    fn two_leagues(second: Vec<Match>) -> Dataset {
        let top = vec![
            played(10, "A", "B", 1, 5.0),
            played(20, "Promoted", "A", 2, 6.0),
            played(30, "B", "Promoted", 0, 7.0),
        ];
        let leagues = [("top", top), ("second", second)]
            .into_iter()
            .map(|(slug, matches)| {
                let league = LeagueMatches {
                    league: slug.into(),
                    matches,
                };
                (slug.to_string(), league)
            })
            .collect();
        Dataset { leagues }
    }

    fn second_league() -> Vec<Match> {
        vec![
            played(5, "Promoted", "Stays", 1, 3.0),
            played(15, "Stays", "Promoted", 2, 4.0),
            played(25, "Stays", "Other", 0, 5.0),
            played(35, "Promoted", "Stays", 1, 6.0),
        ]
    }

    /// Staleness of `record` (a top-league model of the type `reads` describes) in `dataset`.
    fn top_staleness(record: &TrainingDataSummary, dataset: &Dataset, reads: Reads) -> Staleness {
        let rows = LeagueRows::of_dataset(dataset);
        staleness(Some(record), &rows["top"], reads)
    }

    #[test]
    fn matches_its_clubs_played_in_other_leagues_before_make_a_feature_model_stale() {
        let features = Reads::of(&crate::models::one_x_two_v2::SPEC);
        let trained = two_leagues(second_league());
        let rows = LeagueRows::of_dataset(&trained);
        let record = training_summary(&rows["top"], features);
        let summary = record.other_leagues.clone().unwrap();
        // Promoted's two matches of the second league before its last top match (day 30);
        // not its later one, and none of Stays' own.
        assert_eq!(summary.matches, 2);
        assert!(summary.fingerprint.starts_with("sha256:"));
        assert_eq!(top_staleness(&record, &trained, features).reason, "fresh");
        let poisson = training_summary(&rows["top"], poisson_reads());
        assert!(poisson.other_leagues.is_none());

        let changed = |edit: &dyn Fn(&mut Vec<Match>)| {
            let mut second = second_league();
            edit(&mut second);
            let data = two_leagues(second);
            (
                top_staleness(&record, &data, features),
                top_staleness(&poisson, &data, poisson_reads()),
            )
        };
        // A corrected score of a match Promoted played there before: stale, said so, and no
        // new matches; poisson_v2, whose fit reads the league alone, is fresh.
        let (st, p) = changed(&|s| s[1].home_goals = 3);
        assert_eq!((st.stale, st.rows_changed, st.new_matches), (true, true, 0));
        assert_eq!(
            st.reason,
            "the matches its clubs played in other leagues before 1970-01-31 changed since \
             training (2 then, 2 now)"
        );
        assert_eq!(p.reason, "fresh");
        // Its shots on target there: stale too; a column the pass does not read: fresh.
        assert!(
            changed(&|s| s[0].extras = Extras::from_pairs(vec![("HST".into(), 9.0)]))
                .0
                .stale
        );
        let fouls = Extras::from_pairs(vec![("HST".into(), 3.0), ("HF".into(), 99.0)]);
        assert_eq!(changed(&|s| s[0].extras = fouls.clone()).0.reason, "fresh");
        // A match found late, dated before Promoted's last top match: stale (3 now).
        let (st, _) = changed(&|s| s.insert(2, played(18, "Promoted", "Other", 0, 1.0)));
        assert!(st.reason.ends_with("(2 then, 3 now)"), "{}", st.reason);
        // Matches of clubs that never played in the top league, and Promoted's after its last
        // match there: fresh.
        assert_eq!(changed(&|s| s[2].home_goals = 4).0.reason, "fresh");
        assert_eq!(changed(&|s| s[3].home_goals = 4).0.reason, "fresh");
        let (st, _) = changed(&|s| s.push(played(40, "Promoted", "Other", 5, 1.0)));
        assert_eq!(st.reason, "fresh");
        // A record of an earlier release (no summary) is not judged on them.
        let earlier = TrainingDataSummary {
            other_leagues: None,
            ..record.clone()
        };
        let mut second = second_league();
        second[1].home_goals = 3;
        assert_eq!(
            top_staleness(&earlier, &two_leagues(second), features).reason,
            "fresh"
        );
        // A league read alone sees no other league.
        let alone = training_summary(&LeagueRows::new(&trained.leagues["top"]), features);
        assert_eq!(alone.other_leagues.unwrap().matches, 0);
    }
}
