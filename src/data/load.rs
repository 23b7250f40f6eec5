//! Loading: every `.csv` and `.parquet` file under the data dir turned into typed, validated,
//! de-duplicated and date-sorted matches per league, parsing only the columns the caller needs
//! (CSV row by row, so a file never becomes a table of text cells; Parquet through polars).
//! Dirty rows are skipped and counted per file; a file that cannot be read is reported by path
//! and reason while the other files still count.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use polars::prelude::*;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::data::date::Date;
use crate::data::espn;
use crate::data::leagues;
use crate::data::matches::{Dataset, Extras, LeagueMatches, Match};
use crate::data::settle;

/// How many skipped row numbers a warning lists per file.
const SHOWN_SKIPPED_ROWS: usize = 5;
/// The longest team name (bytes) a row may give: a club's name is a few dozen; a longer cell is
/// junk (a pasted file, a broken quote) that would be held in every model that names the club.
pub const MAX_TEAM_NAME_BYTES: usize = 255;
/// How many rows left out of a league (conflicting copies, impossible dates) get a warning each.
const SHOWN_LEFT_OUT_ROWS: usize = 10;
/// Directories deeper than this below the data dir are not searched (guards symlink loops).
const MAX_DEPTH: usize = 16;

/// Columns with a fixed meaning; every other numeric column is kept as an extra.
const DATE: &[&str] = &["Date"];
const HOME: &[&str] = &["HomeTeam", "Home"];
const AWAY: &[&str] = &["AwayTeam", "Away"];
const HOME_GOALS: &[&str] = &["FTHG", "HG"];
const AWAY_GOALS: &[&str] = &["FTAG", "AG"];

/// A row that was not used, with its 1-based data row number (the header is not counted).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SkippedRow {
    pub row: usize,
    pub reason: String,
}

/// What happened to one file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileReport {
    #[serde(serialize_with = "crate::json::lossy_path")]
    pub path: PathBuf,
    pub rows: usize,
    pub used: usize,
    pub skipped: usize,
    /// Of the skipped rows, those dated after today (fixtures, or wrong dates): not results.
    pub future: usize,
    /// The first few skipped rows.
    pub skipped_examples: Vec<SkippedRow>,
    /// An ESPN fixtures file's skipped rows by reason, leagues and skipped competitions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub espn: Option<espn::EspnReport>,
}

impl FileReport {
    /// The report of `path` before any row is read.
    fn empty(path: &Path) -> FileReport {
        FileReport {
            path: path.to_path_buf(),
            rows: 0,
            used: 0,
            skipped: 0,
            future: 0,
            skipped_examples: Vec::new(),
            espn: None,
        }
    }
}

/// A file that could not be read at all.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnreadableFile {
    #[serde(serialize_with = "crate::json::lossy_path")]
    pub path: PathBuf,
    pub reason: String,
}

/// The result of loading a data dir.
#[derive(Debug, Default)]
pub struct LoadedData {
    pub dataset: Dataset,
    pub files: Vec<FileReport>,
    pub unreadable: Vec<UnreadableFile>,
    /// Rows dropped because the same (league, date, home, away) was already loaded.
    pub duplicates: usize,
    /// Division codes not in the published list (their slug is the lowercase code).
    pub unknown_divisions: BTreeSet<String>,
    /// Slugs that two different league names or codes map to (each slug once, with the first
    /// two names seen, in path order).
    pub merged_league_names: Vec<MergedLeagueNames>,
    /// ESPN tables (`teams.csv`, `leagues.csv` and `status.csv`, read with their fixtures, and the
    /// dataset's other tables, which hold no matches): not match files, not unreadable.
    pub espn_tables: Vec<PathBuf>,
    /// Leagues read from both formats whose team names differ: their ESPN rows were left out.
    pub format_conflicts: Vec<espn::FormatConflict>,
}

/// Two different league names (or codes) of the data that map to one slug, so their matches form
/// one league.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MergedLeagueNames {
    pub slug: String,
    pub first: String,
    pub second: String,
}

impl LoadedData {
    pub fn skipped_rows(&self) -> usize {
        self.files.iter().map(|f| f.skipped).sum()
    }

    /// Skipped rows dated after today.
    pub fn future_rows(&self) -> usize {
        self.files.iter().map(|f| f.future).sum()
    }
}

/// Which columns a load keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Columns {
    /// The required columns and every numeric extra.
    All,
    /// Only the required columns: the same matches, skipped rows and reports, without extras.
    /// What naming a data dir's leagues and clubs needs (`predict`'s checks).
    Required,
    /// The required columns and these extras (those present in a file; by exact name). What the
    /// feature models (`features::COLUMNS_READ`) and prediction need.
    Wanted(&'static [&'static str]),
}

impl Columns {
    /// Whether an extra column of this (cleaned) name is kept.
    fn keeps(self, name: &str) -> bool {
        match self {
            Columns::All => !name.is_empty(),
            Columns::Required => false,
            Columns::Wanted(names) => names.contains(&name),
        }
    }
}

/// Loads every data file under `data_dir`. Fails only when the directory itself cannot be read.
pub fn load_data_dir(data_dir: &Path) -> Result<LoadedData> {
    load_data_dir_with(data_dir, Columns::All)
}

/// `load_data_dir`, keeping only `columns`.
pub fn load_data_dir_with(data_dir: &Path, columns: Columns) -> Result<LoadedData> {
    load_data_dir_as_of(data_dir, columns, today_utc())
}

/// Today's date in UTC.
pub fn today_utc() -> Date {
    let now = crate::data::date::now_utc_string();
    Date::parse(&now[..now.len().min(10)]).unwrap_or(Date(0))
}

/// `load_data_dir_with`, with `today` as the last day a match can have been played: rows dated
/// after it are skipped and counted (`--as-of` pins it for reproducible runs).
pub fn load_data_dir_as_of(data_dir: &Path, columns: Columns, today: Date) -> Result<LoadedData> {
    let meta = std::fs::metadata(data_dir)
        .with_context(|| format!("data dir {} cannot be read", data_dir.display()))?;
    if !meta.is_dir() {
        bail!("data dir {} is not a directory", data_dir.display());
    }
    let mut files = Vec::new();
    let mut not_regular = Vec::new();
    collect_data_files(data_dir, 0, &mut files, &mut not_regular)
        .with_context(|| format!("data dir {} cannot be listed", data_dir.display()))?;
    files.sort();

    let parsed = parse_files(data_dir, files, columns, today);

    let mut loaded = LoadedData::default();
    for path in not_regular {
        // A FIFO would block the first read forever; a device or socket is no data file either.
        loaded.unreadable.push(UnreadableFile {
            path,
            reason: "not a regular file (a FIFO, socket or device): skipped".to_string(),
        });
    }
    let mut by_league = gather_leagues(parsed, &mut loaded);
    for (league, parts) in by_league.iter_mut() {
        if let Some(conflict) = reconcile_formats(league, parts) {
            loaded.format_conflicts.push(conflict);
        }
    }
    let paths: Vec<PathBuf> = loaded.files.iter().map(|f| f.path.clone()).collect();
    let file_name = |i: u32| {
        paths
            .get(i as usize)
            .map_or_else(String::new, |p| p.display().to_string())
    };
    let leagues: Vec<(String, settle::Settled)> = by_league
        .into_par_iter()
        .map(|(league, parts)| {
            let mut rows = Vec::with_capacity(parts.iter().map(|p| p.matches.len()).sum());
            for part in parts {
                let file = part.file;
                rows.extend(
                    part.matches
                        .into_iter()
                        .zip(part.rows)
                        .map(|(m, row)| settle::SourcedRow { m, file, row }),
                );
            }
            let mut settled = settle::settle(rows, &file_name);
            settled.matches = intern_teams(std::mem::take(&mut settled.matches));
            (league, settled)
        })
        .collect();
    for (league, settled) in leagues {
        loaded.duplicates += settled.duplicates;
        report_left_out(&mut loaded, &league, &settled, &file_name);
        loaded.dataset.leagues.insert(
            league.clone(),
            LeagueMatches {
                league,
                matches: settled.matches,
            },
        );
    }
    Ok(loaded)
}

