//! What every model type shares around its files: the one producer string, the one header
//! every artifact carries (producer, format and version, model type, league) and the reader that
//! checks it, the one metrics.json writer; and what the two logistic model types share beyond
//! that: one `ModelType` implementation ([`LogisticModelType`]), the features of fixtures to
//! predict and the small score blocks of their metrics.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::data::matches::Dataset;
use crate::features::{self, Query, RawFeatures};
use crate::models::model_type::{
    Fixture, ModelFile, ModelSpec, ModelType, Predictor, TrainContext, TrainedModel, WarmStart,
};
use crate::stats::logistic::{BinaryStarts, Platt};
use crate::stats::metrics::{self, BinaryScores, OutcomeScores};

/// Who wrote a file: recorded in every artifact and manifest this tool writes.
pub const PRODUCER: &str = concat!("auto-train ", env!("CARGO_PKG_VERSION"));

/// The header of every model artifact (flattened into the pickle's top-level dict): which tool
/// wrote it, what kind of file it is and in which version of that kind, and for which model type
/// and league. Files of the first release lack `format_version` (their `format` ended in `/v1`)
/// and, except `poisson_model.pkl`, `league`; they still load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArtifactHeader {
    /// `auto-train <version>` (plain `auto-train` in the first release's logistic files).
    pub producer: String,
    /// The kind of file, e.g. `auto-train/1x2_v2/binary_logistic`.
    pub format: String,
    #[serde(default)]
    pub format_version: Option<u32>,
    pub model_type: String,
    #[serde(default)]
    pub league: Option<String>,
}

impl ArtifactHeader {
    /// The header of a file this version writes.
    pub fn new(
        format: &str,
        format_version: u32,
        model_type: &str,
        league: &str,
    ) -> ArtifactHeader {
        ArtifactHeader {
            producer: PRODUCER.to_string(),
            format: format.to_string(),
            format_version: Some(format_version),
            model_type: model_type.to_string(),
            league: Some(league.to_string()),
        }
    }

    /// (kind, version), reading a first-release `format` of `<kind>/v1` without a version field.
    fn kind_and_version(&self) -> (&str, Option<u32>) {
        match self.format_version {
            Some(v) => (&self.format, Some(v)),
            None => match self.format.strip_suffix("/v1") {
                Some(kind) => (kind, Some(1)),
                None => (&self.format, None),
            },
        }
    }

    /// Fails unless this tool wrote the file as `format` in one of `versions`, for `model_type`.
    pub fn check(
        &self,
        path: &Path,
        format: &str,
        versions: &[u32],
        model_type: &str,
    ) -> Result<()> {
        let ours = self.producer == "auto-train" || self.producer.starts_with("auto-train ");
        let (kind, version) = self.kind_and_version();
        if !ours || kind != format || !version.is_some_and(|v| versions.contains(&v)) {
            bail!(
                "{} is not a {format} file (versions {versions:?}) written by auto-train \
                 (producer {:?}, format {:?}, format_version {:?})",
                path.display(),
                self.producer,
                self.format,
                self.format_version
            );
        }
        if self.model_type != model_type {
            bail!(
                "{} records model type {:?}, expected {model_type:?}",
                path.display(),
                self.model_type
            );
        }
        if self.league.as_deref().is_some_and(str::is_empty) {
            bail!("{} records an empty league", path.display());
        }
        Ok(())
    }
}

/// A model artifact: a pickled struct with an [`ArtifactHeader`].
pub trait Artifact {
    fn header(&self) -> &ArtifactHeader;
}

/// Reads `dir/name` as a pickle of `T` and checks its header (see [`ArtifactHeader::check`]).
pub fn read_artifact<T: DeserializeOwned + Artifact>(
    dir: &Path,
    name: &str,
    format: &str,
    versions: &[u32],
    model_type: &str,
) -> Result<T> {
    let path = dir.join(name);
    let value: T = crate::store::pickle::read_file(&path)?;
    value.header().check(&path, format, versions, model_type)?;
    Ok(value)
}

/// The league several artifacts of one model record: the one they agree on (`None` when none
/// records one, as in first-release files); an error when they disagree.
pub fn agreed_league<'a>(
    dir: &Path,
    headers: impl IntoIterator<Item = &'a ArtifactHeader>,
) -> Result<Option<String>> {
    let mut found: Option<&str> = None;
    for h in headers {
        if let Some(l) = h.league.as_deref() {
            match found {
                Some(f) if f != l => bail!(
                    "the files in {} record different leagues ({f:?} and {l:?})",
                    dir.display()
                ),
                _ => found = Some(l),
            }
        }
    }
    Ok(found.map(String::from))
}

/// `metrics.json` bytes: pretty JSON ending with a newline (every model type writes it here).
pub fn metrics_bytes(metrics: &serde_json::Value) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(metrics)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// `metrics.json` as one of a model's files.
pub fn metrics_file(metrics: &serde_json::Value) -> Result<ModelFile> {
    Ok(ModelFile {
        name: "metrics.json".to_string(),
        bytes: metrics_bytes(metrics)?,
    })
}

