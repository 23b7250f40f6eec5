//! The run's plan: for each selected league x model type, what detection, integrity checks and
//! the training record found, and what the run will do about it and why. Plain data, built
//! without writing anything: a dry run is this plan reported.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::cli::RunArgs;
use crate::data::LoadedData;
use crate::models::model_type::ModelType;
use crate::store::detect::{self, ModelState, Untouched};
use crate::store::manifest;
use crate::store::registry::{Registry, RegistryEntry};
use crate::store::versions::{self, Health, Lineage, Staleness};

/// What the run does for one league x model type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing to do (existing, insufficient data, partial, damaged, stale without `--refresh`).
    Keep,
    /// Train a model and publish it as a new version at `path` under `key`.
    Publish {
        /// Relative to the models dir, e.g. `leagues/premier_league/poisson_v2@2`.
        path: String,
        key: String,
        supersedes: Option<String>,
        /// A new version of a stale model (else: the league and type had none).
        refresh: bool,
    },
    /// A directory holding this tool's readable model files without metrics.json (and without
    /// a manifest: not a published version): generate metrics.json, create-new.
    CompleteMetrics,
}

/// One league x model type of the plan.
pub struct Job {
    pub league: String,
    pub ty: &'static dyn ModelType,
    /// `existing`, `missing`, `partial`, `insufficient_data`, `damaged` or `inconsistent` (the
    /// registry's entries do not form one lineage).
    pub detected: &'static str,
    pub matches: usize,
    pub action: Action,
    /// Why, in one line (`missing`, `380 new matches since 2023-05-28`, ...).
    pub reason: String,
    /// The directory the job is about: the current version, else the seed's path.
    pub path: String,
    /// The key of the current version, else the seed's key.
    pub key: String,
    pub registered: bool,
    /// Staleness of the current version (None when there is none).
    pub staleness: Option<Staleness>,
    /// Version directories found damaged: (path, reason).
    pub damaged: Vec<(String, String)>,
    /// Directories of ours, complete and intact, that the registry does not list yet (a run
    /// killed between publishing and registering): registered by this run.
    pub unregistered: Vec<String>,
}

/// The whole plan of a run.
pub struct Plan {
    pub jobs: Vec<Job>,
    /// The selected model types, in order.
    pub selected: Vec<&'static dyn ModelType>,
    /// `--league` slugs with no data.
    pub no_data: Vec<String>,
    pub untouched: Untouched,
    /// Temporary files of an interrupted registry update (also in `untouched.leftovers`).
    pub registry_leftovers: Vec<String>,
}

/// What `--refresh` needs to act on a stale model.
#[derive(Debug, Clone, Copy)]
pub struct RefreshPolicy {
    pub enabled: bool,
    pub min_new_matches: usize,
}

