//! Logging through tracing to stderr: quiet by default (warnings and errors), more with -v,
//! JSON lines with --log-format json. Every line, the fatal `error` line included, starts with
//! its UTC time, so a cron log appended night after night can be dated. Colour: `--color`
//! (auto: only on a terminal and never with NO_COLOR).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::{Color, LogArgs, LogFormat};

/// The format chosen by `init`, for `error`.
static FORMAT: std::sync::OnceLock<LogFormat> = std::sync::OnceLock::new();

/// The line that says why a command stopped: `<time> ERROR ...` on stderr (shown with --quiet
/// too), or a JSON log line with `--log-format json`.
pub fn error(message: &str) {
    match FORMAT.get() {
        Some(_) => tracing::error!("{message}"),
        None => eprintln!("error: {message}"),
    }
}

pub fn init(args: &LogArgs) {
    let _ = FORMAT.set(args.log_format);
    let default_level = if args.quiet {
        "error"
    } else {
        match args.verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let ansi = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match args.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_ansi(ansi).try_init(),
    };
}
