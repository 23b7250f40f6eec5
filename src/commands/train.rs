//! The training run, one small step each: check the arguments, take the lock, read the registry
//! and the data, make the plan (`plan`), execute it (train in parallel and publish through the
//! SAFE MODE writer), register what was published, report. Only the safe writer and the
//! registry touch the models dir, and a dry run is the plan reported.

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use rayon::prelude::*;

use crate::cli::RunArgs;
use crate::commands::plan::{self, Action, Job, Outcome, Plan, Status};
use crate::commands::report::{self, RunReport};
use crate::data::leagues;
use crate::data::matches::{Dataset, LeagueMatches};
use crate::data::{self, LoadedData};
use crate::exit::{CommandError, CommandResult};
use crate::features::FeatureCache;
use crate::models::model_type::{ModelFile, TrainContext, WarmStart};
use crate::store::manifest::{self, Manifest, MANIFEST_FILE};
use crate::store::registry::{Registry, RegistryEntry};
use crate::store::run_lock;
use crate::store::safe_writer::{self, WriteOutcome};
use crate::store::versions;

/// Runs the plan and, unless `--dry-run`, executes it. Returns the exit code.
pub fn run_training(args: &RunArgs, quiet: bool) -> CommandResult {
    let mut phases = PhaseTimer::start();
    check_args(args)?;
    let _lock = take_lock(args)?;
    let mut registry = Registry::load(&args.registry).map_err(CommandError::usage)?;
    phases.done("lock and registry");
    let loaded = load_data(args)?;
    log_data_problems(&loaded);
    check_leagues_known(args, &loaded)?;
    phases.done("load");

    let plan = plan::make_plan(args, &loaded, &registry, args.selected_types());
    log_plan_findings(&plan, &args.models_dir);
    let outside = outside_selection(args, &loaded, &registry);
    phases.done("plan");
    let trained_date = crate::data::date::now_utc_string();
    let outcomes = if args.dry_run {
        plan.jobs.iter().map(|j| j.planned_outcome(true)).collect()
    } else {
        execute(&plan, &loaded.dataset, args, &trained_date, quiet)
    };
    phases.done("train and publish");
    let registration = if args.dry_run {
        Registration::default()
    } else {
        register(&plan, &outcomes, &mut registry, &args.models_dir)
    };
    phases.done("register");

    let report = RunReport {
        dry_run: args.dry_run,
        refresh: args.refresh,
        data_dir: args.data_dir.clone(),
        models_dir: args.models_dir.clone(),
        registry: args.registry.clone(),
        loaded: &loaded,
        plan: &plan,
        outcomes,
        appended: registration.appended,
        registry_error: registration.error,
        outside,
    };
    let code = report.exit_code();
    if code != crate::exit::ExitCode::Ok {
        // One line that survives --quiet: why a cron job's exit code is not 0.
        crate::logging::error(&format!(
            "run finished with exit {}: {}",
            code.code(),
            report.failure_summary()
        ));
    }
    if args.json {
        let mut text = serde_json::to_string_pretty(&report::json_summary(&report))?;
        text.push('\n');
        crate::write_stdout(text.as_bytes())?;
    } else if !quiet {
        crate::write_stdout(report::text_report(&report).as_bytes())?;
    }
    Ok(code)
}

/// Debug-level wall time of each step of a run (`RUST_LOG=debug`), for profiling.
struct PhaseTimer(std::time::Instant);

impl PhaseTimer {
    fn start() -> PhaseTimer {
        PhaseTimer(std::time::Instant::now())
    }

    fn done(&mut self, phase: &str) {
        let now = std::time::Instant::now();
        tracing::debug!("{phase}: {:.1} ms", (now - self.0).as_secs_f64() * 1000.0);
        self.0 = now;
    }
}

fn check_args(args: &RunArgs) -> Result<(), CommandError> {
    for slug in &args.leagues {
        if !leagues::is_valid_slug(slug) {
            return Err(CommandError::usage(anyhow!(
                "--league {slug:?} is not a league slug (e.g. premier_league)"
            )));
        }
    }
    Ok(())
}