/// Builds the plan: reads the models dir and the registry, writes nothing.
pub fn make_plan(
    args: &RunArgs,
    loaded: &LoadedData,
    registry: &Registry,
    selected: Vec<&'static dyn ModelType>,
) -> Plan {
    let refresh = RefreshPolicy {
        enabled: args.refresh,
        min_new_matches: args.min_new_matches as usize,
    };
    let leagues_with_data: BTreeSet<String> = loaded.dataset.leagues.keys().cloned().collect();
    let wanted: Vec<String> = if args.leagues.is_empty() {
        leagues_with_data.iter().cloned().collect()
    } else {
        let mut w = args.leagues.clone();
        w.sort();
        w.dedup();
        w
    };
    let no_data: Vec<String> = wanted
        .iter()
        .filter(|l| !leagues_with_data.contains(*l))
        .cloned()
        .collect();
    let rows = versions::LeagueRows::of_dataset(&loaded.dataset);
    // Each job reads its own directories (every version's files verified) and its league's
    // rows: planned in parallel, in (type, league) order.
    let rows = &rows;
    let pairs: Vec<(&'static dyn ModelType, &str, &versions::LeagueRows)> = selected
        .iter()
        .flat_map(|&ty| {
            wanted.iter().filter_map(move |league| {
                let league = league.as_str();
                rows.get(league).map(|lm| (ty, league, lm))
            })
        })
        .collect();
    let jobs: Vec<Job> = pairs
        .into_par_iter()
        .map(|(ty, league, lm)| {
            let lineage = versions::lineage(&args.models_dir, Some(registry), league, ty);
            plan_job(
                &args.models_dir,
                league,
                ty,
                lm,
                &lineage,
                registry,
                refresh,
            )
        })
        .collect();
    let known_types: BTreeSet<&str> = crate::models::model_types()
        .iter()
        .flat_map(|t| t.spec().dir_names())
        .collect();
    let mut untouched = detect::scan_untouched(&args.models_dir, &leagues_with_data, &known_types);
    let registry_leftovers = detect::registry_leftovers(&args.registry);
    untouched
        .leftovers
        .extend(registry_leftovers.iter().cloned());
    Plan {
        jobs,
        selected,
        no_data,
        untouched,
        registry_leftovers,
    }
}

fn plan_job(
    models_dir: &Path,
    league: &str,
    ty: &'static dyn ModelType,
    lm: &versions::LeagueRows,
    lineage: &Lineage,
    registry: &Registry,
    refresh: RefreshPolicy,
) -> Job {
    let spec = ty.spec();
    let seed_key = RegistryEntry::key_for(spec.name, league, spec.version);
    // Where a first version is (a legacy name when only that is there) and where a new one goes.
    let seed_path = versions::rel_path(league, detect::seed_dir_name(models_dir, league, spec), 1);
    let new_path = versions::rel_path(league, spec.dir_name, 1);
    let seed_state = detect::detect(models_dir, league, spec, lm.league.len());
    let seed_has_manifest = !matches!(
        manifest::read(&models_dir.join(&seed_path)),
        manifest::ManifestRead::Absent
    );
    let damaged: Vec<(String, String)> = lineage
        .damaged()
        .map(|(v, reason)| (v.path.clone(), reason.to_string()))
        .collect();
    let unregistered: Vec<String> = lineage
        .versions
        .iter()
        .filter(|v| {
            !v.registered
                && v.health == Some(Health::Intact)
                && v.key.as_deref().is_some_and(|k| !registry.contains(k))
        })
        .map(|v| v.path.clone())
        .collect();
    let current = lineage.current();
    let staleness =
        current.map(|v| versions::staleness(v.record.as_ref(), lm, versions::Reads::of(spec)));
    let mut job = Job {
        league: league.to_string(),
        ty,
        detected: "existing",
        matches: lm.league.len(),
        action: Action::Keep,
        reason: String::new(),
        path: current.map_or(seed_path.clone(), |v| v.path.clone()),
        key: current
            .and_then(|v| v.key.clone())
            .unwrap_or_else(|| seed_key.clone()),
        registered: current.is_some_and(|v| v.registered)
            || (current.is_none() && registry.contains(&seed_key) && lineage.any_present()),
        staleness,
        damaged,
        unregistered,
    };

    // A partial seed directory someone else made: reported, never completed or replaced, except
    // a missing metrics.json next to this tool's readable model files.
    if let ModelState::Partial { missing_files } = &seed_state {
        if !seed_has_manifest {
            job.detected = "partial";
            let dir = models_dir.join(&seed_path);
            if missing_files == &["metrics.json".to_string()] && ty.load(&dir).is_ok() {
                job.action = Action::CompleteMetrics;
                job.reason = "only metrics.json missing: generating it".into();
            } else {
                job.reason = format!(
                    "partial: missing {}; nothing in it is replaced (can be completed manually)",
                    missing_files.join(", ")
                );
            }
            return job;
        }
    }
    if let Some(why) = &lineage.inconsistent {
        job.detected = "inconsistent";
        job.reason = format!(
            "{why}; no version is used until the registry is fixed (nothing was published)"
        );
        return job;
    }
    if !job.damaged.is_empty() {
        job.detected = "damaged";
        job.reason = job
            .damaged
            .iter()
            .map(|(p, r)| format!("{p}: {r}"))
            .collect::<Vec<_>>()
            .join("; ");
        job.reason.push_str(
            " (left as it is: move the directory away and the next run trains a new one)",
        );
        return job;
    }
    if !lineage.any_present() {
        if let ModelState::InsufficientData { matches, minimum } = seed_state {
            job.detected = "insufficient_data";
            job.reason = format!("Insufficient data: {matches} matches, {minimum} needed");
            return job;
        }
        // Nothing on disk: a new model at the seed's path (the seed's key unless the registry
        // already used it for a version that is gone).
        job.detected = "missing";
        job.path = new_path.clone();
        job.key = versions::version_key(&seed_key, lineage.next);
        job.registered = false;
        job.reason = "missing".into();
        job.action = Action::Publish {
            path: new_path,
            key: job.key.clone(),
            supersedes: lineage.newest_registered().and_then(|v| v.key.clone()),
            refresh: false,
        };
        return job;
    }
    plan_existing(&mut job, lineage, refresh, &seed_key);
    job
}

/// An existing model: kept, or (with `--refresh`, when stale enough) a new version published
/// beside it; the reason says which and why.
fn plan_existing(job: &mut Job, lineage: &Lineage, refresh: RefreshPolicy, seed_key: &str) {
    let Some(st) = job.staleness.clone() else {
        job.reason = "Models already exist, made by another tool (not auto-train files, e.g. the \
                      Python pipeline's joblib pickles): kept as they are, never used or replaced"
            .into();
        return;
    };
    job.reason = if !st.known {
        format!("Models already exist; staleness {}", st.reason)
    } else if st.behind {
        format!(
            "data behind: {}; {} stays current and nothing is published (check the data dir, \
             the clock and --as-of)",
            st.reason, job.key
        )
    } else if !st.stale {
        "Models already exist".into()
    } else if !refresh.enabled {
        format!(
            "stale: {} (run with --refresh to train a new version)",
            st.reason
        )
    } else if st.rows_changed || st.new_matches >= refresh.min_new_matches.max(1) {
        job.action = Action::Publish {
            path: versions::rel_path(&job.league, job.ty.spec().dir_name, lineage.next_dir),
            key: versions::version_key(seed_key, lineage.next),
            supersedes: Some(job.key.clone()),
            refresh: true,
        };
        format!("stale: {}: refreshing", st.reason)
    } else {
        format!(
            "stale: {} (below --min-new-matches {}: not refreshed)",
            st.reason, refresh.min_new_matches
        )
    };
}

/// What executing one job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Existing,
    Trained,
    WouldTrain,
    Refreshed,
    WouldRefresh,
    AppearedDuringRun,
    Partial,
    MetricsGenerated,
    WouldGenerateMetrics,
    InsufficientData,
    Damaged,
    /// The data holds less than the current version was trained on: nothing published.
    DataBehind,
    /// The registry's entries of this league and type do not form one lineage.
    Inconsistent,
    Failed,
}

