//! Loading: every `.csv` and `.parquet` file under the data dir, read with polars as text, turned
//! into typed, validated, de-duplicated and date-sorted matches per league. Dirty rows are skipped
//! and counted per file; a file that cannot be read is reported by path and reason while the other
//! files still count.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use polars::prelude::*;

use crate::data::date::Date;
use crate::data::leagues;
use crate::data::matches::{Dataset, Extras, LeagueMatches, Match};

/// How many skipped row numbers a warning lists per file.
const SHOWN_SKIPPED_ROWS: usize = 5;
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
    pub path: PathBuf,
    pub rows: usize,
    pub used: usize,
    pub skipped: usize,
    /// The first few skipped rows.
    pub skipped_examples: Vec<SkippedRow>,
}

/// A file that could not be read at all.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UnreadableFile {
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
}

impl LoadedData {
    pub fn skipped_rows(&self) -> usize {
        self.files.iter().map(|f| f.skipped).sum()
    }
}

/// Which columns a load keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Columns {
    /// The required columns and every numeric extra (what training and prediction need).
    All,
    /// Only the required columns: the same matches, skipped rows and reports, without extras.
    /// What detection needs (`--dry-run`, `status`); CSV files are then read with a column
    /// projection, so polars never builds the ~100 odds and statistics columns.
    Required,
}

/// Loads every data file under `data_dir`. Fails only when the directory itself cannot be read.
pub fn load_data_dir(data_dir: &Path) -> Result<LoadedData> {
    load_data_dir_with(data_dir, Columns::All)
}