/// Sorts the parsed files into `loaded` (ESPN side tables, file reports, unknown divisions,
/// unreadable files, league names that merge) and returns each league's rows, file by file in
/// path order.
fn gather_leagues(
    parsed: Vec<(PathBuf, Result<ParsedFile>)>,
    loaded: &mut LoadedData,
) -> BTreeMap<String, Vec<FileRows>> {
    // The first raw name (or code) seen for each slug.
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut by_league: BTreeMap<String, Vec<FileRows>> = BTreeMap::new();
    for (path, result) in parsed {
        match result {
            Ok(file) if file.espn_table => loaded.espn_tables.push(path),
            Ok(file) => {
                for (slug, raw) in file.league_names {
                    match names.get(&slug) {
                        None => {
                            names.insert(slug, raw);
                        }
                        Some(first)
                            if !same_league_name(first, &raw)
                                && !loaded.merged_league_names.iter().any(|m| m.slug == slug) =>
                        {
                            tracing::warn!(
                                "league names {first:?} and {raw:?} both map to {slug:?}: their \
                                 matches form one league"
                            );
                            loaded.merged_league_names.push(MergedLeagueNames {
                                slug,
                                first: first.clone(),
                                second: raw,
                            });
                        }
                        Some(_) => {}
                    }
                }
                loaded.unknown_divisions.extend(file.unknown_divisions);
                let index = u32::try_from(loaded.files.len()).unwrap_or(u32::MAX);
                let espn = file.report.espn.is_some();
                loaded.files.push(file.report);
                for (league, (matches, rows)) in file.matches {
                    by_league.entry(league).or_default().push(FileRows {
                        file: index,
                        matches,
                        rows,
                        espn,
                    });
                }
            }
            Err(e) => loaded.unreadable.push(UnreadableFile {
                path,
                // Polars explains parse errors at length (with advice for its Python API): the
                // first line says what is wrong.
                reason: format!("{e:#}")
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            }),
        }
    }
    loaded.unreadable.sort_by(|a, b| a.path.cmp(&b.path));
    by_league
}

/// Logs the rows of `league` that settling left out (the first few) and moves each from its
/// file's used rows to its skipped rows.
fn report_left_out(
    loaded: &mut LoadedData,
    league: &str,
    settled: &settle::Settled,
    file_name: &dyn Fn(u32) -> String,
) {
    for (i, l) in settled.left_out.iter().enumerate() {
        if i < SHOWN_LEFT_OUT_ROWS {
            tracing::warn!("{} row {}: {}", file_name(l.file), l.row, l.reason);
        } else if i == SHOWN_LEFT_OUT_ROWS {
            tracing::warn!(
                "{league}: {} more rows left out (listed in the files' skipped rows)",
                settled.left_out.len() - i
            );
        }
        if let Some(f) = loaded.files.get_mut(l.file as usize) {
            f.used = f.used.saturating_sub(1);
            f.skipped += 1;
            if f.skipped_examples.len() < SHOWN_SKIPPED_ROWS {
                f.skipped_examples.push(SkippedRow {
                    row: l.row as usize,
                    reason: l.reason.clone(),
                });
            }
        }
    }
}

/// One file's rows of a league.
struct FileRows {
    /// Index into `LoadedData::files`.
    file: u32,
    matches: Vec<Match>,
    /// The data row number of each match.
    rows: Vec<u32>,
    /// From an ESPN file.
    espn: bool,
}

/// A league with parts from both formats: kept whole when their team names agree, else its ESPN
/// parts are dropped (with a warning) and the conflict returned.
fn reconcile_formats(league: &str, parts: &mut Vec<FileRows>) -> Option<espn::FormatConflict> {
    let (espn_parts, football_data): (Vec<_>, Vec<_>) = parts.iter().partition(|p| p.espn);
    if espn_parts.is_empty() || football_data.is_empty() {
        return None;
    }
    let fd: Vec<Match> = football_data
        .iter()
        .flat_map(|p| p.matches.iter().cloned())
        .collect();
    let es: Vec<Match> = espn_parts
        .iter()
        .flat_map(|p| p.matches.iter().cloned())
        .collect();
    let conflict = espn::reconcile(league, &fd, &es).err()?;
    tracing::warn!(
        "league {league} is in an ESPN file and a football-data file whose team names differ \
         ({}): its {} ESPN matches are left out, the football-data rows are used; name the \
         teams alike (or keep one format) to use both",
        conflict.example,
        conflict.espn_matches_dropped
    );
    parts.retain(|p| !p.espn);
    Some(conflict)
}

/// Whether two raw league names are the same name (codes are kept upper-case, so `e0` and `E0`
/// are one code).
fn same_league_name(a: &str, b: &str) -> bool {
    a == b
}

/// Where a row's league name comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum LeagueSource {
    /// A `league` column, or the folder of a file with neither `league` nor `Div`.
    Name,
    /// A `Div` code.
    Code,
    /// `Country` and `League` columns, raw as `Country, League`.
    CountryAndName,
}

/// Parses every file, in parallel (one file per worker at a time), and returns the results in
/// the order of `files`. The worker count follows rayon's (`RAYON_NUM_THREADS`).
///
/// The workers are plain scoped threads, not rayon workers: a Parquet file is read by polars on
/// its own rayon pool, and a rayon worker of another pool that waits for it keeps stealing work
/// from its own pool meanwhile, i.e. starts parsing the next file one stack frame deeper (with
/// 900 files that nesting overflowed the stack). A thread outside any pool just blocks.
fn parse_files(
    data_dir: &Path,
    files: Vec<PathBuf>,
    columns: Columns,
    today: Date,
) -> Vec<(PathBuf, Result<ParsedFile>)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let threads = rayon::current_num_threads().max(1);
    let workers = threads.clamp(1, files.len().max(1));
    // Fewer files than threads: a large file is itself cut into parts.
    let split = (threads / files.len().max(1)).max(1);
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<ParsedFile>>>> =
        files.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let result = parse_file(data_dir, path, columns, split, today);
                *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
            });
        }
    });
    files
        .into_iter()
        .zip(slots)
        .map(|(path, slot)| {
            let result = slot
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| Err(anyhow::anyhow!("file was not parsed")));
            (path, result)
        })
        .collect()
}

/// A cell quoted for a message: whole when short, else its start and its length, so that a
/// huge cell never becomes a huge warning.
fn shown(cell: &str) -> String {
    const SHOWN_CHARS: usize = 60;
    match cell.char_indices().nth(SHOWN_CHARS) {
        None => format!("{cell:?}"),
        Some((end, _)) => format!("{:?}... ({} bytes)", &cell[..end], cell.len()),
    }
}

fn too_long(side: &str, bytes: usize) -> String {
    format!("{side} team name is {bytes} bytes long, more than {MAX_TEAM_NAME_BYTES}")
}

