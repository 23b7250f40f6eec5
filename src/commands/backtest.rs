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

use crate::cli::{BacktestArgs, BacktestRefresh, BacktestReplay, ModelOptions, ALL_TYPES};
use crate::commands::predict::RESULT_COLUMNS;
use crate::data;
use crate::data::date::Date;
use crate::data::matches::{Dataset, Extras, LeagueMatches, Match};
use crate::exit::{CommandError, CommandResult, ExitCode};
use crate::features::{self, FeatureCache, FeatureState, RawFeatures};
use crate::models;
use crate::models::model_type::{Fixture, ModelType, Predictor, TrainContext, WarmStart};
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

/// Opening over/under 2.5 goals pairs (over, under), best first: Pinnacle, then the average.
const OPENING_OVER_UNDER: &[[&str; 2]] = &[["P>2.5", "P<2.5"], ["Avg>2.5", "Avg<2.5"]];
/// Closing over/under 2.5 goals pairs, best first: Pinnacle closing, then the average.
const CLOSING_OVER_UNDER: &[[&str; 2]] = &[["PC>2.5", "PC<2.5"], ["AvgC>2.5", "AvgC<2.5"]];

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

/// Margin-free probability of over 2.5 goals from the first usable (over, under) pair of `pairs`
/// (odds above 1 and below 1000, an over-round between 0.9 and 1.5, as for 1X2 odds).
pub fn over_under_probs(extras: &Extras, pairs: &[[&str; 2]]) -> Option<f64> {
    pairs.iter().find_map(|[over, under]| {
        let [over, _] = features::margin_free([extras.get(over)?, extras.get(under)?])?;
        Some(over)
    })
}

/// Over 2.5 goals and both teams scoring of a match.
pub fn goal_events(home_goals: u8, away_goals: u8) -> [bool; 2] {
    [
        u32::from(home_goals) + u32::from(away_goals) > 2,
        home_goals > 0 && away_goals > 0,
    ]
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
    /// Margin-free P(over 2.5 goals), opening (Pinnacle, else average) and closing.
    pub over_open: Option<f64>,
    pub over_close: Option<f64>,
    /// The league's over 2.5 and both-teams-to-score frequencies on the same training data.
    pub goal_base_rates: [f64; 2],
}

/// A model trained at a point: league, type, the loaded model, its fits.
type Trained = (String, &'static str, Arc<dyn Predictor>, Option<WarmStart>);

/// The models of one league in force on a day.
struct InForce {
    trained_on: Date,
    base_rates: [f64; 3],
    goal_base_rates: [f64; 2],
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
    let leagues = selected_leagues(args, &dataset)?;
    let types = selected_types(args);
    let from = args.from;
    let (to, days) = match_days(args, &dataset, &leagues)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;

    let started = std::time::Instant::now();
    let progress = progress_bar(days.len(), quiet || args.json);
    let mut replay = Replay::new(&dataset, from);
    // One feature pass for the whole period, advanced morning by morning: it gives the feature
    // models their training rows and every fixture its features.
    let mut state = types
        .iter()
        .any(|t| t.uses_features())
        .then(FeatureState::keeping_rows);
    let mut in_force: BTreeMap<String, InForce> = BTreeMap::new();
    // Each league and type's latest training: where its next refit starts.
    let mut starts: Starts = BTreeMap::new();
    let mut trainings = 0usize;
    let mut rows: Vec<Row> = Vec::new();
    let mut last_week = None;
    // `--replay segment`: the days since the last training, predicted together.
    let mut pending = Pending::default();
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
            rows.extend(pending.predict(&leagues, &in_force, &progress)?);
            replay.advance_to(point);
            let cache = match state.as_mut() {
                Some(s) => {
                    s.advance_to(&replay.morning, point)?;
                    s.cache().unwrap_or_default()
                }
                None => FeatureCache::new(),
            };
            trainings += train_point(
                &args.model,
                &replay.morning,
                &cache,
                &leagues,
                &types,
                point,
                &args.out,
                &mut in_force,
                (!args.cold).then_some(&mut starts),
            )?;
        }
        replay.advance_to(day);
        pending.add_day(&replay, state.as_mut(), &leagues, day)?;
        if args.replay == BacktestReplay::Day {
            rows.extend(pending.predict(&leagues, &in_force, &progress)?);
        }
    }
    rows.extend(pending.predict(&leagues, &in_force, &progress)?);
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
    let goals = scores::goal_columns(&columns);
    let summary = scores::summarise(
        &rows,
        &types,
        &goals,
        scores::Setup {
            from,
            to,
            refresh: refresh_name(args.refresh),
            replay: match args.replay {
                BacktestReplay::Day => "day",
                BacktestReplay::Segment => "segment",
            },
            selection: args.model.selection.name(),
            xi_per_day: args.model.xi,
            strength_ridge: args.model.ridge,
            total_ridge: args.model.total_ridge,
            market_weight: args.model.market_weight,
            data_dir: args.data_dir.display().to_string(),
            leagues: leagues.clone(),
            match_days: days.len(),
            trainings,
            metadata: run_metadata(&dataset, &leagues),
        },
    );
    write_outputs(args, quiet, &rows, &types, &columns, &goals, &summary)?;
    Ok(ExitCode::Ok)
}

