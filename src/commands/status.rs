//! `auto-train status`: every league x model type with its state, whether its files load, its
//! headline metrics and whether the registry lists it -- what the old service showed at its
//! `/models` endpoint, read straight from the files. Read-only.

use std::collections::BTreeSet;
use std::fmt::Write;

use anyhow::Result;
use serde::Serialize;

use crate::cli::{exit, StatusArgs};
use crate::data;
use crate::store::detect::{self, ModelState};
use crate::models;
use crate::store::registry::{Registry, RegistryEntry};

#[derive(Debug, Serialize)]
pub struct StatusRow {
    pub league: String,
    pub model_type: String,
    pub state: String,
    /// For partial directories: the required files that are missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_files: Vec<String>,
    pub matches: usize,
    /// Whether the model files load (None when there is no model directory).
    pub loads: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_error: Option<String>,
    /// Whether the registry lists the key (None when the registry is invalid).
    pub registered: Option<bool>,
    pub key: String,
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

pub fn run_status(args: &StatusArgs) -> Result<i32> {
    let registry = Registry::load(&args.registry);
    if let Err(e) = &registry {
        eprintln!("error: {e}");
    }
    let columns = data::Columns::Required;
    let loaded = match data::load_data_dir_as_of(&args.data_dir, columns, args.as_of) {
        Ok(l) => Some(l),
        Err(e) => {
            eprintln!("warning: {e:#}; states are shown without match counts");
            None
        }
    };
    let mut leagues: BTreeSet<String> = detect::leagues_in_models_dir(&args.models_dir)
        .into_iter()
        .collect();
    if let Some(l) = &loaded {
        leagues.extend(l.dataset.leagues.keys().cloned());
    }
    let mut rows = Vec::new();
    for ty in models::model_types() {
        let spec = ty.spec();
        for league in &leagues {
            let matches = loaded
                .as_ref()
                .and_then(|l| l.dataset.league(league))
                .map_or(0, |l| l.len());
            let state = detect::detect(&args.models_dir, league, spec, matches);
            let dir = detect::model_dir(&args.models_dir, league, spec.name);
            let key = RegistryEntry::key_for(spec.name, league, spec.version);
            let has_dir = matches!(state, ModelState::Existing | ModelState::Partial { .. });
            if !has_dir
                && loaded
                    .as_ref()
                    .is_none_or(|l| l.dataset.league(league).is_none())
            {
                continue; // a league with neither data nor this model type
            }
            let load = has_dir.then(|| ty.load(&dir).map(|_| ()));
            let metrics: Option<serde_json::Value> = std::fs::read(dir.join("metrics.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            rows.push(StatusRow {
                league: league.clone(),
                model_type: spec.name.into(),
                state: state.label().into(),
                missing_files: match &state {
                    ModelState::Partial { missing_files } => missing_files.clone(),
                    _ => Vec::new(),
                },
                matches,
                loads: load.as_ref().map(|r| r.is_ok()),
                load_error: load.and_then(|r| r.err()).map(|e| format!("{e:#}")),
                registered: registry.as_ref().ok().map(|r| r.contains(&key)),
                key,
                metrics: metrics.as_ref().map(headline).unwrap_or_default(),
                trained_date: metrics
                    .as_ref()
                    .and_then(|m| m.get("trained_date"))
                    .and_then(|d| d.as_str())
                    .map(String::from),
            });
        }
    }
    if args.json {
        let mut text = serde_json::to_string_pretty(&serde_json::json!({
            "models_dir": args.models_dir,
            "registry": args.registry,
            "registry_error": registry.as_ref().err().map(|e| e.to_string()),
            "models": rows,
        }))?;
        text.push('\n');
        crate::write_stdout(text.as_bytes())?;
    } else {
        crate::write_stdout(status_table(&rows).as_bytes())?;
    }
    Ok(if registry.is_err() {
        exit::USAGE
    } else {
        exit::OK
    })
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
        "{:<24} {:<16} {:<18} {:>7} {:<5} {:<10} headline metrics (validation)",
        "league", "model_type", "state", "matches", "loads", "registered"
    );
    for r in rows {
        let metrics: Vec<String> = r
            .metrics
            .iter()
            .map(|(k, v)| format!("{k} {:.4}", v.as_f64().unwrap_or(f64::NAN)))
            .collect();
        let _ = writeln!(
            o,
            "{:<24} {:<16} {:<18} {:>7} {:<5} {:<10} {}",
            r.league,
            r.model_type,
            r.state,
            r.matches,
            yes_no(r.loads),
            yes_no(r.registered),
            metrics.join("  ")
        );
        if let Some(e) = &r.load_error {
            let _ = writeln!(o, "    does not load: {e}");
        }
        if !r.missing_files.is_empty() {
            let _ = writeln!(o, "    missing: {}", r.missing_files.join(", "));
        }
    }
    o
}
