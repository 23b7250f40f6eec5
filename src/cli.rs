//! Command-line interface (clap): the training run is the default command; `predict` writes
//! probabilities for fixtures from the complete models of a league.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::data::date::Date;

/// Exit codes, as documented in the README.
pub mod exit {
    /// Nothing failed (also when there was nothing to do).
    pub const OK: i32 = 0;
    /// At least one model failed to train (or predict failed).
    pub const FAILED: i32 = 1;
    /// Bad usage, an unreadable data dir or an invalid registry; nothing was trained.
    pub const USAGE: i32 = 2;
    /// Another run holds the lock on the models dir (EX_TEMPFAIL: try again later).
    pub const LOCKED: i32 = 75;
}

const ABOUT: &str = "Keeps a football prediction service's per-league models complete.";
const LONG_ABOUT: &str = "\
Keeps a football prediction service's per-league models complete.

Scans the match data under --data-dir, finds which model directories under
<models-dir>/leagues/<league>/<model_type>/ are missing, trains only those, and appends them to
the registry. SAFE MODE: existing files are never deleted, truncated or overwritten; a model
directory appears complete in one step or not at all; the registry is append-only.

Exit codes: 0 nothing failed, 1 a model failed to train, 2 bad usage / unreadable data dir /
invalid registry, 75 another run holds the lock.";

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
}

/// Which model types a run looks after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelTypeArg {
    /// Home/draw/away binary logistic models with a calibrator.
    #[value(name = "1x2_v2")]
    OneXTwoV2,
    /// Time-decay Dixon-Coles Poisson goals model.
    #[value(name = "poisson_v2")]
    PoissonV2,
    /// Calibrated draw-vs-not model.
    #[value(name = "draw_specialist")]
    DrawSpecialist,
    /// Every model type.
    #[value(name = "all")]
    All,
}

impl ModelTypeArg {
    /// The selected type names (`None` = all).
    pub fn name(self) -> Option<&'static str> {
        match self {
            ModelTypeArg::OneXTwoV2 => Some("1x2_v2"),
            ModelTypeArg::PoissonV2 => Some("poisson_v2"),
            ModelTypeArg::DrawSpecialist => Some("draw_specialist"),
            ModelTypeArg::All => None,
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Detect and report only: write nothing at all (no lock, no registry, no model files).
    #[arg(long)]
    pub dry_run: bool,

    /// Model type to look after.
    #[arg(long, value_enum, default_value = "all")]
    pub model_type: ModelTypeArg,

    /// Only this league (slug, e.g. premier_league); repeat for several.
    #[arg(long = "league", value_name = "SLUG")]
    pub leagues: Vec<String>,

    /// Directory searched recursively for .csv and .parquet match files.
    #[arg(long, value_name = "DIR", default_value = "data/processed")]
    pub data_dir: PathBuf,

    /// Models root; models live in <DIR>/leagues/<league>/<model_type>/.
    #[arg(long, value_name = "DIR", default_value = "models")]
    pub models_dir: PathBuf,

    /// Registry file ({"models": [...]}), created if missing, append-only.
    #[arg(long, value_name = "FILE", default_value = "registry.json")]
    pub registry: PathBuf,

    /// Fix the Poisson time decay (per day, e.g. 0.0018) instead of choosing it per league.
    #[arg(long, value_name = "PER_DAY", value_parser = parse_xi)]
    pub xi: Option<f64>,

    /// Print a machine-readable JSON summary on stdout instead of the text report.
    #[arg(long)]
    pub json: bool,

    /// Today's date (UTC) for this run: matches dated after it are skipped as not results.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_as_of, default_value_t = crate::data::today_utc())]
    pub as_of: Date,
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

    /// Write the CSV here (a new file; an existing file is never overwritten) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Today's date (UTC): history dated after it is skipped as not results.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_as_of, default_value_t = crate::data::today_utc())]
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
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_as_of, default_value_t = crate::data::today_utc())]
    pub as_of: Date,
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
}

fn parse_as_of(s: &str) -> Result<Date, String> {
    let date = Date::parse(s).ok_or_else(|| format!("{s:?} is not a date (YYYY-MM-DD)"))?;
    // Only the ISO form: the day-first forms of data files are ambiguous on a command line.
    if date.to_string() != s.trim() {
        return Err(format!("{s:?} is not a date in the form YYYY-MM-DD"));
    }
    Ok(date)
}

fn parse_xi(s: &str) -> Result<f64, String> {
    let xi: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !xi.is_finite() || !(0.0..=1.0).contains(&xi) {
        return Err(format!("{s} is outside 0..=1 per day"));
    }
    Ok(xi)
}
