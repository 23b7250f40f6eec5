//! `1x2_v2`: home-win / draw / away-win probabilities from three one-vs-rest logistic models
//! (linfa-logistic) on pre-match features (market odds when the data has them, else ratings and
//! expected goals), joined into one probability vector by temperature scaling fitted on matches
//! the binary models did not train on. It replaces the Poisson-only 1X2 forecast with one
//! that can use whatever a league's files carry, while staying a set of plain-number pickles.

use std::path::Path;

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::matches::Dataset;
use crate::features::{self, LeagueRows};
use crate::models::common::{
    self, read_artifact, read_json, Artifact, ArtifactHeader, LoadedLogisticModel,
    LogisticModelType, LogisticStart, TrainedFiles, VariantStart,
};
use crate::models::logistic_protocol::{market_centre, AlphaChoice, Plan};
use crate::models::model_type::{Fixture, ModelFile, ModelSpec, Predictor, TrainContext};
use crate::stats::logistic::{
    self, BinaryRun, BinaryStarts, Linear, PenaltyCentre, Prepared, Standardiser,
};
use crate::stats::metrics;

pub static SPEC: ModelSpec = ModelSpec {
    name: "1x2_v2",
    version: "v2",
    dir_name: "1x2_v2",
    legacy_dir_names: &[],
    required_files: &[
        "home_model.pkl",
        "draw_model.pkl",
        "away_model.pkl",
        "calibrator.pkl",
        "feature_list.json",
        "metrics.json",
    ],
    min_matches: 300,
    columns_read: crate::features::COLUMNS_READ,
    other_leagues_read: Some(crate::features::MATCH_COLUMNS_READ),
};

/// Features without market odds, kept on validation evidence (seasons 2019-20 and 2021-22 of
/// eight leagues, see the report): form, rest days and newcomer flags did not help.
pub const BASE_FEATURES: &[&str] = &[
    "elo_diff",
    "xg_home_log",
    "xg_away_log",
    "sot_home_log",
    "sot_away_log",
    "pois_home_logit",
    "pois_draw_logit",
    "pois_away_logit",
];

/// Features when the data has pre-match odds: on validation no rating feature improved on the
/// margin-free market log-odds.
pub const MARKET_FEATURES: &[&str] = &[
    "mkt_home_logit",
    "mkt_draw_logit",
    "mkt_away_logit",
    "mkt_absent",
];

/// Market features are used when at least this share of training rows had pre-match odds.
const MARKET_MIN_SHARE: f64 = 0.5;

const BINARY_FORMAT: &str = "auto-train/1x2_v2/binary_logistic";
const CALIBRATOR_FORMAT: &str = "auto-train/1x2_v2/temperature_calibrator";
/// Version 2 records the league and the tool's version; version 1 files still load.
const FORMAT_VERSION: u32 = 2;
const READABLE_VERSIONS: &[u32] = &[1, 2];
const TARGETS: [&str; 3] = ["home", "draw", "away"];
const FILES: [&str; 3] = ["home_model.pkl", "draw_model.pkl", "away_model.pkl"];

/// One standardised logistic model:
/// `logit = intercept + sum coef[i] * (x[i] - mean[i]) / std[i]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearPart {
    pub features: Vec<String>,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub coef: Vec<f64>,
    pub intercept: f64,
    /// linfa-logistic `alpha`: L2 penalty alpha/2 * |w|^2 on the summed log loss.
    pub l2_alpha: f64,
}

/// Contents of `home_model.pkl` / `draw_model.pkl` / `away_model.pkl` (one-vs-rest). `model`
/// is used for fixtures whose row has pre-match odds (or always, when trained without them);
/// `fallback` (odds-free features) for fixtures without odds when `model` uses the market.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BinaryFile {
    #[serde(flatten)]
    pub header: ArtifactHeader,
    /// `home`, `draw` or `away`.
    pub target: String,
    pub model: LinearPart,
    pub fallback: Option<LinearPart>,
}

impl Artifact for BinaryFile {
    fn header(&self) -> &ArtifactHeader {
        &self.header
    }
}

