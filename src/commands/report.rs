//! The run's report, built from the plan and the outcomes: the old pipeline's text report (per
//! model type counts, each league's outcome, totals, and the "consistent" line only when true)
//! and the `--json` summary.

use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::json;

use crate::commands::plan::{Outcome, Plan, Status};
use crate::data::LoadedData;
use crate::exit::ExitCode;
use crate::json::path_text;

pub struct RunReport<'a> {
    pub dry_run: bool,
    pub refresh: bool,
    pub data_dir: PathBuf,
    pub models_dir: PathBuf,
    pub registry: PathBuf,
    pub loaded: &'a LoadedData,
    pub plan: &'a Plan,
    /// One per `plan.jobs`, in the same order.
    pub outcomes: Vec<Outcome>,
    pub appended: Vec<String>,
    pub registry_error: Option<String>,
    /// What lies outside a run narrowed by `--model-type` or `--league` (None: it was not).
    pub outside: Option<Outside>,
}

/// A run's selection and the models outside it that are not present, healthy and fresh.
#[derive(Debug, Clone, Serialize)]
pub struct Outside {
    /// The model types the run looked after.
    pub model_types: Vec<String>,
    /// Its `--league` slugs (empty: every league of the data).
    pub leagues: Vec<String>,
    pub problems: Vec<OutsideProblem>,
}

/// One league x model type outside the run's selection that is not consistent.
#[derive(Debug, Clone, Serialize)]
pub struct OutsideProblem {
    pub league: String,
    pub model_type: String,
    /// missing / partial / damaged / stale.
    pub state: String,
}

/// One league x model type as the report and `--json` show it.
#[derive(Debug, Clone, Serialize)]
pub struct JobResult {
    pub league: String,
    pub model_type: String,
    /// What the plan found before this run acted.
    pub detected: String,
    pub status: Status,
    pub reason: String,
    pub matches: usize,
    /// The directory: the current version, or the one this run published.
    pub path: String,
    pub registered: bool,
    /// The registry key of that directory.
    pub key: String,
    /// The current version's training data is no longer the league's data (`null` when
    /// unknown: no current version, or one without a training record).
    pub stale: Option<bool>,
    /// Matches the current version was not trained on (`null` when unknown).
    pub new_matches: Option<usize>,
    /// Why stale (or `fresh`, or `unknown: ...` for a model without a training record).
    pub staleness: Option<String>,
    /// The version this run published replaces this key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
    /// Damaged version directories: path and reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub damaged: Vec<serde_json::Value>,
    /// What the trainer warned about the model this run published (also in its metrics.json).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The new matches that made this run refresh it (0 when it was not refreshed).
    #[serde(skip)]
    pub refreshed_for: usize,
}

#[derive(Default, Debug, Clone, Copy, serde::Serialize)]
pub struct Counts {
    pub existing: usize,
    pub missing: usize,
    pub partial: usize,
    pub insufficient_data: usize,
    pub damaged: usize,
    pub inconsistent: usize,
    pub data_behind: usize,
    pub stale: usize,
    pub trained: usize,
    pub would_train: usize,
    pub refreshed: usize,
    pub would_refresh: usize,
    pub metrics_generated: usize,
    pub skipped: usize,
    pub failed: usize,
}

