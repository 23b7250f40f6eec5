//! The training run: load -> detect -> train the missing models (in parallel) -> SAFE MODE
//! writer -> registry. Only the safe writer and the registry touch the models dir, and a dry run
//! touches nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cli::{exit, RunArgs};
use crate::data::{self, LoadedData};
use crate::data::date;
use crate::store::detect::{self, ModelState};
use crate::features::FeatureCache;
use crate::data::leagues;
use crate::data::matches::{Dataset, LeagueMatches};
use crate::models::model_type::{ModelFile, ModelType, TrainContext};
use crate::models;
use crate::store::registry::{Registry, RegistryEntry, TrainingDataSummary};
use crate::commands::report::{self, RunReport};
use crate::store::run_lock;
use crate::store::safe_writer::{self, WriteOutcome};

/// Provenance file written into every model directory this tool creates. It marks the
/// directory as this tool's and holds its registry entry, so a run killed between writing the
/// model and updating the registry is completed by the next run.
pub const MANIFEST_FILE: &str = "auto_train_manifest.json";

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub producer: String,
    pub files: Vec<String>,
    pub registry_entry: RegistryEntry,
}

/// What happened to one league x model type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Existing,
    Trained,
    WouldTrain,
    AppearedDuringRun,
    Partial,
    MetricsGenerated,
    WouldGenerateMetrics,
    InsufficientData,
    Failed,
    NotAvailable,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobResult {
    pub league: String,
    pub model_type: String,
    /// What detection found before this run acted.
    pub detected: String,
    pub status: Status,
    pub reason: String,
    pub matches: usize,
    pub path: String,
    /// The registry key, when the model is (or was just) registered.
    pub registered: bool,
    pub key: String,
}

