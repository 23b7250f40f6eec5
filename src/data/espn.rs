//! ESPN soccer data (the layout the Python service read): `fixtures.csv` with its `teams.csv`,
//! `leagues.csv` and `status.csv`, or the snake_case id schema of its processed files (CSV or
//! Parquet), turned into the same typed matches as the football-data.co.uk reader. A file is
//! recognised by its header only, so football-data files never pay for this format.
//!
//! Rules: a row trains only when its status is a final score (`STATUS_FULL_TIME`, or after extra
//! time, golden goal or penalties, counted apart); every other row is skipped and counted by
//! reason. A `leagueId` is read as a league when it is one of the ids below or `leagues.csv`
//! gives it a `midsizeName` of the form `CCC.N` (country code, tier number, e.g. `BRA.1`); every
//! other competition (cups, super cups, continental and women's competitions) is skipped.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use crate::data::date::Date;
use crate::data::leagues;
use crate::data::matches::{Extras, Match};

/// ESPN league ids with the slugs of the football-data.co.uk division that is the same league
/// (the eight seed leagues first), so that one league read from both formats is one league.
pub const LEAGUE_IDS: &[(u32, &str, &str)] = &[
    (700, "ENG.1", "premier_league"),
    (740, "ESP.1", "la_liga"),
    (730, "ITA.1", "serie_a"),
    (720, "GER.1", "bundesliga"),
    (710, "FRA.1", "ligue_1"),
    (725, "NED.1", "eredivisie"),
    (715, "POR.1", "primeira_liga"),
    (3914, "ENG.2", "championship"),
    (3915, "ENG.3", "league_one"),
    (3916, "ENG.4", "league_two"),
    (3917, "ENG.5", "national_league"),
    (735, "SCO.1", "scottish_premiership"),
    (3940, "SCO.2", "scottish_championship"),
    (3941, "SCO.3", "scottish_league_one"),
    (3942, "SCO.4", "scottish_league_two"),
    (3927, "GER.2", "bundesliga_2"),
    (3931, "ITA.2", "serie_b"),
    (3921, "ESP.2", "la_liga_2"),
    (3926, "FRA.2", "ligue_2"),
    (3901, "BEL.1", "belgian_pro_league"),
    (3946, "TUR.1", "super_lig"),
    (3955, "GRE.1", "greek_super_league"),
];

/// Country code of a `midsizeName` -> (country, the adjective `leagueName` starts with), for
/// country-aware slugs as football-data.co.uk's extra-leagues files make them (`BRA.1`
/// "Brazilian Serie A" is `brazil_serie_a`, like `Country` Brazil, `League` Serie A).
const COUNTRIES: &[(&str, &str, &str)] = &[
    ("ARG", "Argentina", "Argentine"),
    ("AUS", "Australia", "Australian"),
    ("AUT", "Austria", "Austrian"),
    ("BEL", "Belgium", "Belgian"),
    ("BOL", "Bolivia", "Bolivian"),
    ("BRA", "Brazil", "Brazilian"),
    ("CHI", "Chile", "Chilean"),
    ("CHN", "China", "Chinese"),
    ("COL", "Colombia", "Colombian"),
    ("CRC", "Costa Rica", "Costa Rican"),
    ("CYP", "Cyprus", "Cypriot"),
    ("DEN", "Denmark", "Danish"),
    ("ECU", "Ecuador", "Ecuadorian"),
    ("ENG", "England", "English"),
    ("ESP", "Spain", "Spanish"),
    ("FIN", "Finland", "Finnish"),
    ("FRA", "France", "French"),
    ("GER", "Germany", "German"),
    ("GHA", "Ghana", "Ghanaian"),
    ("GRE", "Greece", "Greek"),
    ("GUA", "Guatemala", "Guatemalan"),
    ("HON", "Honduras", "Honduran"),
    ("IDN", "Indonesia", "Indonesian"),
    ("IND", "India", "Indian"),
    ("IRL", "Ireland", "Irish"),
    ("ISR", "Israel", "Israeli"),
    ("ITA", "Italy", "Italian"),
    ("JPN", "Japan", "Japanese"),
    ("KEN", "Kenya", "Kenyan"),
    ("KSA", "Saudi Arabia", "Saudi"),
    ("MEX", "Mexico", "Mexican"),
    ("MLT", "Malta", "Maltese"),
    ("MYS", "Malaysia", "Malaysian"),
    ("NED", "Netherlands", "Dutch"),
    ("NGA", "Nigeria", "Nigerian"),
    ("NIR", "Northern Ireland", "Northern Irish"),
    ("NOR", "Norway", "Norwegian"),
    ("PAR", "Paraguay", "Paraguayan"),
    ("PER", "Peru", "Peruvian"),
    ("POL", "Poland", "Polish"),
    ("POR", "Portugal", "Portuguese"),
    ("ROU", "Romania", "Romanian"),
    ("RSA", "South Africa", "South African"),
    ("RUS", "Russia", "Russian"),
    ("SCO", "Scotland", "Scottish"),
    ("SGP", "Singapore", "Singaporean"),
    ("SLV", "El Salvador", "Salvadoran"),
    ("SUI", "Switzerland", "Swiss"),
    ("SWE", "Sweden", "Swedish"),
    ("THA", "Thailand", "Thai"),
    ("TUR", "Turkey", "Turkish"),
    ("UGA", "Uganda", "Ugandan"),
    ("URU", "Uruguay", "Uruguayan"),
    ("USA", "USA", "American"),
    ("VEN", "Venezuela", "Venezuelan"),
    ("WAL", "Wales", "Welsh"),
    ("ZAM", "Zambia", "Zambian"),
    ("ZIM", "Zimbabwe", "Zimbabwean"),
];

