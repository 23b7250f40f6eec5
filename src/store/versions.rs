//! The lifecycle of one league x model type: every version published for it (where it lives,
//! its registry key), whether each version's directory is intact, which version is current and
//! whether that one is stale. Read-only; the plan, `status` and `predict` all ask here, so they
//! agree.
//!
//! Layout: the first version lives at the seed's path `leagues/<league>/<type>/`; a later one at
//! `leagues/<league>/<type>@<n>/` (n = 2, 3, ...). Keys: a league and type's first publication
//! keeps the seed's key `<type>_<league>_<version>`, the n-th one is `<seed key>@<n>`.
//! The current model is the newest registry entry whose directory is intact.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::data::date::Date;
use crate::data::matches::{LeagueMatches, Match};
use crate::models::model_type::{ModelSpec, ModelType};
use crate::store::detect;
use crate::store::manifest::{self, ManifestRead, MANIFEST_FILE};
use crate::store::registry::{RecordedEntry, Registry, RegistryEntry, TrainingDataSummary};

/// Separates a model type from the number of a later version in a directory name or key.
pub const VERSION_MARK: char = '@';

/// The directory name of version `n` of a model type.
pub fn version_dir_name(model_type: &str, n: u32) -> String {
    if n <= 1 {
        model_type.to_string()
    } else {
        format!("{model_type}{VERSION_MARK}{n}")
    }
}

/// `leagues/<league>/<dir name>`, the `path` a registry entry records (relative to the models dir).
pub fn rel_path(league: &str, model_type: &str, n: u32) -> String {
    format!("leagues/{league}/{}", version_dir_name(model_type, n))
}

/// The key of the n-th publication of a league and type.
pub fn version_key(seed_key: &str, n: u32) -> String {
    if n <= 1 {
        seed_key.to_string()
    } else {
        format!("{seed_key}{VERSION_MARK}{n}")
    }
}

/// Reads a directory name `<type>@<n>` (n >= 2) as (type, n); the plain type name is version 1.
pub fn parse_version_dir_name(name: &str) -> Option<(&str, u32)> {
    match name.split_once(VERSION_MARK) {
        None => Some((name, 1)),
        Some((ty, digits)) => {
            let n: u32 = digits.parse().ok()?;
            // Only the canonical spelling (`@2`, not `@02` or `@+2`) is a version.
            (n >= 2 && n.to_string() == digits).then_some((ty, n))
        }
    }
}

fn key_number(seed_key: &str, key: &str) -> Option<u32> {
    if key == seed_key {
        return Some(1);
    }
    let rest = key.strip_prefix(seed_key)?.strip_prefix(VERSION_MARK)?;
    rest.parse().ok().filter(|n| *n >= 2)
}

/// Matches, date range and a SHA-256 fingerprint of the rows a model is trained on.
pub fn training_summary(league: &LeagueMatches) -> TrainingDataSummary {
    TrainingDataSummary {
        matches: league.len(),
        first_date: league
            .first_date()
            .map(|d| d.to_string())
            .unwrap_or_default(),
        last_date: league
            .last_date()
            .map(|d| d.to_string())
            .unwrap_or_default(),
        fingerprint: fingerprint(&league.matches),
    }
}

/// SHA-256 over (date, home, away, goals) of each row, in order: one line
/// `date,home,away,home_goals,away_goals\n` a row.
pub fn fingerprint(matches: &[Match]) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    let mut hasher = Sha256::new();
    // The lines are written by hand (no formatter): this runs over every row of a league for
    // each model published.
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    for m in matches {
        push_date(&mut buf, m.date);
        buf.push(b',');
        buf.extend_from_slice(m.home.as_bytes());
        buf.push(b',');
        buf.extend_from_slice(m.away.as_bytes());
        buf.push(b',');
        push_decimal(&mut buf, m.home_goals);
        buf.push(b',');
        push_decimal(&mut buf, m.away_goals);
        buf.push(b'\n');
        if buf.len() >= (1 << 16) - 512 {
            hasher.update(&buf);
            buf.clear();
        }
    }
    hasher.update(&buf);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hasher.finalize() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `date` as `Date`'s `Display` writes it (`yyyy-mm-dd`).