/// Runs detection and, unless `--dry-run`, training. Returns the exit code.
pub fn run_training(args: &RunArgs, quiet: bool) -> Result<i32> {
    for slug in &args.leagues {
        if !leagues::is_valid_slug(slug) {
            eprintln!("error: --league {slug:?} is not a league slug (e.g. premier_league)");
            return Ok(exit::USAGE);
        }
    }
    let selected: Vec<&'static dyn ModelType> = models::model_types()
        .into_iter()
        .filter(|t| args.model_type.name().is_none_or(|n| n == t.spec().name))
        .collect();

    // The lock comes first so that two runs never interleave; a dry run takes none.
    let _lock = if args.dry_run {
        None
    } else {
        if let Err(e) = std::fs::metadata(&args.data_dir) {
            eprintln!(
                "error: data dir {} cannot be read: {e}",
                args.data_dir.display()
            );
            return Ok(exit::USAGE);
        }
        safe_writer::create_dirs(&args.models_dir)?;
        match run_lock::try_acquire(&args.models_dir)? {
            Some(lock) => Some(lock),
            None => {
                eprintln!(
                    "another auto-train run holds the lock {}; exiting",
                    args.models_dir.join(run_lock::LOCK_FILE).display()
                );
                return Ok(exit::LOCKED);
            }
        }
    };

    let mut registry = match Registry::load(&args.registry) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::USAGE);
        }
    };

    // A dry run only detects and the Poisson model reads only scores: neither needs odds or
    // statistics; the feature models read the columns the feature pass lists.
    let columns = if args.dry_run || args.model_type == crate::cli::ModelTypeArg::PoissonV2 {
        data::Columns::Required
    } else {
        data::Columns::Wanted(crate::features::COLUMNS_READ)
    };
    let loaded = match data::load_data_dir_as_of(&args.data_dir, columns, args.as_of) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(exit::USAGE);
        }
    };
    log_data_problems(&loaded);

    let trained_date = date::now_utc_string();
    let leagues_with_data: BTreeSet<String> = loaded.dataset.leagues.keys().cloned().collect();
    let wanted: Vec<String> = if args.leagues.is_empty() {
        leagues_with_data.iter().cloned().collect()
    } else {
        let mut w: Vec<String> = args.leagues.clone();
        w.sort();
        w.dedup();
        w
    };
    let no_data: Vec<String> = wanted
        .iter()
        .filter(|l| !leagues_with_data.contains(*l))
        .cloned()
        .collect();
    for league in &no_data {
        tracing::warn!("No data available for league {league}");
    }
    let empty = LeagueMatches {
        league: String::new(),
        matches: Vec::new(),
    };

    // Detection.
    let mut results = Vec::new();
    let mut to_train = Vec::new();
    let mut to_complete = Vec::new();
    for ty in &selected {
        let spec = ty.spec();
        for league in wanted.iter().filter(|l| leagues_with_data.contains(*l)) {
            let lm = loaded.dataset.league(league).unwrap_or(&empty);
            let state = detect::detect(&args.models_dir, league, spec, lm.len());
            let dir = detect::model_dir(&args.models_dir, league, spec.name);
            let key = RegistryEntry::key_for(spec.name, league, spec.version);
            let mut r = JobResult {
                league: league.clone(),
                model_type: spec.name.to_string(),
                detected: state.label().to_string(),
                status: Status::Existing,
                reason: String::new(),
                matches: lm.len(),
                path: dir.display().to_string(),
                registered: registry.contains(&key),
                key,
            };
            match &state {
                ModelState::Existing => {
                    r.reason = "Models already exist".into();
                }
                ModelState::InsufficientData { matches, minimum } => {
                    r.status = Status::InsufficientData;
                    r.reason = format!("Insufficient data: {matches} matches, {minimum} needed");
                }
                ModelState::Missing if !ty.available() => {
                    r.status = Status::NotAvailable;
                    r.reason = "not available in this version".into();
                }
                ModelState::Missing => {
                    r.status = if args.dry_run {
                        Status::WouldTrain
                    } else {
                        Status::Failed
                    };
                    r.reason = "missing".into();
                    to_train.push((results.len(), *ty));
                }
                ModelState::Partial { missing_files } => {
                    r.status = Status::Partial;
                    r.reason = format!(
                        "partial: missing {}; nothing in it is replaced (can be completed manually)",
                        missing_files.join(", ")
                    );
                    tracing::warn!("{}: {}", dir.display(), r.reason);
                    if missing_files == &["metrics.json".to_string()] && ty.available() {
                        to_complete.push((results.len(), *ty));
                    }
                }
            }
            results.push(r);
        }
    }

    let known_types: BTreeSet<&str> = models::model_types()
        .iter()
        .map(|t| t.spec().name)
        .collect();
    let mut untouched = detect::scan_untouched(&args.models_dir, &leagues_with_data, &known_types);
    for l in &untouched.leftovers {
        tracing::warn!(
            "leftover of an interrupted run (never counted as a model, left in place): {}",
            args.models_dir.join(l).display()
        );
    }
    for l in detect::registry_leftovers(&args.registry) {
        tracing::warn!("leftover of an interrupted registry update (left in place): {l}");
        untouched.leftovers.push(l);
    }

    // Training, in parallel across leagues and model types.
    let dataset = &loaded.dataset;
    let features = FeatureCache::new();
    let progress = progress_bar(to_train.len(), quiet || args.json || args.dry_run);
    let train_jobs = |jobs: &[(usize, &'static dyn ModelType)]| -> Vec<(usize, Status, String)> {
        jobs.par_iter()
            .map(|&(i, ty)| {
                let league = dataset.league(&results[i].league).unwrap_or(&empty);
                let (status, reason) = if args.dry_run {
                    (Status::WouldTrain, "missing: would train".to_string())
                } else {
                    train_one(ty, league, dataset, &features, args, &trained_date)
                };
                progress.inc(1);
                (i, status, reason)
            })
            .collect()
    };
    // The shared feature pass is one sequential sweep: it runs beside the models that do not
    // need it, then the models that do.
    let (with_features, without): (Vec<_>, Vec<_>) =
        to_train.iter().partition(|(_, ty)| ty.uses_features());
    let mut outcomes = Vec::with_capacity(to_train.len());
    let (_, first) = rayon::join(
        || {
            if !with_features.is_empty() && !args.dry_run {
                features.warm(dataset);
            }
        },
        || train_jobs(&without),
    );
    outcomes.extend(first);
    outcomes.extend(train_jobs(&with_features));
    progress.finish_and_clear();
    for (i, status, reason) in outcomes {
        results[i].status = status;
        results[i].reason = reason;
    }

    // Partial directories that only lack metrics.json and hold this tool's readable model.
    for (i, ty) in to_complete {
        let league = dataset.league(&results[i].league).unwrap_or(&empty);
        let dir = PathBuf::from(&results[i].path);
        if let Err(e) = ty.load(&dir) {
            tracing::warn!("{}: not completed: {e:#}", dir.display());
            continue;
        }
        if args.dry_run {
            results[i].status = Status::WouldGenerateMetrics;
            results[i].reason = "only metrics.json missing: would generate it".into();
            continue;
        }
        let ctx = TrainContext {
            league,
            dataset,
            xi_per_day: args.xi,
            trained_date: &trained_date,
            features: &features,
        };
        match ty
            .metrics_for_existing(&dir, &ctx)
            .and_then(|bytes| safe_writer::add_file_to_existing_dir(&dir, "metrics.json", &bytes))
        {
            Ok(true) => {
                results[i].status = Status::MetricsGenerated;
                results[i].reason = "metrics.json was missing and has been generated".into();
            }
            Ok(false) => results[i].reason = "metrics.json appeared during the run".into(),
            Err(e) => {
                results[i].status = Status::Failed;
                results[i].reason = format!("generating metrics.json failed: {e:#}");
            }
        }
    }

    // Registry: this run's models and complete models of ours that a killed run left unregistered.
    let mut registry_error = None;
    for r in results.iter_mut() {
        let complete = matches!(
            r.status,
            Status::Trained | Status::Existing | Status::MetricsGenerated
        );
        if !complete || registry.contains(&r.key) {
            continue;
        }
        match read_manifest(Path::new(&r.path)) {
            Some(m) if m.registry_entry.key == r.key => {
                if args.dry_run {
                    r.reason.push_str("; would be added to the registry");
                } else if registry.push(m.registry_entry) {
                    r.registered = true;
                }
            }
            _ => {
                tracing::info!("{}: not registered (not written by auto-train)", r.path);
            }
        }
    }
    let mut appended = Vec::new();
    if !args.dry_run {
        match registry.save() {
            Ok(keys) => appended = keys,
            Err(e) => {
                registry_error = Some(format!("{e:#}"));
                tracing::error!(
                    "updating the registry {} failed: {e:#}",
                    args.registry.display()
                );
                for r in results.iter_mut() {
                    r.registered = false;
                }
            }
        }
    }

    let report = RunReport {
        dry_run: args.dry_run,
        data_dir: args.data_dir.clone(),
        models_dir: args.models_dir.clone(),
        registry: args.registry.clone(),
        selected_types: selected
            .iter()
            .map(|t| (t.spec().name, t.available()))
            .collect(),
        loaded: &loaded,
        no_data,
        results,
        untouched,
        appended,
        registry_error,
    };
    let code = report.exit_code();
    if args.json {
        let mut text = serde_json::to_string_pretty(&report::json_summary(&report))?;
        text.push('\n');
        crate::write_stdout(text.as_bytes())?;
    } else if !quiet {
        crate::write_stdout(report::text_report(&report).as_bytes())?;
    }
    Ok(code)
}

