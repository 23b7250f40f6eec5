//! Command-line interface (clap): the training run is the default command; `predict` writes
//! probabilities for fixtures from the complete models of a league.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::data::date::Date;

const ABOUT: &str = "Keeps a football prediction service's per-league models complete.";
const LONG_ABOUT: &str = "\
Keeps a football prediction service's per-league models complete.

Scans the match data under --data-dir, finds which model directories under
<models-dir>/leagues/<league>/<model_type>/ are missing, trains only those, and appends them to
the registry. SAFE MODE: existing files are never deleted, truncated or overwritten; a model
directory appears complete in one step or not at all; the registry is append-only.

Exit codes: 0 nothing failed, 1 a model failed to train or is damaged, a lineage is
inconsistent or the data is behind a model, 2 bad usage / unreadable data dir / invalid registry,
75 another run holds the lock, 128+n stopped by signal n.";

#[derive(Debug, Parser)]
#[command(name = "auto-train", version, about = ABOUT, long_about = LONG_ABOUT)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub run: RunArgs,

    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Predict fixtures with every complete model of a league (CSV out).
    Predict(PredictArgs),
    /// Show every league x model type: state, whether it loads, headline metrics, registered.
    Status(StatusArgs),
    /// Replay a period day by day as nightly training + predict would have: predictions.csv,
    /// summary.json and report.html under --out.
    Backtest(BacktestArgs),
    /// Print a shell completion script or the man pages (generated from these definitions).
    Generate(GenerateArgs),
}

/// What `generate` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generated {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
    /// The man pages (roff): auto-train(1) on stdout, or one page per command with --out-dir.
    Man,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// A shell for its completion script, or `man`.
    #[arg(value_enum)]
    pub what: Generated,

    /// With `man`: write every page (auto-train.1, auto-train-predict.1, ...) into DIR, created
    /// if missing; an existing page is never overwritten.
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub out_dir: Option<PathBuf>,
}

/// `--model-type` values: every registered model type's name, then `all`. The list of model
/// types (`models::model_types`) drives them, so a new type needs no change here.
fn model_type_values() -> PossibleValuesParser {
    let mut names: Vec<PossibleValue> = crate::models::model_types()
        .iter()
        .map(|t| PossibleValue::new(t.spec().name))
        .collect();
    names.push(PossibleValue::new(ALL_TYPES).help("every model type"));
    PossibleValuesParser::new(names)
}

/// The `--model-type` value that selects every type.
pub const ALL_TYPES: &str = "all";

/// How the models are trained: the options a run and a backtest share, so that a backtest can
/// measure exactly what a run would ship.
#[derive(Debug, Clone, Args)]
pub struct ModelOptions {
    /// Fix the Poisson time decay (per day, e.g. 0.0018) instead of the stated default (0.008
    /// for a fit to the market's expected goals, 0.0018 for a fit to goals), which a decay
    /// beating it on the latest matches by two standard errors replaces per league.
    #[arg(long, value_name = "PER_DAY", value_parser = parse_xi)]
    pub xi: Option<f64>,

    /// Poisson: the ridge on team strengths, R x (sum attack^2 + sum (defence - mean)^2), a
    /// Gaussian prior of sd 1/sqrt(2R) around the league average [default: 0 for a fit to the
    /// market's expected goals, 3 for a fit to goals; 0 = the plain maximum likelihood, as
    /// penaltyblog fits it].
    #[arg(long, value_name = "R", value_parser = parse_ridge)]
    pub ridge: Option<f64>,

    /// Poisson: the ridge on each team's scoring tendency, T x sum (attack + defence - mean
    /// defence)^2, pulling how many goals a team's matches hold towards the league's [default:
    /// 0 for a fit to the market's expected goals; 20 for a fit to goals, or 0 with `--ridge 0`,
    /// so that `--ridge 0` alone is the plain maximum likelihood].
    #[arg(long, value_name = "T", value_parser = parse_ridge)]
    pub total_ridge: Option<f64>,

    /// Poisson: how much of each earlier match's score the team strengths are fitted to is the
    /// expected goals its market priced (its closing 1X2 and over/under 2.5 odds, else its
    /// opening ones) instead of its goals, for matches with odds [default: 1; 0 = the goals
    /// alone, the classic Dixon-Coles fit]. The Dixon-Coles correction is always fitted to
    /// the goals.
    #[arg(long, value_name = "K", value_parser = parse_market_weight)]
    pub market_weight: Option<f64>,

