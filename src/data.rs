//! Loading: every `.csv` and `.parquet` file under the data dir, read with polars as text, turned
//! into typed, validated, de-duplicated and date-sorted matches per league. Dirty rows are skipped
//! and counted per file; a file that cannot be read is reported by path and reason while the other
//! files still count.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use polars::prelude::*;
use rayon::prelude::*;

use crate::date::Date;
use crate::leagues;
use crate::matches::{Dataset, Extras, LeagueMatches, Match};

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

/// Loads every data file under `data_dir`. Fails only when the directory itself cannot be read.
pub fn load_data_dir(data_dir: &Path) -> Result<LoadedData> {
    let meta = std::fs::metadata(data_dir)
        .with_context(|| format!("data dir {} cannot be read", data_dir.display()))?;
    if !meta.is_dir() {
        bail!("data dir {} is not a directory", data_dir.display());
    }
    let mut files = Vec::new();
    collect_data_files(data_dir, 0, &mut files)
        .with_context(|| format!("data dir {} cannot be listed", data_dir.display()))?;
    files.sort();

    let parsed: Vec<(PathBuf, Result<ParsedFile>)> = files
        .into_par_iter()
        .map(|path| {
            let result = parse_file(data_dir, &path);
            (path, result)
        })
        .collect();

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
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_raise_if_empty(false)
            .with_parse_options(parse)
            .try_into_reader_with_file_path(Some(path.to_path_buf()))?
            .finish()?
    };
    Ok(df)
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

fn parse_file(data_dir: &Path, path: &Path) -> Result<ParsedFile> {
    let df = read_frame(path)?;
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
    let extra_cols: Vec<(Arc<str>, &StringChunked)> = columns
        .iter()
        .enumerate()
        .filter(|(i, (name, _))| !fixed.contains(i) && !name.is_empty())
        .map(|(_, (name, col))| (Arc::from(name.as_str()), *col))
        .collect();
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
    let text = |col: usize, row: usize| columns[col].1.get(row).map(str::trim);
    for row in 0..n_rows {
        // An unknown division code is reported only for rows that are used (not for junk rows).
        let mut unknown_code = None;
        let parsed = (|| -> std::result::Result<(String, Match), String> {
            let league = if let Some(c) = league_col.and_then(|c| text(c, row)) {
                leagues::normalise_slug(c)
            } else if let Some(code) = div_col.and_then(|c| text(c, row)) {
                match leagues::slug_for_division(code) {
                    Some(slug) => slug.to_string(),
                    None => {
                        unknown_code = Some(code.to_string());
                        leagues::normalise_slug(code)
                    }
                }
            } else if league_col.is_none() && div_col.is_none() {
                folder_league.clone()
            } else {
                return Err("no league (empty Div/league cell)".into());
            };
            if !leagues::is_valid_slug(&league) {
                return Err(format!("league name {league:?} is not usable"));
            }
            let date_text = text(date_col, row).ok_or("no date")?;
            let date =
                Date::parse(date_text).ok_or_else(|| format!("invalid date {date_text:?}"))?;
            let home = text(home_col, row)
                .filter(|s| !s.is_empty())
                .ok_or("no home team")?;
            let away = text(away_col, row)
                .filter(|s| !s.is_empty())
                .ok_or("no away team")?;
            if home == away {
                return Err(format!("home and away team are the same ({home:?})"));
            }
            let home_goals =
                parse_goals(text(hg_col, row)).map_err(|e| format!("home goals {e}"))?;
            let away_goals =
                parse_goals(text(ag_col, row)).map_err(|e| format!("away goals {e}"))?;
            let extras = Extras::from_pairs(
                extra_cols
                    .iter()
                    .filter_map(|(name, col)| {
                        let v = parse_number(col.get(row)?)?;
                        Some((name.clone(), v))
                    })
                    .collect(),
            );
            Ok((
                league,
                Match {
                    date,
                    home: Arc::from(home),
                    away: Arc::from(away),
                    home_goals,
                    away_goals,
                    extras,
                },
            ))
        })();
        match parsed {
            Ok(m) => {
                unknown_divisions.extend(unknown_code);
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