/// The dataset's `status.csv` (statusId, name, state), used when no `status.csv` is found.
const STATUSES: &[(u32, &str, &str)] = &[
    (1, "STATUS_SCHEDULED", "pre"),
    (2, "STATUS_IN_PROGRESS", "in"),
    (5, "STATUS_CANCELED", "post"),
    (6, "STATUS_POSTPONED", "post"),
    (7, "STATUS_DELAYED", "in"),
    (8, "STATUS_SUSPENDED", "post"),
    (23, "STATUS_HALFTIME", "in"),
    (24, "STATUS_OVERTIME", "in"),
    (25, "STATUS_FIRST_HALF", "in"),
    (26, "STATUS_SECOND_HALF", "in"),
    (27, "STATUS_ABANDONED", "post"),
    (28, "STATUS_FULL_TIME", "post"),
    (44, "STATUS_SHOOTOUT", "in"),
    (45, "STATUS_FINAL_AET", "post"),
    (46, "STATUS_FINAL_AGT", "post"),
    (47, "STATUS_FINAL_PEN", "post"),
    (51, "STATUS_FINAL_ABANDONED", "post"),
    (53, "STATUS_END_OF_REGULATION", "in"),
    (54, "STATUS_END_OF_EXTRATIME", "in"),
];

/// What an ESPN file's header says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EspnFile {
    /// Matches, in the dataset's camelCase columns (`fixtures.csv`).
    Fixtures,
    /// Matches, in the processed files' snake_case id columns.
    SnakeFixtures,
    /// Another table of the dataset: `teams.csv`, `leagues.csv` and `status.csv` are read with
    /// the fixtures beside them; the others (`teamStats.csv`, `players.csv`, `venues.csv`, ...)
    /// hold no matches.
    Table,
}

/// The columns of each fixtures schema: event, league, date, home, away, scores, status.
const CAMEL: [&str; 8] = [
    "eventId",
    "leagueId",
    "date",
    "homeTeamId",
    "awayTeamId",
    "homeTeamScore",
    "awayTeamScore",
    "statusId",
];
const SNAKE: [&str; 8] = [
    "match_id",
    "league_id",
    "date",
    "home_team_id",
    "away_team_id",
    "home_score",
    "away_score",
    "status_id",
];

/// The dataset's id columns: a file with one of them and without the fixtures columns is one of
/// its other tables.
const TABLE_IDS: [&str; 7] = [
    "eventId",
    "teamId",
    "athleteId",
    "leagueId",
    "venueId",
    "statusId",
    "seasonType",
];

/// Recognises an ESPN file by its (cleaned) column names.
pub fn detect(names: &[String]) -> Option<EspnFile> {
    let has = |n: &str| names.iter().any(|c| c == n);
    if CAMEL[..7].iter().all(|c| has(c)) {
        Some(EspnFile::Fixtures)
    } else if SNAKE[..7].iter().all(|c| has(c)) {
        Some(EspnFile::SnakeFixtures)
    } else if TABLE_IDS.iter().any(|c| has(c)) {
        Some(EspnFile::Table)
    } else {
        None
    }
}