impl RunReport<'_> {
    /// Each leftover with its age and size.
    pub fn leftover_details(&self) -> Vec<crate::store::detect::LeftoverInfo> {
        self.plan
            .untouched
            .leftovers
            .iter()
            .map(|l| crate::store::detect::leftover_info(&self.models_dir, l))
            .collect()
    }

    /// The rows of the report, one per job.
    pub fn results(&self) -> Vec<JobResult> {
        self.plan
            .jobs
            .iter()
            .zip(&self.outcomes)
            .map(|(job, o)| {
                let (path, key, registered, supersedes) = match (&o.published, &job.action) {
                    (
                        Some(p),
                        crate::commands::plan::Action::Publish {
                            key, supersedes, ..
                        },
                    ) => (
                        p.clone(),
                        key.clone(),
                        self.appended.contains(key),
                        supersedes.clone(),
                    ),
                    _ => (
                        job.path.clone(),
                        job.key.clone(),
                        job.registered || self.appended.contains(&job.key),
                        None,
                    ),
                };
                let fresh_now = o.published.is_some();
                let st = job.staleness.as_ref();
                let known = st.filter(|s| s.known);
                JobResult {
                    league: job.league.clone(),
                    model_type: job.ty.spec().name.to_string(),
                    detected: job.detected.to_string(),
                    status: o.status,
                    reason: o.reason.clone(),
                    matches: job.matches,
                    path: path_text(&self.models_dir.join(path)),
                    registered,
                    key,
                    stale: if fresh_now {
                        Some(false)
                    } else {
                        known.map(|s| s.stale)
                    },
                    new_matches: if fresh_now {
                        Some(0)
                    } else {
                        known.map(|s| s.new_matches)
                    },
                    refreshed_for: match o.status {
                        Status::Refreshed | Status::WouldRefresh => {
                            known.map_or(0, |s| s.new_matches)
                        }
                        _ => 0,
                    },
                    staleness: if fresh_now {
                        Some("fresh".into())
                    } else {
                        st.map(|s| s.reason.clone())
                    },
                    supersedes,
                    damaged: job
                        .damaged
                        .iter()
                        .map(|(p, r)| json!({"path": p, "reason": r}))
                        .collect(),
                    warnings: o.warnings.clone(),
                }
            })
            .collect()
    }

    fn counts(&self, model_type: Option<&str>) -> Counts {
        let mut c = Counts::default();
        for (job, o) in self.plan.jobs.iter().zip(&self.outcomes) {
            if model_type.is_some_and(|t| job.ty.spec().name != t) {
                continue;
            }
            match job.detected {
                "existing" => c.existing += 1,
                "missing" => c.missing += 1,
                "partial" => c.partial += 1,
                "damaged" => c.damaged += 1,
                "inconsistent" => c.inconsistent += 1,
                _ => c.insufficient_data += 1,
            }
            if job.staleness.as_ref().is_some_and(|s| s.stale) {
                c.stale += 1;
            }
            match o.status {
                Status::Trained => c.trained += 1,
                Status::WouldTrain => c.would_train += 1,
                Status::Refreshed => c.refreshed += 1,
                Status::WouldRefresh => c.would_refresh += 1,
                Status::MetricsGenerated => c.metrics_generated += 1,
                Status::Failed => c.failed += 1,
                Status::Existing | Status::AppearedDuringRun => c.skipped += 1,
                Status::DataBehind => c.data_behind += 1,
                _ => {}
            }
        }
        c
    }

    /// True when every selected league x model type has a complete, intact model (or cannot
    /// have one for lack of data), nothing failed and the registry was updated.
    pub fn complete(&self) -> bool {
        self.registry_error.is_none()
            && self.outcomes.iter().all(|o| {
                matches!(
                    o.status,
                    Status::Existing
                        | Status::Trained
                        | Status::Refreshed
                        | Status::MetricsGenerated
                        | Status::AppearedDuringRun
                        | Status::InsufficientData
                        | Status::DataBehind
                )
            })
    }

    /// What the run was asked to look after is complete and no model of it is stale (trained on
    /// data that has changed since), and every `--league` asked for has data to check against.
    pub fn selection_consistent(&self) -> bool {
        self.complete()
            && self.plan.no_data.is_empty()
            && self.outcomes.iter().all(|o| o.status != Status::DataBehind)
            && self.results().iter().all(|r| r.stale != Some(true))
    }

    /// Every model type of every league in the data is present, healthy and fresh: the
    /// selection, and (for a narrowed run) everything outside it.
    pub fn consistent(&self) -> bool {
        self.selection_consistent() && self.outside.as_ref().is_none_or(|o| o.problems.is_empty())
    }

    /// The statuses that make the exit code 1, with their report labels.
    const FAILING: [(Status, &'static str); 4] = [
        (Status::Failed, "failed"),
        (Status::Damaged, "damaged"),
        (Status::DataBehind, "data behind"),
        (Status::Inconsistent, "inconsistent lineage"),
    ];

    /// Every failure that counts for the exit code (training failures, damaged models, data
    /// behind a model, inconsistent lineages and a failed registry update): "Total failures".
    pub fn failure_count(&self) -> usize {
        let jobs = self
            .outcomes
            .iter()
            .filter(|o| Self::FAILING.iter().any(|(s, _)| *s == o.status))
            .count();
        jobs + usize::from(self.registry_error.is_some())
    }

    /// `2 failed (premier_league poisson_v2, ...), 1 damaged (...)`: why the exit code is 1.
    pub fn failure_summary(&self) -> String {
        let names = |s: Status| -> Vec<String> {
            self.plan
                .jobs
                .iter()
                .zip(&self.outcomes)
                .filter(|(_, o)| o.status == s)
                .map(|(j, _)| format!("{} {}", j.league, j.ty.spec().name))
                .collect()
        };
        let mut parts = Vec::new();
        for (status, label) in Self::FAILING {
            let n = names(status);
            if !n.is_empty() {
                parts.push(format!("{} {label} ({})", n.len(), n.join(", ")));
            }
        }
        if let Some(e) = &self.registry_error {
            parts.push(format!("registry update failed: {e}"));
        }
        if parts.is_empty() {
            "no failure".into()
        } else {
            parts.join("; ")
        }
    }

    /// 1 when a model failed to train, the registry could not be updated, a model is damaged,
    /// a lineage is inconsistent or the data is behind a model (an operator must look).
    pub fn exit_code(&self) -> ExitCode {
        if self.failure_count() > 0 {
            ExitCode::Failed
        } else {
            ExitCode::Ok
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
    write_espn(o, r.loaded)?;
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
    for l in &r.plan.no_data {
        writeln!(o, "No data available for league {l}")?;
    }

    let results = r.results();
    for ty in r.plan.selected.iter().map(|t| t.spec().name) {
        write_type_section(o, r, &results, ty)?;
    }
    write_untouched(o, r)?;
    write_totals(o, r, &results)
}

/// One model type's counts and each league's outcome.
fn write_type_section(
    o: &mut String,
    r: &RunReport,
    results: &[JobResult],
    ty: &str,
) -> std::fmt::Result {
    let rows: Vec<&JobResult> = results.iter().filter(|x| x.model_type == ty).collect();
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
    if c.damaged > 0 {
        writeln!(o, "   Damaged: {} leagues", c.damaged)?;
    }
    if c.stale > 0 {
        writeln!(o, "   Stale: {} leagues", c.stale)?;
    }
    if c.insufficient_data > 0 {
        writeln!(o, "   Insufficient data: {} leagues", c.insufficient_data)?;
    }
    if c.missing == 0 && c.partial == 0 && c.damaged == 0 {
        writeln!(o, "All {ty} models already exist")?;
    } else {
        writeln!(o, "Found {} missing {ty} models", c.missing)?;
    }
    for x in rows {
        match x.status {
            Status::Trained | Status::Refreshed => {
                writeln!(o, "Training {ty} for {}...", x.league)?;
                let what = match (x.status, x.warnings.is_empty()) {
                    (Status::Refreshed, true) => "Refreshed",
                    (Status::Refreshed, false) => "Refreshed WITH A WARNING",
                    (_, true) => "Successfully trained",
                    (_, false) => "Trained WITH A WARNING",
                };
                writeln!(o, "{what} {ty} for {} ({})", x.league, x.reason)?;
                for w in &x.warnings {
                    writeln!(o, "   WARNING: {w} (published anyway)")?;
                }
                if r.appended.contains(&x.key) {
                    writeln!(o, "Updated registry: {}", x.key)?;
                }
            }
            Status::WouldTrain => writeln!(
                o,
                "Would train {ty} for {} ({} matches)",
                x.league, x.matches
            )?,
            Status::WouldRefresh => {
                writeln!(o, "Would refresh {ty} for {} ({})", x.league, x.reason)?
            }
            Status::Failed => {
                writeln!(o, "Training {ty} for {}... FAILED: {}", x.league, x.reason)?
            }
            Status::Damaged => writeln!(o, "DAMAGED {ty} for {}: {}", x.league, x.reason)?,
            Status::Inconsistent => {
                writeln!(o, "INCONSISTENT {ty} for {}: {}", x.league, x.reason)?
            }
            Status::DataBehind => writeln!(o, "DATA BEHIND {ty} for {}: {}", x.league, x.reason)?,
            Status::Existing if x.stale == Some(true) => {
                writeln!(
                    o,
                    "Skipping {}: Models already exist, STALE: {}",
                    x.league,
                    x.reason.strip_prefix("stale: ").unwrap_or(&x.reason)
                )?;
            }
            Status::Existing => {
                // The old pipeline's line, with what else the plan said (made by another tool,
                // staleness unknown ...).
                let more = x
                    .reason
                    .strip_prefix("Models already exist")
                    .unwrap_or_default();
                writeln!(o, "Skipping {}: Models already exist{more}", x.league)?;
                if r.appended.contains(&x.key) {
                    writeln!(o, "Updated registry: {} (model of an earlier run)", x.key)?;
                }
            }
            _ => writeln!(o, "Skipping {}: {}", x.league, x.reason)?,
        }
    }
    Ok(())
}

/// What the models dir holds that the run does not manage, and a failed registry update.
fn write_untouched(o: &mut String, r: &RunReport) -> std::fmt::Result {
    let u = &r.plan.untouched;
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
        let listed: Vec<String> = r
            .leftover_details()
            .iter()
            .map(|l| {
                format!(
                    "{} ({} old, {} bytes)",
                    l.path,
                    crate::store::detect::human_age(l.age_seconds),
                    l.bytes
                )
            })
            .collect();
        writeln!(
            o,
            "Leftovers of an interrupted run (not models, untouched; safe to delete when no run is going): {}",
            listed.join(", ")
        )?;
    }
    if let Some(e) = &r.registry_error {
        writeln!(o, "\nRegistry update FAILED: {e}")?;
    }

    Ok(())
}

/// The totals, stale and damaged models, per type lines and the "consistent" line.
fn write_totals(o: &mut String, r: &RunReport, results: &[JobResult]) -> std::fmt::Result {
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
    writeln!(
        o,
        "Total failures: {}{}",
        r.failure_count(),
        if r.failure_count() > 0 {
            format!(" ({})", r.failure_summary())
        } else {
            String::new()
        }
    )?;
    if t.stale > 0 || t.refreshed > 0 || t.would_refresh > 0 {
        let done = if r.dry_run {
            format!("would refresh {}", t.would_refresh)
        } else {
            format!("refreshed {}", t.refreshed)
        };
        writeln!(o, "Stale models: {} ({done})", t.stale)?;
        for x in results
            .iter()
            .filter(|x| x.stale == Some(true) || x.status == Status::Refreshed)
        {
            writeln!(o, "   {} {}: {}", x.league, x.model_type, x.reason)?;
        }
    }
    if t.damaged > 0 {
        writeln!(o, "Damaged models: {} (left as they are)", t.damaged)?;
        for x in results.iter().filter(|x| x.status == Status::Damaged) {
            writeln!(o, "   {} {}: {}", x.league, x.model_type, x.reason)?;
        }
    }
    for ty in r.plan.selected.iter().map(|t| t.spec().name) {
        let c = r.counts(Some(ty));
        let done = if r.dry_run { c.would_train } else { c.trained };
        writeln!(
            o,
            "{ty}:  Missing: {}  {}: {done}  Existing: {}  Failed: {}{}{}{}",
            c.missing,
            if r.dry_run { "Would train" } else { "Trained" },
            c.existing,
            c.failed,
            if c.partial > 0 {
                format!("  Partial: {}", c.partial)
            } else {
                String::new()
            },
            if c.damaged > 0 {
                format!("  Damaged: {}", c.damaged)
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
    if t.data_behind > 0 {
        writeln!(
            o,
            "Data behind the current model: {} (nothing published for them; check the data dir, the clock and --as-of)",
            t.data_behind
        )?;
        for x in results.iter().filter(|x| x.status == Status::DataBehind) {
            writeln!(o, "   {} {}", x.league, x.model_type)?;
        }
    }
    let stale = results.iter().filter(|x| x.stale == Some(true)).count();
    if r.consistent() {
        writeln!(o, "All per-league models are now consistent!")?;
    } else if let Some(out) = r.outside.as_ref().filter(|_| r.selection_consistent()) {
        writeln!(
            o,
            "The models this run checked ({} for {}) are consistent; outside its selection {} are \
             not: {}. Run without --model-type/--league to see to them.",
            out.model_types.join(", "),
            if out.leagues.is_empty() {
                "every league".to_string()
            } else {
                out.leagues.join(", ")
            },
            out.problems.len(),
            outside_summary(out)
        )?;
    } else if !r.plan.no_data.is_empty() && r.complete() {
        writeln!(
            o,
            "Not consistent: no data to check {} against",
            r.plan.no_data.join(", ")
        )?;
    } else if r.complete() && stale > 0 {
        writeln!(
            o,
            "All per-league models exist, but {stale} are stale (run with --refresh to train new versions)"
        )?;
    }
    Ok(())
}

/// `1x2_v2: 10 missing; draw_specialist: 2 stale`.
fn outside_summary(out: &Outside) -> String {
    let mut by_type: std::collections::BTreeMap<&str, std::collections::BTreeMap<&str, usize>> =
        Default::default();
    for p in &out.problems {
        *by_type
            .entry(&p.model_type)
            .or_default()
            .entry(&p.state)
            .or_default() += 1;
    }
    by_type
        .iter()
        .map(|(ty, states)| {
            let s: Vec<String> = states.iter().map(|(st, n)| format!("{n} {st}")).collect();
            format!("{ty}: {}", s.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the ESPN files held: rows used, skipped by reason, leagues and skipped competitions;
/// leagues whose ESPN rows were left out for names that differ from a football-data file's.
fn write_espn(o: &mut String, loaded: &LoadedData) -> std::fmt::Result {
    let list = |cs: &[crate::data::espn::Competition], slugs: bool| -> String {
        cs.iter()
            .map(|c| {
                let slug = if slugs {
                    format!(" -> {}", c.slug)
                } else {
                    String::new()
                };
                format!("{} {}{slug} ({})", c.league_id, c.code, c.rows)
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    for f in &loaded.files {
        let Some(e) = &f.espn else { continue };
        let reasons: Vec<String> = e
            .skipped_by_reason
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        writeln!(
            o,
            "   ESPN {}: {} of {} rows used; skipped by reason: {}; {} league matches after extra time or penalties (score as given)",
            f.path.display(),
            f.used,
            f.rows,
            if reasons.is_empty() { "none".to_string() } else { reasons.join(", ") },
            e.after_extra_time_or_penalties
        )?;
        writeln!(o, "      leagues: {}", list(&e.leagues, true))?;
        if !e.skipped_competitions.is_empty() {
            writeln!(
                o,
                "      skipped, not leagues (leagues.csv midsizeName is not CCC.N): {}",
                list(&e.skipped_competitions, false)
            )?;
        }
        if !e.teams_without_name.is_empty() {
            writeln!(
                o,
                "      team ids without a teams.csv row (named by id): {}",
                e.teams_without_name.join(", ")
            )?;
        }
    }
    if !loaded.espn_tables.is_empty() {
        let names: Vec<String> = loaded
            .espn_tables
            .iter()
            .take(5)
            .map(|p| {
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string()
            })
            .collect();
        writeln!(
            o,
            "   ESPN tables (no matches of their own): {} files ({}{})",
            loaded.espn_tables.len(),
            names.join(", "),
            if loaded.espn_tables.len() > 5 {
                ", ..."
            } else {
                ""
            }
        )?;
    }
    for c in &loaded.format_conflicts {
        writeln!(
            o,
            "   Warning: league {} is in ESPN and football-data files with different team names ({}): its {} ESPN matches were left out",
            c.league, c.example, c.espn_matches_dropped
        )?;
    }
    Ok(())
}

/// Skipped rows of every ESPN file, by reason.
fn espn_skipped_by_reason(loaded: &LoadedData) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for e in loaded.files.iter().filter_map(|f| f.espn.as_ref()) {
        for (reason, n) in &e.skipped_by_reason {
            *out.entry(reason.clone()).or_insert(0) += n;
        }
    }
    out
}

pub fn json_summary(r: &RunReport) -> serde_json::Value {
    let matches: usize = r.loaded.dataset.leagues.values().map(|l| l.len()).sum();
    let per_type: serde_json::Map<String, serde_json::Value> = r
        .plan
        .selected
        .iter()
        .map(|t| {
            let ty = t.spec().name;
            (
                ty.to_string(),
                serde_json::to_value(r.counts(Some(ty))).unwrap_or_default(),
            )
        })
        .collect();
    let results = r.results();
    let listed = |pred: &dyn Fn(&JobResult) -> bool| -> Vec<serde_json::Value> {
        results
            .iter()
            .filter(|x| pred(x))
            .map(|x| json!({"league": x.league, "model_type": x.model_type, "path": x.path, "reason": x.reason, "new_matches": x.new_matches}))
            .collect()
    };
    let refreshed: Vec<serde_json::Value> = results
        .iter()
        .filter(|x| matches!(x.status, Status::Refreshed | Status::WouldRefresh))
        .map(|x| json!({"league": x.league, "model_type": x.model_type, "path": x.path, "reason": x.reason, "new_matches": x.refreshed_for}))
        .collect();
    // One entry per damaged version directory, naming it (not the version still served).
    let damaged: Vec<serde_json::Value> = r
        .plan
        .jobs
        .iter()
        .zip(&r.outcomes)
        .filter(|(_, o)| o.status == Status::Damaged)
        .flat_map(|(job, _)| {
            job.damaged.iter().map(|(path, reason)| {
                json!({"league": job.league, "model_type": job.ty.spec().name, "path": r.models_dir.join(path).display().to_string(), "reason": reason})
            })
        })
        .collect();
    crate::json::finish(json!({
        "dry_run": r.dry_run,
        "refresh": r.refresh,
        "data_dir": path_text(&r.data_dir),
        "models_dir": path_text(&r.models_dir),
        "registry": path_text(&r.registry),
        "data": {
            "files": r.loaded.files.len(),
            "matches": matches,
            "skipped_rows": r.loaded.skipped_rows(),
            "duplicates": r.loaded.duplicates,
            "unreadable_files": r.loaded.unreadable,
            "files_with_skipped_rows": r.loaded.files.iter().filter(|f| f.skipped > 0).collect::<Vec<_>>(),
            "unknown_divisions": r.loaded.unknown_divisions,
            "espn_files": r.loaded.files.iter().filter(|f| f.espn.is_some()).collect::<Vec<_>>(),
            "espn_tables": r.loaded.espn_tables.iter().map(|p| path_text(p)).collect::<Vec<_>>(),
            "espn_skipped_by_reason": espn_skipped_by_reason(r.loaded),
            "format_conflicts": r.loaded.format_conflicts,
            "leagues": r.loaded.dataset.leagues.iter().map(|(k, l)| (k.clone(), json!(l.len()))).collect::<serde_json::Map<_, _>>(),
        },
        "leagues_without_data": r.plan.no_data,
        "results": results,
        "stale": listed(&|x| x.stale == Some(true)),
        "refreshed": refreshed,
        "damaged": damaged,
        "data_behind": listed(&|x| x.status == Status::DataBehind),
        "inconsistent": listed(&|x| x.status == Status::Inconsistent),
        "untouched": r.plan.untouched,
        "leftovers": r.leftover_details(),
        "registry_appended": r.appended,
        "registry_error": r.registry_error,
        "per_model_type": per_type,
        "totals": r.counts(None),
        "warnings": results.iter().filter(|x| !x.warnings.is_empty()).map(|x| json!({"league": x.league, "model_type": x.model_type, "path": x.path, "warnings": x.warnings})).collect::<Vec<_>>(),
        "complete": r.complete(),
        "selection_consistent": r.selection_consistent(),
        "outside_selection": r.outside,
        "consistent": r.consistent(),
        "failures": r.failure_count(),
        "exit_code": r.exit_code().code(),
        "error": serde_json::Value::Null,
    }))
}