/// `load_data_dir`, keeping only `columns`.
pub fn load_data_dir_with(data_dir: &Path, columns: Columns) -> Result<LoadedData> {
    let meta = std::fs::metadata(data_dir)
        .with_context(|| format!("data dir {} cannot be read", data_dir.display()))?;
    if !meta.is_dir() {
        bail!("data dir {} is not a directory", data_dir.display());
    }
    let mut files = Vec::new();
    collect_data_files(data_dir, 0, &mut files)
        .with_context(|| format!("data dir {} cannot be listed", data_dir.display()))?;
    files.sort();

    let parsed = parse_files(data_dir, files, columns);

    let mut loaded = LoadedData::default();
    let mut by_league: BTreeMap<String, Vec<Match>> = BTreeMap::new();
    for (path, result) in parsed {
        match result {
            Ok(file) => {
                loaded.unknown_divisions.extend(file.unknown_divisions);
                loaded.files.push(file.report);
                for (league, m) in file.matches {
                    by_league.entry(league).or_default().push(m);
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
    for (league, mut matches) in by_league {
        // Stable sort: among duplicates the row from the first file (in path order) is kept.
        matches.sort_by(|a, b| (a.date, &a.home, &a.away).cmp(&(b.date, &b.home, &b.away)));
        let before = matches.len();
        matches.dedup_by(|later, earlier| {
            later.date == earlier.date && later.home == earlier.home && later.away == earlier.away
        });
        loaded.duplicates += before - matches.len();
        let matches = intern_teams(matches);
        loaded
            .dataset
            .leagues
            .insert(league.clone(), LeagueMatches { league, matches });
    }
    Ok(loaded)
}

/// Parses every file, in parallel, and returns the results in the order of `files`.
///
/// The workers are plain scoped threads, not rayon workers: polars runs its CSV reader on its own
/// rayon pool, and a rayon worker of another pool that waits for it keeps stealing work from its
/// own pool meanwhile, i.e. starts parsing the next file one stack frame deeper. With many files
/// (900 synthetic files were enough) that nesting overflowed the stack. A thread outside any pool
/// just blocks until polars is done. The worker count follows rayon's (`RAYON_NUM_THREADS`).
fn parse_files(
    data_dir: &Path,
    files: Vec<PathBuf>,
    columns: Columns,
) -> Vec<(PathBuf, Result<ParsedFile>)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let workers = rayon::current_num_threads().clamp(1, files.len().max(1));
    // More files than workers: parallel across files, each file read single-threaded.
    let one_of_many = files.len() > workers;
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<ParsedFile>>>> =
        files.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let result = parse_file(data_dir, path, one_of_many, columns);
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

/// Gives every occurrence of a team name in a league one shared allocation.
fn intern_teams(mut matches: Vec<Match>) -> Vec<Match> {
    let mut names: HashMap<Arc<str>, Arc<str>> = HashMap::new();
    for m in &mut matches {
        for team in [&mut m.home, &mut m.away] {
            let shared = names.entry(team.clone()).or_insert_with(|| team.clone());
            *team = shared.clone();
        }
    }
    matches
}

fn collect_data_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
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
            if let Err(e) = collect_data_files(&path, depth + 1, out) {
                tracing::warn!("skipping directory {}: {e}", path.display());
            }
        } else if is_data_file(&path) {
            out.push(path);
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
    matches: Vec<(String, Match)>,
    unknown_divisions: BTreeSet<String>,
}

/// Reads a CSV or Parquet file into a frame whose columns are all text.
pub fn read_frame(path: &Path) -> Result<DataFrame> {
    read_frame_with(path, false, Columns::All)
}

/// `read_frame`; `one_of_many` when the caller reads many files side by side: then each CSV is
/// parsed on the calling thread (polars' own splitting of a ~100 kB file across its pool costs
/// more than it saves) and its chunks are not concatenated (the loader walks chunks anyway).
///
/// With `Columns::Required` a CSV file is read with a projection onto the required columns when
/// its header can be read up front; the frame may then hold only those columns (or, when the
/// header could not be read on its own, all of them: the caller finds columns by name anyway).
fn read_frame_with(path: &Path, one_of_many: bool, columns: Columns) -> Result<DataFrame> {
    let is_parquet = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let df = if is_parquet {
        let file = std::fs::File::open(path)?;
        let df = ParquetReader::new(file).finish()?;
        let columns = df
            .columns()
            .iter()
            .map(|c| c.cast(&DataType::String))
            .collect::<PolarsResult<Vec<_>>>()?;
        DataFrame::new_infer_height(columns)?
    } else {
        // Checked first: polars would read a binary file as one odd column.
        let head = read_head(path)?;
        if head.iter().all(u8::is_ascii_whitespace) {
            bail!("empty file (no header row)");
        }
        if head.contains(&0) {
            bail!("not a text CSV file (it contains NUL bytes)");
        }
        let parse = CsvParseOptions::default()
            .with_encoding(CsvEncoding::LossyUtf8)
            .with_truncate_ragged_lines(true)
            .with_missing_is_null(true);
        let projection = match columns {
            Columns::All => None,
            Columns::Required => required_projection(path, &head),
        };
        let read = |projection: Option<&Vec<usize>>| -> Result<DataFrame> {
            Ok(CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .with_raise_if_empty(false)
                .with_n_threads(one_of_many.then_some(1))
                .with_rechunk(!one_of_many)
                .with_projection(projection.map(|p| Arc::new(p.clone())))
                .with_parse_options(parse.clone())
                .try_into_reader_with_file_path(Some(path.to_path_buf()))?
                .finish()?)
        };
        match projection {
            Some((indices, names)) => match read(Some(&indices)) {
                // The header was split as polars splits it, or the projection is not used; and
                // an error is always the one of reading every column.
                Ok(df)
                    if df
                        .get_column_names()
                        .iter()
                        .map(|n| clean_name(n))
                        .eq(names.iter().cloned()) =>
                {
                    df
                }
                _ => read(None)?,
            },
            None => read(None)?,
        }
    };
    Ok(df)
}

/// The indices and cleaned names of the columns `parse_file` looks up, from the file's header
/// line split at commas; `None` when the header is not in the first 64 kB, holds quotes, or
/// lacks a required column (the caller then reads every column, and polars has the last word).
fn required_projection(path: &Path, head: &[u8]) -> Option<(Vec<usize>, Vec<String>)> {
    let mut head = head.to_vec();
    if !head.contains(&b'\n') {
        use std::io::Read;
        let mut more = Vec::new();
        std::fs::File::open(path)
            .ok()?
            .take(64 * 1024)
            .read_to_end(&mut more)
            .ok()?;
        head = more;
    }
    let line_end = head.iter().position(|&b| b == b'\n')?;
    let header_line = &head[..line_end];
    // Quotes or stray carriage returns inside the header: leave the splitting to polars.
    if header_line.contains(&b'"')
        || header_line[..header_line.len().saturating_sub(1)].contains(&b'\r')
    {
        return None;
    }
    let names: Vec<String> = String::from_utf8_lossy(header_line)
        .trim_end_matches('\r')
        .split(',')
        .map(clean_name)
        .collect();
    let first = |aliases: &[&str]| {
        aliases
            .iter()
            .find_map(|a| names.iter().position(|n| n == a))
    };
    // A required column missing: the full read reports it as usual (and polars is never asked
    // for an empty projection).
    let mut indices: Vec<usize> = [
        first(DATE)?,
        first(HOME)?,
        first(AWAY)?,
        first(HOME_GOALS)?,
        first(AWAY_GOALS)?,
    ]
    .into_iter()
    .chain(first(&["Div"]))
    .chain(names.iter().position(|n| n.eq_ignore_ascii_case("league")))
    .collect();
    indices.sort_unstable();
    indices.dedup();
    let picked = indices.iter().map(|&i| names[i].clone()).collect();
    Some((indices, picked))
}

fn read_head(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = vec![0u8; 8192];
    let mut file = std::fs::File::open(path)?;
    let n = file.read(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// Column names cleaned of a byte-order mark and surrounding spaces.
fn clean_name(name: &str) -> String {
    name.trim_start_matches('\u{feff}').trim().to_string()
}

/// Finds the column among `names` (first alias that exists), by cleaned name.
fn find_column<'a>(columns: &'a [(String, &'a StringChunked)], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|n| columns.iter().position(|(c, _)| c == n))
}

fn parse_file(
    data_dir: &Path,
    path: &Path,
    one_of_many: bool,
    wanted: Columns,
) -> Result<ParsedFile> {
    let df = read_frame_with(path, one_of_many, wanted)?;
    let owned: Vec<(String, Column)> = df
        .columns()
        .iter()
        .map(|c| (clean_name(c.name()), c.clone()))
        .collect();
    let columns: Vec<(String, &StringChunked)> = owned
        .iter()
        .map(|(n, c)| Ok((n.clone(), c.str()?)))
        .collect::<PolarsResult<_>>()?;
    let require = |names: &[&str]| {
        find_column(&columns, names)
            .with_context(|| format!("missing required column {}", names.join(" or ")))
    };
    let date_col = require(DATE)?;
    let home_col = require(HOME)?;
    let away_col = require(AWAY)?;
    let hg_col = require(HOME_GOALS)?;
    let ag_col = require(AWAY_GOALS)?;
    let league_col = columns
        .iter()
        .position(|(n, _)| n.eq_ignore_ascii_case("league"));
    let div_col = find_column(&columns, &["Div"]);
    let fixed: HashSet<usize> = [Some(date_col), Some(home_col), Some(away_col), Some(hg_col)]
        .into_iter()
        .chain([Some(ag_col), league_col, div_col])
        .flatten()
        .collect();
    // Column by column, not cell by cell: one pass over each column's chunks (a per-cell
    // `get(row)` looks the chunk up every time), and each extra column parsed once. Extra
    // columns without a single number (team names, referee, result letters) are dropped here,
    // and the rest are put in name order once, so every row's extras arrive already sorted.
    let cells = |col: usize| -> Vec<Option<&str>> {
        columns[col].1.iter().map(|v| v.map(str::trim)).collect()
    };
    let mut extra_cols: Vec<(Arc<str>, Vec<Option<f32>>)> = columns
        .iter()
        .enumerate()
        .filter(|_| wanted == Columns::All)
        .filter(|(i, (name, _))| !fixed.contains(i) && !name.is_empty())
        .filter_map(|(_, (name, col))| {
            let values: Vec<Option<f32>> = col.iter().map(|v| v.and_then(parse_number)).collect();
            values
                .iter()
                .any(Option::is_some)
                .then(|| (Arc::from(name.as_str()), values))
        })
        .collect();
    // Stable: of two columns with the same name the first one in the file comes first; a row
    // takes the first number it has under that name.
    extra_cols.sort_by(|a, b| a.0.cmp(&b.0));
    let extra_cols = merge_same_names(extra_cols);
    let extra_names: Arc<[Arc<str>]> = extra_cols.iter().map(|(n, _)| n.clone()).collect();
    let folder_league = folder_league(data_dir, path);

    let n_rows = df.height();
    let mut report = FileReport {
        path: path.to_path_buf(),
        rows: n_rows,
        used: 0,
        skipped: 0,
        skipped_examples: Vec::new(),
    };
    let mut unknown_divisions = BTreeSet::new();
    let mut matches = Vec::with_capacity(n_rows);
    let league_cells = league_col.map(cells);
    let div_cells = div_col.map(cells);
    let dates = cells(date_col);
    let homes = cells(home_col);
    let aways = cells(away_col);
    let home_goal_cells = cells(hg_col);
    let away_goal_cells = cells(ag_col);
    // A file holds few distinct leagues and teams: each is resolved and allocated once.
    let mut slugs: HashMap<(bool, &str), String> = HashMap::new();
    let mut team_names: HashMap<&str, Arc<str>> = HashMap::new();
    for row in 0..n_rows {
        // An unknown division code is reported only for rows that are used (not for junk rows).
        let mut unknown_code = None;
        let parsed = (|| -> std::result::Result<(String, Match), String> {
            let league = if let Some(c) = league_cells.as_ref().and_then(|c| c[row]) {
                slugs
                    .entry((true, c))
                    .or_insert_with(|| leagues::normalise_slug(c))
                    .clone()
            } else if let Some(code) = div_cells.as_ref().and_then(|c| c[row]) {
                let slug = slugs.entry((false, code)).or_insert_with(|| {
                    leagues::slug_for_division(code)
                        .map(str::to_string)
                        .unwrap_or_else(|| leagues::normalise_slug(code))
                });
                if leagues::slug_for_division(code).is_none() {
                    unknown_code = Some(code);
                }
                slug.clone()
            } else if league_col.is_none() && div_col.is_none() {
                folder_league.clone()
            } else {
                return Err("no league (empty Div/league cell)".into());
            };
            if !leagues::is_valid_slug(&league) {
                return Err(format!("league name {league:?} is not usable"));
            }
            let date_text = dates[row].ok_or("no date")?;
            let date =
                Date::parse(date_text).ok_or_else(|| format!("invalid date {date_text:?}"))?;
            let home = homes[row].filter(|s| !s.is_empty()).ok_or("no home team")?;
            let away = aways[row].filter(|s| !s.is_empty()).ok_or("no away team")?;
            if home == away {
                return Err(format!("home and away team are the same ({home:?})"));
            }
            let home_goals =
                parse_goals(home_goal_cells[row]).map_err(|e| format!("home goals {e}"))?;
            let away_goals =
                parse_goals(away_goal_cells[row]).map_err(|e| format!("away goals {e}"))?;
            let extras = Extras::from_columns(
                extra_names.clone(),
                extra_cols
                    .iter()
                    .map(|(_, values)| values[row].unwrap_or(f32::NAN))
                    .collect(),
            );
            let home = team_names
                .entry(home)
                .or_insert_with(|| Arc::from(home))
                .clone();
            let away = team_names
                .entry(away)
                .or_insert_with(|| Arc::from(away))
                .clone();
            Ok((
                league,
                Match {
                    date,
                    home,
                    away,
                    home_goals,
                    away_goals,
                    extras,
                },
            ))
        })();
        match parsed {
            Ok(m) => {
                if let Some(code) = unknown_code.filter(|c| !unknown_divisions.contains(*c)) {
                    unknown_divisions.insert(code.to_string());
                }
                matches.push(m);
            }
            Err(reason) => {
                report.skipped += 1;
                if report.skipped_examples.len() < SHOWN_SKIPPED_ROWS {
                    report.skipped_examples.push(SkippedRow {
                        row: row + 1,
                        reason,
                    });
                }
            }
        }
    }
    report.used = matches.len();
    Ok(ParsedFile {
        report,
        matches,
        unknown_divisions,
    })
}

/// Merges neighbouring columns of the same name (the input is sorted by name, file order within
/// a name): each row keeps the first number it has under that name.
fn merge_same_names(
    sorted: Vec<(Arc<str>, Vec<Option<f32>>)>,
) -> Vec<(Arc<str>, Vec<Option<f32>>)> {
    let mut merged: Vec<(Arc<str>, Vec<Option<f32>>)> = Vec::with_capacity(sorted.len());
    for (name, values) in sorted {
        match merged.last_mut() {
            Some((last, kept)) if *last == name => {
                for (k, v) in kept.iter_mut().zip(values) {
                    if k.is_none() {
                        *k = v;
                    }
                }
            }
            _ => merged.push((name, values)),
        }
    }
    merged
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
    let value: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !value.is_finite() || value < 0.0 || value.fract() != 0.0 {
        return Err(format!("{s:?} is not a non-negative whole number"));
    }
    if value > 99.0 {
        return Err(format!("{s:?} is not a plausible goal count"));
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

#[cfg(test)]
mod tests {
    use super::*;

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
