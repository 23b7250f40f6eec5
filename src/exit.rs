//! One exit-code type for every command, mapped to the process exit code in `main` (as fd and
//! ripgrep do): commands return an `ExitCode` when they ran to the end, or a `CommandError` that
//! carries the code and the reason when they stopped early.

use serde::Serialize;

/// The process exit codes, as documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitCode {
    /// Nothing failed (also when there was nothing to do).
    Ok,
    /// A model failed to train or to register, a model is damaged, a lineage is inconsistent,
    /// the data is behind a model, or predict had no usable model.
    Failed,
    /// Bad usage, an unreadable data dir or an invalid registry; nothing was trained.
    Usage,
    /// Another run holds the lock on the models dir (EX_TEMPFAIL: try again later).
    Locked,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        match self {
            ExitCode::Ok => 0,
            ExitCode::Failed => 1,
            ExitCode::Usage => 2,
            ExitCode::Locked => 75,
        }
    }
}

/// A command that stopped early: why, and with which exit code.
#[derive(Debug)]
pub struct CommandError {
    pub exit: ExitCode,
    pub error: anyhow::Error,
}

impl CommandError {
    pub fn usage(error: impl Into<anyhow::Error>) -> CommandError {
        CommandError {
            exit: ExitCode::Usage,
            error: error.into(),
        }
    }
    pub fn failed(error: impl Into<anyhow::Error>) -> CommandError {
        CommandError {
            exit: ExitCode::Failed,
            error: error.into(),
        }
    }
    pub fn locked(error: impl Into<anyhow::Error>) -> CommandError {
        CommandError {
            exit: ExitCode::Locked,
            error: error.into(),
        }
    }
}

/// Any other error (I/O on the models dir, ...) stops the command with exit 1.
impl<E: Into<anyhow::Error>> From<E> for CommandError {
    fn from(e: E) -> CommandError {
        CommandError::failed(e)
    }
}

/// What every command returns.
pub type CommandResult = Result<ExitCode, CommandError>;
