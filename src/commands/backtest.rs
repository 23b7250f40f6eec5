//! `auto-train backtest`: how the models would have done over a period, asked the way the service
//! runs them. Models are trained on the matches dated before `--from` (and retrained on schedule
//! with `--refresh`) through the same `ModelType::train`, written under `--out` and read back with
//! `ModelType::load`; each match day is then predicted through `Predictor::predict` from the data
//! as it stood that morning (only matches dated before the day) and fixtures stripped of results,
//! statistics and closing odds. Nothing dated on or after a match can reach its prediction, by
//! construction. Everything is written under `--out`; the models dir and registry are never read.

mod figures;
mod scores;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;

use crate::cli::{BacktestArgs, BacktestRefresh, BacktestReplay, ALL_TYPES};
use crate::commands::predict::RESULT_COLUMNS;
use crate::data;
use crate::data::date::Date;
use crate::data::matches::{Dataset, Extras, LeagueMatches, Match};
use crate::exit::{CommandError, CommandResult, ExitCode};
use crate::features::{self, FeatureCache};
use crate::models;
use crate::models::model_type::{Fixture, ModelType, Predictor, TrainContext};
use crate::stats::metrics;

pub use scores::Summary;

/// Columns a fixture never carries besides predict's result and statistic columns: attendance is
/// only known once the match is played.
const POST_MATCH_COLUMNS: &[&str] = &["Attendance"];

/// Bookmaker prefixes of football-data.co.uk odds columns; a closing-odds column is a prefix, then
/// `C`, then a market suffix (`PSCH`, `B365C>2.5`, `PCAHH`, ...).
const BOOKMAKERS: &[&str] = &[
    "1XB", "Avg", "B365", "BF", "BFD", "BFE", "BMGM", "BS", "BV", "BW", "Bb", "BbAv", "BbMx", "CL",
    "GB", "IW", "LB", "Max", "P", "PS", "SB", "SJ", "SO", "SY", "VC", "WH",
];
const MARKET_SUFFIXES: &[&str] = &["H", "D", "A", ">2.5", "<2.5", "AHH", "AHA"];

/// Closing 1X2 triples, best first: Pinnacle, then the market average, then Bet365.
const CLOSING_ODDS: &[[&str; 3]] = &[
    ["PSCH", "PSCD", "PSCA"],
    ["AvgCH", "AvgCD", "AvgCA"],
    ["B365CH", "B365CD", "B365CA"],
];

/// True for a column that holds closing odds (the price at kick-off): never part of a fixture.
pub fn is_closing_odds_column(name: &str) -> bool {
    name == "AHCh"
        || BOOKMAKERS.iter().any(|b| {
            name.strip_prefix(b)
                .and_then(|rest| rest.strip_prefix('C'))
                .is_some_and(|suffix| MARKET_SUFFIXES.contains(&suffix))
        })
}

/// True for a column a fixture may carry: not a result, a match statistic or closing odds.
pub fn is_pre_match_column(name: &str) -> bool {
    !RESULT_COLUMNS.contains(&name)
        && !POST_MATCH_COLUMNS.contains(&name)
        && !is_closing_odds_column(name)
}

/// A played match as `predict` would have received it that morning.
pub fn fixture_of(m: &Match) -> Fixture {
    Fixture {
        date: m.date,
        home: m.home.clone(),
        away: m.away.clone(),
        extras: Extras::from_pairs(
            m.extras
                .iter()
                .filter(|(name, _)| is_pre_match_column(name))
                .map(|(name, v)| (Arc::from(name), v as f32))
                .collect(),
        ),
    }
}

/// Margin-free closing probabilities of a row (Pinnacle closing, else average, else Bet365).
pub fn closing_market_probs(extras: &Extras) -> Option<[f64; 3]> {
    features::implied(extras, CLOSING_ODDS)
}

/// One predicted match with what happened and what the market said.
#[derive(Debug, Clone)]
pub struct Row {
    pub league: String,
    pub date: Date,
    pub home: Arc<str>,
    pub away: Arc<str>,
    pub home_goals: u8,
    pub away_goals: u8,
    /// 0 home win, 1 draw, 2 away win.
    pub outcome: usize,
    /// By model type name: that type's `predict` columns, when the league had such a model.
    pub predictions: BTreeMap<&'static str, Vec<f64>>,
    pub market_open: Option<[f64; 3]>,
    pub market_close: Option<[f64; 3]>,
    /// The league's outcome frequencies on the data its models in force were trained on.
    pub base_rates: [f64; 3],
}

