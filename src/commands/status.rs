//! `auto-train status`: every league x model type with its state, whether its files load, its
//! headline metrics and whether the registry lists it -- what the old service showed at its
//! `/models` endpoint, read straight from the files. Read-only.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;

use crate::cli::StatusArgs;
use crate::data;
use crate::data::matches::LeagueMatches;
use crate::exit::{CommandError, CommandResult, ExitCode};
use crate::json::path_text;
use crate::models;
use crate::models::model_type::ModelType;
use crate::store::detect::{self, ModelState};
use crate::store::manifest;
use crate::store::registry::{Registry, RegistryEntry};
use crate::store::versions::{self, Health, Lineage};

#[derive(Debug, Serialize)]
pub struct StatusRow {
    pub league: String,
    pub model_type: String,
    /// existing / missing / partial / insufficient_data / damaged.
    pub state: String,
    /// For partial directories: the required files that are missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_files: Vec<String>,
    pub matches: usize,
    /// Whether the current version's files load (None when there is no model directory).
    pub loads: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_error: Option<String>,
    /// Whether the registry lists the current version (None when the registry is invalid).
    pub registered: Option<bool>,
    pub key: String,
    /// The current version's directory (relative to the models dir).
    pub path: String,
    /// The current version's training data is no longer the league's data (`null` when
    /// unknown: no current version, or one without a training record).
    pub stale: Option<bool>,
    /// Matches the current version was not trained on (`null` when unknown).
    pub new_matches: Option<usize>,
    /// The data holds less than the current version was trained on (a refresh would publish a
    /// model trained on less or older data, so none is published).
    pub data_behind: bool,
    /// `fresh`, why stale, or `unknown: ...` (no training record).
    pub staleness: String,
    /// Every version: key, path, role (current / superseded / gone / damaged / ...) and why.
    pub versions: Vec<serde_json::Value>,
    /// Headline validation metrics read from metrics.json.
    pub metrics: serde_json::Map<String, serde_json::Value>,
    pub trained_date: Option<String>,
}

/// The metrics shown, looked up in this order in `validation`/`val`, then at the top level.
const HEADLINE: &[&str] = &["rps", "log_loss", "accuracy", "auc", "brier"];

fn headline(metrics: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for key in HEADLINE {
        for section in ["validation", "val"] {
            if let Some(v) = metrics.get(section).and_then(|s| s.get(key)) {
                if v.is_number() {
                    out.insert(key.to_string(), v.clone());
                    break;
                }
            }
        }
    }
    out
}

pub fn run_status(args: &StatusArgs) -> CommandResult {
    if !args.models_dir.is_dir() {
        return Err(CommandError::usage(anyhow::anyhow!(
            "models dir {} does not exist or is not a directory (nothing trained yet, or the \
             wrong --models-dir or working directory)",
            args.models_dir.display()
        )));
    }
    let registry = Registry::load(&args.registry);
    if let Err(e) = &registry {
        // The fatal line of an exit 2, naming the working directory as every other one does.
        crate::logging::error(&format!("{e}{}", crate::working_directory_note()));
    }
    // What staleness is judged on: the training columns too (`versions::inputs_fingerprint`).
    let columns = data::Columns::Wanted(&crate::models::TRAINING_COLUMNS);
    let loaded = match data::load_data_dir_as_of(&args.data_dir, columns, args.as_of) {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!("{e:#}; states are shown without match counts");
            None
        }
    };
    let mut leagues: BTreeSet<String> = detect::leagues_in_models_dir(&args.models_dir)
        .into_iter()
        .collect();
    if let Some(l) = &loaded {
        leagues.extend(l.dataset.leagues.keys().cloned());
    }
    let rows = status_rows(args, loaded.as_ref(), registry.as_ref().ok(), &leagues);
    // What makes a run exit 1 makes status exit 1: damaged models, inconsistent lineages and
    // data behind a current model.
    let damaged: Vec<String> = rows
        .iter()
        .filter(|r| r.state == "damaged" || r.state == "inconsistent" || r.data_behind)
        .map(|r| {
            let what = if r.data_behind {
                "data behind"
            } else {
                r.state.as_str()
            };
            format!("{} {} ({what})", r.league, r.model_type)
        })
        .collect();
    let code = if registry.is_err() {
        ExitCode::Usage
    } else if !damaged.is_empty() {
        ExitCode::Failed
    } else {
        ExitCode::Ok
    };
    let error = match &registry {
        Err(e) => Some(e.to_string()),
        Ok(_) if !damaged.is_empty() => Some(format!(
            "needs an operator (a run exits 1 too): {}",
            damaged.join(", ")
        )),
        Ok(_) => None,
    };
    if let (Ok(_), Some(e)) = (&registry, &error) {
        crate::logging::error(e);
    }
    if rows.is_empty() {
        tracing::warn!(
            "no model and no match data: {} holds no league directory and {} no match of any \
             league",
            args.models_dir.display(),
            args.data_dir.display()
        );
    }
    if args.json {
        let text = crate::json::to_text(serde_json::json!({
            "models_dir": path_text(&args.models_dir),
            "data_dir": path_text(&args.data_dir),
            "registry": path_text(&args.registry),
            "registry_error": registry.as_ref().err().map(|e| e.to_string()),
            "models": rows,
            "exit_code": code.code(),
            "error": error,
        }));
        crate::write_stdout(text.as_bytes())?;
    } else {
        crate::write_stdout(status_table(&rows).as_bytes())?;
    }
    Ok(code)
}