    /// How hyperparameters (Poisson decay, L2 strength, calibration) are chosen: on the latest
    /// matches counted across season boundaries with refits replayed (window), or on the
    /// latest season (season, the earlier protocol).
    #[arg(long, value_enum, value_name = "PROTOCOL", default_value = "window")]
    pub selection: crate::stats::selection::Protocol,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Detect and report only: write nothing at all (no lock, no registry, no model files).
    #[arg(long)]
    pub dry_run: bool,

    /// Model type to look after.
    #[arg(long, value_name = "TYPE", default_value = ALL_TYPES, value_parser = model_type_values())]
    pub model_type: String,

    /// Only this league (slug, e.g. premier_league); repeat for several.
    #[arg(long = "league", value_name = "SLUG")]
    pub leagues: Vec<String>,

    /// Directory searched recursively for .csv and .parquet match files.
    #[arg(long, value_name = "DIR", default_value = "data/processed")]
    pub data_dir: PathBuf,

    /// Models root; models live in DIR/leagues/LEAGUE/MODEL_TYPE/.
    #[arg(long, value_name = "DIR", default_value = "models")]
    pub models_dir: PathBuf,

    /// Registry file ({"models": [...]}), created if missing, append-only.
    #[arg(long, value_name = "FILE", default_value = "registry.json")]
    pub registry: PathBuf,

    #[command(flatten)]
    pub model: ModelOptions,

    /// Train a new version of each stale model (new matches since it was trained, or changed
    /// rows) beside the existing ones; nothing existing changes.
    #[arg(long)]
    pub refresh: bool,

    /// With --refresh: the fewest new matches that make a stale model worth a new version
    /// (changed rows always do).
    #[arg(long, value_name = "N", default_value_t = 10, requires = "refresh", value_parser = clap::value_parser!(u32).range(1..))]
    pub min_new_matches: u32,

    /// Print a machine-readable JSON summary on stdout instead of the text report.
    #[arg(long)]
    pub json: bool,

    /// Today's date (UTC) for this run: matches dated after it are skipped as not results.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_cli_date, default_value_t = crate::data::today_utc())]
    pub as_of: Date,
}

impl RunArgs {
    /// The model types selected by `--model-type`, in report order.
    pub fn selected_types(&self) -> Vec<&'static dyn crate::models::model_type::ModelType> {
        crate::models::model_types()
            .into_iter()
            .filter(|t| self.model_type == ALL_TYPES || self.model_type == t.spec().name)
            .collect()
    }
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// League slug whose complete models are used.
    #[arg(long, value_name = "SLUG")]
    pub league: String,

    /// CSV or Parquet file with at least Date, HomeTeam, AwayTeam (results are ignored).
    #[arg(long, value_name = "FILE")]
    pub fixtures: PathBuf,

    /// Match history for models that need it (only matches before each fixture are used).
    #[arg(long, value_name = "DIR", default_value = "data/processed")]
    pub data_dir: PathBuf,

    /// Models root.
    #[arg(long, value_name = "DIR", default_value = "models")]
    pub models_dir: PathBuf,

    /// Registry file: the current version of each model type is its newest entry whose
    /// directory is intact (without a registry: the newest intact directory).
    #[arg(long, value_name = "FILE", default_value = "registry.json")]
    pub registry: PathBuf,

    /// Write the CSV here (a new file; an existing file is never overwritten) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Also write each fixture's pre-match features, as the 1x2_v2 and draw_specialist models
    /// read them: `feature_market` (1 when the row's odds gave market probabilities, which
    /// selects the models' market part, else 0) and one `feature_<name>` column per feature
    /// (what the Python reader's `predict_proba` takes).
    #[arg(long)]
    pub features: bool,

    /// Today's date (UTC): history dated after it is skipped as not results.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_cli_date, default_value_t = crate::data::today_utc())]
    pub as_of: Date,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Match data (for match counts and the insufficient-data state).
    #[arg(long, value_name = "DIR", default_value = "data/processed")]
    pub data_dir: PathBuf,

    /// Models root.
    #[arg(long, value_name = "DIR", default_value = "models")]
    pub models_dir: PathBuf,

    /// Registry file.
    #[arg(long, value_name = "FILE", default_value = "registry.json")]
    pub registry: PathBuf,

    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Today's date (UTC): matches dated after it are skipped as not results.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_cli_date, default_value_t = crate::data::today_utc())]
    pub as_of: Date,
}

/// When a backtest retrains its models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BacktestRefresh {
    /// Train once, on the matches dated before --from.
    Never,
    /// Retrain on every match day (leagues with new matches only).
    Daily,
    /// Retrain on the first match day of each ISO week (leagues with new matches only).
    Weekly,
}