/// One ESPN competition as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Competition {
    pub league_id: String,
    /// `leagues.csv`'s `midsizeName` (`ENG.1`), empty when unknown.
    pub code: String,
    /// The slug its matches train under (empty for a skipped competition).
    pub slug: String,
    /// Rows used (a league) or skipped (any other competition).
    pub rows: usize,
}

/// What reading one ESPN fixtures file found, beside the rows counts of its `FileReport`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EspnReport {
    /// The tables the names, leagues and statuses came from (absent ones are not listed).
    #[serde(serialize_with = "crate::json::lossy_paths")]
    pub tables: Vec<PathBuf>,
    /// Skipped rows by reason (`postponed`, `scheduled`, `cup or other competition`, ...).
    pub skipped_by_reason: BTreeMap<String, usize>,
    /// Used league matches decided after extra time, golden goal or penalties: their score is
    /// taken as the dataset gives it.
    pub after_extra_time_or_penalties: usize,
    /// Competitions read as leagues.
    pub leagues: Vec<Competition>,
    /// Competitions skipped as not leagues (cups, ...), or unknown to `leagues.csv`.
    pub skipped_competitions: Vec<Competition>,
    /// Team ids with no `teams.csv` row: the id is their name.
    pub teams_without_name: Vec<String>,
}

/// The text cells of a table, by column name.
struct Table {
    names: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn read(path: &Path) -> Result<Table> {
        if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
        {
            return Table::read_parquet(path);
        }
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .with_context(|| format!("reading {}", path.display()))?;
        let names = reader
            .byte_headers()?
            .iter()
            .map(|n| clean(&String::from_utf8_lossy(n)))
            .collect();
        let mut rows = Vec::new();
        for record in reader.byte_records() {
            let record = record.with_context(|| format!("reading {}", path.display()))?;
            rows.push(
                record
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).trim().to_string())
                    .collect(),
            );
        }
        Ok(Table { names, rows })
    }

    fn read_parquet(path: &Path) -> Result<Table> {
        let df = crate::data::read_frame(path)?;
        let names: Vec<String> = df.columns().iter().map(|c| clean(c.name())).collect();
        let columns = df
            .columns()
            .iter()
            .map(|c| c.str().cloned())
            .collect::<polars::prelude::PolarsResult<Vec<_>>>()?;
        let rows = (0..df.height())
            .map(|i| {
                columns
                    .iter()
                    .map(|c| c.get(i).unwrap_or("").trim().to_string())
                    .collect()
            })
            .collect();
        Ok(Table { names, rows })
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    fn require(&self, name: &str, path: &Path) -> Result<usize> {
        self.column(name)
            .with_context(|| format!("{}: missing column {name}", path.display()))
    }
}

fn clean(name: &str) -> String {
    name.trim_start_matches('\u{feff}').trim().to_string()
}

/// The side tables of a fixtures file.
#[derive(Default)]
struct Tables {
    teams: HashMap<String, String>,
    /// leagueId -> (midsizeName, leagueName).
    leagues: HashMap<String, (String, String)>,
    /// statusId -> (name, state).
    statuses: HashMap<String, (String, String)>,
    paths: Vec<PathBuf>,
}

/// `name` beside the fixtures file, else in the data dir.
fn find_table(data_dir: &Path, fixtures: &Path, name: &str) -> Option<PathBuf> {
    let beside = fixtures.parent().map(|p| p.join(name));
    [beside, Some(data_dir.join(name))]
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
}

