//! The run's report: the old pipeline's text report (per model type counts, each league's
//! outcome, totals, and the "consistent" line only when true) and the `--json` summary.

use std::fmt::Write;
use std::path::PathBuf;

use serde_json::json;

use crate::cli::exit;
use crate::data::LoadedData;
use crate::store::detect::Untouched;
use crate::commands::train::{JobResult, Status};

pub struct RunReport<'a> {
    pub dry_run: bool,
    pub data_dir: PathBuf,
    pub models_dir: PathBuf,
    pub registry: PathBuf,
    /// (name, available) of the selected model types, in order.
    pub selected_types: Vec<(&'static str, bool)>,
    pub loaded: &'a LoadedData,
    /// `--league` slugs with no data.
    pub no_data: Vec<String>,
    pub results: Vec<JobResult>,
    pub untouched: Untouched,
    pub appended: Vec<String>,
    pub registry_error: Option<String>,
}

#[derive(Default, Debug, Clone, Copy, serde::Serialize)]
pub struct Counts {
    pub existing: usize,
    pub missing: usize,
    pub partial: usize,
    pub insufficient_data: usize,
    pub trained: usize,
    pub would_train: usize,
    pub metrics_generated: usize,
    pub skipped: usize,
    pub failed: usize,
    pub not_available: usize,
}

impl RunReport<'_> {
    fn counts(&self, model_type: Option<&str>) -> Counts {
        let mut c = Counts::default();
        for r in self
            .results
            .iter()
            .filter(|r| model_type.is_none_or(|t| r.model_type == t))
        {
            match r.detected.as_str() {
                "existing" => c.existing += 1,
                "missing" => c.missing += 1,
                "partial" => c.partial += 1,
                _ => c.insufficient_data += 1,
            }
            match r.status {
                Status::Trained => c.trained += 1,
                Status::WouldTrain => c.would_train += 1,
                Status::MetricsGenerated => c.metrics_generated += 1,
                Status::Failed => c.failed += 1,
                Status::NotAvailable => c.not_available += 1,
                Status::Existing | Status::AppearedDuringRun => c.skipped += 1,
                _ => {}
            }
        }
        c
    }

    /// True when every selected league x model type has a complete model (or cannot have one
    /// for lack of data) and nothing failed.
    pub fn consistent(&self) -> bool {
        self.registry_error.is_none()
            && self.results.iter().all(|r| {
                matches!(
                    r.status,
                    Status::Existing
                        | Status::Trained
                        | Status::MetricsGenerated
                        | Status::AppearedDuringRun
                        | Status::InsufficientData
                )
            })
    }

    pub fn exit_code(&self) -> i32 {
        let failed = self.results.iter().any(|r| r.status == Status::Failed);
        if failed || self.registry_error.is_some() {
            exit::FAILED
        } else {
            exit::OK
        }
    }
}

pub fn text_report(r: &RunReport) -> String {
    let mut out = String::new();
    let _ = write_report(&mut out, r);
    out
}