fn push_date(buf: &mut Vec<u8>, date: Date) {
    let (y, m, d) = date.ymd();
    if !(0..=9999).contains(&y) {
        buf.extend_from_slice(date.to_string().as_bytes());
        return;
    }
    let digit = |v: u32| b'0' + (v % 10) as u8;
    let y = y as u32;
    buf.extend_from_slice(&[
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(d / 10),
        digit(d),
    ]);
}

fn push_decimal(buf: &mut Vec<u8>, v: u8) {
    if v >= 100 {
        buf.push(b'0' + v / 100);
    }
    if v >= 10 {
        buf.push(b'0' + v / 10 % 10);
    }
    buf.push(b'0' + v % 10);
}

/// Whether a model's training data is still the league's data.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Staleness {
    /// False when the model has no training record (not made by this tool): never called fresh.
    pub known: bool,
    pub stale: bool,
    /// Matches dated after the model's training `last_date`.
    pub new_matches: usize,
    /// The rows up to `last_date` differ from those it was trained on (a corrected score ...).
    pub rows_changed: bool,
    /// One line for people, e.g. `380 new matches since 2023-05-28`.
    pub reason: String,
}

/// Compares a training record with the league's current matches.
pub fn staleness(record: Option<&TrainingDataSummary>, league: &LeagueMatches) -> Staleness {
    let Some(record) = record else {
        return Staleness {
            reason: "unknown: no training record (not made by auto-train)".into(),
            ..Staleness::default()
        };
    };
    let Some(last) = Date::parse(&record.last_date) else {
        return Staleness {
            reason: format!(
                "unknown: training record has no valid last_date ({:?})",
                record.last_date
            ),
            ..Staleness::default()
        };
    };
    let end = league.matches.partition_point(|m| m.date <= last);
    let new_matches = league.len() - end;
    let rows_changed = fingerprint(&league.matches[..end]) != record.fingerprint;
    let mut reasons = Vec::new();
    if new_matches > 0 {
        reasons.push(format!("{new_matches} new matches since {last}"));
    }
    if rows_changed {
        reasons.push(format!(
            "the rows up to {last} changed since training ({} then, {end} now)",
            record.matches
        ));
    }
    Staleness {
        known: true,
        stale: new_matches > 0 || rows_changed,
        new_matches,
        rows_changed,
        reason: if reasons.is_empty() {
            "fresh".into()
        } else {
            reasons.join("; ")
        },
    }
}

/// What checking a version's directory found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "health", content = "reason", rename_all = "snake_case")]
pub enum Health {
    /// Published by this tool and every check passed.
    Intact,
    /// No manifest (not published by this tool) and it loads: used as found, unverifiable.
    Foreign,
    /// No manifest and this tool cannot read it (another tool's model): left alone, never used.
    Unreadable(String),
    /// Something is wrong: a file missing, empty, changed, unloadable, or of another league/type.
    Damaged(String),
}

impl Health {
    /// Loadable and of this league and type: usable by `predict`.
    pub fn usable(&self) -> bool {
        matches!(self, Health::Intact | Health::Foreign)
    }
}