fn read_tables(data_dir: &Path, fixtures: &Path) -> Result<Tables> {
    let mut t = Tables::default();
    if let Some(path) = find_table(data_dir, fixtures, "teams.csv") {
        let table = Table::read(&path)?;
        let (id, name) = (
            table.require("teamId", &path)?,
            table.require("displayName", &path)?,
        );
        for row in &table.rows {
            if let (Some(i), Some(n)) = (row.get(id), row.get(name)) {
                if !n.is_empty() {
                    t.teams
                        .entry(id_text(i).into_owned())
                        .or_insert_with(|| n.clone());
                }
            }
        }
        t.paths.push(path);
    }
    if let Some(path) = find_table(data_dir, fixtures, "leagues.csv") {
        let table = Table::read(&path)?;
        let id = table.require("leagueId", &path)?;
        let code = table.require("midsizeName", &path)?;
        let name = table.column("leagueName");
        for row in &table.rows {
            let cell = |c: Option<usize>| c.and_then(|c| row.get(c)).cloned().unwrap_or_default();
            let entry = (cell(Some(code)), cell(name));
            t.leagues.entry(cell(Some(id))).or_insert(entry);
        }
        t.paths.push(path);
    }
    match find_table(data_dir, fixtures, "status.csv") {
        Some(path) => {
            let table = Table::read(&path)?;
            let id = table.require("statusId", &path)?;
            let (name, state) = (
                table.require("name", &path)?,
                table.require("state", &path)?,
            );
            for row in &table.rows {
                let cell = |c: usize| row.get(c).cloned().unwrap_or_default();
                t.statuses.insert(cell(id), (cell(name), cell(state)));
            }
            t.paths.push(path);
        }
        None => {
            for (id, name, state) in STATUSES {
                t.statuses
                    .insert(id.to_string(), (name.to_string(), state.to_string()));
            }
        }
    }
    Ok(t)
}

/// Whether a `midsizeName` names a league: `CCC.N`, a country code and a tier number.
pub fn is_league_code(code: &str) -> bool {
    let Some((country, tier)) = code.split_once('.') else {
        return false;
    };
    country.len() == 3
        && country.bytes().all(|b| b.is_ascii_uppercase())
        && !tier.is_empty()
        && tier.bytes().all(|b| b.is_ascii_digit())
}

/// The slug of a league: the table's for the known ids, else country-aware from its code and
/// name (`BRA.1` "Brazilian Serie A": `brazil_serie_a`).
pub fn league_slug(id: &str, code: &str, name: &str) -> String {
    if let Some((_, _, slug)) = LEAGUE_IDS.iter().find(|(i, _, _)| i.to_string() == id) {
        return slug.to_string();
    }
    let prefix = code.split('.').next().unwrap_or_default();
    match COUNTRIES.iter().find(|(c, _, _)| *c == prefix) {
        Some((_, country, adjective)) => {
            let rest = name.trim();
            let rest = rest
                .strip_prefix(adjective)
                .filter(|r| r.starts_with(' '))
                .unwrap_or(rest);
            leagues::slug_for_country_league(country, rest)
        }
        None => leagues::normalise_slug(&format!("{prefix} {name}")),
    }
}

/// How a fixtures row's status decides its fate: used (and whether after extra time or
/// penalties) or skipped with a reason.
fn status_verdict(tables: &Tables, status: Option<&str>) -> std::result::Result<bool, String> {
    let Some(status) = status else {
        // The processed files without a status column hold the played matches.
        return Ok(false);
    };
    let Some((name, state)) = tables.statuses.get(status) else {
        return Err(format!("unknown status id {status}"));
    };
    match (name.as_str(), state.as_str()) {
        ("STATUS_FULL_TIME", _) => Ok(false),
        ("STATUS_FINAL_AET" | "STATUS_FINAL_AGT" | "STATUS_FINAL_PEN", _) => Ok(true),
        ("STATUS_POSTPONED", _) => Err("postponed".into()),
        ("STATUS_CANCELED", _) => Err("canceled".into()),
        ("STATUS_ABANDONED" | "STATUS_FINAL_ABANDONED", _) => Err("abandoned".into()),
        ("STATUS_SUSPENDED", _) => Err("suspended".into()),
        (_, "pre") => Err("scheduled".into()),
        (_, "in") => Err("in progress".into()),
        (other, _) => Err(format!("not a final score ({other})")),
    }
}

/// The matches of one ESPN fixtures file by league slug, with its report.
pub struct EspnMatches {
    pub matches: BTreeMap<String, Vec<Match>>,
    /// The 1-based data row of each match of `matches`, by league.
    pub match_rows: BTreeMap<String, Vec<u32>>,
    pub rows: usize,
    pub report: EspnReport,
    /// (1-based data row, why it was skipped) of the rows with bad cells.
    pub bad_rows: Vec<(usize, String)>,
    /// Rows dated after today.
    pub future: usize,
}

/// Column positions of a fixtures file.
struct Layout {
    league: usize,
    date: usize,
    home: usize,
    away: usize,
    home_goals: usize,
    away_goals: usize,
    status: Option<usize>,
}

