//! auto-train: keeps a football prediction service's per-league models complete. Data flows one
//! way: `data` (load -> typed league matches) -> `features` -> `models` (trainers behind the
//! `models::model_type` seam, on the numeric core in `stats`) -> `store` (SAFE MODE writer,
//! registry). `commands` holds what the binary can be asked to do; `cli` parses its arguments.

pub mod cli;
pub mod commands;
pub mod data;
pub mod exit;
pub mod features;
pub mod logging;
pub mod models;
pub mod stats;
pub mod store;

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

/// Parses the command line, runs the command and returns the process exit code. Every way out
/// goes through here: with `--json`, stdout holds one JSON document with `exit_code` and
/// `error` even when the command stopped early (or its arguments were wrong).
pub fn main_exit_code() -> i32 {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return cli::usage_error(e),
    };
    logging::init(&cli.log);
    let result = match &cli.command {
        Some(cli::Command::Predict(args)) => commands::predict::run_predict(args),
        Some(cli::Command::Status(args)) => commands::status::run_status(args),
        Some(cli::Command::Backtest(args)) => commands::backtest::run_backtest(args, cli.log.quiet),
        Some(cli::Command::Generate(args)) => commands::generate::run_generate(args),
        None => commands::train::run_training(&cli.run, cli.log.quiet),
    };
    match result {
        Ok(code) => code.code(),
        Err(failure) => {
            let message = format!("{:#}", failure.error);
            logging::error(&message);
            if cli.wants_json() {
                print_json_error(failure.exit, &message);
            }
            failure.exit.code()
        }
    }
}

/// The JSON document of a command that stopped early.
pub fn print_json_error(code: exit::ExitCode, message: &str) {
    let doc = serde_json::json!({
        "tool_version": env!("CARGO_PKG_VERSION"),
        "exit_code": code.code(),
        "error": message,
    });
    let _ = write_stdout(format!("{doc:#}\n").as_bytes());
}
