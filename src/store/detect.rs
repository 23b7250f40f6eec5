//! Detection: for each league x model type, whether the model directory is complete, missing,
//! partial or impossible for lack of data, plus everything in the models dir that is not ours to
//! touch (other model types, leagues without data, leftovers of interrupted runs). Read-only.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::models::model_type::ModelSpec;
use crate::store::safe_writer;

/// `<models dir>/leagues/<league>/<model type>`.
pub fn model_dir(models_dir: &Path, league: &str, model_type: &str) -> PathBuf {
    models_dir.join("leagues").join(league).join(model_type)
}

/// The state of one league x model type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ModelState {
    /// Every required file is present.
    Existing,
    /// No directory: to be trained.
    Missing,
    /// The directory exists but these required files are not there (or it is not a directory).
    Partial { missing_files: Vec<String> },
    /// Too few matches to train.
    InsufficientData { matches: usize, minimum: usize },
}

impl ModelState {
    pub fn label(&self) -> &'static str {
        match self {
            ModelState::Existing => "existing",
            ModelState::Missing => "missing",
            ModelState::Partial { .. } => "partial",
            ModelState::InsufficientData { .. } => "insufficient_data",
        }
    }
}

/// A real directory (not a symlink) with nothing in it: what the old pipeline's `--dry-run` left.
/// It holds no model, so it counts as missing and is trained into (see `safe_writer`).
pub fn is_empty_dir(path: &Path) -> bool {
    path.symlink_metadata().is_ok_and(|m| m.is_dir())
        && std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}

/// The directory name of a league's first version of `spec`: its `dir_name`, unless only a
/// directory of a legacy name is there (an earlier release's tree, used where it is).
pub fn seed_dir_name(models_dir: &Path, league: &str, spec: &ModelSpec) -> &'static str {
    spec.dir_names()
        .find(|name| {
            let dir = model_dir(models_dir, league, name);
            dir.symlink_metadata().is_ok() && !is_empty_dir(&dir)
        })
        .unwrap_or(spec.dir_name)
}

/// Detects the state of one model directory for a league with `matches` usable matches.
pub fn detect(models_dir: &Path, league: &str, spec: &ModelSpec, matches: usize) -> ModelState {
    let dir = model_dir(models_dir, league, seed_dir_name(models_dir, league, spec));
    match dir.symlink_metadata() {
        Err(_) => {
            if matches < spec.min_matches {
                ModelState::InsufficientData {
                    matches,
                    minimum: spec.min_matches,
                }
            } else {
                ModelState::Missing
            }
        }
        Ok(_) if is_empty_dir(&dir) => {
            if matches < spec.min_matches {
                ModelState::InsufficientData {
                    matches,
                    minimum: spec.min_matches,
                }
            } else {
                ModelState::Missing
            }
        }
        Ok(meta) if !meta.is_dir() && !dir.is_dir() => ModelState::Partial {
            missing_files: vec!["(the path is not a directory)".into()],
        },
        Ok(_) => {
            let missing: Vec<String> = spec
                .required_files
                .iter()
                .filter(|f| !dir.join(f).is_file())
                .map(|f| f.to_string())
                .collect();
            if missing.is_empty() {
                ModelState::Existing
            } else {
                ModelState::Partial {
                    missing_files: missing,
                }
            }
        }
    }
}

/// What the models dir holds besides the models this run looks after.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Untouched {
    /// `leagues/<league>` directories of leagues with no data.
    pub leagues_without_data: Vec<String>,
    /// Model directories of types this tool does not manage (e.g. `ou25_v1`).
    pub other_model_dirs: Vec<String>,
    /// Temporary directories or files left by an interrupted run.
    pub leftovers: Vec<String>,
}

/// A leftover with what an operator needs to decide about it.
#[derive(Debug, Clone, Serialize)]
pub struct LeftoverInfo {
    pub path: String,
    /// Seconds since it was last modified.
    pub age_seconds: u64,
    /// Bytes of every file in it.
    pub bytes: u64,
}