/// A `--league` slug that neither the data nor the models dir knows is a typo: refused with
/// the close slugs and every known one, before anything is trained.
fn check_leagues_known(args: &RunArgs, loaded: &LoadedData) -> Result<(), CommandError> {
    let in_models = crate::store::detect::leagues_in_models_dir(&args.models_dir);
    let known: std::collections::BTreeSet<&str> = loaded
        .dataset
        .leagues
        .keys()
        .map(String::as_str)
        .chain(in_models.iter().map(String::as_str))
        .collect();
    let unknown: Vec<String> = args
        .leagues
        .iter()
        .filter(|l| !known.contains(l.as_str()))
        .map(|l| {
            let close = crate::data::names::suggest(l, known.iter().copied(), 3);
            format!("{l:?}{}", crate::data::names::did_you_mean(&close))
        })
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let listed: Vec<&str> = known.into_iter().collect();
    Err(CommandError::usage(anyhow!(
        "--league {}: no such league in the data dir {} or the models dir {}; known leagues: {}",
        unknown.join(", "),
        args.data_dir.display(),
        args.models_dir.display(),
        if listed.is_empty() {
            "none".to_string()
        } else {
            listed.join(", ")
        }
    )))
}

/// When `--model-type` or `--league` narrowed the run: every other league x model type of the
/// data that is not present, healthy and fresh (read-only, from the same registry and data).
fn outside_selection(
    args: &RunArgs,
    loaded: &LoadedData,
    registry: &Registry,
) -> Option<report::Outside> {
    let everything = args.model_type == crate::cli::ALL_TYPES && args.leagues.is_empty();
    if everything {
        return None;
    }
    let all = RunArgs {
        model_type: crate::cli::ALL_TYPES.to_string(),
        leagues: Vec::new(),
        ..args.clone()
    };
    let selected = args.selected_types();
    let full = plan::make_plan(&all, loaded, registry, all.selected_types());
    let problems = full
        .jobs
        .iter()
        .filter(|j| {
            let type_selected = selected.iter().any(|t| t.spec().name == j.ty.spec().name);
            let league_selected = args.leagues.is_empty() || args.leagues.contains(&j.league);
            !(type_selected && league_selected)
        })
        .filter_map(|j| {
            let stale = j.staleness.as_ref().is_some_and(|s| s.stale);
            let state = match j.detected {
                "missing" | "partial" | "damaged" => j.detected,
                "existing" if stale => "stale",
                _ => return None,
            };
            Some(report::OutsideProblem {
                league: j.league.clone(),
                model_type: j.ty.spec().name.to_string(),
                state: state.to_string(),
            })
        })
        .collect();
    Some(report::Outside {
        model_types: selected.iter().map(|t| t.spec().name.to_string()).collect(),
        leagues: args.leagues.clone(),
        problems,
    })
}

/// The lock comes first so that two runs never interleave; a dry run takes none.
fn take_lock(args: &RunArgs) -> Result<Option<run_lock::RunLock>, CommandError> {
    if args.dry_run {
        return Ok(None);
    }
    std::fs::metadata(&args.data_dir)
        .with_context(|| format!("data dir {} cannot be read", args.data_dir.display()))
        .map_err(CommandError::usage)?;
    safe_writer::create_dirs(&args.models_dir)?;
    match run_lock::try_acquire(&args.models_dir)? {
        Some(lock) => Ok(Some(lock)),
        None => Err(CommandError::locked(anyhow!(
            "another auto-train run holds the lock {}; exiting",
            args.models_dir.join(run_lock::LOCK_FILE).display()
        ))),
    }
}

/// The columns a training reads (the feature pass's and the Poisson model's market list), also
/// for a dry run: whether a model is stale depends on them (`versions::inputs_fingerprint`).
fn load_data(args: &RunArgs) -> Result<LoadedData, CommandError> {
    let columns = data::Columns::Wanted(&crate::models::TRAINING_COLUMNS);
    data::load_data_dir_as_of(&args.data_dir, columns, args.as_of).map_err(CommandError::usage)
}