/// predictions.csv, summary.json and report.html into `--out`, then the summary on stdout (JSON
/// with `--json`, the text table unless quiet).
fn write_outputs(
    args: &BacktestArgs,
    quiet: bool,
    rows: &[Row],
    types: &[&'static dyn ModelType],
    columns: &[(&'static str, Vec<String>)],
    goals: &BTreeMap<String, scores::GoalColumns>,
    summary: &scores::Summary,
) -> Result<()> {
    write_new(
        &args.out.join("predictions.csv"),
        &predictions_csv(rows, columns)?,
    )?;
    let mut summary_json = serde_json::to_vec_pretty(summary).context("summary.json")?;
    summary_json.push(b'\n');
    write_new(&args.out.join("summary.json"), &summary_json)?;
    let html = figures::report_html(summary, rows, types, goals)?;
    write_new(&args.out.join("report.html"), html.as_bytes())?;
    if args.json {
        crate::write_stdout(&summary_json)?;
    } else if !quiet {
        crate::write_stdout(scores::text_table(summary, &args.out).as_bytes())?;
    }
    Ok(())
}

/// `--league` (every league of the data dir without it); a league the data dir lacks is refused.
fn selected_leagues(
    args: &BacktestArgs,
    dataset: &Dataset,
) -> std::result::Result<Vec<String>, Failure> {
    if args.leagues.is_empty() {
        return Ok(dataset.leagues.keys().cloned().collect());
    }
    let set: BTreeSet<String> = args.leagues.iter().cloned().collect();
    if let Some(l) = set.iter().find(|l| !dataset.leagues.contains_key(*l)) {
        return Err(Failure::Usage(format!(
            "no data for league {l:?} in {}",
            args.data_dir.display()
        )));
    }
    Ok(set.into_iter().collect())
}

/// The last day of the backtest (`--to`, else the leagues' latest match) and every day from
/// `--from` to it on which one of `leagues` played; refused when there is none.
fn match_days(
    args: &BacktestArgs,
    dataset: &Dataset,
    leagues: &[String],
) -> std::result::Result<(Date, Vec<Date>), Failure> {
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
    Ok((to, days))
}

/// The report's metadata block: tool version, command line, working directory, data
/// fingerprint and time.
fn run_metadata(dataset: &Dataset, leagues: &[String]) -> scores::RunMetadata {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for league in leagues {
        if let Some(l) = dataset.league(league) {
            hasher.update(format!(
                "{league} {}\n",
                crate::store::versions::fingerprint(&l.matches)
            ));
        }
    }
    let digest: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    scores::RunMetadata {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        command_line: std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        working_directory: std::env::current_dir()
            .map(|d| crate::json::path_text(&d))
            .unwrap_or_default(),
        data_fingerprint: format!("sha256:{digest}"),
        created_utc: crate::data::date::now_utc_string(),
    }
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

/// The fits of each league and model type's latest training, by (league, type).
type Starts = BTreeMap<(String, &'static str), WarmStart>;

/// Trains the selected types of every selected league with matches new since its last training,
/// writes each model under `out/models/<league>/<type>/<point>/` and loads it back. Returns how
/// many models were trained. With `starts`, each refit starts from the previous training's fits
/// (and leaves its own there for the next); without, every fit starts cold.
#[allow(clippy::too_many_arguments)]
fn train_point(
    options: &ModelOptions,
    morning: &Dataset,
    features: &FeatureCache,
    leagues: &[String],
    types: &[&'static dyn ModelType],
    point: Date,
    out: &Path,
    in_force: &mut BTreeMap<String, InForce>,
    mut starts: Option<&mut Starts>,
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
    let trained_date = format!("{point} 00:00:00");
    let previous = starts.as_deref();
    let trained: Vec<Trained> = jobs
        .par_iter()
        .map(|&(league, ty)| {
            let name = ty.spec().name;
            let ctx = TrainContext {
                league,
                dataset: morning,
                xi_per_day: options.xi,
                strength_ridge: options.ridge,
                total_ridge: options.total_ridge,
                market_weight: options.market_weight,
                selection: options.selection,
                trained_date: &trained_date,
                features,
                warm_start: previous.and_then(|p| p.get(&(league.league.clone(), name))),
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
            Ok((
                league.league.clone(),
                name,
                Arc::from(predictor),
                model.warm_start,
            ))
        })
        .collect::<Result<_>>()?;
    for l in &due {
        let outcomes: Vec<usize> = l.matches.iter().map(Match::outcome).collect();
        in_force.insert(
            l.league.clone(),
            InForce {
                trained_on: point,
                base_rates: metrics::base_rates(&outcomes),
                goal_base_rates: goal_rates(&l.matches),
                predictors: BTreeMap::new(),
            },
        );
    }
    let count = trained.len();
    for (league, name, predictor, fits) in trained {
        if let (Some(starts), Some(fits)) = (starts.as_deref_mut(), fits) {
            starts.insert((league.clone(), name), fits);
        }
        if let Some(f) = in_force.get_mut(&league) {
            f.predictors.insert(name, predictor);
        }
    }
    Ok(count)
}

/// The over 2.5 and both-teams-to-score frequencies of `matches` (one half each with none).
fn goal_rates(matches: &[Match]) -> [f64; 2] {
    let mut counts = [0usize; 2];
    for m in matches {
        for (c, e) in counts
            .iter_mut()
            .zip(goal_events(m.home_goals, m.away_goals))
        {
            *c += e as usize;
        }
    }
    let n = matches.len();
    counts.map(|c| if n == 0 { 0.5 } else { c as f64 / n as f64 })
}

/// Match days waiting to be predicted, per league: each day's matches as `predict` would have
/// received them that morning (results, statistics and closing odds stripped), with their
/// features from the feature state as it stood that morning (only matches dated before it).
/// `--replay day` predicts each day on its own; `--replay segment` the days between two
/// trainings together (the models in force are the same for all of them).
#[derive(Default)]
struct Pending<'a> {
    leagues: BTreeMap<&'a str, Batch<'a>>,
    days: u64,
}

#[derive(Default)]
struct Batch<'a> {
    matches: Vec<&'a Match>,
    fixtures: Vec<Fixture>,
    /// Empty when no selected model type reads features.
    features: Vec<RawFeatures>,
}

impl<'a> Pending<'a> {
    /// Adds the matches of `day` of every selected league; advances `state` (when the models
    /// read features) to that morning's data first.
    fn add_day(
        &mut self,
        replay: &Replay<'a>,
        mut state: Option<&mut FeatureState>,
        leagues: &'a [String],
        day: Date,
    ) -> Result<()> {
        if let Some(s) = state.as_deref_mut() {
            s.advance_to(&replay.morning, day)?;
        }
        for league in leagues {
            let Some(lm) = replay.all.league(league) else {
                continue;
            };
            let start = lm.matches.partition_point(|m| m.date < day);
            let end = lm.matches.partition_point(|m| m.date <= day);
            if start == end {
                continue;
            }
            let batch = self.leagues.entry(league.as_str()).or_default();
            for m in &lm.matches[start..end] {
                let fixture = fixture_of(m);
                if let Some(s) = state.as_deref() {
                    batch.features.push(s.features(&features::Query {
                        date: fixture.date,
                        league,
                        home: &fixture.home,
                        away: &fixture.away,
                        extras: &fixture.extras,
                    })?);
                }
                batch.matches.push(m);
                batch.fixtures.push(fixture);
            }
        }
        self.days += 1;
        Ok(())
    }

    /// Predicts everything pending with the models in force, and empties it.
    fn predict(
        &mut self,
        leagues: &[String],
        in_force: &BTreeMap<String, InForce>,
        progress: &indicatif::ProgressBar,
    ) -> Result<Vec<Row>> {
        let batches = std::mem::take(&mut self.leagues);
        progress.inc(std::mem::take(&mut self.days));
        let mut rows = Vec::new();
        let mut jobs = Vec::new();
        for league in leagues {
            let Some(batch) = batches.get(league.as_str()) else {
                continue;
            };
            let first_row = rows.len();
            let force = in_force.get(league);
            for m in &batch.matches {
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
                    over_open: over_under_probs(&m.extras, OPENING_OVER_UNDER),
                    over_close: over_under_probs(&m.extras, CLOSING_OVER_UNDER),
                    goal_base_rates: force.map_or([0.5; 2], |f| f.goal_base_rates),
                });
            }
            for (name, predictor) in force.iter().flat_map(|f| &f.predictors) {
                jobs.push((league, first_row, batch, *name, predictor));
            }
        }
        let results: Vec<(usize, &'static str, Vec<Vec<f64>>)> = jobs
            .par_iter()
            .map(|(league, first_row, batch, name, predictor)| {
                let values = predictor
                    .predict_with(&batch.fixtures, &batch.features)
                    .with_context(|| format!("{name} predicting {league}"))?;
                if values.len() != batch.fixtures.len() {
                    bail!(
                        "{name} returned {} rows for {} fixtures",
                        values.len(),
                        batch.fixtures.len()
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
                "market_open_over_2_5",
                "market_close_over_2_5",
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
            for p in [r.over_open, r.over_close] {
                rec.push(p.map(|x| x.to_string()).unwrap_or_default());
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
