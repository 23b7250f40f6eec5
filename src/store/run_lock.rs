//! One run at a time per models dir: an advisory lock on `<models dir>/.auto-train.lock`, taken
//! with `File::try_lock`. The lock file is created if absent and never rewritten.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use anyhow::{Context, Result};

pub const LOCK_FILE: &str = ".auto-train.lock";

/// Held for the whole run; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// `Ok(None)` when another process holds the lock.
pub fn try_acquire(models_dir: &Path) -> Result<Option<RunLock>> {
    let path = models_dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(RunLock { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}