/// How a backtest feeds the match history to `predict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BacktestReplay {
    /// Each match day predicted on its own, from the data as it stood that morning (only
    /// matches dated before it).
    Day,
    /// The days between two trainings in one call per league and model, each fixture from the
    /// data as it stood on its morning (fewer calls, same numbers).
    Segment,
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// First match day to predict (yyyy-mm-dd); models are first trained on the matches before it.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_cli_date)]
    pub from: crate::data::date::Date,

    /// Last match day to predict (default: the last match day in the data).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_cli_date)]
    pub to: Option<crate::data::date::Date>,

    /// Only this league (slug); repeat for several. Default: every league of the data dir.
    #[arg(long = "league", value_name = "SLUG")]
    pub leagues: Vec<String>,

    /// Model type to backtest; repeat for several (default all).
    #[arg(long = "model-type", value_name = "TYPE", value_parser = model_type_values())]
    pub model_types: Vec<String>,

    /// When to retrain during the period.
    #[arg(long, value_enum, default_value = "never")]
    pub refresh: BacktestRefresh,

    /// How history reaches the models: one morning at a time, or one call per training segment.
    #[arg(long, value_enum, default_value = "segment")]
    pub replay: BacktestReplay,

    /// Match data, searched recursively for .csv and .parquet files.
    #[arg(long, value_name = "DIR", default_value = "data/processed")]
    pub data_dir: PathBuf,

    /// Output directory: new, or existing and empty. Everything the backtest makes goes here.
    /// Never inside the data dir or a models dir.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// The models dir (never read): an --out inside it is refused.
    #[arg(long, value_name = "DIR", default_value = "models")]
    pub models_dir: PathBuf,

    /// Print summary.json on stdout instead of the text table.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub model: ModelOptions,

    /// Start every refit from scratch instead of from the previous training's fits (slower;
    /// the same probabilities within 1e-9).
    #[arg(long)]
    pub cold: bool,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// More log detail on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors on stderr and no text report on stdout (the exit code tells).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Log line format on stderr.
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,

    /// Colour in log lines: auto (a terminal, and NO_COLOR unset), always or never.
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        global = true,
        value_name = "WHEN"
    )]
    pub color: Color,
}

/// When log lines are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// Every date on the command line: only the ISO form (the day-first forms of data files are
/// ambiguous there).
fn parse_cli_date(s: &str) -> Result<Date, String> {
    let date = Date::parse(s).ok_or_else(|| format!("{s:?} is not a date (YYYY-MM-DD)"))?;
    if date.to_string() != s.trim() {
        return Err(format!("{s:?} is not a date in the form YYYY-MM-DD"));
    }
    Ok(date)
}

fn parse_ridge(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !r.is_finite() || !(0.0..=1000.0).contains(&r) {
        return Err(format!("{s} is outside 0..=1000"));
    }
    Ok(r)
}

fn parse_market_weight(s: &str) -> Result<f64, String> {
    let k: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !k.is_finite() || !(0.0..=1.0).contains(&k) {
        return Err(format!("{s} is outside 0..=1"));
    }
    Ok(k)
}

fn parse_xi(s: &str) -> Result<f64, String> {
    let xi: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !xi.is_finite() || !(0.0..=1.0).contains(&xi) {
        return Err(format!("{s} is outside 0..=1 per day"));
    }
    Ok(xi)
}

impl Cli {
    /// True when the command was asked for JSON on stdout.
    pub fn wants_json(&self) -> bool {
        match &self.command {
            Some(Command::Status(a)) => a.json,
            Some(Command::Backtest(a)) => a.json,
            Some(Command::Predict(_) | Command::Generate(_)) => false,
            None => self.run.json,
        }
    }
}

/// Bad arguments: clap's message on stderr (its help and version on stdout, exit 0), as one JSON
/// log line with `--log-format json`, and with `--json` among the arguments also the JSON error
/// document on stdout. Returns the exit code.
pub fn usage_error(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return e.exit_code();
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json_logs = args
        .windows(2)
        .any(|w| w[0] == "--log-format" && w[1] == "json")
        || args.iter().any(|a| a == "--log-format=json");
    let text = e.to_string();
    // The message without its usage lines: the lines before the first blank one, e.g. "the
    // following required arguments were not provided: --refresh".
    let first = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
        .trim_start_matches("error: ")
        .to_string();
    if json_logs {
        crate::logging::init(&LogArgs {
            verbose: 0,
            quiet: false,
            log_format: LogFormat::Json,
            color: Color::Never,
        });
        tracing::error!(usage = text.trim_end(), "{first}");
    } else {
        let _ = e.print();
    }
    let code = crate::exit::ExitCode::Usage;
    if args.iter().any(|a| a == "--json") {
        crate::print_json_error(code, &first);
    }
    code.code()
}
