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

/// Writes a complete model directory at `target`, which must not exist or be an empty directory
/// (what the old pipeline's `--dry-run` left): an empty directory holds no model and is
/// replaced by the complete one in the same single rename, which fails, changing nothing, if
/// anything appeared in it meanwhile.
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
    let into_empty = crate::store::detect::is_empty_dir(target);
    if target.symlink_metadata().is_ok() && !into_empty {
        return Ok(WriteOutcome::TargetAppeared);
    }
    create_dirs(&parent)?;
    let temp = parent.join(temp_name(&final_name));
    fs::create_dir(&temp).with_context(|| format!("creating {}", temp.display()))?;
    let result = fill_and_publish(&temp, target, &parent, files, into_empty);
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
    into_empty: bool,
) -> Result<WriteOutcome> {
    for file in files {
        create_new_file(&temp.join(&file.name), &file.bytes)?;
    }
    sync_dir(temp)?;
    let renamed = if into_empty {
        rename_onto_empty_dir(temp, target)
    } else {
        rename_no_replace(temp, target)
    };
    match renamed {
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
/// temp file + fsync + rename + fsync of the directory. A symlink is followed (also a dangling
/// one): the new file is written beside the link's final target and renamed onto it, so a shared
/// registry stays shared. The file keeps its permission bits and owner. On any failure the
/// temporary file is removed and `target` is unchanged.
pub fn replace_file_atomically(target: &Path, bytes: &[u8]) -> Result<()> {
    let target = resolve_symlinks(target)?;
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
    let result = create_new_file(&temp, bytes)
        .and_then(|()| keep_mode_and_owner(&target, &temp))
        .and_then(|()| {
            fs::rename(&temp, &target).with_context(|| format!("replacing {}", target.display()))
        });
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    sync_dir(&dir)
}

/// Follows `path` through symlinks (at most 40, like the kernel) to the file they name, which
/// may not exist yet.
pub fn resolve_symlinks(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = fs::read_link(&current)
                    .with_context(|| format!("reading the symlink {}", current.display()))?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    anyhow::bail!("{}: too many levels of symbolic links", path.display())
}

/// Gives `new` the permission bits and owner of `old` (when `old` exists).
fn keep_mode_and_owner(old: &Path, new: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = fs::metadata(old) else {
        return Ok(());
    };
    fs::set_permissions(new, meta.permissions())
        .with_context(|| format!("setting the mode of {}", new.display()))?;
    let current = fs::metadata(new)?;
    if current.uid() != meta.uid() || current.gid() != meta.gid() {
        std::os::unix::fs::chown(new, Some(meta.uid()), Some(meta.gid()))
            .with_context(|| format!("keeping the owner of {}", old.display()))?;
    }
    Ok(())
}

/// Creates `target` with `bytes`, never replacing anything: written beside it under a temporary
/// name, fsynced, then renamed into place only if nothing is there. A full disk or a kill leaves
/// no partial file under the final name; the temporary file is removed on failure.
pub fn write_new_file(target: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .with_context(|| format!("{} has no file name", target.display()))?
        .to_string_lossy()
        .to_string();
    if target.symlink_metadata().is_ok() {
        anyhow::bail!(
            "{} exists (an existing file is never overwritten)",
            target.display()
        );
    }
    let temp = dir.join(temp_name(&name));
    let result = create_new_file(&temp, bytes).and_then(|()| {
        rename_no_replace(&temp, target).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow::anyhow!(
                    "{} exists (an existing file is never overwritten)",
                    target.display()
                )
            } else {
                anyhow::Error::new(e).context(format!("creating {}", target.display()))
            }
        })
    });
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    sync_dir(&dir)
}

/// Creates directories that do not exist yet (never touches existing ones).
/// Creates `dir` and its missing ancestors. Each directory created is made durable (its parent
/// is fsynced), so that a model published below it cannot lose its path in a power cut (on a
/// file system without a journal that is a real risk). An existing directory costs one stat.
pub fn create_dirs(dir: &Path) -> Result<()> {
    if fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
        return Ok(());
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent {
        create_dirs(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => sync_dir(parent.unwrap_or(Path::new("."))),
        // Another writer of this run created it meanwhile.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating directory {}", dir.display())),
    }
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

/// Renames directory `from` onto `to`, an empty directory: rename(2) replaces an empty
/// directory atomically and refuses a non-empty one (`ENOTEMPTY`/`EEXIST`) or a file, reported
/// here as `AlreadyExists` (something appeared: nothing was changed).
fn rename_onto_empty_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    if !crate::store::detect::is_empty_dir(to) {
        return rename_no_replace(from, to);
    }
    rename_replacing_empty(from, to)
}

/// rename(2) of a directory onto `to`, with a non-empty `to` reported as `AlreadyExists`.
fn rename_replacing_empty(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::rename(from, to).map_err(|e| match e.kind() {
        std::io::ErrorKind::DirectoryNotEmpty
        | std::io::ErrorKind::AlreadyExists
        | std::io::ErrorKind::NotADirectory => {
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "target is not empty")
        }
        _ => e,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty target directory is replaced by the complete one; a target that is not empty
    /// when the rename happens (a file appeared after the emptiness check) is refused, both
    /// directories left as they were.
    #[test]
    fn renames_onto_an_empty_directory_only() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("new"), dir.path().join("target"));
        fs::create_dir(&from).unwrap();
        fs::write(from.join("model.pkl"), b"model").unwrap();
        fs::create_dir(&to).unwrap();
        fs::write(to.join("theirs"), b"theirs").unwrap();
        let e = rename_replacing_empty(&from, &to).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(to.join("theirs")).unwrap(), b"theirs");
        assert_eq!(fs::read(from.join("model.pkl")).unwrap(), b"model");
        assert_eq!(
            rename_onto_empty_dir(&from, &to).unwrap_err().kind(),
            std::io::ErrorKind::AlreadyExists
        );

        fs::remove_file(to.join("theirs")).unwrap();
        rename_onto_empty_dir(&from, &to).unwrap();
        assert_eq!(fs::read(to.join("model.pkl")).unwrap(), b"model");
        assert!(!from.exists());
    }
}