impl Layout {
    fn new(table: &Table, kind: EspnFile, path: &Path) -> Result<Layout> {
        let cols = if kind == EspnFile::SnakeFixtures {
            SNAKE
        } else {
            CAMEL
        };
        Ok(Layout {
            league: table.require(cols[1], path)?,
            date: table.require(cols[2], path)?,
            home: table.require(cols[3], path)?,
            away: table.require(cols[4], path)?,
            home_goals: table.require(cols[5], path)?,
            away_goals: table.require(cols[6], path)?,
            status: table.column(cols[7]),
        })
    }
}

/// Per league id: `Some(slug)` for a league, `None` for a skipped competition, with the
/// competition's report entry.
fn classify(tables: &Tables, id: &str) -> (Option<String>, Competition) {
    let known = LEAGUE_IDS.iter().find(|(i, _, _)| i.to_string() == id);
    let (code, name) = match (tables.leagues.get(id), known) {
        (Some((code, name)), _) => (code.clone(), name.clone()),
        (None, Some((_, code, _))) => (code.to_string(), String::new()),
        (None, None) => (String::new(), String::new()),
    };
    let slug = (known.is_some() || is_league_code(&code))
        .then(|| league_slug(id, &code, &name))
        .filter(|s| leagues::is_valid_slug(s));
    let competition = Competition {
        league_id: id.to_string(),
        code,
        slug: slug.clone().unwrap_or_default(),
        rows: 0,
    };
    (slug, competition)
}

/// Reads an ESPN fixtures file (`kind` as `detect` said) with the tables beside it or in
/// `data_dir`. Rows dated after `today` are not results.
pub fn read_fixtures(
    data_dir: &Path,
    path: &Path,
    kind: EspnFile,
    today: Date,
) -> Result<EspnMatches> {
    if kind == EspnFile::Table {
        bail!("not a fixtures file");
    }
    let tables = read_tables(data_dir, path)?;
    let table = Table::read(path)?;
    let layout = Layout::new(&table, kind, path)?;
    if layout.status.is_none() {
        tracing::warn!(
            "{}: no status column: every row with a score, dated up to today, is taken as played \
             (a postponed match's 0-0 row cannot be told apart; keep statusId/status_id)",
            path.display()
        );
    }
    let mut out = EspnMatches {
        matches: BTreeMap::new(),
        match_rows: BTreeMap::new(),
        rows: table.rows.len(),
        report: EspnReport {
            tables: tables.paths.clone(),
            ..EspnReport::default()
        },
        bad_rows: Vec::new(),
        future: 0,
    };
    let mut competitions: BTreeMap<String, (Option<String>, Competition)> = BTreeMap::new();
    let mut names: HashMap<String, Arc<str>> = HashMap::new();
    let mut unnamed: Vec<String> = Vec::new();
    for (i, row) in table.rows.iter().enumerate() {
        let cell = |c: usize| row.get(c).map(String::as_str).unwrap_or("");
        let id = &*id_text(cell(layout.league));
        let (slug, competition) = competitions
            .entry(id.to_string())
            .or_insert_with(|| classify(&tables, id));
        competition.rows += 1;
        let Some(slug) = slug.clone() else {
            let reason = if competition.code.is_empty() {
                "competition not in leagues.csv"
            } else {
                "cup or other competition"
            };
            *out.report
                .skipped_by_reason
                .entry(reason.into())
                .or_default() += 1;
            continue;
        };
        let status = layout.status.map(|c| id_text(cell(c)));
        let after_extra_time = match status_verdict(&tables, status.as_deref()) {
            Ok(extra) => extra,
            Err(reason) => {
                competition.rows -= 1;
                *out.report.skipped_by_reason.entry(reason).or_default() += 1;
                continue;
            }
        };
        let mut team = |id: &str| -> Arc<str> {
            names
                .entry(id.to_string())
                .or_insert_with(|| match tables.teams.get(id) {
                    Some(n) => Arc::from(n.as_str()),
                    None => {
                        unnamed.push(id.to_string());
                        Arc::from(id)
                    }
                })
                .clone()
        };
        match parse_row(&layout, row, &mut team, today) {
            Ok(m) => {
                out.report.after_extra_time_or_penalties += usize::from(after_extra_time);
                let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
                out.match_rows.entry(slug.clone()).or_default().push(row);
                out.matches.entry(slug).or_default().push(m);
            }
            Err((reason, future)) => {
                competition.rows -= 1;
                out.future += usize::from(future);
                let key = if future {
                    "dated after today".to_string()
                } else {
                    "bad cells".to_string()
                };
                *out.report.skipped_by_reason.entry(key).or_default() += 1;
                out.bad_rows.push((i + 1, reason));
            }
        }
    }
    for (_, (slug, c)) in competitions {
        if slug.is_some() {
            out.report.leagues.push(c);
        } else {
            out.report.skipped_competitions.push(c);
        }
    }
    unnamed.sort();
    unnamed.dedup();
    if !unnamed.is_empty() {
        tracing::warn!(
            "{}: {} team ids have no row in teams.csv, named by their id: {}",
            path.display(),
            unnamed.len(),
            unnamed.join(", ")
        );
    }
    out.report.teams_without_name = unnamed;
    Ok(out)
}