/// Gives every occurrence of a team name in a league one shared allocation.
fn intern_teams(mut matches: Vec<Match>) -> Vec<Match> {
    let mut names: FxHashMap<Arc<str>, Arc<str>> = FxHashMap::default();
    for m in &mut matches {
        for team in [&mut m.home, &mut m.away] {
            let shared = names.entry(team.clone()).or_insert_with(|| team.clone());
            *team = shared.clone();
        }
    }
    matches
}

/// Collects the data files below `dir` into `out`, and into `not_regular` the entries with a
/// data file's name that are neither regular files nor symlinks to one (FIFOs, sockets, devices).
fn collect_data_files(
    dir: &Path,
    depth: usize,
    out: &mut Vec<PathBuf>,
    not_regular: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        // Follows symlinks; an unreadable entry is skipped here and reported when read.
        let Ok(meta) = std::fs::metadata(&path) else {
            if is_data_file(&path) {
                out.push(path);
            }
            continue;
        };
        if meta.is_dir() {
            // A sub-directory that cannot be listed is left out, not fatal.
            if let Err(e) = collect_data_files(&path, depth + 1, out, not_regular) {
                tracing::warn!("skipping directory {}: {e}", path.display());
            }
        } else if is_data_file(&path) {
            if meta.is_file() {
                out.push(path);
            } else {
                not_regular.push(path);
            }
        }
    }
    Ok(())
}

fn is_data_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()),
        Some(ref e) if e == "csv" || e == "parquet"
    )
}

struct ParsedFile {
    report: FileReport,
    /// The file's used rows by league, in file order, with their data row numbers.
    matches: BTreeMap<String, (Vec<Match>, Vec<u32>)>,
    unknown_divisions: BTreeSet<String>,
    /// (slug, raw league name or code) of every distinct raw name of used rows, in file order.
    league_names: Vec<(String, String)>,
    /// An ESPN side table (`teams.csv` ...): no matches of its own.
    espn_table: bool,
}

/// Reads a CSV or Parquet file into a polars frame whose columns are all text (for fixtures
/// files; the data dir is streamed by `parse_file`).
pub fn read_frame(path: &Path) -> Result<DataFrame> {
    let bytes = std::fs::read(path)?;
    read_frame_bytes(bytes, is_parquet(path))
}

/// A whole file already read (a pipe, a FIFO or standard input can be read only once): Parquet
/// when `parquet` or when it starts with Parquet's magic bytes, else CSV, every column as text.
pub fn read_frame_bytes(bytes: Vec<u8>, parquet: bool) -> Result<DataFrame> {
    if parquet || bytes.starts_with(b"PAR1") {
        let df = ParquetReader::new(std::io::Cursor::new(bytes)).finish()?;
        return parquet_as_text(df);
    }
    check_text_head(&bytes[..bytes.len().min(8192)])?;
    let parse = CsvParseOptions::default()
        .with_encoding(CsvEncoding::LossyUtf8)
        .with_truncate_ragged_lines(true)
        .with_missing_is_null(true);
    Ok(CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .with_parse_options(parse)
        .into_reader_with_file_handle(std::io::Cursor::new(bytes))
        .finish()?)
}

fn is_parquet(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

fn parquet_as_text(df: DataFrame) -> Result<DataFrame> {
    let columns = df
        .columns()
        .iter()
        .map(|c| c.cast(&DataType::String))
        .collect::<PolarsResult<Vec<_>>>()?;
    Ok(DataFrame::new_infer_height(columns)?)
}

/// Refuses what is not a text CSV file before any parser sees it (a binary file would otherwise
/// read as one odd column): `head` is the file's first bytes.
fn check_text_head(head: &[u8]) -> Result<()> {
    if head.iter().all(u8::is_ascii_whitespace) {
        bail!("empty file (no header row)");
    }
    if head.contains(&0) {
        bail!("not a text CSV file (it contains NUL bytes)");
    }
    Ok(())
}

/// Column names cleaned of a byte-order mark and surrounding spaces.
fn clean_name(name: &str) -> String {
    name.trim_start_matches('\u{feff}').trim().to_string()
}

/// Where a file's columns are, and which extras it keeps.
#[derive(Clone)]
struct FileLayout {
    date: usize,
    home: usize,
    away: usize,
    home_goals: usize,
    away_goals: usize,
    league: Option<usize>,
    /// `Country` beside `League` (football-data.co.uk's extra-leagues files): leagues are named
    /// by both.
    country: Option<usize>,
    div: Option<usize>,
    /// Kept extra columns in file order, each with its slot in `extra_names`.
    extras: Vec<(usize, usize)>,
    /// Sorted and unique; columns of the same name share a slot (a row takes the first number
    /// it has under that name, in file order).
    extra_names: Vec<Arc<str>>,
}

impl FileLayout {
    fn new(names: &[String], wanted: Columns) -> Result<FileLayout> {
        let find = |aliases: &[&str]| {
            aliases
                .iter()
                .find_map(|a| names.iter().position(|n| n == a))
        };
        let require = |aliases: &[&str]| {
            find(aliases)
                .with_context(|| format!("missing required column {}", aliases.join(" or ")))
        };
        let date = require(DATE)?;
        let home = require(HOME)?;
        let away = require(AWAY)?;
        let home_goals = require(HOME_GOALS)?;
        let away_goals = require(AWAY_GOALS)?;
        let league = names.iter().position(|n| n.eq_ignore_ascii_case("league"));
        let country = league.and(names.iter().position(|n| n.eq_ignore_ascii_case("country")));
        let div = find(&["Div"]);
        let fixed: HashSet<usize> = [Some(date), Some(home), Some(away), Some(home_goals)]
            .into_iter()
            .chain([Some(away_goals), league, country, div])
            .flatten()
            .collect();
        let kept: Vec<usize> = (0..names.len())
            .filter(|i| !fixed.contains(i) && wanted.keeps(&names[*i]))
            .collect();
        let mut extra_names: Vec<Arc<str>> =
            kept.iter().map(|&i| Arc::from(names[i].as_str())).collect();
        extra_names.sort();
        extra_names.dedup();
        let extras = kept
            .iter()
            .map(|&i| {
                let slot = extra_names
                    .binary_search_by(|n| n.as_ref().cmp(names[i].as_str()))
                    .unwrap_or_default();
                (i, slot)
            })
            .collect();
        Ok(FileLayout {
            date,
            home,
            away,
            home_goals,
            away_goals,
            league,
            country,
            div,
            extras,
            extra_names,
        })
    }

    /// How many leading cells of a row are ever looked at.
    fn cells_read(&self) -> usize {
        [
            self.date,
            self.home,
            self.away,
            self.home_goals,
            self.away_goals,
        ]
        .into_iter()
        .chain(self.league)
        .chain(self.country)
        .chain(self.div)
        .chain(self.extras.iter().map(|(c, _)| *c))
        .max()
        .unwrap_or(0)
            + 1
    }
}

/// One data row, whichever reader produced it. Cells are trimmed; an empty cell is absent.
enum Row<'a> {
    Csv(&'a csv::ByteRecord),
    /// A line of a file without quotes and the (start, end) of its first cells.
    Plain(&'a [u8], &'a [(usize, usize)]),
    Frame(&'a [&'a StringChunked], usize),
}