/// Checks one version directory: required files present and not empty, the manifest's league
/// and type equal to the directory's, every file's hash equal to `expected` (the registry's) or
/// else the manifest's; a directory whose hashes do not cover every required file (another
/// tool's, or an older release's) must also load and its artifacts record this league and type.
pub fn verify(
    ty: &dyn ModelType,
    dir: &Path,
    league: &str,
    expected: Option<&BTreeMap<String, String>>,
) -> (Health, Option<manifest::Manifest>) {
    let spec = ty.spec();
    for f in spec.required_files {
        match std::fs::metadata(dir.join(f)) {
            Err(_) => return (Health::Damaged(format!("{f} is missing")), None),
            Ok(m) if !m.is_file() => return (Health::Damaged(format!("{f} is not a file")), None),
            Ok(m) if m.len() == 0 => return (Health::Damaged(format!("{f} is empty")), None),
            Ok(_) => {}
        }
    }
    let manifest = match manifest::read(dir) {
        ManifestRead::Present(m) => Some(*m),
        ManifestRead::Absent => None,
        ManifestRead::Unreadable(reason) => return (Health::Damaged(reason), None),
    };
    if let Some(m) = &manifest {
        let e = &m.registry_entry;
        if e.league != league {
            return (
                Health::Damaged(format!("belongs to {} (its manifest says so)", e.league)),
                manifest,
            );
        }
        if e.model_type != spec.name {
            return (
                Health::Damaged(format!(
                    "is a {} model (its manifest says so)",
                    e.model_type
                )),
                manifest,
            );
        }
        let hashes = match expected {
            Some(h) if !h.is_empty() => h,
            _ => &e.files,
        };
        for (name, hash) in hashes {
            if name == MANIFEST_FILE && expected.is_none() {
                continue;
            }
            match std::fs::read(dir.join(name)) {
                Err(_) => return (Health::Damaged(format!("{name} is missing")), manifest),
                Ok(bytes) if &manifest::sha256(&bytes) != hash => {
                    return (
                        Health::Damaged(format!("{name} changed since it was published")),
                        manifest,
                    )
                }
                Ok(_) => {}
            }
        }
        // Every required file is byte-for-byte what this tool published for this league and
        // type: it loads as it did then. Loading is left to the one version that is used, so
        // a lineage of many versions stays cheap to check every night.
        if spec.required_files.iter().all(|f| hashes.contains_key(*f)) {
            return (Health::Intact, manifest);
        }
    }
    match ty.load(dir) {
        Ok(predictor) => match predictor.recorded_league() {
            Some(recorded) if recorded != league => (
                Health::Damaged(format!("belongs to {recorded} (its model files say so)")),
                manifest,
            ),
            _ if predictor.recorded_model_type() != spec.name => (
                Health::Damaged(format!(
                    "is a {} model (its model files say so)",
                    predictor.recorded_model_type()
                )),
                manifest,
            ),
            _ if manifest.is_some() => (Health::Intact, manifest),
            _ => (Health::Foreign, manifest),
        },
        Err(e) if manifest.is_some() => (Health::Damaged(format!("loads NO: {e:#}")), manifest),
        Err(e) => (Health::Unreadable(format!("{e:#}")), manifest),
    }
}

/// One version of a league and type: a registry entry, a directory, or both.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    /// Registry key (or, for an unregistered directory of ours, the key its manifest holds).
    pub key: Option<String>,
    /// Relative to the models dir.
    pub path: String,
    pub registered: bool,
    /// The directory exists and holds this version (not a later model moved into its place).
    pub present: bool,
    /// None when the directory is not present.
    pub health: Option<Health>,
    /// What it was trained on.
    #[serde(skip)]
    pub record: Option<TrainingDataSummary>,
    pub supersedes: Option<String>,
    /// `current`, `superseded`, `gone`, `damaged`, `unregistered`, `foreign`, `unreadable`.
    pub role: &'static str,
}

/// Every version of one league and type, and which one is current.
#[derive(Debug, Clone, Serialize)]
pub struct Lineage {
    pub league: String,
    pub model_type: String,
    /// Registry entries (oldest first), then directories on disk no entry accounts for.
    pub versions: Vec<Version>,
    /// Index into `versions`.
    pub current: Option<usize>,
    /// The next publication number (its key is `version_key(seed, next)`).
    pub next: u32,
    /// The directory number (>= 2) of the next refreshed version: free on disk.
    pub next_dir: u32,
}

impl Lineage {
    pub fn current(&self) -> Option<&Version> {
        self.current.map(|i| &self.versions[i])
    }

    /// Versions whose directory is present and damaged.
    pub fn damaged(&self) -> impl Iterator<Item = (&Version, &str)> {
        self.versions.iter().filter_map(|v| match &v.health {
            Some(Health::Damaged(reason)) => Some((v, reason.as_str())),
            _ => None,
        })
    }