/// An id cell as the tables write it: `700` also for `700.0` (a processed file whose id column
/// became floats).
fn id_text(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.strip_suffix(".0") {
        Some(int) if !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()) => int.into(),
        _ => cell.into(),
    }
}

/// One used row as a match, or why not (and whether because it is dated after today).
fn parse_row(
    l: &Layout,
    row: &[String],
    team: &mut impl FnMut(&str) -> Arc<str>,
    today: Date,
) -> std::result::Result<Match, (String, bool)> {
    let cell = |c: usize| row.get(c).map(String::as_str).unwrap_or("");
    let date_text = cell(l.date);
    let date =
        Date::parse(date_text).ok_or_else(|| (format!("invalid date {date_text:?}"), false))?;
    if date > today {
        return Err((
            format!("dated {date}, after today ({today}): not a result"),
            true,
        ));
    }
    let (home_id, away_id) = (id_text(cell(l.home)), id_text(cell(l.away)));
    let (home_id, away_id) = (&*home_id, &*away_id);
    if home_id.is_empty() || away_id.is_empty() {
        return Err(("no team id".into(), false));
    }
    if home_id == away_id {
        return Err((
            format!("home and away team are the same ({home_id})"),
            false,
        ));
    }
    let goals = |c: usize, side: &str| -> std::result::Result<u8, (String, bool)> {
        let text = cell(c);
        let v: f64 = text
            .parse()
            .map_err(|_| (format!("{side} score {text:?} is not a number"), false))?;
        if v.fract() != 0.0 || !(0.0..=255.0).contains(&v) {
            return Err((format!("{side} score {text:?} is not a goal count"), false));
        }
        Ok(v as u8)
    };
    let home_goals = goals(l.home_goals, "home")?;
    let away_goals = goals(l.away_goals, "away")?;
    Ok(Match {
        date,
        home: team(home_id),
        away: team(away_id),
        home_goals,
        away_goals,
        extras: Extras::default(),
    })
}

/// A league read from both an ESPN file and a football-data file whose team names differ: its
/// ESPN matches were left out (the football-data rows, which carry odds, are kept).
#[derive(Debug, Clone, serde::Serialize)]
pub struct FormatConflict {
    pub league: String,
    pub espn_matches_dropped: usize,
    /// One ESPN match with no football-data twin, or the names that differ.
    pub example: String,
}