impl<'a> Row<'a> {
    /// The cell as text (invalid UTF-8 replaced, as a lossy read does).
    fn text(&self, col: usize) -> Option<Cow<'a, str>> {
        if let Row::Frame(columns, row) = self {
            return columns[col].get(*row).map(|s| Cow::Borrowed(s.trim()));
        }
        let bytes = self.raw(col).filter(|b| !b.is_empty())?;
        Some(match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(trim(s)),
            Err(_) => Cow::Owned(String::from_utf8_lossy(bytes).trim().to_string()),
        })
    }

    /// The cell's bytes as read (untrimmed), for the readers that have them.
    fn raw(&self, col: usize) -> Option<&'a [u8]> {
        match self {
            Row::Csv(record) => record.get(col),
            Row::Plain(line, cells) => cells.get(col).map(|&(a, b)| &line[a..b]),
            Row::Frame(..) => None,
        }
    }

    /// The cell as a finite number, if it is one.
    fn number(&self, col: usize) -> Option<f32> {
        if let Row::Frame(columns, row) = self {
            return parse_number(columns[col].get(*row)?);
        }
        let bytes = self.raw(col)?;
        match plain_decimal(bytes) {
            Some(v) => Some(v),
            None => parse_number(std::str::from_utf8(bytes).ok()?),
        }
    }
}

/// `s.trim()`, without looking for Unicode spaces in the usual cell that starts and ends with a
/// printable ASCII character.
fn trim(s: &str) -> &str {
    let printable = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_graphic());
    if printable(s.as_bytes().first()) && printable(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// Turns a file's rows into matches, row by row; keeps the caches of league slugs and team
/// names (a file holds few of each).
struct RowParser {
    layout: FileLayout,
    folder_league: String,
    report: FileReport,
    unknown_divisions: BTreeSet<String>,
    /// Used rows (league id, data row number, match), in file order, without their extras
    /// (`extra_values` holds them).
    matches: Vec<(usize, u32, Match)>,
    /// The used rows' extras, `layout.extra_names.len()` values a row (NaN: absent).
    extra_values: Vec<f32>,
    /// Per extra slot: whether any used row has a number there.
    slot_has_number: Vec<bool>,
    /// Per `LeagueSource`, by raw cell: the index into `leagues` (`None` for a name that makes
    /// no usable slug) and whether it is a division code `leagues` knows (true for names).
    league_ids: [FxHashMap<String, (Option<usize>, bool)>; 3],
    leagues: Vec<String>,
    /// (slug, raw name) of every distinct raw name that made a usable slug, in file order.
    league_names: Vec<(String, String)>,
    team_names: FxHashMap<String, Arc<str>>,
    /// The team of a raw cell (before trimming and UTF-8 checks), for the rows that repeat it.
    team_cells: FxHashMap<Box<[u8]>, Arc<str>>,
    /// The last division code cell and its `league_id` answer (a file rarely has two).
    last_code: Option<(Box<[u8]>, usize, bool)>,
    /// Rows dated after this day are not results.
    today: Date,
}

impl RowParser {
    fn new(layout: FileLayout, folder_league: String, path: &Path, today: Date) -> RowParser {
        let slots = layout.extra_names.len();
        RowParser {
            layout,
            folder_league,
            report: FileReport::empty(path),
            unknown_divisions: BTreeSet::new(),
            matches: Vec::new(),
            extra_values: Vec::new(),
            slot_has_number: vec![false; slots],
            league_ids: Default::default(),
            leagues: Vec::new(),
            league_names: Vec::new(),
            team_names: FxHashMap::default(),
            team_cells: FxHashMap::default(),
            last_code: None,
            today,
        }
    }

    fn push(&mut self, row: &Row<'_>) {
        self.report.rows += 1;
        match self.parse(row) {
            Ok(()) => {}
            Err(reason) => {
                self.report.skipped += 1;
                if self.report.skipped_examples.len() < SHOWN_SKIPPED_ROWS {
                    self.report.skipped_examples.push(SkippedRow {
                        row: self.report.rows,
                        reason,
                    });
                }
            }
        }
    }

    /// The league of a raw name or code and whether it is a known division code (true for
    /// names), or why it cannot name a league.
    fn league_id(
        &mut self,
        source: LeagueSource,
        raw: &str,
    ) -> std::result::Result<(usize, bool), String> {
        // A name no slug can come from (a slug is at most 255 bytes): not cached, not copied.
        if raw.len() > 4 * MAX_TEAM_NAME_BYTES {
            return Err(format!("league name {} is not usable", shown(raw)));
        }
        let (id, known) = match self.league_ids[source as usize].get(raw) {
            Some(found) => *found,
            None => {
                let code_slug = match source {
                    LeagueSource::Code => leagues::slug_for_division(raw),
                    _ => None,
                };
                let known = source != LeagueSource::Code || code_slug.is_some();
                let slug = code_slug
                    .map(str::to_string)
                    .unwrap_or_else(|| leagues::normalise_slug(raw));
                let id = leagues::is_valid_slug(&slug).then(|| {
                    let shown = match source {
                        LeagueSource::Code => raw.to_ascii_uppercase(),
                        _ => raw.to_string(),
                    };
                    if !self.league_names.iter().any(|(_, r)| *r == shown) {
                        self.league_names.push((slug.clone(), shown));
                    }
                    match self.leagues.iter().position(|l| *l == slug) {
                        Some(id) => id,
                        None => {
                            self.leagues.push(slug);
                            self.leagues.len() - 1
                        }
                    }
                });
                self.league_ids[source as usize].insert(raw.to_string(), (id, known));
                (id, known)
            }
        };
        match id {
            Some(id) => Ok((id, known)),
            None => Err(format!("league name {} is not usable", shown(raw))),
        }
    }

    fn team(&mut self, name: &str) -> Arc<str> {
        if let Some(t) = self.team_names.get(name) {
            return t.clone();
        }
        let t: Arc<str> = Arc::from(name);
        self.team_names.insert(name.to_string(), t.clone());
        t
    }

    /// The `side` (home/away) team named in cell `col`; an error when it is empty or longer
    /// than `MAX_TEAM_NAME_BYTES`.
    fn team_cell(
        &mut self,
        row: &Row<'_>,
        col: usize,
        side: &str,
    ) -> std::result::Result<Arc<str>, String> {
        let raw = row.raw(col);
        if let Some(team) = raw.and_then(|r| self.team_cells.get(r)) {
            return Ok(team.clone());
        }
        if raw.is_some_and(|r| r.len() > 4 * MAX_TEAM_NAME_BYTES) {
            return Err(too_long(side, raw.map_or(0, <[u8]>::len)));
        }
        let name = row
            .text(col)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("no {side} team"))?;
        if name.len() > MAX_TEAM_NAME_BYTES {
            return Err(too_long(side, name.len()));
        }
        let team = self.team(&name);
        if let Some(raw) = raw {
            self.team_cells.insert(raw.into(), team.clone());
        }
        Ok(team)
    }

    fn parse(&mut self, row: &Row<'_>) -> std::result::Result<(), String> {
        let l = &self.layout;
        // An unknown division code is reported only for rows that are used (not for junk rows).
        let mut unknown_code = None;
        // The common case first: the same division code as the row before.
        let code_raw = l
            .div
            .filter(|_| l.league.is_none())
            .and_then(|c| row.raw(c));
        let cached = match (&self.last_code, code_raw) {
            (Some((last, id, known)), Some(raw)) if **last == *raw => Some((*id, *known)),
            _ => None,
        };
        let (league_cell, div_cell) = match cached {
            Some(_) => (None, None),
            None => (
                l.league.and_then(|c| row.text(c)),
                l.div.and_then(|c| row.text(c)),
            ),
        };
        let league = if let Some((id, known)) = cached {
            if !known {
                unknown_code = l.div.and_then(|c| row.text(c)).map(|c| c.to_string());
            }
            id
        } else if let Some(c) = league_cell {
            match l.country {
                Some(country) => {
                    let country = row.text(country).ok_or("no country (empty Country cell)")?;
                    self.league_id(LeagueSource::CountryAndName, &format!("{country}, {c}"))?
                        .0
                }
                None => self.league_id(LeagueSource::Name, &c)?.0,
            }
        } else if let Some(code) = div_cell {
            let (id, known) = self.league_id(LeagueSource::Code, &code)?;
            if !known {
                unknown_code = Some(code.to_string());
            }
            if let Some(raw) = code_raw {
                self.last_code = Some((raw.into(), id, known));
            }
            id
        } else if l.league.is_none() && l.div.is_none() {
            let folder = std::mem::take(&mut self.folder_league);
            let id = self.league_id(LeagueSource::Name, &folder);
            self.folder_league = folder;
            id?.0
        } else {
            return Err("no league (empty Div/league cell)".into());
        };
        let l = &self.layout;
        let date_text = row.text(l.date).ok_or("no date")?;
        let date =
            Date::parse(&date_text).ok_or_else(|| format!("invalid date {}", shown(&date_text)))?;
        if date > self.today {
            self.report.future += 1;
            return Err(format!(
                "dated {date}, after today ({}): not a result",
                self.today
            ));
        }
        let (home_col, away_col) = (l.home, l.away);
        let (home_goals_col, away_goals_col) = (l.home_goals, l.away_goals);
        let home = self.team_cell(row, home_col, "home")?;
        let away = self.team_cell(row, away_col, "away")?;
        if home == away {
            return Err(format!("home and away team are the same ({home:?})"));
        }
        let goals = |col: usize| match row.raw(col) {
            Some(&[d @ b'0'..=b'9']) => Ok(d - b'0'),
            _ => parse_goals(row.text(col).as_deref()),
        };
        let home_goals = goals(home_goals_col).map_err(|e| format!("home goals {e}"))?;
        let away_goals = goals(away_goals_col).map_err(|e| format!("away goals {e}"))?;
        let l = &self.layout;
        let start = self.extra_values.len();
        self.extra_values
            .resize(start + l.extra_names.len(), f32::NAN);
        for &(col, slot) in &l.extras {
            let value = &mut self.extra_values[start + slot];
            if value.is_nan() {
                if let Some(v) = row.number(col) {
                    *value = v;
                    self.slot_has_number[slot] = true;
                }
            }
        }
        if let Some(code) = unknown_code {
            self.unknown_divisions.insert(code);
        }
        self.matches.push((
            league,
            u32::try_from(self.report.rows).unwrap_or(u32::MAX),
            Match {
                date,
                home,
                away,
                home_goals,
                away_goals,
                extras: Extras::default(),
            },
        ));
        Ok(())
    }

    /// Takes over the rows of `next`, which parsed the part of the same file that follows.
    fn append(&mut self, next: RowParser) {
        let offset = self.report.rows;
        self.report.rows += next.report.rows;
        self.report.skipped += next.report.skipped;
        self.report.future += next.report.future;
        for mut s in next.report.skipped_examples {
            if self.report.skipped_examples.len() < SHOWN_SKIPPED_ROWS {
                s.row += offset;
                self.report.skipped_examples.push(s);
            }
        }
        self.unknown_divisions.extend(next.unknown_divisions);
        for (slug, raw) in next.league_names {
            if !self.league_names.iter().any(|(_, r)| *r == raw) {
                self.league_names.push((slug, raw));
            }
        }
        let ids: Vec<usize> = next
            .leagues
            .into_iter()
            .map(|slug| match self.leagues.iter().position(|l| *l == slug) {
                Some(id) => id,
                None => {
                    self.leagues.push(slug);
                    self.leagues.len() - 1
                }
            })
            .collect();
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        self.matches.extend(
            next.matches
                .into_iter()
                .map(|(league, row, m)| (ids[league], row.saturating_add(offset), m)),
        );
        self.extra_values.extend(next.extra_values);
        for (mine, theirs) in self.slot_has_number.iter_mut().zip(next.slot_has_number) {
            *mine |= theirs;
        }
    }

    /// The file's outcome; extras columns without a single number (team names, referees,
    /// result letters) are dropped here.
    fn finish(mut self) -> ParsedFile {
        let slots = self.layout.extra_names.len();
        let kept: Vec<usize> = (0..slots).filter(|&s| self.slot_has_number[s]).collect();
        let names: Arc<[Arc<str>]> = kept
            .iter()
            .map(|&s| self.layout.extra_names[s].clone())
            .collect();
        let with_extras = |(i, (_, _, mut m)): (usize, (usize, u32, Match))| {
            let row = &self.extra_values[i * slots..(i + 1) * slots];
            m.extras = Extras::from_columns(names.clone(), kept.iter().map(|&s| row[s]).collect());
            m
        };
        let by_league: Vec<(Vec<Match>, Vec<u32>)> = if self.leagues.len() == 1 {
            // The usual file of one league: the rows stay where they are (collected in place).
            let rows = self.matches.iter().map(|r| r.1).collect();
            vec![(
                self.matches
                    .into_iter()
                    .enumerate()
                    .map(with_extras)
                    .collect(),
                rows,
            )]
        } else {
            let mut by_league: Vec<(Vec<Match>, Vec<u32>)> =
                vec![(Vec::new(), Vec::new()); self.leagues.len()];
            for (i, row) in self.matches.into_iter().enumerate() {
                let (league, number) = (row.0, row.1);
                by_league[league].0.push(with_extras((i, row)));
                by_league[league].1.push(number);
            }
            by_league
        };
        self.report.used = by_league.iter().map(|(m, _)| m.len()).sum();
        let matches = self
            .leagues
            .into_iter()
            .zip(by_league)
            .filter(|(_, (m, _))| !m.is_empty())
            .collect();
        ParsedFile {
            report: self.report,
            matches,
            unknown_divisions: self.unknown_divisions,
            league_names: self.league_names,
            espn_table: false,
        }
    }
}