/// Contents of `calibrator.pkl`: with z = the three binary models' logits (home, draw, away),
/// p_k = sigmoid(z_k)^t / sum_j sigmoid(z_j)^t, t = `temperature` (or `fallback_temperature`
/// for the fallback models).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibratorFile {
    #[serde(flatten)]
    pub header: ArtifactHeader,
    pub method: String,
    pub inputs: Vec<String>,
    pub classes: Vec<String>,
    pub temperature: f64,
    pub fallback_temperature: Option<f64>,
}

impl Artifact for CalibratorFile {
    fn header(&self) -> &ArtifactHeader {
        &self.header
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct FeatureEntry {
    name: String,
    mean: f64,
    std: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct FeatureList {
    model_type: String,
    /// Absent in first-release files.
    #[serde(default)]
    league: Option<String>,
    /// Features of the main models, in order.
    features: Vec<FeatureEntry>,
    /// Features of the odds-free fallback models (empty when there is none).
    fallback_features: Vec<FeatureEntry>,
}

pub struct OneXTwoV2;

/// One feature set run through the time-ordered protocol for the three targets.
struct Variant {
    names: Vec<String>,
    /// Per target: where its L2 penalty is centred (`None`: at zero).
    centres: Vec<Option<PenaltyCentre>>,
    std_all: Standardiser,
    runs: Vec<BinaryRun>,
    /// Per target: each L2 candidate's calibration log loss and the choice weighed against
    /// the default (window protocol).
    alpha_choices: Vec<AlphaChoice>,
    /// The fitted temperature weighed against the default (window protocol).
    t_against_default: Option<serde_json::Value>,
    /// Temperature fitted on `cal` logits of the `fit` models (used for validation).
    t_val: f64,
    /// Temperature shipped: 1, or the one weighed (window protocol; see `Plan::temperatures`).
    t_final: f64,
    p_val: Vec<[f64; 3]>,
    p_train: Vec<[f64; 3]>,
}

fn logits(runs: &[BinaryRun], f: impl Fn(&BinaryRun) -> &Vec<f64>) -> Vec<[f64; 3]> {
    let n = f(&runs[0]).len();
    (0..n)
        .map(|i| [f(&runs[0])[i], f(&runs[1])[i], f(&runs[2])[i]])
        .collect()
}

/// Fits one feature set; its fits start from `start`'s fits of the same features when given.
fn fit_variant(
    rows: &LeagueRows,
    names: Vec<String>,
    plan: &Plan,
    start: Option<&LogisticStart>,
) -> Result<Variant> {
    let splits = &plan.splits;
    let x = features::select_rows(&rows.raw, &names)?;
    let prep = Prepared::new(&x, names.len(), splits)?;
    let y = &rows.outcomes;
    let start = start.and_then(|s| s.variant(&names));
    // Each target's penalty pulls it towards its own market log-odds (market features only).
    let centres: Vec<Option<PenaltyCentre>> = (0..3)
        .map(|k| market_centre(&names, MARKET_FEATURES[k]))
        .collect();
    // The three targets are independent fits (in target order, the first error first).
    let fitted: Vec<Result<_>> = TARGETS
        .par_iter()
        .enumerate()
        .map(|(k, target)| {
            let yk: Vec<bool> = y.iter().map(|&o| o == k).collect();
            plan.run_binary(&prep, &yk, centres[k], start.and_then(|s| s.target(k)))
                .with_context(|| format!("fitting the {target} model"))
        })
        .collect();
    let mut runs = Vec::with_capacity(3);
    let mut alpha_choices = Vec::with_capacity(3);
    for f in fitted {
        let (run, choice) = f?;
        runs.push(run);
        alpha_choices.push(choice);
    }
    let z_cal = logits(&runs, |r| &r.cal_logits);
    let z_val = logits(&runs, |r| &r.val_logits);
    let t_start = |i: usize| start.and_then(|s| s.temperature.get(i).copied());
    let t = plan.temperatures(
        (&z_cal, &y[splits.cal.clone()]),
        (&z_val, &y[splits.val.clone()]),
        [t_start(0), t_start(1)],
    )?;
    let (t_val, t_final) = (t.for_validation, t.shipped);
    let p_val = z_val
        .iter()
        .map(|z| logistic::temperature_probs(z, t_val))
        .collect();
    let p_train = logits(&runs, |r| &r.train_logits)
        .iter()
        .map(|z| logistic::temperature_probs(z, t_final))
        .collect();
    Ok(Variant {
        names,
        centres,
        std_all: prep.std_all,
        runs,
        alpha_choices,
        t_against_default: t.against_default,
        t_val,
        t_final,
        p_val,
        p_train,
    })
}

/// The variant's fits, for the next refit to start from.
fn fits(v: &Variant) -> VariantStart {
    VariantStart {
        names: v.names.clone(),
        targets: v.runs.iter().map(|r| r.fits.clone()).collect(),
        platt: Vec::new(),
        temperature: vec![v.t_val, v.t_final],
    }
}

/// The three binary models' files (each checked to hold its target) and the calibrator of a
/// version's directory.
fn read_files(dir: &Path) -> Result<(Vec<BinaryFile>, CalibratorFile)> {
    let mut files = Vec::new();
    for (k, name) in FILES.iter().enumerate() {
        let f: BinaryFile = read_artifact(dir, name, BINARY_FORMAT, READABLE_VERSIONS, SPEC.name)?;
        if f.target != TARGETS[k] {
            bail!("{name} holds the {:?} model", f.target);
        }
        files.push(f);
    }
    let cal: CalibratorFile = read_artifact(
        dir,
        "calibrator.pkl",
        CALIBRATOR_FORMAT,
        READABLE_VERSIONS,
        SPEC.name,
    )?;
    Ok((files, cal))
}

/// The fits the files of a version hold (each binary model's final fit), as a start.
fn warm_start(dir: &Path) -> Result<LogisticStart> {
    let (files, cal) = read_files(dir)?;
    let variant = |part: fn(&BinaryFile) -> Option<&LinearPart>,
                   temperature: Option<f64>|
     -> Option<VariantStart> {
        let parts: Vec<&LinearPart> = files.iter().map(part).collect::<Option<_>>()?;
        Some(VariantStart {
            names: parts[0].features.clone(),
            targets: parts
                .iter()
                .map(|p| {
                    BinaryStarts::from_final(Linear {
                        coef: p.coef.clone(),
                        intercept: p.intercept,
                    })
                })
                .collect(),
            platt: Vec::new(),
            temperature: vec![temperature?; 2],
        })
    };
    Ok(LogisticStart {
        variants: [
            variant(|f| Some(&f.model), Some(cal.temperature)),
            variant(|f| f.fallback.as_ref(), cal.fallback_temperature),
        ]
        .into_iter()
        .flatten()
        .collect(),
    })
}

fn part(v: &Variant, k: usize) -> LinearPart {
    LinearPart {
        features: v.names.clone(),
        mean: v.std_all.mean.clone(),
        std: v.std_all.std.clone(),
        coef: v.runs[k].final_model.coef.clone(),
        intercept: v.runs[k].final_model.intercept,
        l2_alpha: v.runs[k].alpha,
    }
}

fn entries(v: &Variant) -> Vec<FeatureEntry> {
    v.names
        .iter()
        .enumerate()
        .map(|(i, n)| FeatureEntry {
            name: n.clone(),
            mean: v.std_all.mean[i],
            std: v.std_all.std[i],
        })
        .collect()
}

fn to_strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Rows without odds go to the fallback's probabilities, as at prediction time.
fn pick(
    raw: &[features::RawFeatures],
    main_p: &[[f64; 3]],
    fallback_p: Option<&[[f64; 3]]>,
) -> Vec<[f64; 3]> {
    raw.iter()
        .enumerate()
        .map(|(i, r)| match fallback_p {
            Some(fb) if r.market.is_none() => fb[i],
            _ => main_p[i],
        })
        .collect()
}

/// The validation and training probabilities of the main model and its fallback together.
struct Predicted {
    p_val: Vec<[f64; 3]>,
    p_train: Vec<[f64; 3]>,
}

/// Trains and returns (model files without metrics.json, metrics, summary).
fn train_all(ctx: &TrainContext) -> Result<TrainedFiles> {
    let rows = ctx
        .features
        .league_rows(ctx.dataset, ctx.league)
        .with_context(|| format!("computing 1x2_v2 features for {}", ctx.league.league))?;
    let use_market = rows.market_share() >= MARKET_MIN_SHARE;
    let plan = Plan::new(ctx.selection, &rows.seasons, &rows.dates)?;
    let start = ctx
        .warm_start
        .and_then(|w| w.downcast_ref::<LogisticStart>());
    // The two feature sets are independent fits: on two threads when there are two.
    let (base, market) = rayon::join(
        || fit_variant(&rows, to_strings(BASE_FEATURES), &plan, start),
        || use_market.then(|| fit_variant(&rows, to_strings(MARKET_FEATURES), &plan, start)),
    );
    let base = base?;
    let (main, fallback) = match market {
        Some(market) => (market?, Some(base)),
        None => (base, None),
    };
    let val_raw = &rows.raw[plan.splits.val.clone()];
    let predicted = Predicted {
        p_val: pick(
            val_raw,
            &main.p_val,
            fallback.as_ref().map(|f| f.p_val.as_slice()),
        ),
        p_train: pick(
            &rows.raw,
            &main.p_train,
            fallback.as_ref().map(|f| f.p_train.as_slice()),
        ),
    };
    let metrics_json = metrics_json(ctx, &rows, &plan, &main, fallback.as_ref(), &predicted);
    let files = model_files(ctx, &main, fallback.as_ref())?;
    let y_val = &rows.outcomes[plan.splits.val.clone()];
    let rates = metrics::base_rates(&rows.outcomes[..plan.splits.val.start]);
    let summary = format!(
        "{}, validation RPS {:.4} (base rates {:.4}), temperature {:.3}",
        if use_market {
            "market features (+ odds-free fallback)"
        } else {
            "rating features"
        },
        metrics::score_1x2(&predicted.p_val, y_val).rps,
        metrics::score_1x2(&vec![rates; y_val.len()], y_val).rps,
        main.t_final,
    );
    let fits = LogisticStart {
        variants: [Some(&main), fallback.as_ref()]
            .into_iter()
            .flatten()
            .map(fits)
            .collect(),
    };
    Ok((files, metrics_json, summary, fits))
}

/// The validation block of metrics.json: scores, ECE per outcome and AUC per binary model.
fn validation_json(main: &Variant, p_val: &[[f64; 3]], y_val: &[usize]) -> serde_json::Value {
    let val_scores = metrics::score_1x2(p_val, y_val);
    let per_outcome = |f: &dyn Fn(usize, &[bool]) -> serde_json::Value| {
        (0..3)
            .map(|k| {
                let e: Vec<bool> = y_val.iter().map(|&o| o == k).collect();
                (TARGETS[k].to_string(), f(k, &e))
            })
            .collect::<serde_json::Map<String, serde_json::Value>>()
    };
    let ece = per_outcome(&|k, e| {
        let p: Vec<f64> = p_val.iter().map(|p| p[k]).collect();
        metrics::round(metrics::ece(&p, e, 10)).into()
    });
    let auc = per_outcome(&|k, e| {
        serde_json::json!(metrics::auc(&main.runs[k].val_logits, e).map(metrics::round))
    });
    serde_json::json!({
        "accuracy": metrics::round(val_scores.accuracy),
        "log_loss": metrics::round(val_scores.log_loss),
        "rps": metrics::round(val_scores.rps),
        "brier": metrics::round(val_scores.brier),
        "ece": ece,
        "auc": auc,
    })
}

/// Per target, the feature whose log-odds the penalty is centred on (null: uncentred).
fn centres_json(v: &Variant) -> serde_json::Value {
    if v.centres.iter().all(Option::is_none) {
        return serde_json::Value::Null;
    }
    let name = |k: usize| v.centres[k].map(|c| v.names[c.feature].clone());
    serde_json::json!({"home": name(0), "draw": name(1), "away": name(2)})
}

/// The L2 strengths chosen per target, and (window protocol) every candidate's score.
fn alphas_json(v: &Variant) -> serde_json::Value {
    let mut out = serde_json::json!({"home": v.runs[0].alpha, "draw": v.runs[1].alpha, "away": v.runs[2].alpha});
    let c = &v.alpha_choices;
    if c.iter().any(|t| !t.tried.is_empty()) {
        out["candidate_calibration_log_loss"] = serde_json::json!({
            "home": c[0].tried, "draw": c[1].tried, "away": c[2].tried,
        });
    }
    if c.iter().any(|t| t.against_default.is_some()) {
        out["against_default"] = serde_json::json!({
            "home": c[0].against_default, "draw": c[1].against_default, "away": c[2].against_default,
        });
    }
    out
}

fn metrics_json(
    ctx: &TrainContext,
    rows: &LeagueRows,
    plan: &Plan,
    main: &Variant,
    fallback: Option<&Variant>,
    predicted: &Predicted,
) -> serde_json::Value {
    let splits = &plan.splits;
    let y = &rows.outcomes;
    let y_val = &y[splits.val.clone()];
    let p_val = &predicted.p_val;
    let train_scores = metrics::score_1x2(&predicted.p_train, y);
    let rates = metrics::base_rates(&y[..splits.val.start]);
    let p_base = vec![rates; y_val.len()];
    let val_raw = &rows.raw[splits.val.clone()];
    let (mk_p, mk_model, mk_y) = common::on_market_rows(val_raw, p_val, y_val, |b| *b);
    let market = if mk_p.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::json!({
            "source": "Pinnacle opening (PSH/PSD/PSA), else market average, margin removed proportionally",
            "n": mk_p.len(),
            "market": common::scores_1x2(&mk_p, &mk_y),
            "model_on_same_matches": common::scores_1x2(&mk_model, &mk_y),
            "base_rates_on_same_matches": common::scores_1x2(&vec![rates; mk_y.len()], &mk_y),
        })
    };
    serde_json::json!({
        "league": ctx.league.league,
        "model_type": "1x2_v2_binary",
        "trained_date": ctx.trained_date,
        "train": {
            "accuracy": metrics::round(train_scores.accuracy),
            "log_loss": metrics::round(train_scores.log_loss),
        },
        "val": validation_json(main, p_val, y_val),
        "n_train": splits.val.start,
        "n_val": y_val.len(),
        "regularisation": {
            "penalty": "L2: linfa-logistic alpha, alpha/2 |beta - beta0|^2 added to the summed log loss of standardised features: without a centre beta0 = 0 on the coefficients (towards the base rates; intercept free); with a centre, beta0 is the model whose logit is that feature's log-odds as they are, intercept included (towards the market; rows without odds at the mean market log-odds); alpha chosen per model on the calibration rows",
            "candidates": logistic::alphas(main.centres.iter().any(Option::is_some)),
            "fallback_candidates": fallback.map(|_| logistic::ALPHAS),
            "centre": centres_json(main),
            "fallback_centre": fallback.map(centres_json),
            "model": alphas_json(main),
            "fallback": fallback.map(alphas_json),
        },
        "calibration": {
            "method": "temperature on one-vs-rest probabilities: p_k = sigmoid(z_k)^t / sum_j sigmoid(z_j)^t",
            "temperature": metrics::round(main.t_final),
            "temperature_for_validation": metrics::round(main.t_val),
            "fallback_temperature": fallback.map(|f| metrics::round(f.t_final)),
            "against_default": main.t_against_default,
            "fallback_against_default": fallback.map(|f| f.t_against_default.clone()),
        },
        "base_rates": common::scores_1x2(&p_base, y_val),
        "market": market,
        "uses_market_features": main.names.iter().any(|n| n.starts_with("mkt_")),
        "features": main.names,
        "fallback_features": fallback.map(|f| f.names.clone()),
        "split": {
            "fit": common::span(&rows.dates, &splits.fit),
            "calibration": common::span(&rows.dates, &splits.cal),
            "validation": common::span(&rows.dates, &splits.val),
            "protocol": "alpha chosen on calibration rows with models fitted on fit rows (window protocol: the default unless the best beats it, regularisation.*.against_default); validation scores from models refitted on fit+calibration rows with the temperature fitted on calibration rows (window protocol: 1 unless that fit beats 1 on the validation rows, calibration.against_default); shipped files refitted on every row, with the temperature used for validation (window protocol: the one weighed, or 1; season protocol: refitted on all out-of-sample logits)",
        },
        "selection": plan.describe(&rows.dates),
    })
}

/// The model's files but metrics.json: the three binary models, the calibrator, the feature list.
fn model_files(
    ctx: &TrainContext,
    main: &Variant,
    fallback: Option<&Variant>,
) -> Result<Vec<ModelFile>> {
    let header =
        |format| ArtifactHeader::new(format, FORMAT_VERSION, SPEC.name, &ctx.league.league);
    let mut files = Vec::new();
    for k in 0..3 {
        let f = BinaryFile {
            header: header(BINARY_FORMAT),
            target: TARGETS[k].to_string(),
            model: part(main, k),
            fallback: fallback.map(|f| part(f, k)),
        };
        files.push(ModelFile {
            name: FILES[k].to_string(),
            bytes: crate::store::pickle::to_bytes(&f)?,
        });
    }
    let cal_file = CalibratorFile {
        header: header(CALIBRATOR_FORMAT),
        method: "temperature".to_string(),
        inputs: to_strings(&["home_logit", "draw_logit", "away_logit"]),
        classes: to_strings(&TARGETS),
        temperature: main.t_final,
        fallback_temperature: fallback.map(|f| f.t_final),
    };
    files.push(ModelFile {
        name: "calibrator.pkl".to_string(),
        bytes: crate::store::pickle::to_bytes(&cal_file)?,
    });
    let fl = FeatureList {
        model_type: SPEC.name.to_string(),
        league: Some(ctx.league.league.clone()),
        features: entries(main),
        fallback_features: fallback.map(entries).unwrap_or_default(),
    };
    files.push(ModelFile {
        name: "feature_list.json".to_string(),
        bytes: serde_json::to_vec_pretty(&fl)?,
    });
    Ok(files)
}

impl LogisticModelType for OneXTwoV2 {
    const SPEC: &'static ModelSpec = &SPEC;
    type Model = Model;
    const TRAIN: fn(&TrainContext) -> Result<TrainedFiles> = train_all;
    const WARM_START: fn(&Path) -> Result<LogisticStart> = warm_start;
}

/// A loaded standardised linear model.
struct Part {
    names: Vec<String>,
    std: Standardiser,
    linear: [Linear; 3],
    /// linfa `alpha` of the home, draw and away models.
    alphas: [f64; 3],
    temperature: f64,
}

impl Part {
    fn from_files(parts: [&LinearPart; 3], temperature: f64) -> Result<Part> {
        for (k, p) in parts.iter().enumerate() {
            let w = p.features.len();
            if p.mean.len() != w || p.std.len() != w || p.coef.len() != w {
                bail!(
                    "{}: coefficient lengths do not match its features",
                    FILES[k]
                );
            }
            if p.std.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
                bail!("{}: invalid standard deviations", FILES[k]);
            }
            if p.features != parts[0].features || p.mean != parts[0].mean || p.std != parts[0].std {
                bail!("{} and {} disagree on features", FILES[0], FILES[k]);
            }
        }
        features::indices(&parts[0].features)?;
        if !(temperature.is_finite() && temperature > 0.0) {
            bail!("calibrator.pkl: invalid temperature");
        }
        let lin = |p: &LinearPart| Linear {
            coef: p.coef.clone(),
            intercept: p.intercept,
        };
        Ok(Part {
            names: parts[0].features.clone(),
            std: Standardiser {
                mean: parts[0].mean.clone(),
                std: parts[0].std.clone(),
            },
            linear: [lin(parts[0]), lin(parts[1]), lin(parts[2])],
            alphas: [parts[0].l2_alpha, parts[1].l2_alpha, parts[2].l2_alpha],
            temperature,
        })
    }

    fn probs(&self, raw: &features::RawFeatures) -> Result<[f64; 3]> {
        let x = features::select_rows(std::slice::from_ref(raw), &self.names)?;
        let s = self.std.apply(&x);
        let z = [
            self.linear[0].score(&s),
            self.linear[1].score(&s),
            self.linear[2].score(&s),
        ];
        Ok(logistic::temperature_probs(&z, self.temperature))
    }
}

/// A loaded `1x2_v2` model.
pub struct Model {
    main: Part,
    fallback: Option<Part>,
    league: Option<String>,
}

impl Model {
    pub fn probs(
        &self,
        fixtures: &[Fixture],
        dataset: &Dataset,
        league: &str,
    ) -> Result<Vec<[f64; 3]>> {
        self.probs_from(&common::fixture_features(dataset, league, fixtures)?)
    }