/// The outcome of one job: status, why, and the directory published (if any).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    pub reason: String,
    /// The directory this run published, relative to the models dir.
    pub published: Option<String>,
    /// What the trainer warned about the model it published (it scores worse than its baseline
    /// ...).
    pub warnings: Vec<String>,
}

impl Job {
    /// The status of a job the run does not act on (or a dry run's).
    pub fn planned_outcome(&self, dry_run: bool) -> Outcome {
        let status = match (&self.action, self.detected) {
            (Action::Publish { refresh: false, .. }, _) if dry_run => Status::WouldTrain,
            (Action::Publish { refresh: true, .. }, _) if dry_run => Status::WouldRefresh,
            (Action::CompleteMetrics, _) if dry_run => Status::WouldGenerateMetrics,
            (Action::Publish { .. } | Action::CompleteMetrics, _) => Status::Failed,
            (Action::Keep, "damaged") => Status::Damaged,
            (Action::Keep, "inconsistent") => Status::Inconsistent,
            (Action::Keep, _) if self.staleness.as_ref().is_some_and(|s| s.behind) => {
                Status::DataBehind
            }
            (Action::Keep, "partial") => Status::Partial,
            (Action::Keep, "insufficient_data") => Status::InsufficientData,
            (Action::Keep, _) => Status::Existing,
        };
        let reason = match status {
            Status::WouldTrain => "missing: would train".to_string(),
            Status::WouldRefresh => self.reason.replace(": refreshing", ": would refresh"),
            Status::WouldGenerateMetrics => "only metrics.json missing: would generate it".into(),
            _ => self.reason.clone(),
        };
        Outcome {
            status,
            reason,
            published: None,
            warnings: Vec::new(),
        }
    }

    pub fn dir(&self, models_dir: &Path) -> PathBuf {
        models_dir.join(&self.path)
    }
}