/// Age and size of a leftover (`path` as listed: relative to `base`, or absolute).
pub fn leftover_info(base: &Path, path: &str) -> LeftoverInfo {
    let full = base.join(path);
    let age_seconds = full
        .symlink_metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .map_or(0, |d| d.as_secs());
    fn size(p: &Path) -> u64 {
        match p.symlink_metadata() {
            Ok(m) if m.is_dir() => std::fs::read_dir(p)
                .map(|r| r.flatten().map(|e| size(&e.path())).sum())
                .unwrap_or(0),
            Ok(m) => m.len(),
            Err(_) => 0,
        }
    }
    LeftoverInfo {
        path: path.to_string(),
        age_seconds,
        bytes: size(&full),
    }
}

/// `3 h 5 min`, `2 d 4 h`, `40 s`: an age for people.
pub fn human_age(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// Lists the models dir (read-only). `leagues_with_data` and `known_types` decide what is ours.
pub fn scan_untouched(
    models_dir: &Path,
    leagues_with_data: &BTreeSet<String>,
    known_types: &BTreeSet<&str>,
) -> Untouched {
    let mut out = Untouched::default();
    let leagues_root = models_dir.join("leagues");
    for league_entry in sorted_entries(&leagues_root) {
        let league = league_entry.0;
        let league_path = league_entry.1;
        if safe_writer::is_temp_name(&league) {
            out.leftovers.push(format!("leagues/{league}"));
            continue;
        }
        if !league_path.is_dir() {
            continue;
        }
        if !leagues_with_data.contains(&league) {
            out.leagues_without_data.push(league.clone());
        }
        for (name, _) in sorted_entries(&league_path) {
            if safe_writer::is_temp_name(&name) {
                out.leftovers.push(format!("leagues/{league}/{name}"));
            } else if !known_types.contains(name.as_str()) && !name.starts_with('.') {
                out.other_model_dirs
                    .push(format!("leagues/{league}/{name}"));
            } else {
                for (file, _) in sorted_entries(&league_path.join(&name)) {
                    if safe_writer::is_temp_name(&file) {
                        out.leftovers
                            .push(format!("leagues/{league}/{name}/{file}"));
                    }
                }
            }
        }
    }
    out
}

fn sorted_entries(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut entries: Vec<(String, PathBuf)> = read
        .filter_map(|e| e.ok())
        .map(|e| (e.file_name().to_string_lossy().to_string(), e.path()))
        .collect();
    entries.sort();
    entries
}

/// League slugs that have a directory under `<models dir>/leagues` (not leftovers).
pub fn leagues_in_models_dir(models_dir: &Path) -> Vec<String> {
    sorted_entries(&models_dir.join("leagues"))
        .into_iter()
        .filter(|(name, path)| !safe_writer::is_temp_name(name) && path.is_dir())
        .map(|(name, _)| name)
        .collect()
}

/// Temporary files of an interrupted registry update beside the registry (full paths).
pub fn registry_leftovers(registry: &Path) -> Vec<String> {
    let Some(name) = registry
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
    else {
        return Vec::new();
    };
    let dir = match registry.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!(".{name}{}", safe_writer::TEMP_MARKER);
    let mut found: Vec<String> = Vec::new();
    // The registry's temporary file is written beside the file a symlink names.
    if let Ok(target) = safe_writer::resolve_symlinks(registry) {
        if let (Some(tdir), Some(tname)) = (target.parent(), target.file_name()) {
            let tdir = if tdir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                tdir
            };
            let tprefix = format!(".{}{}", tname.to_string_lossy(), safe_writer::TEMP_MARKER);
            if tdir != dir.as_path() || tprefix != prefix {
                found.extend(
                    sorted_entries(tdir)
                        .into_iter()
                        .filter(|(n, _)| n.starts_with(&tprefix))
                        .map(|(_, p)| p.display().to_string()),
                );
            }
        }
    }
    found.extend(
        sorted_entries(&dir)
            .into_iter()
            .filter(|(n, _)| n.starts_with(&prefix))
            .map(|(_, p)| p.display().to_string()),
    );
    found
}