    /// The 1X2 probabilities of each fixture from its pre-match features.
    pub fn probs_from(&self, raw: &[features::RawFeatures]) -> Result<Vec<[f64; 3]>> {
        raw.iter()
            .map(|r| match &self.fallback {
                Some(fb) if r.market.is_none() => fb.probs(r),
                _ => self.main.probs(r),
            })
            .collect()
    }
}

impl LoadedLogisticModel for Model {
    fn load(dir: &Path) -> Result<Model> {
        let (files, cal) = read_files(dir)?;
        let league =
            common::agreed_league(dir, files.iter().map(|f| &f.header).chain([&cal.header]))?;
        let main = Part::from_files(
            [&files[0].model, &files[1].model, &files[2].model],
            cal.temperature,
        )?;
        let fallback = match (
            &files[0].fallback,
            &files[1].fallback,
            &files[2].fallback,
            cal.fallback_temperature,
        ) {
            (Some(a), Some(b), Some(c), Some(t)) => Some(Part::from_files([a, b, c], t)?),
            (None, None, None, None) => None,
            _ => bail!("the model files disagree on the fallback model"),
        };
        let fl: FeatureList = read_json(dir, "feature_list.json")?;
        let names = |e: &[FeatureEntry]| e.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
        let fb_names = fallback
            .as_ref()
            .map(|f| f.names.clone())
            .unwrap_or_default();
        if names(&fl.features) != main.names || names(&fl.fallback_features) != fb_names {
            bail!("feature_list.json does not match the model files");
        }
        if fl.model_type != SPEC.name {
            bail!(
                "{}: records model type {:?}, expected {:?}",
                dir.join("feature_list.json").display(),
                fl.model_type,
                SPEC.name
            );
        }
        if let (Some(a), Some(b)) = (&league, &fl.league) {
            if a != b {
                bail!(
                    "the files in {} record different leagues ({a:?} and {b:?})",
                    dir.display()
                );
            }
        }
        let league = league.or(fl.league);
        Ok(Model {
            main,
            fallback,
            league,
        })
    }