fn write_report(o: &mut String, r: &RunReport) -> std::fmt::Result {
    writeln!(o, "STARTING AUTOMATIC PER-LEAGUE TRAINING PIPELINE")?;
    if r.dry_run {
        writeln!(o, "DRY RUN: detection only, nothing is written")?;
    }
    writeln!(o, "Detecting available leagues from data...")?;
    let files = r.loaded.files.len();
    let matches: usize = r.loaded.dataset.leagues.values().map(|l| l.len()).sum();
    writeln!(
        o,
        "Read {files} files from {}: {matches} matches, {} rows skipped, {} duplicates, {} unreadable files",
        r.data_dir.display(),
        r.loaded.skipped_rows(),
        r.loaded.duplicates,
        r.loaded.unreadable.len()
    )?;
    for f in &r.loaded.unreadable {
        writeln!(o, "   Unreadable: {}: {}", f.path.display(), f.reason)?;
    }
    let leagues: Vec<&str> = r
        .loaded
        .dataset
        .leagues
        .keys()
        .map(String::as_str)
        .collect();
    writeln!(
        o,
        "Found {} available leagues: {}",
        leagues.len(),
        leagues.join(", ")
    )?;
    for l in &r.no_data {
        writeln!(o, "No data available for league {l}")?;
    }

    for &(ty, available) in &r.selected_types {
        let rows: Vec<&JobResult> = r.results.iter().filter(|x| x.model_type == ty).collect();
        let c = r.counts(Some(ty));
        writeln!(o)?;
        writeln!(o, "Processing: {}", ty.to_uppercase())?;
        writeln!(o, "Detecting missing {ty} models...")?;
        writeln!(o, "{ty} status:")?;
        writeln!(o, "   Existing: {} leagues", c.existing)?;
        writeln!(o, "   Missing: {} leagues", c.missing)?;
        if c.partial > 0 {
            writeln!(o, "   Partial: {} leagues", c.partial)?;
        }
        if c.insufficient_data > 0 {
            writeln!(o, "   Insufficient data: {} leagues", c.insufficient_data)?;
        }
        if !available {
            writeln!(
                o,
                "{ty} is not available in this version: {} missing models not trained",
                c.not_available
            )?;
            continue;
        }
        if c.missing == 0 && c.partial == 0 {
            writeln!(o, "All {ty} models already exist")?;
        } else {
            writeln!(o, "Found {} missing {ty} models", c.missing)?;
        }
        for x in rows {
            match x.status {
                Status::Trained => {
                    writeln!(o, "Training {ty} for {}...", x.league)?;
                    writeln!(
                        o,
                        "Successfully trained {ty} for {} ({})",
                        x.league, x.reason
                    )?;
                    if r.appended.contains(&x.key) {
                        writeln!(o, "Updated registry: {}", x.key)?;
                    }
                }
                Status::WouldTrain => writeln!(
                    o,
                    "Would train {ty} for {} ({} matches)",
                    x.league, x.matches
                )?,
                Status::Failed => {
                    writeln!(o, "Training {ty} for {}... FAILED: {}", x.league, x.reason)?
                }
                Status::Existing => {
                    writeln!(o, "Skipping {}: Models already exist", x.league)?;
                    if r.appended.contains(&x.key) {
                        writeln!(o, "Updated registry: {} (model of an earlier run)", x.key)?;
                    }
                }
                _ => writeln!(o, "Skipping {}: {}", x.league, x.reason)?,
            }
        }
    }

    let u = &r.untouched;
    if !u.other_model_dirs.is_empty() {
        writeln!(
            o,
            "\nOther model directories (not managed, untouched): {}",
            u.other_model_dirs.join(", ")
        )?;
    }
    if !u.leagues_without_data.is_empty() {
        writeln!(
            o,
            "Model directories of leagues with no data (untouched): {}",
            u.leagues_without_data.join(", ")
        )?;
    }
    if !u.leftovers.is_empty() {
        writeln!(
            o,
            "Leftovers of an interrupted run (not models, untouched): {}",
            u.leftovers.join(", ")
        )?;
    }
    if let Some(e) = &r.registry_error {
        writeln!(o, "\nRegistry update FAILED: {e}")?;
    }

    let t = r.counts(None);
    writeln!(o)?;
    writeln!(
        o,
        "TRAINING PIPELINE COMPLETE{}",
        if r.dry_run { " (dry run)" } else { "" }
    )?;
    writeln!(o, "Total missing models found: {}", t.missing)?;
    if r.dry_run {
        writeln!(o, "Total models that would be trained: {}", t.would_train)?;
    } else {
        writeln!(o, "Total models trained: {}", t.trained)?;
    }
    writeln!(o, "Total models skipped (existing): {}", t.existing)?;
    writeln!(o, "Total failures: {}", t.failed)?;
    if t.not_available > 0 {
        writeln!(o, "Not available in this version: {}", t.not_available)?;
    }
    for &(ty, _) in &r.selected_types {
        let c = r.counts(Some(ty));
        let done = if r.dry_run { c.would_train } else { c.trained };
        writeln!(
            o,
            "{ty}:  Missing: {}  {}: {done}  Existing: {}  Failed: {}{}{}",
            c.missing,
            if r.dry_run { "Would train" } else { "Trained" },
            c.existing,
            c.failed,
            if c.partial > 0 {
                format!("  Partial: {}", c.partial)
            } else {
                String::new()
            },
            if c.insufficient_data > 0 {
                format!("  Insufficient data: {}", c.insufficient_data)
            } else {
                String::new()
            },
        )?;
    }
    if r.consistent() {
        writeln!(o, "All per-league models are now consistent!")?;
    }
    Ok(())
}

pub fn json_summary(r: &RunReport) -> serde_json::Value {
    let matches: usize = r.loaded.dataset.leagues.values().map(|l| l.len()).sum();
    let per_type: serde_json::Map<String, serde_json::Value> = r
        .selected_types
        .iter()
        .map(|&(ty, available)| {
            let mut v = serde_json::to_value(r.counts(Some(ty))).unwrap_or_default();
            v["available"] = json!(available);
            (ty.to_string(), v)
        })
        .collect();
    json!({
        "tool_version": env!("CARGO_PKG_VERSION"),
        "dry_run": r.dry_run,
        "data_dir": r.data_dir,
        "models_dir": r.models_dir,
        "registry": r.registry,
        "data": {
            "files": r.loaded.files.len(),
            "matches": matches,
            "skipped_rows": r.loaded.skipped_rows(),
            "duplicates": r.loaded.duplicates,
            "unreadable_files": r.loaded.unreadable,
            "files_with_skipped_rows": r.loaded.files.iter().filter(|f| f.skipped > 0).collect::<Vec<_>>(),
            "unknown_divisions": r.loaded.unknown_divisions,
            "leagues": r.loaded.dataset.leagues.iter().map(|(k, l)| (k.clone(), json!(l.len()))).collect::<serde_json::Map<_, _>>(),
        },
        "leagues_without_data": r.no_data,
        "results": r.results,
        "untouched": r.untouched,
        "registry_appended": r.appended,
        "registry_error": r.registry_error,
        "per_model_type": per_type,
        "totals": r.counts(None),
        "consistent": r.consistent(),
        "exit_code": r.exit_code(),
    })
}