/// Reads one file. A CSV file is parsed record by record (only the cells of the kept columns are
/// looked at): split at line ends and commas when it holds no quote, else by the csv crate; a
/// Parquet file is read with polars and cast to text.
fn parse_file(
    data_dir: &Path,
    path: &Path,
    wanted: Columns,
    split: usize,
    today: Date,
) -> Result<ParsedFile> {
    let folder = folder_league(data_dir, path);
    if is_parquet(path) {
        let df = parquet_as_text(ParquetReader::new(std::fs::File::open(path)?).finish()?)?;
        let names: Vec<String> = df.columns().iter().map(|c| clean_name(c.name())).collect();
        let columns: Vec<&StringChunked> = df
            .columns()
            .iter()
            .map(|c| c.str())
            .collect::<PolarsResult<_>>()?;
        let layout = match FileLayout::new(&names, wanted) {
            Ok(layout) => layout,
            Err(e) => return parse_espn(data_dir, path, &names, today, e),
        };
        let mut parser = RowParser::new(layout, folder, path, today);
        for row in 0..df.height() {
            parser.push(&Row::Frame(&columns, row));
        }
        return Ok(parser.finish());
    }
    let source = Source::open(path)?;
    if !source.holds(b'"')? {
        return parse_plain_csv(&source, data_dir, path, folder, wanted, split, today);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(source.reader()?);
    let mut record = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut record)? {
        bail!("empty file (no header row)");
    }
    let names: Vec<String> = record
        .iter()
        .map(|n| clean_name(&String::from_utf8_lossy(n)))
        .collect();
    let layout = match FileLayout::new(&names, wanted) {
        Ok(layout) => layout,
        Err(e) => return parse_espn(data_dir, path, &names, today, e),
    };
    let mut parser = RowParser::new(layout, folder, path, today);
    let mut last_start = record.position().map_or(0, |p| p.byte());
    while reader.read_byte_record(&mut record)? {
        last_start = record.position().map_or(last_start, |p| p.byte());
        parser.push(&Row::Csv(&record));
    }
    if source.quotes_from(last_start)? % 2 == 1 {
        // An odd number of quotes in the last record: a quoted cell that never closed and
        // swallowed every line after it. Refused as a whole, as polars refuses it.
        bail!(
            "could not parse row {}: a quote opened there is never closed",
            parser.report.rows
        );
    }
    Ok(parser.finish())
}