/// Compares a model's validation score with its baseline's on the same matches (RPS against the
/// base rates for three-way models, log loss against the constant draw rate for a draw model),
/// records the comparison in the metrics as `validation_check`, and returns a warning when the
/// model does not beat its baseline (also recorded, under `warnings`).
pub fn check_against_baseline(metrics: &mut serde_json::Value) -> Vec<String> {
    let number = |a: &str, b: &str| {
        metrics
            .get(a)
            .and_then(|s| s.get(b))
            .and_then(|v| v.as_f64())
    };
    let (metric, baseline, model, base) = match (number("val", "rps"), number("base_rates", "rps"))
    {
        (Some(m), Some(b)) => ("rps", "base rates", m, b),
        _ => match (
            number("val", "log_loss"),
            number("constant_draw_rate", "log_loss"),
        ) {
            (Some(m), Some(b)) => ("log_loss", "constant draw rate", m, b),
            _ => return Vec::new(),
        },
    };
    let beats = model < base;
    let mut warnings = Vec::new();
    if !beats {
        let auc = number("val", "auc")
            .map(|a| format!(", AUC {a:.3}"))
            .unwrap_or_default();
        warnings.push(format!(
            "validation {} {model:.4}{auc} is no better than the {baseline}'s {base:.4}: the model \
             adds nothing over the {baseline} on its validation season",
            metric.replace('_', " ")
        ));
    }
    if let Some(m) = metrics.as_object_mut() {
        m.insert(
            "validation_check".into(),
            serde_json::json!({
                "metric": metric,
                "baseline": baseline,
                "model": model,
                "baseline_value": base,
                "beats_baseline": beats,
            }),
        );
        m.insert("warnings".into(), serde_json::json!(warnings));
    }
    warnings
}

/// What a logistic trainer returns: (model files without metrics.json, metrics, summary, its
/// fits for the next refit to start from).
pub type TrainedFiles = (Vec<ModelFile>, serde_json::Value, String, LogisticStart);

/// Where a logistic model's fits start (the [`WarmStart`] of the logistic types): per feature
/// set, each binary target's fits and the Platt calibrations' parameters of an earlier training.
#[derive(Clone, Debug, Default)]
pub struct LogisticStart {
    pub variants: Vec<VariantStart>,
}

/// The fits of one feature set.
#[derive(Clone, Debug, Default)]
pub struct VariantStart {
    /// The feature names, in order: a start applies only to the same features.
    pub names: Vec<String>,
    /// Per binary target, in the model's target order.
    pub targets: Vec<BinaryStarts>,
    /// Platt scaling (draw_specialist): fitted for validation, then shipped.
    pub platt: Vec<Platt>,
    /// Temperatures (1x2_v2): fitted for validation, then shipped.
    pub temperature: Vec<f64>,
}

impl LogisticStart {
    /// The start of the feature set `names`, if the earlier training had it.
    pub fn variant(&self, names: &[String]) -> Option<&VariantStart> {
        self.variants.iter().find(|v| v.names == names)
    }
}

impl VariantStart {
    /// Target `k`'s start.
    pub fn target(&self, k: usize) -> Option<&BinaryStarts> {
        self.targets.get(k)
    }
}

/// A logistic model type (`1x2_v2`, `draw_specialist`): what differs between them. Their
/// `ModelType` implementation is this module's one blanket implementation.
pub trait LogisticModelType: Send + Sync {
    const SPEC: &'static ModelSpec;
    /// The loaded model.
    type Model: LoadedLogisticModel;
    /// Trains and returns the files and metrics.
    const TRAIN: fn(&TrainContext) -> Result<TrainedFiles>;
    /// The fits a version's files hold, as a start for a refit.
    const WARM_START: fn(&Path) -> Result<LogisticStart>;
}

/// A loaded logistic model.
pub trait LoadedLogisticModel: Predictor + Sized + 'static {
    /// Reads a model directory written by this tool (fails on foreign or unreadable files).
    fn load(dir: &Path) -> Result<Self>;
    /// How the model scores on `fixtures` whose outcomes (0 home, 1 draw, 2 away) are
    /// `outcomes`.
    fn scores(
        &self,
        fixtures: &[Fixture],
        dataset: &Dataset,
        league: &str,
        outcomes: &[usize],
    ) -> Result<serde_json::Value>;
    /// What the files hold that metrics.json reports (calibration, regularisation, features),
    /// merged over the retrained protocol's values so that generated metrics describe the files
    /// that are there.
    fn describe(&self) -> serde_json::Value;
}