/// Joins a league's ESPN and football-data parts: kept as one league (the loader then
/// de-duplicates by date and teams) when both sides name the teams alike, i.e. every ESPN match
/// on a day both sides have matches has a football-data twin (same date and teams) and, when
/// they share no day, at least half of the ESPN team names occur in the football-data rows.
/// Otherwise the ESPN part is dropped and reported: never a silent double count.
pub fn reconcile(
    league: &str,
    football_data: &[Match],
    espn: &[Match],
) -> std::result::Result<(), FormatConflict> {
    use std::collections::HashSet;
    let fd_days: HashSet<Date> = football_data.iter().map(|m| m.date).collect();
    let fd_keys: HashSet<(Date, &str, &str)> = football_data
        .iter()
        .map(|m| (m.date, &*m.home, &*m.away))
        .collect();
    let conflict = |example: String| FormatConflict {
        league: league.to_string(),
        espn_matches_dropped: espn.len(),
        example,
    };
    let mut shared_day = false;
    for m in espn.iter().filter(|m| fd_days.contains(&m.date)) {
        shared_day = true;
        if !fd_keys.contains(&(m.date, &*m.home, &*m.away)) {
            return Err(conflict(format!(
                "ESPN {} {} v {} has no football-data match of those names that day",
                m.date, m.home, m.away
            )));
        }
    }
    if !shared_day {
        let fd_teams: HashSet<&str> = football_data
            .iter()
            .flat_map(|m| [&*m.home, &*m.away])
            .collect();
        let espn_teams: HashSet<&str> = espn.iter().flat_map(|m| [&*m.home, &*m.away]).collect();
        let shared = espn_teams.iter().filter(|t| fd_teams.contains(*t)).count();
        if shared * 2 < espn_teams.len() {
            let mut unknown: Vec<&str> = espn_teams
                .iter()
                .filter(|t| !fd_teams.contains(*t))
                .copied()
                .collect();
            unknown.sort();
            unknown.truncate(3);
            return Err(conflict(format!(
                "ESPN team names such as {} are not in the football-data rows",
                unknown.join(", ")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn league_codes_and_slugs() {
        assert!(is_league_code("ENG.1"));
        assert!(is_league_code("BRA.2"));
        assert!(!is_league_code("ENG.FA"));
        assert!(!is_league_code("AUS.W.1"));
        assert!(!is_league_code("POR.TACA.PORTUGAL"));
        assert_eq!(league_slug("740", "ESP.1", "Spanish LALIGA"), "la_liga");
        assert_eq!(league_slug("3914", "ENG.2", ""), "championship");
        assert_eq!(
            league_slug("630", "BRA.1", "Brazilian Serie A"),
            "brazil_serie_a"
        );
        assert_eq!(
            league_slug("3907", "AUT.1", "Austrian Bundesliga"),
            "austria_bundesliga"
        );
        assert_eq!(league_slug("770", "USA.1", "MLS"), "usa_mls");
        assert_eq!(league_slug("1", "XYZ.1", "Some League"), "xyz_some_league");
    }

    /// The Python reader (`python/auto_train_models.py`) names ESPN leagues and reads statuses
    /// with copies of these tables: they must stay equal.
    #[test]
    fn the_python_reader_holds_the_same_espn_tables() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/python/auto_train_models.py");
        let py = std::fs::read_to_string(path).unwrap();
        let block = |name: &str| {
            let start = py.find(&format!("\n{name} = {{")).unwrap();
            let end = start + py[start..].find("\n}").unwrap();
            py[start..end].to_string()
        };
        let (ids, countries, statuses) = (
            block("ESPN_LEAGUE_SLUGS"),
            block("ESPN_COUNTRIES"),
            block("ESPN_STATUSES"),
        );
        for (id, _, slug) in LEAGUE_IDS {
            assert!(
                ids.contains(&format!("\"{id}\": \"{slug}\"")),
                "{id} {slug}"
            );
        }
        assert_eq!(ids.matches("\": \"").count(), LEAGUE_IDS.len());
        for (code, country, adjective) in COUNTRIES {
            let entry = format!("\"{code}\": (\"{country}\", \"{adjective}\")");
            assert!(countries.contains(&entry), "{entry}");
        }
        assert_eq!(countries.matches("\": (").count(), COUNTRIES.len());
        for (id, name, _) in STATUSES {
            assert!(
                statuses.contains(&format!("\"{id}\": \"{name}\"")),
                "{id} {name}"
            );
        }
        assert_eq!(statuses.matches("\": \"").count(), STATUSES.len());
    }

    #[test]
    fn float_ids_read_as_integers() {
        assert_eq!(id_text("700.0"), "700");
        assert_eq!(id_text("700"), "700");
        assert_eq!(id_text("7.5"), "7.5");
        assert_eq!(id_text(".0"), ".0");
    }

    #[test]
    fn detects_by_header() {
        let names = |s: &str| s.split(',').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            detect(&names("Rn,seasonType,leagueId,eventId,date,venueId,attendance,homeTeamId,awayTeamId,homeTeamWinner,awayTeamWinner,homeTeamScore,awayTeamScore,homeTeamShootoutScore,awayTeamShootoutScore,statusId,updateTime")),
            Some(EspnFile::Fixtures)
        );
        assert_eq!(
            detect(&names(
                "match_id,league_id,home_team_id,away_team_id,home_score,away_score,date"
            )),
            Some(EspnFile::SnakeFixtures)
        );
        assert_eq!(
            detect(&names("statusId,name,state,description")),
            Some(EspnFile::Table)
        );
        assert_eq!(detect(&names("Div,Date,HomeTeam,AwayTeam,FTHG,FTAG")), None);
    }
}