/// The models of one league in force on a day.
struct InForce {
    trained_on: Date,
    base_rates: [f64; 3],
    predictors: BTreeMap<&'static str, Arc<dyn Predictor>>,
}

pub fn run_backtest(args: &BacktestArgs, quiet: bool) -> CommandResult {
    match backtest(args, quiet) {
        Ok(code) => Ok(code),
        Err(Failure::Usage(message)) => Err(CommandError::usage(anyhow::anyhow!(message))),
        Err(Failure::Other(e)) => Err(CommandError::failed(e)),
    }
}

enum Failure {
    /// Bad arguments, an unusable --out or an unreadable data dir: nothing was written.
    Usage(String),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Other(e)
    }
}

fn backtest(args: &BacktestArgs, quiet: bool) -> std::result::Result<ExitCode, Failure> {
    check_out_place(&args.out, &args.data_dir, &args.models_dir).map_err(Failure::Usage)?;
    check_out_dir(&args.out).map_err(Failure::Usage)?;
    let loaded =
        data::load_data_dir(&args.data_dir).map_err(|e| Failure::Usage(format!("{e:#}")))?;
    for f in &loaded.unreadable {
        tracing::warn!("cannot read {}: {}", f.path.display(), f.reason);
    }
    let dataset = loaded.dataset;
    let leagues: Vec<String> = if args.leagues.is_empty() {
        dataset.leagues.keys().cloned().collect()
    } else {
        let set: BTreeSet<String> = args.leagues.iter().cloned().collect();
        if let Some(l) = set.iter().find(|l| !dataset.leagues.contains_key(*l)) {
            return Err(Failure::Usage(format!(
                "no data for league {l:?} in {}",
                args.data_dir.display()
            )));
        }
        set.into_iter().collect()
    };
    let types = selected_types(args);
    let from = args.from;
    let last_day = leagues
        .iter()
        .filter_map(|l| dataset.league(l).and_then(LeagueMatches::last_date))
        .max();
    let to = match (args.to, last_day) {
        (Some(to), _) => to,
        (None, Some(last)) => last,
        (None, None) => return Err(Failure::Usage("the data dir holds no matches".into())),
    };
    if to < from {
        return Err(Failure::Usage(format!("--to {to} is before --from {from}")));
    }
    let days: Vec<Date> = leagues
        .iter()
        .filter_map(|l| dataset.league(l))
        .flat_map(|l| l.matches.iter().map(|m| m.date))
        .filter(|d| (from..=to).contains(d))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if days.is_empty() {
        return Err(Failure::Usage(format!(
            "no match of the selected leagues between {from} and {to}"
        )));
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;

    let started = std::time::Instant::now();
    let progress = progress_bar(days.len(), quiet || args.json);
    let mut replay = Replay::new(&dataset, from);
    let mut in_force: BTreeMap<String, InForce> = BTreeMap::new();
    let mut trainings = 0usize;
    let mut rows: Vec<Row> = Vec::new();
    let mut last_week = None;
    // `--replay segment`: the days since the last training, predicted together.
    let mut pending: Vec<Date> = Vec::new();
    for (i, &day) in days.iter().enumerate() {
        let training_point = if i == 0 {
            Some(from)
        } else {
            match args.refresh {
                BacktestRefresh::Never => None,
                BacktestRefresh::Daily => Some(day),
                BacktestRefresh::Weekly => (Some(iso_week(day)) != last_week).then_some(day),
            }
        };
        last_week = Some(iso_week(day));
        if let Some(point) = training_point {
            rows.extend(predict_segment(
                &mut replay,
                &leagues,
                &mut pending,
                &in_force,
                &progress,
            )?);
            replay.advance_to(point);
            trainings += train_point(
                &replay.morning,
                &leagues,
                &types,
                point,
                &args.out,
                &mut in_force,
            )?;
        }
        match args.replay {
            BacktestReplay::Day => {
                replay.advance_to(day);
                rows.extend(predict_days(
                    &replay.morning,
                    &dataset,
                    &leagues,
                    day,
                    day,
                    &in_force,
                )?);
                progress.inc(1);
            }
            BacktestReplay::Segment => pending.push(day),
        }
    }
    rows.extend(predict_segment(
        &mut replay,
        &leagues,
        &mut pending,
        &in_force,
        &progress,
    )?);
    // Day order, then league order (as `--replay day` produces them).
    let league_order: BTreeMap<&str, usize> = leagues
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    rows.sort_by_key(|r| (r.date, league_order.get(r.league.as_str()).copied()));
    progress.finish_and_clear();

    tracing::info!(
        "backtest: {} match days, {trainings} models trained in {:.2} s",
        days.len(),
        started.elapsed().as_secs_f64()
    );
    let columns = output_columns(&in_force, &types);
    let summary = scores::summarise(
        &rows,
        &types,
        scores::Setup {
            from,
            to,
            refresh: refresh_name(args.refresh),
            replay: match args.replay {
                BacktestReplay::Day => "day",
                BacktestReplay::Segment => "segment",
            },
            data_dir: args.data_dir.display().to_string(),
            leagues: leagues.clone(),
            match_days: days.len(),
            trainings,
        },
    );
    write_new(
        &args.out.join("predictions.csv"),
        &predictions_csv(&rows, &columns)?,
    )?;
    let mut summary_json = serde_json::to_vec_pretty(&summary).context("summary.json")?;
    summary_json.push(b'\n');
    write_new(&args.out.join("summary.json"), &summary_json)?;
    let html = figures::report_html(&summary, &rows, &types)?;
    write_new(&args.out.join("report.html"), html.as_bytes())?;

    if args.json {
        crate::write_stdout(&summary_json)?;
    } else if !quiet {
        crate::write_stdout(scores::text_table(&summary, &args.out).as_bytes())?;
    }
    Ok(ExitCode::Ok)
}

fn selected_types(args: &BacktestArgs) -> Vec<&'static dyn ModelType> {
    let names: BTreeSet<&str> = args.model_types.iter().map(String::as_str).collect();
    let all = names.is_empty() || names.contains(ALL_TYPES);
    models::model_types()
        .into_iter()
        .filter(|t| all || names.contains(t.spec().name))
        .collect()
}