impl<T: LogisticModelType> ModelType for T {
    fn spec(&self) -> &'static ModelSpec {
        T::SPEC
    }

    fn uses_features(&self) -> bool {
        true
    }

    fn train(&self, ctx: &TrainContext) -> Result<TrainedModel> {
        let (mut files, mut metrics, summary, fits) = (T::TRAIN)(ctx)?;
        let warnings = check_against_baseline(&mut metrics);
        files.push(metrics_file(&metrics)?);
        Ok(TrainedModel {
            files,
            summary,
            warnings,
            warm_start: Some(Arc::new(fits)),
        })
    }

    fn load(&self, dir: &Path) -> Result<Box<dyn Predictor>> {
        Ok(Box::new(T::Model::load(dir)?))
    }

    fn warm_start(&self, dir: &Path) -> Option<WarmStart> {
        let start = (T::WARM_START)(dir).ok()?;
        Some(Arc::new(start))
    }

    /// Checks the files load, then recomputes metrics.json with the training protocol (the
    /// validation needs models that did not see the latest season, which the shipped files
    /// did), adding how the files themselves score on the latest season.
    fn metrics_for_existing(&self, dir: &Path, ctx: &TrainContext) -> Result<Vec<u8>> {
        let model = T::Model::load(dir)?;
        let (_, mut metrics, _, _) = (T::TRAIN)(ctx)?;
        let (season, fixtures, y) = latest_season(ctx.league)?;
        let scores = model.scores(&fixtures, ctx.dataset, &ctx.league.league, &y)?;
        merge_json(&mut metrics, model.describe());
        if let Some(obj) = metrics.as_object_mut() {
            obj.insert(
                "existing_files_on_latest_season".to_string(),
                serde_json::json!({
                    "season": season,
                    "scores": scores,
                    "note": "the files in the directory scored on the latest season (in-sample if they trained on it); calibration, regularisation and features are read from the files; train/val scores are recomputed by the training protocol",
                }),
            );
        }
        metrics_bytes(&metrics)
    }
}

/// Sets every leaf of `patch` in `target`, descending into objects both have.
fn merge_json(target: &mut serde_json::Value, patch: serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        merge_json(existing, v)
                    }
                    _ => {
                        t.insert(k, v);
                    }
                }
            }
        }
        (t, p) => *t = p,
    }
}

/// Reads `dir/feature_list.json`-like JSON files.
pub fn read_json<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<T> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))
}

/// The pre-match features of `fixtures` of `league`: each from the state the dataset's matches
/// dated before it leave (what both logistic model types predict from).
pub fn fixture_features(
    dataset: &Dataset,
    league: &str,
    fixtures: &[Fixture],
) -> Result<Vec<RawFeatures>> {
    let queries: Vec<Query> = fixtures
        .iter()
        .map(|f| Query {
            date: f.date,
            league,
            home: &f.home,
            away: &f.away,
            extras: &f.extras,
        })
        .collect();
    features::compute(dataset, None, &queries)
}

/// Fails unless `raw` holds one feature row per fixture.
pub fn check_feature_rows(fixtures: &[Fixture], raw: &[RawFeatures]) -> Result<()> {
    if raw.len() != fixtures.len() {
        bail!("{} feature rows for {} fixtures", raw.len(), fixtures.len());
    }
    Ok(())
}

/// The rows of `raw` that carry a benchmark market price, as (market forecast via `market`,
/// model forecast, outcome) columns: what metrics compare on the same matches.
pub fn on_market_rows<M, P: Clone, Y: Clone>(
    raw: &[RawFeatures],
    model: &[P],
    outcomes: &[Y],
    market: impl Fn(&[f64; 3]) -> M,
) -> (Vec<M>, Vec<P>, Vec<Y>) {
    let (mut m, mut p, mut y) = (Vec::new(), Vec::new(), Vec::new());
    for ((r, pi), yi) in raw.iter().zip(model).zip(outcomes) {
        if let Some(b) = &r.bench {
            m.push(market(b));
            p.push(pi.clone());
            y.push(yi.clone());
        }
    }
    (m, p, y)
}

/// 1X2 scores rounded for metrics.json.
pub fn scores_1x2(p: &[[f64; 3]], y: &[usize]) -> OutcomeScores {
    metrics::score_1x2(p, y).rounded()
}

/// Binary scores rounded for metrics.json.
pub fn scores_binary(p: &[f64], y: &[bool]) -> BinaryScores {
    metrics::score_binary(p, y).rounded()
}

/// First and last date of a range of rows, for the split description.
pub fn span(dates: &[crate::data::date::Date], r: &std::ops::Range<usize>) -> String {
    match (
        dates.get(r.start),
        r.end.checked_sub(1).and_then(|e| dates.get(e)),
    ) {
        (Some(a), Some(b)) if r.start < r.end => format!("{a}..{b} ({} matches)", r.len()),
        _ => "empty".to_string(),
    }
}

/// The latest season of a league as fixtures and outcomes: ("YYYY-YY", fixtures, outcomes).
pub fn latest_season(
    league: &crate::data::matches::LeagueMatches,
) -> Result<(String, Vec<crate::models::model_type::Fixture>, Vec<usize>)> {
    let Some(season) = league.last_date().map(|d| d.season()) else {
        bail!("{} has no matches", league.league);
    };
    let latest: Vec<_> = league
        .matches
        .iter()
        .filter(|m| m.date.season() == season)
        .collect();
    let fixtures = latest
        .iter()
        .map(|m| crate::models::model_type::Fixture {
            date: m.date,
            home: m.home.clone(),
            away: m.away.clone(),
            extras: m.extras.clone(),
        })
        .collect();
    let y = latest.iter().map(|m| m.outcome()).collect();
    Ok((crate::data::date::Date::season_label(season), fixtures, y))
}