    /// Any version directory on disk at all.
    pub fn any_present(&self) -> bool {
        self.versions.iter().any(|v| v.present)
    }
}

/// Version directories of a league and type on disk (of its directory name or a legacy one; an
/// empty directory holds no version): (n, directory name), n ascending.
fn dirs_on_disk(models_dir: &Path, league: &str, spec: &ModelSpec) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let Ok(read) = std::fs::read_dir(models_dir.join("leagues").join(league)) else {
        return out;
    };
    for e in read.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if let Some((ty, n)) = parse_version_dir_name(&name) {
            if spec.dir_names().any(|d| d == ty) && !detect::is_empty_dir(&e.path()) {
                out.push((n, name));
            }
        }
    }
    out.sort();
    out
}

/// Works out every version of `league` x `ty` from the registry and the models dir.
pub fn lineage(
    models_dir: &Path,
    registry: Option<&Registry>,
    league: &str,
    ty: &dyn ModelType,
) -> Lineage {
    let spec = ty.spec();
    let seed_key = RegistryEntry::key_for(spec.name, league, spec.version);
    let entries: Vec<&RecordedEntry> = registry
        .map(|r| {
            r.records()
                .iter()
                .filter(|e| {
                    e.league.as_deref() == Some(league)
                        && e.model_type.as_deref() == Some(spec.name)
                })
                .collect()
        })
        .unwrap_or_default();
    let on_disk = dirs_on_disk(models_dir, league, spec);
    let check = |name: &str, expected: Option<&BTreeMap<String, String>>| {
        let dir = models_dir.join("leagues").join(league).join(name);
        (dir.is_dir() && !detect::is_empty_dir(&dir)).then(|| verify(ty, &dir, league, expected))
    };

    let mut versions = Vec::new();
    let mut accounted: Vec<String> = Vec::new();
    for e in &entries {
        let path = e
            .path
            .clone()
            .unwrap_or_else(|| rel_path(league, spec.dir_name, 1));
        let name = path.rsplit('/').next().unwrap_or_default().to_string();
        let in_layout = path == format!("leagues/{league}/{name}")
            && parse_version_dir_name(&name).is_some_and(|(t, _)| spec.dir_names().any(|d| d == t));
        let expected = (!e.files.is_empty()).then_some(&e.files);
        let found = if in_layout {
            check(&name, expected)
        } else {
            None
        };
        // The directory holds this entry's version when its manifest names this key, or, for a
        // directory without a manifest (the old pipeline's), when the entry is the seed's.
        let holds = match &found {
            None => false,
            Some((_, Some(m))) => m.registry_entry.key == e.key,
            Some((_, None)) => e.files.is_empty(),
        };
        if holds {
            accounted.push(name.clone());
        }
        let health = if holds { found.map(|(h, _)| h) } else { None };
        versions.push(Version {
            key: Some(e.key.clone()),
            path,
            registered: true,
            present: holds,
            record: e.training_data.clone(),
            supersedes: e.supersedes.clone(),
            role: "",
            health,
        });
    }
    for (_, name) in &on_disk {
        if accounted.contains(name) {
            continue;
        }
        let (health, manifest) =
            check(name, None).unwrap_or((Health::Damaged("not a directory".into()), None));
        versions.push(Version {
            key: manifest.as_ref().map(|m| m.registry_entry.key.clone()),
            path: format!("leagues/{league}/{name}"),
            registered: false,
            present: true,
            record: manifest
                .as_ref()
                .map(|m| m.registry_entry.training_data.clone()),
            supersedes: manifest
                .as_ref()
                .and_then(|m| m.registry_entry.supersedes.clone()),
            role: "",
            health: Some(health),
        });
    }

    let current = current_version(&versions, entries.len(), registry, &seed_key);
    assign_roles(&mut versions, current);
    let (next, next_dir) = next_numbers(&versions, &on_disk, registry, &seed_key);
    Lineage {
        league: league.to_string(),
        model_type: spec.name.to_string(),
        versions,
        current,
        next,
        next_dir,
    }
}