/// One row per league x model type that has data or a model directory, in type then league
/// order (`registry`: `None` when it is invalid).
fn status_rows(
    args: &StatusArgs,
    loaded: Option<&data::LoadedData>,
    registry: Option<&Registry>,
    leagues: &BTreeSet<String>,
) -> Vec<StatusRow> {
    let empty = LeagueMatches {
        league: String::new(),
        matches: Vec::new(),
    };
    // Every league of the data (each seeing the others' matches), and the others empty.
    let mut league_rows: BTreeMap<&str, versions::LeagueRows> = loaded
        .map(|l| versions::LeagueRows::of_dataset(&l.dataset))
        .unwrap_or_default();
    for league in leagues {
        league_rows
            .entry(league.as_str())
            .or_insert_with(|| versions::LeagueRows::new(&empty));
    }
    let mut rows = Vec::new();
    for ty in models::model_types() {
        let spec = ty.spec();
        for league in leagues {
            let lm = loaded.and_then(|l| l.dataset.league(league));
            let matches = lm.map_or(0, |l| l.len());
            let seed_state = detect::detect(&args.models_dir, league, spec, matches);
            let lineage = versions::lineage(&args.models_dir, registry, league, ty);
            if !lineage.any_present()
                && !matches!(seed_state, ModelState::Partial { .. })
                && lm.is_none()
                && lineage.versions.is_empty()
            {
                continue; // a league with neither data nor this model type
            }
            rows.push(status_row(
                args,
                league,
                ty,
                &league_rows[league.as_str()],
                &seed_state,
                &lineage,
                registry.is_some(),
            ));
        }
    }
    rows
}