fn refresh_name(r: BacktestRefresh) -> &'static str {
    match r {
        BacktestRefresh::Never => "never",
        BacktestRefresh::Daily => "daily",
        BacktestRefresh::Weekly => "weekly",
    }
}

/// ISO week number as a count of Mondays since 1970 (weeks start on Monday).
fn iso_week(d: Date) -> i32 {
    // 1970-01-01 was a Thursday: day 4 is the first Monday.
    (d.0 - 4).div_euclid(7)
}

/// `--out` must be a new directory or an existing empty one.
fn check_out_dir(out: &Path) -> std::result::Result<(), String> {
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("--out {}: {e}", out.display())),
        Ok(meta) if !meta.is_dir() => Err(format!(
            "--out {} exists and is not a directory",
            out.display()
        )),
        Ok(_) => {
            let mut entries =
                std::fs::read_dir(out).map_err(|e| format!("--out {}: {e}", out.display()))?;
            if entries.next().is_some() {
                Err(format!(
                    "--out {} exists and is not empty (a backtest writes only into a new or empty directory)",
                    out.display()
                ))
            } else {
                Ok(())
            }
        }
    }
}

/// `--out` must not lie inside the data dir (the next run would read predictions.csv as match
/// data) or a models dir (the next run would find a damaged model directory there): neither the
/// `--models-dir` given nor any directory a run has used as its models dir (it holds the run
/// lock file).
fn check_out_place(
    out: &Path,
    data_dir: &Path,
    models_dir: &Path,
) -> std::result::Result<(), String> {
    let out_abs = absolute_lexical(out);
    for (dir, what) in [(data_dir, "the data dir"), (models_dir, "the models dir")] {
        if out_abs.starts_with(absolute_lexical(dir)) {
            return Err(format!(
                "--out {} is inside {what} {}: choose a directory outside it (a backtest's \
                 files there would be read as {})",
                out.display(),
                dir.display(),
                if what == "the data dir" {
                    "match data"
                } else {
                    "a model directory"
                }
            ));
        }
    }
    for ancestor in out_abs.ancestors().skip(1) {
        if ancestor.join(crate::store::run_lock::LOCK_FILE).is_file() {
            return Err(format!(
                "--out {} is inside the models dir {} (it holds {}): choose a directory outside it",
                out.display(),
                ancestor.display(),
                crate::store::run_lock::LOCK_FILE
            ));
        }
    }
    Ok(())
}