/// The newest version whose directory is intact. Versions of ours that a killed run published
/// but did not register are newer than every entry (the next run appends them), newest by
/// publication number; then the entries (the first `registered` versions), newest first; else
/// a foreign model that loads.
fn current_version(
    versions: &[Version],
    registered: usize,
    registry: Option<&Registry>,
    seed_key: &str,
) -> Option<usize> {
    let usable = |v: &Version| v.present && v.health.as_ref().is_some_and(Health::usable);
    let pending = |v: &Version| {
        v.health == Some(Health::Intact)
            && v.key
                .as_deref()
                .is_some_and(|k| registry.is_none_or(|r| !r.contains(k)))
    };
    (registered..versions.len())
        .filter(|&i| pending(&versions[i]))
        .max_by_key(|&i| {
            versions[i]
                .key
                .as_deref()
                .and_then(|k| key_number(seed_key, k))
                .unwrap_or(0)
        })
        .or_else(|| (0..registered).rev().find(|&i| usable(&versions[i])))
        .or_else(|| (registered..versions.len()).find(|&i| usable(&versions[i])))
}

/// Each version's role beside the current one.
fn assign_roles(versions: &mut [Version], current: Option<usize>) {
    for (i, v) in versions.iter_mut().enumerate() {
        v.role = if Some(i) == current {
            "current"
        } else if !v.present {
            "gone"
        } else {
            match &v.health {
                Some(Health::Damaged(_)) => "damaged",
                Some(Health::Unreadable(_)) => "unreadable",
                _ if !v.registered && v.key.is_some() => "unregistered",
                Some(Health::Foreign) if !v.registered => "foreign",
                _ => "superseded",
            }
        };
    }
}

/// (next publication number, next free directory number >= 2). Every key any version holds
/// (the registry's and the manifests') and every directory on disk counts as taken.
fn next_numbers(
    versions: &[Version],
    on_disk: &[(u32, String)],
    registry: Option<&Registry>,
    seed_key: &str,
) -> (u32, u32) {
    let max_key = versions
        .iter()
        .filter_map(|v| v.key.as_deref().and_then(|k| key_number(seed_key, k)))
        .max();
    let max_dir = on_disk.iter().map(|(n, _)| *n).max();
    let taken_elsewhere = registry.is_some_and(|r| r.contains(seed_key));
    let next = match (max_key, max_dir) {
        (None, None) if !taken_elsewhere => 1,
        (a, b) => a.unwrap_or(1).max(b.unwrap_or(1)) + 1,
    };
    (next, next.max(max_dir.unwrap_or(1) + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::matches::Extras;

    /// The fingerprint's lines, as `format!` writes them.
    fn formatted(matches: &[Match]) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for m in matches {
            hasher.update(
                format!(
                    "{},{},{},{},{}\n",
                    m.date, m.home, m.away, m.home_goals, m.away_goals
                )
                .as_bytes(),
            );
        }
        let hex: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("sha256:{hex}")
    }

    #[test]
    fn fingerprint_writes_the_lines_format_writes() {
        let days = [
            -800_000, -719_468, -1, 0, 19_000, 2_932_896, 2_932_897, 5_000_000,
        ];
        let goals = [0u8, 7, 9, 10, 42, 99, 100, 101, 255];
        let matches: Vec<Match> = days
            .iter()
            .flat_map(|&d| goals.iter().map(move |&g| (d, g)))
            .map(|(d, g)| Match {
                date: Date(d),
                home: "Köln".into(),
                away: "Man United".into(),
                home_goals: g,
                away_goals: 255 - g,
                extras: Extras::default(),
            })
            .collect();
        for m in &matches {
            assert_eq!(
                fingerprint(std::slice::from_ref(m)),
                formatted(std::slice::from_ref(m)),
                "{m:?}"
            );
        }
        // Long enough to be hashed in more than one block.
        let many: Vec<Match> = matches.iter().cycle().take(5000).cloned().collect();
        assert_eq!(fingerprint(&many), formatted(&many));
    }
}