/// A file without football-data.co.uk's columns: an ESPN fixtures file or side table when its
/// header says so (read by `espn`), else refused with `not_football_data`.
fn parse_espn(
    data_dir: &Path,
    path: &Path,
    names: &[String],
    today: Date,
    not_football_data: anyhow::Error,
) -> Result<ParsedFile> {
    let Some(kind) = espn::detect(names) else {
        return Err(not_football_data);
    };
    let mut parsed = ParsedFile {
        report: FileReport::empty(path),
        matches: BTreeMap::new(),
        unknown_divisions: BTreeSet::new(),
        league_names: Vec::new(),
        espn_table: kind == espn::EspnFile::Table,
    };
    if parsed.espn_table {
        return Ok(parsed);
    }
    let read = espn::read_fixtures(data_dir, path, kind, today)?;
    let report = &mut parsed.report;
    report.rows = read.rows;
    report.used = read.matches.values().map(Vec::len).sum();
    report.skipped = report.rows - report.used;
    report.future = read.future;
    report.skipped_examples = read
        .bad_rows
        .into_iter()
        .take(SHOWN_SKIPPED_ROWS)
        .map(|(row, reason)| SkippedRow { row, reason })
        .collect();
    report.espn = Some(read.report);
    let mut numbers = read.match_rows;
    parsed.matches = read
        .matches
        .into_iter()
        .map(|(league, matches)| {
            let rows = numbers.remove(&league).unwrap_or_default();
            (league, (matches, rows))
        })
        .collect();
    Ok(parsed)
}

/// Files up to this size are read into memory in one go; larger ones are streamed in blocks.
const IN_MEMORY_MAX_BYTES: u64 = 64 << 20;

/// A CSV file's bytes: in memory when small, else read block by block from the file.
enum Source {
    Memory(Vec<u8>),
    File(std::fs::File, u64),
}

thread_local! {
    /// The buffer of this thread's last in-memory file, for its next one: memory that is
    /// already mapped (fresh memory costs a page fault every 4 KiB, about a tenth of a load).
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Drop for Source {
    fn drop(&mut self) {
        if let Source::Memory(bytes) = self {
            let bytes = std::mem::take(bytes);
            let _ = READ_BUFFER.try_with(|b| *b.borrow_mut() = bytes);
        }
    }
}

impl Source {
    /// Opens a CSV file, refusing what is not a text file (a binary file would otherwise read as
    /// one odd column).
    fn open(path: &Path) -> Result<Source> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        let source = if len <= IN_MEMORY_MAX_BYTES {
            use std::io::Read;
            let mut bytes = READ_BUFFER
                .try_with(|b| std::mem::take(&mut *b.borrow_mut()))
                .unwrap_or_default();
            bytes.clear();
            bytes.reserve(len as usize);
            (&file).read_to_end(&mut bytes)?;
            Source::Memory(bytes)
        } else {
            Source::File(file, len)
        };
        let head = source.read_at(0, 8192)?;
        if head.iter().all(u8::is_ascii_whitespace) {
            bail!("empty file (no header row)");
        }
        if head.contains(&0) {
            bail!("not a text CSV file (it contains NUL bytes)");
        }
        Ok(source)
    }

    fn len(&self) -> u64 {
        match self {
            Source::Memory(bytes) => bytes.len() as u64,
            Source::File(_, len) => *len,
        }
    }

    /// Up to `n` bytes from `at`.
    fn read_at(&self, at: u64, n: usize) -> Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        match self {
            Source::Memory(bytes) => {
                let start = (at as usize).min(bytes.len());
                Ok(bytes[start..(start + n).min(bytes.len())].to_vec())
            }
            Source::File(file, _) => {
                let mut buf = vec![0u8; n];
                let mut got = 0;
                while got < n {
                    let k = file.read_at(&mut buf[got..], at + got as u64)?;
                    if k == 0 {
                        break;
                    }
                    got += k;
                }
                buf.truncate(got);
                Ok(buf)
            }
        }
    }

    /// Whether `byte` occurs anywhere.
    fn holds(&self, byte: u8) -> Result<bool> {
        let mut found = false;
        self.for_each_block(0, |block| {
            found = memchr::memchr(byte, block).is_some();
            !found
        })?;
        Ok(found)
    }

    /// How many quote characters there are from `start` to the end.
    fn quotes_from(&self, start: u64) -> Result<usize> {
        let mut quotes = 0;
        self.for_each_block(start, |block| {
            quotes += memchr::memchr_iter(b'"', block).count();
            true
        })?;
        Ok(quotes)
    }

    /// Calls `f` on consecutive blocks from `start` to the end while it returns true.
    fn for_each_block(&self, start: u64, mut f: impl FnMut(&[u8]) -> bool) -> Result<()> {
        const BLOCK: usize = 1 << 20;
        match self {
            Source::Memory(bytes) => {
                f(&bytes[(start as usize).min(bytes.len())..]);
            }
            Source::File(..) => {
                let mut at = start;
                loop {
                    let block = self.read_at(at, BLOCK)?;
                    if block.is_empty() || !f(&block) {
                        break;
                    }
                    at += block.len() as u64;
                }
            }
        }
        Ok(())
    }

    /// A reader of every byte, for the csv crate.
    fn reader(&self) -> Result<Box<dyn std::io::Read + '_>> {
        Ok(match self {
            Source::Memory(bytes) => Box::new(&bytes[..]),
            Source::File(file, _) => Box::new(std::io::BufReader::new(file.try_clone()?)),
        })
    }

    /// Calls `f(line, end)` for every non-empty line of `[start, end)` (lines end at `\n` or
    /// `\r`; `end` is the offset just past the line's end) until it returns false.
    fn for_each_line(
        &self,
        start: u64,
        end: u64,
        mut f: impl FnMut(&[u8], u64) -> bool,
    ) -> Result<()> {
        match self {
            Source::Memory(bytes) => {
                let part = &bytes[start as usize..end as usize];
                lines_of(part, start, true, &mut f);
                Ok(())
            }
            Source::File(file, _) => for_each_line(file, start, end, f),
        }
    }
}

/// Calls `f(line, end)` for the lines of `buf` (which starts at file offset `at`); the last
/// line without a line end too when `to_end`. Returns where the unfinished last line starts
/// (`None` when `f` asked to stop).
fn lines_of(
    buf: &[u8],
    at: u64,
    to_end: bool,
    f: &mut impl FnMut(&[u8], u64) -> bool,
) -> Option<usize> {
    let mut line_start = 0;
    for i in memchr::memchr2_iter(b'\n', b'\r', buf) {
        if i > line_start && !f(&buf[line_start..i], at + i as u64 + 1) {
            return None;
        }
        line_start = i + 1;
    }
    if to_end && line_start < buf.len() {
        f(&buf[line_start..], at + buf.len() as u64);
        return Some(buf.len());
    }
    Some(line_start)
}