/// Trains and publishes every job that needs it, in parallel across leagues and model types.
/// Training runs on rayon's threads (one a core); each trained model is then written by a
/// thread of its own, whose fsyncs wait for the disk while the next model trains.
fn execute(
    plan: &Plan,
    dataset: &Dataset,
    args: &RunArgs,
    trained_date: &str,
    quiet: bool,
) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = plan.jobs.iter().map(|j| j.planned_outcome(false)).collect();
    let to_publish: Vec<usize> = (0..plan.jobs.len())
        .filter(|&i| matches!(plan.jobs[i].action, Action::Publish { .. }))
        .collect();
    let features = FeatureCache::new();
    // Each league's training-data fingerprints, computed once for its model types.
    let rows = versions::LeagueRows::of_dataset(dataset);
    let progress = progress_bar(to_publish.len(), quiet || args.json);
    std::thread::scope(|writers| {
        let publish_jobs = |indices: &[usize]| -> Vec<(usize, Publishing)> {
            indices
                .par_iter()
                .map(|&i| {
                    let job = &plan.jobs[i];
                    let Some(league) = rows.get(job.league.as_str()) else {
                        return (i, Publishing::Done(job.planned_outcome(false)));
                    };
                    let warm = refresh_start(job, &args.models_dir);
                    let mut ctx = context(league.league, dataset, &features, args, trained_date);
                    ctx.warm_start = warm.as_ref();
                    let started = std::time::Instant::now();
                    let trained = train_for_publishing(job, &ctx, league);
                    let (models_dir, progress) = (&args.models_dir, &progress);
                    let league = league.league.league.as_str();
                    let write = move || {
                        let outcome = write_published(job, league, models_dir, trained, started);
                        progress.inc(1);
                        outcome
                    };
                    // No thread to be had (a process limit): the model is written here instead.
                    let (write, fallback) = shared_once(write);
                    match std::thread::Builder::new().spawn_scoped(writers, write) {
                        Ok(writer) => (i, Publishing::Writing(writer)),
                        Err(_) => (i, Publishing::Done(fallback())),
                    }
                })
                .collect()
        };
        // The shared feature pass is one sequential sweep: it runs beside the models that do
        // not need it, then the models that do.
        let (with_features, without): (Vec<usize>, Vec<usize>) = to_publish
            .iter()
            .partition(|&&i| plan.jobs[i].ty.uses_features());
        let (_, first) = rayon::join(
            || {
                if !with_features.is_empty() {
                    features.warm(dataset);
                }
            },
            || publish_jobs(&without),
        );
        for (i, publishing) in first.into_iter().chain(publish_jobs(&with_features)) {
            outcomes[i] = match publishing {
                Publishing::Done(outcome) => outcome,
                Publishing::Writing(writer) => writer.join().unwrap_or_else(|_| Outcome {
                    status: Status::Failed,
                    reason: "the thread writing the model failed".into(),
                    published: None,
                    warnings: Vec::new(),
                }),
            };
        }
    });
    progress.finish_and_clear();

    for (i, job) in plan.jobs.iter().enumerate() {
        if job.action == Action::CompleteMetrics {
            if let Some(league) = dataset.league(&job.league) {
                let ctx = context(league, dataset, &features, args, trained_date);
                outcomes[i] = complete_metrics(job, &ctx, &args.models_dir);
            }
        }
    }
    outcomes
}

/// `f` twice over, to be run once from whichever end gets it first: a writer thread, or (when no
/// thread could be started) the caller. The second to call gets a failed outcome.
fn shared_once<F: FnOnce() -> Outcome>(
    f: F,
) -> (impl FnOnce() -> Outcome, impl FnOnce() -> Outcome) {
    let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(f)));
    let run = |slot: std::sync::Arc<std::sync::Mutex<Option<F>>>| {
        let f = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        f.map_or_else(
            || Outcome {
                status: Status::Failed,
                reason: "the model was written twice".into(),
                published: None,
                warnings: Vec::new(),
            },
            |f| f(),
        )
    };
    let other = slot.clone();
    (move || run(slot), move || run(other))
}

/// A job's outcome, or the thread still writing its model.
enum Publishing<'scope> {
    Done(Outcome),
    Writing(std::thread::ScopedJoinHandle<'scope, Outcome>),
}

/// A refresh starts its fits from the version it supersedes (the current one, `job.path`), as
/// that version's files hold them; a first version, or files that cannot be read, start cold.
fn refresh_start(job: &Job, models_dir: &Path) -> Option<WarmStart> {
    match &job.action {
        Action::Publish { refresh: true, .. } => job.ty.warm_start(&models_dir.join(&job.path)),
        _ => None,
    }
}

/// What a trainer reads for one league of this run (cold: no warm start).
fn context<'a>(
    league: &'a LeagueMatches,
    dataset: &'a Dataset,
    features: &'a FeatureCache,
    args: &RunArgs,
    trained_date: &'a str,
) -> TrainContext<'a> {
    TrainContext {
        league,
        dataset,
        xi_per_day: args.model.xi,
        strength_ridge: args.model.ridge,
        total_ridge: args.model.total_ridge,
        market_weight: args.model.market_weight,
        selection: args.model.selection,
        trained_date,
        features,
        warm_start: None,
    }
}