    fn scores(
        &self,
        fixtures: &[Fixture],
        dataset: &Dataset,
        league: &str,
        outcomes: &[usize],
    ) -> Result<serde_json::Value> {
        let p = self.probs(fixtures, dataset, league)?;
        Ok(serde_json::to_value(common::scores_1x2(&p, outcomes))?)
    }

    fn describe(&self) -> serde_json::Value {
        let alphas = |p: &Part| serde_json::json!({"home": p.alphas[0], "draw": p.alphas[1], "away": p.alphas[2]});
        serde_json::json!({
            "regularisation": {
                "model": alphas(&self.main),
                "fallback": self.fallback.as_ref().map(alphas),
            },
            "calibration": {
                "temperature": metrics::round(self.main.temperature),
                "fallback_temperature": self.fallback.as_ref().map(|f| metrics::round(f.temperature)),
            },
            "uses_market_features": self.main.names.iter().any(|n| n.starts_with("mkt_")),
            "features": self.main.names,
            "fallback_features": self.fallback.as_ref().map(|f| f.names.clone()),
        })
    }
}

impl Predictor for Model {
    fn recorded_model_type(&self) -> &str {
        SPEC.name
    }

    fn recorded_league(&self) -> Option<&str> {
        self.league.as_deref()
    }

    fn columns(&self) -> Vec<String> {
        TARGETS.iter().map(|t| format!("1x2_v2_{t}")).collect()
    }

    fn uses_features(&self) -> bool {
        true
    }

    fn predict_with(
        &self,
        fixtures: &[Fixture],
        raw: &[features::RawFeatures],
    ) -> Result<Vec<Vec<f64>>> {
        common::check_feature_rows(fixtures, raw)?;
        Ok(self
            .probs_from(raw)?
            .into_iter()
            .map(|p| p.to_vec())
            .collect())
    }
}