/// `path` made absolute, with symlinks of its existing part resolved and `.`/`..` removed.
fn absolute_lexical(path: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let abs = std::env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path));
    let mut clean = std::path::PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other),
        }
    }
    // Resolve symlinks of the longest existing ancestor.
    let mut rest = Vec::new();
    let mut base = clean.as_path();
    while !base.exists() {
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                base = parent;
            }
            _ => break,
        }
    }
    let mut resolved = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    resolved.extend(rest.iter().rev());
    resolved
}

/// The data as it stood on a morning: every league's matches dated before that day, grown day by
/// day from the loaded data (matches are sorted, so each league is a prefix).
struct Replay<'a> {
    all: &'a Dataset,
    morning: Dataset,
}

impl<'a> Replay<'a> {
    fn new(all: &'a Dataset, day: Date) -> Replay<'a> {
        let morning = Dataset {
            leagues: all
                .leagues
                .iter()
                .map(|(slug, l)| {
                    (
                        slug.clone(),
                        LeagueMatches {
                            league: slug.clone(),
                            matches: l.before(day).to_vec(),
                        },
                    )
                })
                .collect(),
        };
        Replay { all, morning }
    }

    /// Adds the matches dated before `day` that are not in yet.
    fn advance_to(&mut self, day: Date) {
        for (slug, l) in &self.all.leagues {
            let have = &mut self
                .morning
                .leagues
                .get_mut(slug)
                .expect("every league is in the morning data")
                .matches;
            let upto = l.before(day);
            if upto.len() > have.len() {
                have.extend_from_slice(&upto[have.len()..]);
            }
        }
    }
}

/// Trains the selected types of every selected league with matches new since its last training,
/// writes each model under `out/models/<league>/<type>/<point>/` and loads it back. Returns how
/// many models were trained.
fn train_point(
    morning: &Dataset,
    leagues: &[String],
    types: &[&'static dyn ModelType],
    point: Date,
    out: &Path,
    in_force: &mut BTreeMap<String, InForce>,
) -> Result<usize> {
    let due: Vec<&LeagueMatches> = leagues
        .iter()
        .filter_map(|l| morning.league(l))
        .filter(|l| match in_force.get(&l.league) {
            None => true,
            Some(f) => l.last_date().is_some_and(|last| last >= f.trained_on),
        })
        .collect();
    let (jobs, short): (Vec<_>, Vec<_>) = due
        .iter()
        .flat_map(|l| types.iter().map(move |t| (*l, *t)))
        .partition(|(l, t)| l.len() >= t.spec().min_matches);
    for (l, t) in short {
        if !in_force.contains_key(&l.league) {
            tracing::warn!(
                "{} {}: no model from {point} (insufficient data: {} matches before it, {} needed); its predictions stay empty until a refresh has enough",
                l.league,
                t.spec().name,
                l.len(),
                t.spec().min_matches
            );
        }
    }
    let features = FeatureCache::new();
    let trained_date = format!("{point} 00:00:00");
    let trained: Vec<(String, &'static str, Arc<dyn Predictor>)> = jobs
        .par_iter()
        .map(|&(league, ty)| {
            let name = ty.spec().name;
            let ctx = TrainContext {
                league,
                dataset: morning,
                xi_per_day: None,
                trained_date: &trained_date,
                features: &features,
            };
            let model = ty
                .train(&ctx)
                .with_context(|| format!("training {name} for {} on {point}", league.league))?;
            let dir = out
                .join("models")
                .join(&league.league)
                .join(name)
                .join(point.to_string());
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for f in &model.files {
                write_new(&dir.join(&f.name), &f.bytes)?;
            }
            let predictor = ty
                .load(&dir)
                .with_context(|| format!("loading {}", dir.display()))?;
            Ok((league.league.clone(), name, Arc::from(predictor)))
        })
        .collect::<Result<_>>()?;
    for l in &due {
        let outcomes: Vec<usize> = l.matches.iter().map(Match::outcome).collect();
        in_force.insert(
            l.league.clone(),
            InForce {
                trained_on: point,
                base_rates: metrics::base_rates(&outcomes),
                predictors: BTreeMap::new(),
            },
        );
    }
    let count = trained.len();
    for (league, name, predictor) in trained {
        if let Some(f) = in_force.get_mut(&league) {
            f.predictors.insert(name, predictor);
        }
    }
    Ok(count)
}

/// Predicts the matches dated `first..=last` of every selected league with `data`: with `--replay
/// day` one day at a time from that morning's data; with `--replay segment` the days between two
/// trainings together, from the data up to the last of them (each model reads only the matches
/// dated before each fixture, which the tests check against `--replay day` and `predict`).
/// `--replay segment`: predicts the pending days (those since the last training) together, from
/// the data up to the last of them, and empties `pending`.
fn predict_segment(
    replay: &mut Replay,
    leagues: &[String],
    pending: &mut Vec<Date>,
    in_force: &BTreeMap<String, InForce>,
    progress: &indicatif::ProgressBar,
) -> Result<Vec<Row>> {
    let (Some(&first), Some(&last)) = (pending.first(), pending.last()) else {
        return Ok(Vec::new());
    };
    replay.advance_to(Date(last.0 + 1));
    let rows = predict_days(&replay.morning, replay.all, leagues, first, last, in_force)?;
    progress.inc(pending.len() as u64);
    pending.clear();
    Ok(rows)
}

fn predict_days(
    data: &Dataset,
    all: &Dataset,
    leagues: &[String],
    first: Date,
    last: Date,
    in_force: &BTreeMap<String, InForce>,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut jobs = Vec::new();
    for league in leagues {
        let Some(lm) = all.league(league) else {
            continue;
        };
        let start = lm.matches.partition_point(|m| m.date < first);
        let end = lm.matches.partition_point(|m| m.date <= last);
        if start == end {
            continue;
        }
        let matches = &lm.matches[start..end];
        let fixtures: Arc<Vec<Fixture>> = Arc::new(matches.iter().map(fixture_of).collect());
        let first_row = rows.len();
        let force = in_force.get(league);
        for m in matches {
            rows.push(Row {
                league: league.clone(),
                date: m.date,
                home: m.home.clone(),
                away: m.away.clone(),
                home_goals: m.home_goals,
                away_goals: m.away_goals,
                outcome: m.outcome(),
                predictions: BTreeMap::new(),
                market_open: features::benchmark_market_probs(&m.extras),
                market_close: closing_market_probs(&m.extras),
                base_rates: force.map_or([1.0 / 3.0; 3], |f| f.base_rates),
            });
        }
        if let Some(force) = force {
            for (name, predictor) in &force.predictors {
                jobs.push((
                    league,
                    first_row,
                    fixtures.clone(),
                    *name,
                    predictor.clone(),
                ));
            }
        }
    }
    let results: Vec<(usize, &'static str, Vec<Vec<f64>>)> = jobs
        .par_iter()
        .map(|(league, first_row, fixtures, name, predictor)| {
            let values = predictor
                .predict(fixtures, data, league)
                .with_context(|| format!("{name} predicting {league} {first}..{last}"))?;
            if values.len() != fixtures.len() {
                bail!(
                    "{name} returned {} rows for {} fixtures",
                    values.len(),
                    fixtures.len()
                );
            }
            Ok((*first_row, *name, values))
        })
        .collect::<Result<_>>()?;
    for (first_row, name, values) in results {
        for (k, v) in values.into_iter().enumerate() {
            rows[first_row + k].predictions.insert(name, v);
        }
    }
    Ok(rows)
}

/// The predictions.csv columns of each model type that had a model, in model type order.
fn output_columns(
    in_force: &BTreeMap<String, InForce>,
    types: &[&'static dyn ModelType],
) -> Vec<(&'static str, Vec<String>)> {
    types
        .iter()
        .filter_map(|t| {
            let name = t.spec().name;
            in_force
                .values()
                .find_map(|f| f.predictors.get(name))
                .map(|p| (name, p.columns()))
        })
        .collect()
}

fn predictions_csv(rows: &[Row], columns: &[(&'static str, Vec<String>)]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let mut header: Vec<String> = ["league", "date", "home_team", "away_team"]
            .map(String::from)
            .to_vec();
        for (_, cols) in columns {
            header.extend(cols.iter().cloned());
        }
        header.extend(
            [
                "result",
                "home_goals",
                "away_goals",
                "market_open_home",
                "market_open_draw",
                "market_open_away",
                "market_close_home",
                "market_close_draw",
                "market_close_away",
            ]
            .map(String::from),
        );
        w.write_record(&header)?;
        for r in rows {
            let mut rec = vec![
                r.league.clone(),
                r.date.to_string(),
                r.home.to_string(),
                r.away.to_string(),
            ];
            for (name, cols) in columns {
                match r.predictions.get(name) {
                    Some(v) => rec.extend(v.iter().map(|x| x.to_string())),
                    None => rec.extend(cols.iter().map(|_| String::new())),
                }
            }
            rec.push(["H", "D", "A"][r.outcome].to_string());
            rec.push(r.home_goals.to_string());
            rec.push(r.away_goals.to_string());
            for market in [r.market_open, r.market_close] {
                match market {
                    Some(p) => rec.extend(p.iter().map(|x| x.to_string())),
                    None => rec.extend(["", "", ""].map(String::from)),
                }
            }
            w.write_record(&rec)?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// Creates `path` (never replacing a file) with `bytes`.
fn write_new(path: &PathBuf, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Days done / total on stderr, only on a terminal (quiet under cron).
fn progress_bar(days: usize, hidden: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if hidden || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(days as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("backtest {bar:30} {pos}/{len} days {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_columns_of_the_shipped_data() {
        for c in [
            "PSCH",
            "PSCD",
            "PSCA",
            "AvgCH",
            "AvgC>2.5",
            "AvgC<2.5",
            "AvgCAHH",
            "AvgCAHA",
            "B365CH",
            "B365C>2.5",
            "B365CAHH",
            "BWCH",
            "IWCA",
            "MaxCD",
            "MaxCAHA",
            "PC>2.5",
            "PC<2.5",
            "PCAHH",
            "PCAHA",
            "VCCH",
            "WHCA",
            "AHCh",
            "BFECH",
            "1XBCA",
        ] {
            assert!(is_closing_odds_column(c), "{c}");
            assert!(!is_pre_match_column(c), "{c}");
        }
        for c in [
            "PSH", "PSD", "PSA", "AvgH", "Avg>2.5", "AvgAHH", "B365H", "B365>2.5", "B365AHH",
            "BWH", "IWA", "MaxD", "P>2.5", "PAHH", "VCH", "VCD", "VCA", "WHH", "AHh", "BbAvH",
            "BbMxA", "BbAHh", "Bb1X2", "LBH", "SJD", "GBA", "BSH", "SBA",
        ] {
            assert!(!is_closing_odds_column(c), "{c}");
            assert!(is_pre_match_column(c), "{c}");
        }
        for c in ["FTHG", "HS", "AST", "HR", "HTHG", "Attendance"] {
            assert!(!is_pre_match_column(c), "{c}");
        }
    }

    #[test]
    fn iso_weeks_start_on_monday() {
        let d = |y, m, d| Date::from_ymd(y, m, d).unwrap();
        assert_eq!(iso_week(d(2022, 8, 1)), iso_week(d(2022, 8, 7)));
        assert_ne!(iso_week(d(2022, 8, 7)), iso_week(d(2022, 8, 8)));
        assert_eq!(iso_week(d(2022, 8, 8)), iso_week(d(2022, 8, 14)));
    }

    #[test]
    fn closing_market_is_margin_free() {
        let names: Vec<Arc<str>> = ["PSCA", "PSCD", "PSCH"].map(Arc::from).to_vec();
        let e = Extras::from_columns(names.into(), vec![4.0, 3.5, 2.0].into());
        let p = closing_market_probs(&e).unwrap();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p[0] > p[1] && p[1] > p[2]);
    }
}