/// A model trained for publishing: its files (the manifest last) and its one-line summary.
struct TrainedForPublishing {
    files: Vec<ModelFile>,
    summary: String,
    warnings: Vec<String>,
}

/// Trains one model and adds its manifest (which holds its registry entry; `rows`: its league's
/// rows, whose fingerprints the entry records).
fn train_for_publishing(
    job: &Job,
    ctx: &TrainContext,
    rows: &versions::LeagueRows,
) -> Result<TrainedForPublishing> {
    let Action::Publish {
        path,
        key,
        supersedes,
        ..
    } = &job.action
    else {
        anyhow::bail!("not a job that publishes");
    };
    let spec = job.ty.spec();
    let (league, trained_date) = (ctx.league, ctx.trained_date);
    let trained = job.ty.train(ctx)?;
    let mut files = trained.files;
    let entry = RegistryEntry {
        key: key.clone(),
        model_type: spec.name.into(),
        league: league.league.clone(),
        version: spec.version.into(),
        trained_date: trained_date.into(),
        status: "active".into(),
        path: path.clone(),
        training_data: versions::training_summary(rows, versions::Reads::of(spec)),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        files: files
            .iter()
            .map(|f| (f.name.clone(), manifest::sha256(&f.bytes)))
            .collect(),
        supersedes: supersedes.clone(),
    };
    let manifest = Manifest {
        producer: crate::models::common::PRODUCER.to_string(),
        files: files.iter().map(|f| f.name.clone()).collect(),
        registry_entry: entry,
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest)?;
    bytes.push(b'\n');
    files.push(ModelFile {
        name: MANIFEST_FILE.into(),
        bytes,
    });
    Ok(TrainedForPublishing {
        files,
        summary: trained.summary,
        warnings: trained.warnings,
    })
}

/// Publishes a trained model through the safe writer; the job's outcome.
fn write_published(
    job: &Job,
    league: &str,
    models_dir: &Path,
    trained: Result<TrainedForPublishing>,
    started: std::time::Instant,
) -> Outcome {
    let Action::Publish { path, refresh, .. } = &job.action else {
        return job.planned_outcome(false);
    };
    let spec = job.ty.spec();
    let dir = models_dir.join(path);
    let result = trained.and_then(|trained| {
        let outcome = safe_writer::write_model_dir(&dir, &trained.files)
            .with_context(|| format!("writing {}", dir.display()))?;
        Ok((outcome, trained.summary, trained.warnings))
    });
    match result {
        Ok((WriteOutcome::Written, summary, warnings)) => {
            tracing::info!(
                "trained {} for {league} in {:.0} ms: {summary}",
                spec.name,
                started.elapsed().as_secs_f64() * 1000.0
            );
            for w in &warnings {
                tracing::warn!("{} {league}: {w} (published anyway)", spec.name);
            }
            Outcome {
                status: if *refresh {
                    Status::Refreshed
                } else {
                    Status::Trained
                },
                reason: if *refresh {
                    format!("{}; {summary}", job.reason.replace(": refreshing", ""))
                } else {
                    summary
                },
                published: Some(path.clone()),
                warnings,
            }
        }
        Ok((WriteOutcome::TargetAppeared, _, _)) => Outcome {
            status: Status::AppearedDuringRun,
            reason: "the model directory appeared during the run; left as it was".into(),
            published: None,
            warnings: Vec::new(),
        },
        Err(e) => {
            tracing::error!("Training failed for {} {league}: {e:#}", spec.name);
            Outcome {
                status: Status::Failed,
                reason: format!("Training failed: {e:#}"),
                published: None,
                warnings: Vec::new(),
            }
        }
    }
}

/// Generates metrics.json, create-new, beside this tool's model files that lack it.
fn complete_metrics(job: &Job, ctx: &TrainContext, models_dir: &Path) -> Outcome {
    let dir = job.dir(models_dir);
    let (status, reason) = match job
        .ty
        .metrics_for_existing(&dir, ctx)
        .and_then(|bytes| safe_writer::add_file_to_existing_dir(&dir, "metrics.json", &bytes))
    {
        Ok(true) => (
            Status::MetricsGenerated,
            "metrics.json was missing and has been generated".to_string(),
        ),
        Ok(false) => (
            Status::Partial,
            "metrics.json appeared during the run".to_string(),
        ),
        Err(e) => (
            Status::Failed,
            format!("generating metrics.json failed: {e:#}"),
        ),
    };
    Outcome {
        status,
        reason,
        published: None,
        warnings: Vec::new(),
    }
}