/// A progress bar on stderr, only when stderr is a terminal and there is real work: under cron
/// nothing but the report and warnings is printed.
fn progress_bar(jobs: usize, hidden: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if hidden || jobs < 2 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(jobs as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("training {bar:30} {pos}/{len} models")
    {
        bar.set_style(style);
    }
    bar
}

fn log_data_problems(loaded: &LoadedData) {
    for f in &loaded.unreadable {
        tracing::warn!("cannot read {}: {}", f.path.display(), f.reason);
    }
    for f in loaded.files.iter().filter(|f| f.skipped > 0) {
        let examples: Vec<String> = f
            .skipped_examples
            .iter()
            .map(|s| format!("row {}: {}", s.row, s.reason))
            .collect();
        tracing::warn!(
            "{}: skipped {} of {} rows ({}{})",
            f.path.display(),
            f.skipped,
            f.rows,
            examples.join("; "),
            if f.skipped > examples.len() {
                "; ..."
            } else {
                ""
            }
        );
    }
    for code in &loaded.unknown_divisions {
        tracing::warn!(
            "unknown division code {code:?}: its league is called {:?}",
            leagues::normalise_slug(code)
        );
    }
    if loaded.duplicates > 0 {
        tracing::info!("{} duplicate rows counted once", loaded.duplicates);
    }
}

/// Trains one model and writes it through the safe writer.
fn train_one(
    ty: &dyn ModelType,
    league: &LeagueMatches,
    dataset: &Dataset,
    features: &FeatureCache,
    args: &RunArgs,
    trained_date: &str,
) -> (Status, String) {
    let spec = ty.spec();
    let dir = detect::model_dir(&args.models_dir, &league.league, spec.name);
    let started = std::time::Instant::now();
    let ctx = TrainContext {
        league,
        dataset,
        xi_per_day: args.xi,
        trained_date,
        features,
    };
    let result = ty.train(&ctx).and_then(|trained| {
        let entry = RegistryEntry {
            key: RegistryEntry::key_for(spec.name, &league.league, spec.version),
            model_type: spec.name.into(),
            league: league.league.clone(),
            version: spec.version.into(),
            trained_date: trained_date.into(),
            status: "active".into(),
            path: format!("leagues/{}/{}", league.league, spec.name),
            training_data: training_summary(league),
            tool_version: env!("CARGO_PKG_VERSION").into(),
        };
        let mut files = trained.files;
        let manifest = Manifest {
            producer: format!("auto-train {}", env!("CARGO_PKG_VERSION")),
            files: files.iter().map(|f| f.name.clone()).collect(),
            registry_entry: entry,
        };
        let mut bytes = serde_json::to_vec_pretty(&manifest)?;
        bytes.push(b'\n');
        files.push(ModelFile {
            name: MANIFEST_FILE.into(),
            bytes,
        });
        let outcome = safe_writer::write_model_dir(&dir, &files)
            .with_context(|| format!("writing {}", dir.display()))?;
        Ok((outcome, trained.summary))
    });
    match result {
        Ok((WriteOutcome::Written, summary)) => {
            tracing::info!(
                "trained {} for {} in {:.0} ms: {summary}",
                spec.name,
                league.league,
                started.elapsed().as_secs_f64() * 1000.0
            );
            (Status::Trained, summary)
        }
        Ok((WriteOutcome::TargetAppeared, _)) => (
            Status::AppearedDuringRun,
            "the model directory appeared during the run; left as it was".into(),
        ),
        Err(e) => {
            tracing::error!("Training failed for {} {}: {e:#}", spec.name, league.league);
            (Status::Failed, format!("Training failed: {e:#}"))
        }
    }
}

/// Matches, date range and a SHA-256 fingerprint of the rows a model was trained on.
pub fn training_summary(league: &LeagueMatches) -> TrainingDataSummary {
    let mut hasher = Sha256::new();
    for m in &league.matches {
        hasher.update(
            format!(
                "{},{},{},{},{}\n",
                m.date, m.home, m.away, m.home_goals, m.away_goals
            )
            .as_bytes(),
        );
    }
    let digest = hasher.finalize();
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
        fingerprint: format!(
            "sha256:{}",
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ),
    }
}

/// The manifest of a model directory, if this tool wrote it and it is readable.
pub fn read_manifest(dir: &Path) -> Option<Manifest> {
    let bytes = std::fs::read(dir.join(MANIFEST_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}