/// Below this size a file is parsed by one thread.
const SPLIT_MIN_BYTES: u64 = 4 << 20;

/// A CSV file without a single quote: every line is one record and every comma separates two
/// cells, which is what the csv crate makes of it too (`\n`, `\r\n` and a lone `\r` end a
/// record, empty lines are skipped, short rows lack cells, long rows carry cells past the
/// header's). Only the cells up to the last one the layout reads are located, and a large file
/// is cut at line ends into `split` parts parsed side by side.
#[allow(clippy::too_many_arguments)]
fn parse_plain_csv(
    source: &Source,
    data_dir: &Path,
    path: &Path,
    folder: String,
    wanted: Columns,
    split: usize,
    today: Date,
) -> Result<ParsedFile> {
    let len = source.len();
    // The header: the first non-empty line.
    let mut header: Option<(Vec<u8>, u64)> = None;
    source.for_each_line(0, len, |line, end| {
        header = Some((line.to_vec(), end));
        false
    })?;
    let Some((header, body_start)) = header else {
        bail!("empty file (no header row)");
    };
    let names: Vec<String> = header
        .split(|&b| b == b',')
        .map(|n| clean_name(&String::from_utf8_lossy(n)))
        .collect();
    let layout = match FileLayout::new(&names, wanted) {
        Ok(layout) => layout,
        Err(e) => return parse_espn(data_dir, path, &names, today, e),
    };
    // Part boundaries: just after a line end at or past each even cut.
    let body = len - body_start;
    let parts = if body >= SPLIT_MIN_BYTES {
        split.max(1)
    } else {
        1
    };
    let mut bounds = vec![body_start];
    for i in 1..parts {
        let mut at = body_start + body * i as u64 / parts as u64;
        loop {
            let buf = source.read_at(at, 4096)?;
            if buf.is_empty() {
                at = len;
                break;
            }
            if let Some(j) = memchr::memchr2(b'\n', b'\r', &buf) {
                at += j as u64 + 1;
                break;
            }
            at += buf.len() as u64;
        }
        bounds.push(at.max(*bounds.last().unwrap_or(&body_start)));
    }
    bounds.push(len);
    let parse_part = |start: u64, end: u64| -> Result<RowParser> {
        let mut parser = RowParser::new(layout.clone(), folder.clone(), path, today);
        // Room for every line at once (growing by doubling copies the rows and touches fresh
        // memory each time).
        if let Source::Memory(bytes) = source {
            let lines = memchr::memchr_iter(b'\n', &bytes[start as usize..end as usize]).count();
            parser.matches.reserve(lines + 1);
        }
        let cells_read = layout.cells_read();
        let mut cells: Vec<(usize, usize)> = Vec::with_capacity(cells_read);
        source.for_each_line(start, end, |line, _| {
            split_cells(line, cells_read, &mut cells);
            parser.push(&Row::Plain(line, &cells));
            true
        })?;
        Ok(parser)
    };
    let mut parsed: Vec<Result<RowParser>> = if parts == 1 {
        vec![parse_part(bounds[0], bounds[1])]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = bounds
                .windows(2)
                .map(|w| {
                    let (start, end) = (w[0], w[1]);
                    scope.spawn(move || parse_part(start, end))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a parse thread panicked")))
                })
                .collect()
        })
    };
    let mut parser = parsed.remove(0)?;
    for next in parsed {
        parser.append(next?);
    }
    Ok(parser.finish())
}

/// Calls `f(line, end)` for every non-empty line of `file[start..end]` (lines end at `\n` or
/// `\r`; `end` is the offset just past the line's end) until it returns false.
fn for_each_line(
    file: &std::fs::File,
    start: u64,
    end: u64,
    mut f: impl FnMut(&[u8], u64) -> bool,
) -> Result<()> {
    use std::os::unix::fs::FileExt;
    const BLOCK: usize = 1 << 20;
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK);
    // `buf` holds the file from `buf_at`; a line cut by the block end is carried over.
    let mut buf_at = start;
    let mut pos = start;
    loop {
        let carried = buf.len();
        let want = (BLOCK.max(carried * 2) - carried).min((end - pos) as usize);
        buf.resize(carried + want, 0);
        let mut got = 0;
        while got < want {
            let n = file.read_at(&mut buf[carried + got..carried + want], pos + got as u64)?;
            if n == 0 {
                break;
            }
            got += n;
        }
        buf.truncate(carried + got);
        pos += got as u64;
        let at_end = got == 0 || pos >= end;
        let Some(line_start) = lines_of(&buf, buf_at, at_end, &mut f) else {
            return Ok(());
        };
        if at_end {
            return Ok(());
        }
        buf.drain(..line_start);
        buf_at += line_start as u64;
    }
}

/// The (start, end) of the first `n` cells of a quote-free line (fewer when the line has fewer).
fn split_cells(line: &[u8], n: usize, cells: &mut Vec<(usize, usize)>) {
    cells.clear();
    if n == 0 {
        return;
    }
    // Eight bytes at a time (cells are a few bytes: a search a cell costs more than it skips).
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const COMMAS: u64 = u64::from_ne_bytes([b','; 8]);
    let mut start = 0;
    let mut at = 0;
    let mut comma = |i: usize, cells: &mut Vec<(usize, usize)>| {
        cells.push((start, i));
        start = i + 1;
        cells.len() == n
    };
    while at + 8 <= line.len() {
        let word = u64::from_le_bytes(line[at..at + 8].try_into().unwrap_or([0; 8]));
        let x = word ^ COMMAS;
        // The high bit of each zero byte of `x` (exact: no false positives with this form).
        let mut zeros = !(((x & !HIGHS) + !HIGHS) | x) & HIGHS;
        while zeros != 0 {
            let i = at + (zeros.trailing_zeros() / 8) as usize;
            if comma(i, cells) {
                return;
            }
            zeros &= zeros - 1;
        }
        at += 8;
    }
    for (i, &b) in line.iter().enumerate().skip(at) {
        if b == b',' && comma(i, cells) {
            return;
        }
    }
    cells.push((start, line.len()));
}

/// The league of a file with neither a `league` nor a `Div` column: the name of its folder
/// directly below the data dir (or the file's own name when it sits in the data dir itself).
fn folder_league(data_dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(data_dir).unwrap_or(path);
    let mut parts = rel.components();
    let first = parts
        .next()
        .map(|c| c.as_os_str().to_string_lossy().to_string());
    let name = if parts.next().is_some() {
        first.unwrap_or_default()
    } else {
        path.file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default()
    };
    leagues::normalise_slug(&name)
}

/// A goal count: a non-negative integer (an integral float such as `2.0`, as pandas writes
/// columns with gaps, is accepted).
fn parse_goals(cell: Option<&str>) -> std::result::Result<u8, String> {
    let s = cell.filter(|s| !s.is_empty()).ok_or("missing")?;
    let value: f64 = s
        .parse()
        .map_err(|_| format!("{} is not a number", shown(s)))?;
    if !value.is_finite() || value < 0.0 || value.fract() != 0.0 {
        return Err(format!("{} is not a non-negative whole number", shown(s)));
    }
    if value > 99.0 {
        return Err(format!("{} is not a plausible goal count", shown(s)));
    }
    Ok(value as u8)
}