/// What registering found.
#[derive(Debug, Default)]
pub struct Registration {
    pub appended: Vec<String>,
    pub error: Option<String>,
}

/// Appends an entry for every directory this run published and every published directory of
/// ours a killed run left unregistered, each read back from its manifest.
fn register(
    plan: &Plan,
    outcomes: &[Outcome],
    registry: &mut Registry,
    models_dir: &Path,
) -> Registration {
    for (job, outcome) in plan.jobs.iter().zip(outcomes) {
        let dirs = job.unregistered.iter().chain(outcome.published.iter());
        for rel in dirs {
            let dir = models_dir.join(rel);
            match manifest::read_manifest(&dir).and_then(|m| manifest::entry_to_register(&dir, &m))
            {
                Some(entry) => {
                    registry.push(entry);
                }
                None => tracing::warn!("{}: no readable manifest: not registered", dir.display()),
            }
        }
    }
    match registry.save() {
        Ok(appended) => Registration {
            appended,
            error: None,
        },
        Err(e) => {
            tracing::error!("updating the registry failed: {e:#}");
            Registration {
                appended: Vec::new(),
                error: Some(format!("{e:#}")),
            }
        }
    }
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

/// Warnings for what the plan leaves alone but an operator should see.
fn log_plan_findings(plan: &Plan, models_dir: &Path) {
    for league in &plan.no_data {
        tracing::warn!("No data available for league {league}");
    }
    for job in &plan.jobs {
        match job.detected {
            "partial" | "inconsistent" => {
                let dir = job.dir(models_dir);
                let dir = std::path::absolute(&dir).unwrap_or(dir);
                tracing::warn!("{}: {}", dir.display(), job.reason)
            }
            // Each damaged version by its own path (not the version still served).
            "damaged" => {
                for (path, reason) in &job.damaged {
                    tracing::warn!(
                        "{}: damaged: {reason} (left as it is: move the directory away and the \
                         next run trains a new one)",
                        std::path::absolute(models_dir.join(path))
                            .unwrap_or_else(|_| models_dir.join(path))
                            .display()
                    )
                }
            }
            _ => {}
        }
        if job.staleness.as_ref().is_some_and(|s| s.behind) {
            tracing::warn!("{} {}: {}", job.league, job.ty.spec().name, job.reason);
        }
        if let Some(st) = job.staleness.as_ref().filter(|s| s.stale) {
            tracing::info!(
                "{} {} is stale: {}",
                job.league,
                job.ty.spec().name,
                st.reason
            );
        }
    }
    for l in &plan.untouched.leftovers {
        let info = crate::store::detect::leftover_info(models_dir, l);
        let age = crate::store::detect::human_age(info.age_seconds);
        if plan.registry_leftovers.contains(l) {
            tracing::warn!(
                "leftover of an interrupted registry update (left in place; {age} old, {} bytes): {l}",
                info.bytes
            );
        } else {
            tracing::warn!(
                "leftover of an interrupted run (never counted as a model, left in place; {age} old, {} bytes): {}",
                info.bytes,
                models_dir.join(l).display()
            );
        }
    }
}

fn log_data_problems(loaded: &LoadedData) {
    for f in &loaded.unreadable {
        tracing::warn!("cannot read {}: {}", f.path.display(), f.reason);
    }
    for f in loaded.files.iter().filter(|f| f.skipped > 0) {
        if let Some(e) = &f.espn {
            tracing::info!(
                "{}: skipped {} of {} rows by reason: {:?}",
                f.path.display(),
                f.skipped,
                f.rows,
                e.skipped_by_reason
            );
            for s in &f.skipped_examples {
                tracing::warn!("{}: row {}: {}", f.path.display(), s.row, s.reason);
            }
            continue;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn trained() -> Outcome {
        Outcome {
            status: Status::Trained,
            reason: "ran".into(),
            published: None,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn a_shared_write_runs_once_from_either_end() {
        let (in_thread, here) = shared_once(trained);
        assert_eq!(
            std::thread::spawn(in_thread).join().unwrap().status,
            Status::Trained
        );
        assert_eq!(here().status, Status::Failed);
        // A thread that never started leaves the write to the caller.
        let (in_thread, here) = shared_once(trained);
        drop(in_thread);
        assert_eq!(here().status, Status::Trained);
    }
}
