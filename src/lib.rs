//! auto-train: keeps a football prediction service's per-league models complete. Data flows one
//! way: `data` (load -> typed league matches) -> `features` -> `models` (trainers behind the
//! `models::model_type` seam, on the numeric core in `stats`) -> `store` (SAFE MODE writer,
//! registry). `commands` holds what the binary can be asked to do; `cli` parses its arguments.

pub mod cli;
pub mod commands;
pub mod data;
pub mod exit;
pub mod features;
pub mod json;
pub mod logging;
pub mod models;
pub mod stats;
pub mod store;

use clap::Parser;

/// Set once a command has begun writing its output: a signal arriving later adds no error
/// document of its own.
static STDOUT_USED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes to stdout; a closed pipe (`auto-train status | head`) ends the output quietly instead of
/// panicking as `print!` would.
pub fn write_stdout(text: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    STDOUT_USED.store(true, std::sync::atomic::Ordering::SeqCst);
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
    watch_signals(cli.wants_json());
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
            let message = format!("{:#}{}", failure.error, working_directory_note());
            logging::error(&message);
            if cli.wants_json() {
                print_json_error(failure.exit, &message);
            }
            failure.exit.code()
        }
    }
}

/// ` (working directory /x)`: errors name paths as given, and a cron job's directory is not
/// always the one its author thinks.
pub fn working_directory_note() -> String {
    match std::env::current_dir() {
        Ok(dir) => format!(" (working directory {})", dir.display()),
        Err(e) => format!(" (working directory unknown: {e})"),
    }
}

/// The JSON document of a command that stopped early.
pub fn print_json_error(code: exit::ExitCode, message: &str) {
    print_json_error_code(code.code(), message);
}

fn print_json_error_code(code: i32, message: &str) {
    let doc = serde_json::json!({
        "exit_code": code,
        "error": message,
    });
    let _ = write_stdout(json::to_text(doc).as_bytes());
}

/// SIGXFSZ (a file size limit) is ignored, so that a write over the limit fails with an error
/// the command reports (and cleans up after) instead of killing the process. SIGTERM, SIGINT and
/// SIGHUP are taken by a thread of their own: it logs the signal, prints the JSON error document
/// when one is wanted and nothing was printed yet, and exits with 128 + the signal number. A
/// signal is then no different for the files from a kill at that instant (SAFE MODE holds
/// either way). Runs before any other thread starts, so that every thread inherits the mask.
fn watch_signals(json: bool) {
    // SAFETY: plain libc calls on a local signal set; the mask is set before any thread starts.
    let set = unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            libc::sigaddset(&mut set, sig);
        }
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return;
        }
        set
    };
    let watcher = move || {
        let mut sig: libc::c_int = 0;
        // SAFETY: `set` is a valid signal set and `sig` a valid out-pointer.
        if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
            return;
        }
        let name = match sig {
            libc::SIGTERM => "SIGTERM",
            libc::SIGINT => "SIGINT",
            _ => "SIGHUP",
        };
        let code = 128 + sig;
        let message = format!("stopped by {name}: the run did not finish (exit {code})");
        logging::error(&message);
        // Held (it is reentrant) so that a document being written is finished first.
        let _stdout = std::io::stdout().lock();
        if json && !STDOUT_USED.load(std::sync::atomic::Ordering::SeqCst) {
            print_json_error_code(code, &message);
        }
        std::process::exit(code);
    };
    if std::thread::Builder::new().spawn(watcher).is_err() {
        // No thread: the signals keep their default action.
        // SAFETY: as above.
        unsafe {
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        }
    }
}
