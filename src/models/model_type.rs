//! The one seam every model type plugs into: what it is called, which files make it complete,
//! how many matches it needs, how it trains (returning bytes, never touching the disk) and how a
//! trained model is read back for `predict`. Adding a model type is one module plus one line in
//! `model_types()`.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;

use crate::data::date::Date;
use crate::data::matches::{Dataset, Extras, LeagueMatches};
use crate::features::{FeatureCache, RawFeatures};
use crate::stats::selection::Protocol;

/// Static facts about a model type, also known for types whose trainer is not built yet.
#[derive(Debug)]
pub struct ModelSpec {
    /// Directory name and `model_type` in the registry, e.g. `poisson_v2`.
    pub name: &'static str,
    /// Registry version suffix, e.g. `v2`.
    pub version: &'static str,
    /// The directory of its first version, `leagues/<league>/<dir_name>/` (later versions add
    /// `@<n>`): the name the old Python pipeline used (`draw_specialist_v1`).
    pub dir_name: &'static str,
    /// Directory names earlier releases wrote (`draw_specialist`): still recognised, reported
    /// and served, never moved; new versions are written under `dir_name`.
    pub legacy_dir_names: &'static [&'static str],
    /// Files whose presence makes a model directory complete.
    pub required_files: &'static [&'static str],
    /// Fewer matches than this: the league is skipped as insufficient data.
    pub min_matches: usize,
    /// The columns its training reads besides date, teams and goals (odds ...): a change to
    /// one of them in a training row makes its models stale (`store::versions::staleness`).
    pub columns_read: &'static [&'static str],
    /// `Some` when its training reads the matches its clubs played in other leagues (the
    /// feature pass follows a club's form across leagues), with the columns it reads of them
    /// besides date, teams and goals: a change to those makes its models stale too.
    pub other_leagues_read: Option<&'static [&'static str]>,
}

impl ModelSpec {
    /// `dir_name` and then the legacy names: every directory name of this type's versions.
    pub fn dir_names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.dir_name).chain(self.legacy_dir_names.iter().copied())
    }
}

/// Everything a trainer may read. Trainers are pure: they return files as bytes.
pub struct TrainContext<'a> {
    /// The league being trained, sorted by date.
    pub league: &'a LeagueMatches,
    /// Every league of the data dir (features may follow a club across leagues).
    pub dataset: &'a Dataset,
    /// `--xi`: a fixed Poisson time decay per day instead of the window protocol's choice.
    pub xi_per_day: Option<f64>,
    /// `--ridge`: the Poisson team-strength ridge instead of the default.
    pub strength_ridge: Option<f64>,
    /// `--total-ridge`: the Poisson scoring-tendency ridge instead of the default.
    pub total_ridge: Option<f64>,
    /// `--market-weight`: the share of the market's expected goals in the Poisson scores
    /// instead of the default.
    pub market_weight: Option<f64>,
    /// `--selection`: how hyperparameters are chosen (the window protocol by default).
    pub selection: Protocol,
    /// `YYYY-MM-DD HH:MM:SS` (UTC), the same for every model of one run.
    pub trained_date: &'a str,
    /// Feature rows shared by the model types of one run (computed once, on first use).
    pub features: &'a FeatureCache,
    /// Where the fits start: an earlier training of the same league and type (`None`: cold).
    pub warm_start: Option<&'a WarmStart>,
}

/// The parameters of an earlier training of one league and model type, for a refit's fits to
/// start from: read from a version's files ([`ModelType::warm_start`]) or returned by a training
/// in memory ([`TrainedModel::warm_start`], which may hold more of its fits). Only the model type
/// that made it reads it. A start changes where each fit begins, never the optimum it converges
/// to (README, "Warm starts").
pub type WarmStart = Arc<dyn std::any::Any + Send + Sync>;

/// One file of a trained model.
#[derive(Debug, Clone)]
pub struct ModelFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The output of a successful training: every file of the model directory.
#[derive(Debug)]
pub struct TrainedModel {
    pub files: Vec<ModelFile>,
    /// One line for the report, e.g. `xi=0.0018/day, validation RPS 0.2012`.
    pub summary: String,
    /// What an operator should know before relying on the model (it scores worse on validation
    /// than its baseline ...); also in its metrics.json. The model is still published.
    pub warnings: Vec<String>,
    /// Every fit this training made, for the next refit of the league to start from.
    pub warm_start: Option<WarmStart>,
}

/// A fixture to predict: date, teams and whatever numeric columns its row carried (odds ...).
#[derive(Debug, Clone)]
pub struct Fixture {
    pub date: Date,
    pub home: Arc<str>,
    pub away: Arc<str>,
    pub extras: Extras,
}

/// A trained model read back from its directory.
pub trait Predictor: Send + Sync {
    /// The model type the artifacts record (what `load` checked them against).
    fn recorded_model_type(&self) -> &str;
    /// The league the artifacts record; `None` only for first-release logistic files, which did
    /// not record one. Lets a caller check a directory holds the league its path says.
    fn recorded_league(&self) -> Option<&str>;
    /// Output column names, in order (`poisson_v2_home`, ...).
    fn columns(&self) -> Vec<String>;
    /// True when predictions read the fixtures' pre-match features (`features`): a caller
    /// predicting with several models computes them once for all of them.
    fn uses_features(&self) -> bool {
        false
    }
    /// One value per column for each fixture, in input order, from `features`: each fixture's
    /// pre-match features (from the matches dated strictly before it, as `features::compute` or
    /// a `features::FeatureState` answer them) when [`Predictor::uses_features`], else ignored
    /// (may be empty).
    fn predict_with(&self, fixtures: &[Fixture], features: &[RawFeatures])
        -> Result<Vec<Vec<f64>>>;
    /// One value per column for each fixture, in input order. Models that need history use only
    /// the dataset's matches dated strictly before each fixture.
    fn predict(
        &self,
        fixtures: &[Fixture],
        dataset: &Dataset,
        league: &str,
    ) -> Result<Vec<Vec<f64>>> {
        let features = if self.uses_features() {
            crate::models::common::fixture_features(dataset, league, fixtures)?
        } else {
            Vec::new()
        };
        self.predict_with(fixtures, &features)
    }
}

/// A model type. Implementations live in `crate::models`.
pub trait ModelType: Send + Sync {
    fn spec(&self) -> &'static ModelSpec;

    /// True when training reads `ctx.features` (the shared feature pass): a run computes that
    /// pass while the models that do not need it train.
    fn uses_features(&self) -> bool {
        false
    }

    /// Trains on `ctx.league` and returns every file of the model directory, including
    /// `metrics.json`.
    fn train(&self, ctx: &TrainContext) -> Result<TrainedModel>;

    /// Reads a model directory written by this tool (fails on foreign or unreadable files).
    fn load(&self, dir: &Path) -> Result<Box<dyn Predictor>>;

    /// The fitted parameters a version's files hold, as a start for a refit of the same league
    /// (`None` when they cannot be read, or the type has nothing to start from).
    fn warm_start(&self, _dir: &Path) -> Option<WarmStart> {
        None
    }

    /// Recomputes `metrics.json` for a directory holding this tool's model files without it.
    fn metrics_for_existing(&self, dir: &Path, ctx: &TrainContext) -> Result<Vec<u8>>;
}