/// A finite number in an extra column, or `None`.
fn parse_number(cell: &str) -> Option<f32> {
    let s = cell.trim();
    if s.is_empty() {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    (v.is_finite() && v.abs() < f32::MAX as f64).then_some(v as f32)
}

/// `parse_number` of the common cell `-?digits[.digits]` (at most 15 digits), without the
/// general parser: the integer of the digits divided by a power of ten. Both are exact in an
/// `f64` (below 2^53 and at most 10^15), so the one division is correctly rounded, i.e. the same
/// `f64` as `str::parse` gives. `None` for anything else (the caller then parses in full).
fn plain_decimal(bytes: &[u8]) -> Option<f32> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (negative, digits) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        _ => (false, bytes),
    };
    let mut mantissa: u64 = 0;
    let mut count = 0usize;
    let mut fraction: Option<usize> = None;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                count += 1;
            }
            b'.' if fraction.is_none() && i > 0 && i + 1 < digits.len() => {
                fraction = Some(digits.len() - i - 1)
            }
            _ => return None,
        }
    }
    if count == 0 || count > 15 {
        return None;
    }
    let v = mantissa as f64 / POW10[fraction.unwrap_or(0)];
    let v = if negative { -v } else { v };
    (v.abs() < f32::MAX as f64).then_some(v as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The row cache paths (a repeated division code, a team cell seen before, a one-digit goal
    /// cell) give what the text path gives, in the quote-free reader and the csv crate's.
    #[test]
    fn repeated_cells_read_as_the_first_time() {
        let rows = [
            "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG",
            "E0,01/08/20,Arsenal,Chelsea,1,0",
            "E0,02/08/20, Arsenal ,Chelsea,2,1",
            "X9,03/08/20,Arsenal,Chelsea,0,0",
            "X9,04/08/20,Chelsea,Arsenal,0,0",
            "E0,05/08/20,Chelsea,Chelsea,1,1",
            "E0,06/08/20,Arsenal,Chelsea, 3,10",
            "E0,07/08/20,Arsenal,,1,1",
            "E0,08/08/20,Chelsea,Arsenal,x,1",
            " E0,09/08/20,Chelsea,Arsenal,4,4",
        ];
        for quoted in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let mut text = rows.join("\n");
            if quoted {
                text = text.replace("Chelsea,2,1", "\"Chelsea\",2,1");
            }
            std::fs::write(dir.path().join("a.csv"), text).unwrap();
            let loaded = load_data_dir_as_of(dir.path(), Columns::Required, Date(30_000)).unwrap();
            let league = |slug: &str| -> Vec<String> {
                loaded.dataset.leagues[slug]
                    .matches
                    .iter()
                    .map(|m| {
                        format!(
                            "{} {}-{} {}-{}",
                            m.date, m.home, m.away, m.home_goals, m.away_goals
                        )
                    })
                    .collect()
            };
            assert_eq!(
                league("premier_league"),
                [
                    "2020-08-01 Arsenal-Chelsea 1-0",
                    "2020-08-02 Arsenal-Chelsea 2-1",
                    "2020-08-06 Arsenal-Chelsea 3-10",
                    "2020-08-09 Chelsea-Arsenal 4-4",
                ],
                "quoted: {quoted}"
            );
            assert_eq!(
                league("x9"),
                [
                    "2020-08-03 Arsenal-Chelsea 0-0",
                    "2020-08-04 Chelsea-Arsenal 0-0"
                ]
            );
            let pl = &loaded.dataset.leagues["premier_league"].matches;
            assert!(Arc::ptr_eq(&pl[0].home, &pl[1].home));
            assert_eq!(loaded.unknown_divisions.iter().collect::<Vec<_>>(), ["X9"]);
            let report = &loaded.files[0];
            assert_eq!((report.rows, report.used, report.skipped), (9, 6, 3));
            let reasons: Vec<&str> = report
                .skipped_examples
                .iter()
                .map(|s| s.reason.as_str())
                .collect();
            assert_eq!(
                reasons,
                [
                    "home and away team are the same (\"Chelsea\")",
                    "no away team",
                    "home goals \"x\" is not a number"
                ]
            );
        }
    }

    #[test]
    fn goals() {
        assert_eq!(parse_goals(Some("3")), Ok(3));
        assert_eq!(parse_goals(Some("2.0")), Ok(2));
        assert!(parse_goals(Some("-1")).is_err());
        assert!(parse_goals(Some("x")).is_err());
        assert!(parse_goals(Some("1.5")).is_err());
        assert!(parse_goals(Some("99999999999999999999")).is_err());
        assert!(parse_goals(None).is_err());
    }

    #[test]
    fn cells_split_where_a_search_for_each_comma_splits_them() {
        // The reference: one search a cell.
        fn searched(line: &[u8], n: usize) -> Vec<(usize, usize)> {
            let mut cells = Vec::new();
            let mut start = 0;
            while cells.len() < n {
                match line[start..].iter().position(|&b| b == b',') {
                    Some(i) => {
                        cells.push((start, start + i));
                        start += i + 1;
                    }
                    None => {
                        cells.push((start, line.len()));
                        break;
                    }
                }
            }
            cells
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut cells = Vec::new();
        for len in 0..200 {
            for _ in 0..20 {
                let line: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        // Commas, bytes next to them in value, high bytes and digits.
                        [b',', b'+', b'-', 0xAC, 0x2C | 0x80, b'1', b'.', 0][(x % 8) as usize]
                    })
                    .collect();
                for n in [0, 1, 3, 50, 500] {
                    split_cells(&line, n, &mut cells);
                    assert_eq!(cells, searched(&line, n), "{line:?} {n}");
                }
            }
        }
    }

    #[test]
    fn plain_decimals_parse_as_the_general_parser_does() {
        let mut cases: Vec<String> = [
            "0",
            "1",
            "-0",
            "-1.5",
            "1.85",
            "3.6",
            "4.2",
            "0.1",
            "0.3",
            "1000.01",
            "2.675",
            "123456789012345",
            "1234567890123456",
            "0.000000000000001",
            "1.",
            ".5",
            "1.2.3",
            "-",
            "",
            "1e3",
            " 2",
            "+3",
            "9999999999.99999",
            "00012.500",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Odds-like and long decimals from a fixed pseudo-random sequence.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let int = x % 100_000;
            let frac_digits = (x >> 20) as usize % 9;
            let frac = (x >> 32) % 10u64.pow(frac_digits as u32).max(1);
            cases.push(if frac_digits == 0 {
                format!("{int}")
            } else {
                format!("{int}.{frac:0frac_digits$}")
            });
        }
        for c in &cases {
            let expected = parse_number(c);
            if let Some(v) = plain_decimal(c.as_bytes()) {
                assert_eq!(Some(v.to_bits()), expected.map(f32::to_bits), "{c:?}");
            }
        }
        assert_eq!(plain_decimal(b"1.85"), Some(1.85));
        assert_eq!(plain_decimal(b"1e3"), None);
        assert_eq!(plain_decimal(b"1234567890123456"), None);
    }

    #[test]
    fn folder_names() {
        let d = Path::new("/d");
        assert_eq!(
            folder_league(d, Path::new("/d/Premier League/x.csv")),
            "premier_league"
        );
        assert_eq!(folder_league(d, Path::new("/d/a/b/x.csv")), "a");
        assert_eq!(folder_league(d, Path::new("/d/serie_a.csv")), "serie_a");
    }
}