fn status_row(
    args: &StatusArgs,
    league: &str,
    ty: &dyn ModelType,
    lm: &versions::LeagueRows,
    seed_state: &ModelState,
    lineage: &Lineage,
    registry_ok: bool,
) -> StatusRow {
    let spec = ty.spec();
    let current = lineage.current();
    let seed_key = RegistryEntry::key_for(spec.name, league, spec.version);
    let seed_path = versions::rel_path(
        league,
        detect::seed_dir_name(&args.models_dir, league, spec),
        1,
    );
    // The version shown: the current one, else the newest directory present (damaged or
    // unreadable), else the seed's path.
    let shown = current.or_else(|| lineage.versions.iter().rev().find(|v| v.present));
    let path = shown.map_or(seed_path.clone(), |v| v.path.clone());
    let dir = args.models_dir.join(&path);
    let damaged = lineage.damaged().next().is_some();
    let state = match seed_state {
        ModelState::Partial { .. } if !dir.join(manifest::MANIFEST_FILE).exists() => "partial",
        _ if lineage.inconsistent.is_some() => "inconsistent",
        _ if damaged => "damaged",
        _ if lineage.any_present() => "existing",
        ModelState::InsufficientData { .. } => "insufficient_data",
        _ => "missing",
    };
    let (loads, load_error) = match shown.and_then(|v| v.health.as_ref()) {
        None if state == "partial" => (Some(false), Some("incomplete".to_string())),
        _ if lineage.inconsistent.is_some() => (Some(false), lineage.inconsistent.clone()),
        None => (None, None),
        Some(Health::Intact | Health::Foreign) => (Some(true), None),
        Some(Health::Unreadable(r)) => (
            Some(false),
            Some(format!(
                "made by another tool (not an auto-train file): {r}"
            )),
        ),
        Some(Health::Damaged(r)) => (Some(false), Some(r.clone())),
    };
    let staleness =
        current.map(|v| versions::staleness(v.record.as_ref(), lm, versions::Reads::of(spec)));
    let metrics: Option<serde_json::Value> = std::fs::read(dir.join("metrics.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    StatusRow {
        league: league.to_string(),
        model_type: spec.name.into(),
        state: state.into(),
        missing_files: match seed_state {
            ModelState::Partial { missing_files } if state == "partial" => missing_files.clone(),
            _ => Vec::new(),
        },
        matches: lm.league.len(),
        loads,
        load_error,
        registered: registry_ok.then(|| shown.is_some_and(|v| v.registered)),
        key: shown.and_then(|v| v.key.clone()).unwrap_or(seed_key),
        path,
        stale: staleness.as_ref().filter(|s| s.known).map(|s| s.stale),
        new_matches: staleness
            .as_ref()
            .filter(|s| s.known)
            .map(|s| s.new_matches),
        data_behind: staleness.as_ref().is_some_and(|s| s.behind),
        staleness: staleness.map_or_else(|| "-".to_string(), |s| s.reason),
        versions: lineage
            .versions
            .iter()
            .map(|v| {
                let reason = match &v.health {
                    Some(Health::Damaged(r) | Health::Unreadable(r)) => Some(r.clone()),
                    _ => None,
                };
                serde_json::json!({
                    "key": v.key, "path": v.path, "role": v.role, "registered": v.registered,
                    "supersedes": v.supersedes, "reason": reason,
                })
            })
            .collect(),
        metrics: metrics.as_ref().map(headline).unwrap_or_default(),
        trained_date: metrics
            .as_ref()
            .and_then(|m| m.get("trained_date"))
            .and_then(|d| d.as_str())
            .map(String::from),
    }
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "-",
    }
}

fn status_table(rows: &[StatusRow]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<24} {:<16} {:<18} {:>7} {:<5} {:<10} {:<6} headline metrics (validation)",
        "league", "model_type", "state", "matches", "loads", "registered", "stale"
    );
    for r in rows {
        let metrics: Vec<String> = r
            .metrics
            .iter()
            .map(|(k, v)| format!("{k} {:.4}", v.as_f64().unwrap_or(f64::NAN)))
            .collect();
        let _ = writeln!(
            o,
            "{:<24} {:<16} {:<18} {:>7} {:<5} {:<10} {:<6} {}",
            r.league,
            r.model_type,
            r.state,
            r.matches,
            yes_no(r.loads),
            yes_no(r.registered),
            match (r.stale, r.data_behind) {
                (_, true) => "BEHIND",
                (Some(true), _) => "STALE",
                (Some(false), _) => "no",
                (None, _) if r.staleness.starts_with("unknown") => "?",
                (None, _) => "-",
            },
            metrics.join("  ")
        );
        if r.stale == Some(true) || r.data_behind || r.staleness.starts_with("unknown") {
            let _ = writeln!(o, "    staleness: {}", r.staleness);
        }
        for v in r.versions.iter().filter(|v| v["role"] != "current") {
            let _ = writeln!(
                o,
                "    version {} at {}: {}{}",
                v["key"].as_str().unwrap_or("(no key)"),
                v["path"].as_str().unwrap_or_default(),
                v["role"].as_str().unwrap_or_default(),
                v["reason"]
                    .as_str()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
        }
        if let Some(e) = &r.load_error {
            let _ = writeln!(o, "    loads NO: {e}");
        }
        if !r.missing_files.is_empty() {
            let _ = writeln!(o, "    missing: {}", r.missing_files.join(", "));
        }
    }
    o
}
