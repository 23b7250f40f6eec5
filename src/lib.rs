//! auto-train: keeps a football prediction service's per-league models complete. Data flows one
//! way: `data` (polars) -> `matches` -> model types (`models`, through the `model_type` seam) ->
//! `safe_writer` -> `registry`; `run` orchestrates and `report` tells.

pub mod cli;
pub mod data;
pub mod date;
pub mod detect;
pub mod dixon_coles;
pub mod features;
pub mod leagues;
pub mod logging;
pub mod logistic;
pub mod matches;
pub mod metrics;
pub mod model_type;
pub mod models;
pub mod pickle;
pub mod predict;
pub mod registry;
pub mod report;
pub mod run;
pub mod run_lock;
pub mod safe_writer;
pub mod scoreline;
pub mod status;

use clap::Parser;

/// Writes to stdout; a closed pipe (`auto-train status | head`) ends the output quietly instead of
/// panicking as `print!` would.
pub fn write_stdout(text: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main_exit_code() -> i32 {
    let cli = cli::Cli::parse();
    logging::init(&cli.log);
    let result = match &cli.command {
        Some(cli::Command::Predict(args)) => predict::run_predict(args),
        Some(cli::Command::Status(args)) => status::run_status(args),
        None => run::run_training(&cli.run, cli.log.quiet),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            cli::exit::FAILED
        }
    }
}
