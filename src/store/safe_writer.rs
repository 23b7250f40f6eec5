//! SAFE MODE writer: the only code that creates files in the models dir. A model directory is
//! built in a hidden temporary sibling, every file created new and fsynced, then renamed into
//! place in one step that refuses to replace anything. A kill at any instant leaves either no
//! model directory or a complete one; nothing that this run did not create is ever deleted,
//! truncated or overwritten.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::models::model_type::ModelFile;

/// Marks temporary names this tool creates; such entries are never counted as models.
pub const TEMP_MARKER: &str = ".auto-train-tmp-";

/// True for a name this tool uses while writing (a leftover if a run was killed).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(TEMP_MARKER)
}

/// What happened to a model directory write.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The complete directory is now in place.
    Written,
    /// Something appeared at the target while training: it was left as it was.
    TargetAppeared,
}

fn temp_name(final_name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(".{final_name}{TEMP_MARKER}{}-{nanos}", std::process::id())
}

/// Writes a complete model directory at `target` (which must not exist).
pub fn write_model_dir(target: &Path, files: &[ModelFile]) -> Result<WriteOutcome> {
    let parent = target
        .parent()
        .context("model directory has no parent")?
        .to_path_buf();
    let final_name = target
        .file_name()
        .context("model directory has no name")?
        .to_string_lossy()
        .to_string();
    if target.symlink_metadata().is_ok() {
        return Ok(WriteOutcome::TargetAppeared);
    }
    create_dirs(&parent)?;
    let temp = parent.join(temp_name(&final_name));
    fs::create_dir(&temp).with_context(|| format!("creating {}", temp.display()))?;
    let result = fill_and_publish(&temp, target, &parent, files);
    if !matches!(result, Ok(WriteOutcome::Written)) {
        // Only what this run created inside its own temporary directory is removed.
        remove_own_temp_dir(&temp, files);
    }
    result
}

fn fill_and_publish(
    temp: &Path,
    target: &Path,
    parent: &Path,
    files: &[ModelFile],
) -> Result<WriteOutcome> {
    for file in files {
        create_new_file(&temp.join(&file.name), &file.bytes)?;
    }
    sync_dir(temp)?;
    match rename_no_replace(temp, target) {
        Ok(()) => {
            sync_dir(parent)?;
            Ok(WriteOutcome::Written)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(WriteOutcome::TargetAppeared),
        Err(e) => Err(e).with_context(|| {
            format!(
                "moving {} into place at {}",
                temp.display(),
                target.display()
            )
        }),
    }
}

fn remove_own_temp_dir(temp: &Path, files: &[ModelFile]) {
    for file in files {
        let _ = fs::remove_file(temp.join(&file.name));
    }
    let _ = fs::remove_dir(temp);
}

/// Adds one file to an existing directory, create-new only and atomically: the bytes go to a
/// temporary file that is then hard-linked to `name` (which fails if `name` exists).
/// Returns false if `name` appeared meanwhile (nothing was changed).
pub fn add_file_to_existing_dir(dir: &Path, name: &str, bytes: &[u8]) -> Result<bool> {
    let temp = dir.join(temp_name(name));
    create_new_file(&temp, bytes)?;
    let target = dir.join(name);
    let linked = fs::hard_link(&temp, &target);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            sync_dir(dir)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("creating {}", target.display())),
    }
}

/// Replaces `target` (a file this tool owns, such as the registry) with `bytes` atomically:
/// temp file + fsync + rename + fsync of the directory.
pub fn replace_file_atomically(target: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .context("file has no name")?
        .to_string_lossy()
        .to_string();
    let temp = dir.join(temp_name(&name));
    create_new_file(&temp, bytes)?;
    if let Err(e) = fs::rename(&temp, target) {
        let _ = fs::remove_file(&temp);
        return Err(e).with_context(|| format!("replacing {}", target.display()));
    }
    sync_dir(&dir)
}

/// Creates directories that do not exist yet (never touches existing ones).
pub fn create_dirs(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))
}

fn create_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing directory {}", dir.display()))
}

/// `rename` that fails with `AlreadyExists` instead of replacing an (empty) directory.
#[cfg(target_os = "linux")]
fn rename_no_replace(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let from_c = CString::new(from.as_os_str().as_bytes())?;
    let to_c = CString::new(to.as_os_str().as_bytes())?;
    // SAFETY: both pointers are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from_c.as_ptr(),
            libc::AT_FDCWD,
            to_c.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        // Filesystems without RENAME_NOREPLACE: fall back to check-then-rename.
        Some(libc::EINVAL) | Some(libc::ENOSYS) => rename_checked(from, to),
        _ => Err(err),
    }
}

#[cfg(not(target_os = "linux"))]
fn rename_no_replace(from: &Path, to: &Path) -> std::io::Result<()> {
    rename_checked(from, to)
}

fn rename_checked(from: &Path, to: &Path) -> std::io::Result<()> {
    if to.symlink_metadata().is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "target exists",
        ));
    }
    fs::rename(from, to)
}
