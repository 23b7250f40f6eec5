//! `draw_specialist`: a binary logistic model of "draw or not" on features chosen for draws
//! (closeness of the sides, expected total goals, the clubs' and the league's recent draw rates,
//! the market's draw probability when the data has odds), Platt-calibrated on matches it did not
//! train on. Draws are the outcome 1X2 models forecast worst; a dedicated, calibrated draw
//! probability is what draw-based selections need. Like `1x2_v2`, a model on market features
//! carries an odds-free fallback, chosen and calibrated the same way, for fixtures without odds.
//! Shares the feature machinery of `1x2_v2`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::data::matches::Dataset;
use crate::features::{self, LeagueRows};
use crate::models::common::{
    self, read_artifact, Artifact, ArtifactHeader, LoadedLogisticModel, LogisticModelType,
    LogisticStart, TrainedFiles, VariantStart,
};
use crate::models::logistic_protocol::{market_centre, AlphaChoice, Plan};
use crate::models::model_type::{Fixture, ModelFile, ModelSpec, Predictor, TrainContext};
use crate::stats::logistic::{
    self, BinaryRun, BinaryStarts, Linear, PenaltyCentre, Platt, Prepared, Standardiser,
};
use crate::stats::metrics;

pub static SPEC: ModelSpec = ModelSpec {
    name: "draw_specialist",
    version: "v1",
    dir_name: "draw_specialist_v1",
    legacy_dir_names: &["draw_specialist"],
    required_files: &["draw_model.pkl", "metrics.json"],
    min_matches: 300,
    columns_read: crate::features::COLUMNS_READ,
    other_leagues_read: Some(crate::features::MATCH_COLUMNS_READ),
};

/// Features used without market odds.
pub const BASE_FEATURES: &[&str] = &[
    "elo_abs_diff",
    "xg_abs_diff",
    "xg_total",
    "pois_draw_logit",
    "draw_rate_home",
    "draw_rate_away",
    "league_draw_rate",
];

/// Used instead of the base features when at least half the training rows had pre-match odds;
/// the file then also holds a model on the base features for fixtures without odds.
pub const MARKET_FEATURES: &[&str] = &["mkt_draw_logit", "mkt_abs_diff", "mkt_absent"];

const FORMAT: &str = "auto-train/draw_specialist/platt_logistic";
/// Version 2 records the league and the tool's version; version 1 files still load.
const FORMAT_VERSION: u32 = 2;
const READABLE_VERSIONS: &[u32] = &[1, 2];
const MODEL_FILE: &str = "draw_model.pkl";

/// Market features are used when at least this share of training rows had pre-match odds.
const MARKET_MIN_SHARE: f64 = 0.5;

/// Contents of `draw_model.pkl`: `z = intercept + sum coef[i] * (x[i] - mean[i]) / std[i]`;
/// P(draw) = sigmoid(platt_a * z + platt_b). `fallback` (odds-free features, absent in
/// first-release files and when the main model is odds-free) is used for fixtures without odds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrawFile {
    #[serde(flatten)]
    pub header: ArtifactHeader,
    /// The main model (its fields at the top level of the dict).
    #[serde(flatten)]
    pub model: DrawPart,
    /// `platt`.
    pub calibration: String,
    #[serde(default)]
    pub fallback: Option<DrawPart>,
}

/// The odds-free fallback model of `draw_model.pkl`, in the same terms as the main model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrawPart {
    pub features: Vec<String>,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub coef: Vec<f64>,
    pub intercept: f64,
    pub l2_alpha: f64,
    pub platt_a: f64,
    pub platt_b: f64,
}

impl Artifact for DrawFile {
    fn header(&self) -> &ArtifactHeader {
        &self.header
    }
}

pub struct DrawSpecialist;

/// One feature set run through the time-ordered protocol.
struct Variant {
    names: Vec<String>,
    std_all: Standardiser,
    run: BinaryRun,
    /// Each L2 candidate's calibration log loss and the choice weighed against the default
    /// (window protocol).
    alpha_choice: AlphaChoice,
    /// The fitted Platt scaling weighed against the identity (window protocol).
    platt_against_default: Option<serde_json::Value>,
    /// Platt scaling shipped: the identity, or the one weighed (window protocol; see
    /// `Plan::platts`).
    platt: Platt,
    /// Platt scaling on `cal` logits (for the validation scores).
    platt_val: Platt,
    /// Validation probabilities (Platt fitted on `cal` logits only).
    p_val: Vec<f64>,
    p_train: Vec<f64>,
}

impl Variant {
    /// The variant's fits, for the next refit to start from.
    fn fits(&self) -> VariantStart {
        VariantStart {
            names: self.names.clone(),
            targets: vec![self.run.fits.clone()],
            platt: vec![self.platt_val.clone(), self.platt.clone()],
            temperature: Vec::new(),
        }
    }

    fn part(&self) -> DrawPart {
        DrawPart {
            features: self.names.clone(),
            mean: self.std_all.mean.clone(),
            std: self.std_all.std.clone(),
            coef: self.run.final_model.coef.clone(),
            intercept: self.run.final_model.intercept,
            l2_alpha: self.run.alpha,
            platt_a: self.platt.a,
            platt_b: self.platt.b,
        }
    }
}

/// The draw model's penalty centre: the market draw log-odds on the market features.
fn draw_centre(names: &[String]) -> Option<PenaltyCentre> {
    market_centre(names, "mkt_draw_logit")
}

/// Fits one feature set; its fits start from `start`'s fits of the same features when given.
fn fit_variant(
    rows: &LeagueRows,
    names: &[&str],
    plan: &Plan,
    y: &[bool],
    start: Option<&LogisticStart>,
) -> Result<Variant> {
    let splits = &plan.splits;
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let x = features::select_rows(&rows.raw, &names)?;
    let prep = Prepared::new(&x, names.len(), splits)?;
    let start = start.and_then(|s| s.variant(&names));
    let (run, alpha_choice) = plan
        .run_binary(
            &prep,
            y,
            draw_centre(&names),
            start.and_then(|s| s.target(0)),
        )
        .context("fitting the draw model")?;
    let platt_start = |i: usize| start.and_then(|s| s.platt.get(i));
    let cal = plan
        .platts(
            (&run.cal_logits, &y[splits.cal.clone()]),
            (&run.val_logits, &y[splits.val.clone()]),
            [platt_start(0), platt_start(1)],
        )
        .context("Platt scaling")?;
    let (platt_val, platt) = (cal.for_validation, cal.shipped);
    let p_val = run.val_logits.iter().map(|&z| platt_val.prob(z)).collect();
    let p_train = run.train_logits.iter().map(|&z| platt.prob(z)).collect();
    Ok(Variant {
        names,
        std_all: prep.std_all,
        run,
        alpha_choice,
        platt_against_default: cal.against_default,
        platt,
        platt_val,
        p_val,
        p_train,
    })
}

/// The fits the file of a version holds (each model's final fit and Platt scaling), as a start.
fn warm_start(dir: &Path) -> Result<LogisticStart> {
    let f: DrawFile = read_artifact(dir, MODEL_FILE, FORMAT, READABLE_VERSIONS, SPEC.name)?;
    let variant = |p: &DrawPart| {
        let platt = Platt {
            a: p.platt_a,
            b: p.platt_b,
        };
        VariantStart {
            names: p.features.clone(),
            targets: vec![BinaryStarts::from_final(Linear {
                coef: p.coef.clone(),
                intercept: p.intercept,
            })],
            platt: vec![platt.clone(), platt],
            temperature: Vec::new(),
        }
    };
    Ok(LogisticStart {
        variants: [Some(&f.model), f.fallback.as_ref()]
            .into_iter()
            .flatten()
            .map(variant)
            .collect(),
    })
}

/// Rows without odds go to the fallback's probabilities, as at prediction time.
fn pick(raw: &[features::RawFeatures], main_p: &[f64], fallback_p: Option<&[f64]>) -> Vec<f64> {
    raw.iter()
        .enumerate()
        .map(|(i, r)| match fallback_p {
            Some(fb) if r.market.is_none() => fb[i],
            _ => main_p[i],
        })
        .collect()
}

fn train_all(ctx: &TrainContext) -> Result<TrainedFiles> {
    let rows = ctx
        .features
        .league_rows(ctx.dataset, ctx.league)
        .with_context(|| format!("computing draw features for {}", ctx.league.league))?;
    let use_market = rows.market_share() >= MARKET_MIN_SHARE;
    let plan = Plan::new(ctx.selection, &rows.seasons, &rows.dates)?;
    let y: Vec<bool> = rows.outcomes.iter().map(|&o| o == 1).collect();
    let start = ctx
        .warm_start
        .and_then(|w| w.downcast_ref::<LogisticStart>());
    // On validation seasons (2019-20, 2021-22) the market's draw features alone ranked draws at
    // least as well as with the rating features added, at a lower log loss. The two feature
    // sets are independent fits: on two threads when there are two.
    let (base, market) = rayon::join(
        || fit_variant(&rows, BASE_FEATURES, &plan, &y, start),
        || use_market.then(|| fit_variant(&rows, MARKET_FEATURES, &plan, &y, start)),
    );
    let base = base?;
    let (main, fallback) = match market {
        Some(market) => (market?, Some(base)),
        None => (base, None),
    };
    let val_raw = &rows.raw[plan.splits.val.clone()];
    let p_val = pick(
        val_raw,
        &main.p_val,
        fallback.as_ref().map(|f| f.p_val.as_slice()),
    );
    let p_train = pick(
        &rows.raw,
        &main.p_train,
        fallback.as_ref().map(|f| f.p_train.as_slice()),
    );
    let (metrics_json, summary) = metrics_json(
        ctx,
        &rows,
        &plan,
        &y,
        (&main, fallback.as_ref()),
        &p_val,
        &p_train,
    );
    let file = DrawFile {
        header: ArtifactHeader::new(FORMAT, FORMAT_VERSION, SPEC.name, &ctx.league.league),
        model: main.part(),
        calibration: "platt".to_string(),
        fallback: fallback.as_ref().map(Variant::part),
    };
    let files = vec![ModelFile {
        name: MODEL_FILE.to_string(),
        bytes: crate::store::pickle::to_bytes(&file)?,
    }];
    let fits = LogisticStart {
        variants: [Some(&main), fallback.as_ref()]
            .into_iter()
            .flatten()
            .map(Variant::fits)
            .collect(),
    };
    Ok((files, metrics_json, summary, fits))
}

/// The market's draw probability and the odds-free fallback, each on its validation rows.
fn comparisons_json(
    val_raw: &[features::RawFeatures],
    p_val: &[f64],
    y_val: &[bool],
    fallback: Option<&Variant>,
    prior_rate: f64,
) -> (serde_json::Value, serde_json::Value) {
    let (mk, mk_model, mk_y) = common::on_market_rows(val_raw, p_val, y_val, |b| b[1]);
    let market = if mk.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::json!({
            "source": "Pinnacle opening draw probability, else the market average, margin removed proportionally",
            "n": mk.len(),
            "market": common::scores_binary(&mk, &mk_y),
            "model_on_same_matches": common::scores_binary(&mk_model, &mk_y),
        })
    };
    // The fallback on the validation rows without odds, beside the constant on the same rows.
    let no_odds: Vec<usize> = (0..val_raw.len())
        .filter(|&i| val_raw[i].market.is_none())
        .collect();
    let without_odds = match fallback {
        Some(fb) if !no_odds.is_empty() => {
            let yy: Vec<bool> = no_odds.iter().map(|&i| y_val[i]).collect();
            let pp: Vec<f64> = no_odds.iter().map(|&i| fb.p_val[i]).collect();
            serde_json::json!({
                "n": no_odds.len(),
                "fallback": common::scores_binary(&pp, &yy),
                "constant_draw_rate": common::scores_binary(&vec![prior_rate; yy.len()], &yy),
            })
        }
        _ => serde_json::Value::Null,
    };
    (market, without_odds)
}

/// metrics.json and the report's one-line summary.
fn metrics_json(
    ctx: &TrainContext,
    rows: &LeagueRows,
    plan: &Plan,
    y: &[bool],
    (main, fallback): (&Variant, Option<&Variant>),
    p_val: &[f64],
    p_train: &[f64],
) -> (serde_json::Value, String) {
    let splits = &plan.splits;
    let y_val = &y[splits.val.clone()];
    let prior_rate = y[..splits.val.start].iter().filter(|&&b| b).count() as f64
        / splits.val.start.max(1) as f64;
    let val_raw = &rows.raw[splits.val.clone()];
    let (market, without_odds) = comparisons_json(val_raw, p_val, y_val, fallback, prior_rate);
    let val = common::scores_binary(p_val, y_val);
    let constant = common::scores_binary(&vec![prior_rate; y_val.len()], y_val);
    let train = common::scores_binary(p_train, y);
    let use_market = fallback.is_some();
    let summary = format!(
        "{} features{}, validation AUC {} log loss {:.4} (constant {:.4})",
        main.names.len(),
        if use_market {
            " incl. market (+ odds-free fallback)"
        } else {
            ""
        },
        val.auc.map(|a| format!("{a:.3}")).unwrap_or("n/a".into()),
        val.log_loss,
        constant.log_loss
    );
    let metrics_json = serde_json::json!({
        "league": ctx.league.league,
        "model_type": "draw_specialist",
        "trained_date": ctx.trained_date,
        "train": {"log_loss": train.log_loss, "auc": train.auc, "n": train.n},
        "val": {
            "auc": val.auc,
            "log_loss": val.log_loss,
            "brier": val.brier,
            "ece": val.ece,
            "draw_rate": val.event_rate,
            "n": val.n,
        },
        "n_train": splits.val.start,
        "n_val": y_val.len(),
        "constant_draw_rate": {
            "rate": metrics::round(prior_rate),
            "auc": constant.auc,
            "log_loss": constant.log_loss,
            "brier": constant.brier,
            "ece": constant.ece,
        },
        "market": market,
        "validation_rows_without_odds": without_odds,
        "regularisation": {
            "penalty": "L2, linfa-logistic alpha (alpha/2 |beta - beta0|^2 on the summed log loss of standardised features): without a centre beta0 = 0 on the coefficients (towards the base rate; intercept free); with a centre, beta0 is the model whose logit is that feature's log-odds as they are, intercept included (towards the market draw probability; rows without odds at the mean market log-odds)",
            "centre": draw_centre(&main.names).map(|c| main.names[c.feature].clone()),
            "fallback_centre": fallback.map(|f| draw_centre(&f.names).map(|c| f.names[c.feature].clone())),
            "candidates": logistic::alphas(draw_centre(&main.names).is_some()),
            "fallback_candidates": fallback.map(|_| logistic::ALPHAS),
            "alpha": main.run.alpha,
            "fallback_alpha": fallback.map(|f| f.run.alpha),
            "candidate_calibration_log_loss": (!main.alpha_choice.tried.is_empty()).then_some(&main.alpha_choice.tried),
            "fallback_candidate_calibration_log_loss": fallback.filter(|f| !f.alpha_choice.tried.is_empty()).map(|f| &f.alpha_choice.tried),
            "against_default": main.alpha_choice.against_default,
            "fallback_against_default": fallback.map(|f| f.alpha_choice.against_default.clone()),
        },
        "calibration": {
            "method": "platt",
            "a": metrics::round(main.platt.a),
            "b": metrics::round(main.platt.b),
            "against_default": main.platt_against_default,
            "fallback": fallback.map(|f| serde_json::json!({
                "a": metrics::round(f.platt.a),
                "b": metrics::round(f.platt.b),
                "against_default": f.platt_against_default,
            })),
        },
        "uses_market_features": use_market,
        "features": main.names,
        "fallback_features": fallback.map(|f| f.names.clone()),
        "split": {
            "fit": common::span(&rows.dates, &splits.fit),
            "calibration": common::span(&rows.dates, &splits.cal),
            "validation": common::span(&rows.dates, &splits.val),
        },
        "selection": plan.describe(&rows.dates),
    });
    (metrics_json, summary)
}

impl LogisticModelType for DrawSpecialist {
    const SPEC: &'static ModelSpec = &SPEC;
    type Model = Model;
    const TRAIN: fn(&TrainContext) -> Result<TrainedFiles> = train_all;
    const WARM_START: fn(&Path) -> Result<LogisticStart> = warm_start;
}

/// A loaded standardised, Platt-scaled linear draw model.
struct Scorer {
    names: Vec<String>,
    std: Standardiser,
    linear: Linear,
    platt: Platt,
    alpha: f64,
}

impl Scorer {
    fn from_part(p: DrawPart) -> Result<Scorer> {
        let w = p.features.len();
        if p.mean.len() != w || p.std.len() != w || p.coef.len() != w {
            bail!("{MODEL_FILE}: coefficient lengths do not match its features");
        }
        if p.std.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            bail!("{MODEL_FILE}: invalid standard deviations");
        }
        let finite = p.coef.iter().all(|c| c.is_finite())
            && [p.intercept, p.platt_a, p.platt_b]
                .iter()
                .all(|v| v.is_finite());
        if !finite {
            bail!("{MODEL_FILE}: non-finite coefficients");
        }
        features::indices(&p.features).context(MODEL_FILE)?;
        Ok(Scorer {
            names: p.features,
            std: Standardiser {
                mean: p.mean,
                std: p.std,
            },
            linear: Linear {
                coef: p.coef,
                intercept: p.intercept,
            },
            platt: Platt {
                a: p.platt_a,
                b: p.platt_b,
            },
            alpha: p.l2_alpha,
        })
    }

    fn prob(&self, raw: &features::RawFeatures) -> Result<f64> {
        let x = features::select_rows(std::slice::from_ref(raw), &self.names)?;
        Ok(self.platt.prob(self.linear.score(&self.std.apply(&x))))
    }
}

/// A loaded draw specialist.
pub struct Model {
    league: Option<String>,
    main: Scorer,
    fallback: Option<Scorer>,
}

impl Model {
    pub fn probs(&self, fixtures: &[Fixture], dataset: &Dataset, league: &str) -> Result<Vec<f64>> {
        self.probs_from(&common::fixture_features(dataset, league, fixtures)?)
    }

    /// P(draw) of each fixture from its pre-match features.
    pub fn probs_from(&self, raw: &[features::RawFeatures]) -> Result<Vec<f64>> {
        raw.iter()
            .map(|r| match &self.fallback {
                Some(fb) if r.market.is_none() => fb.prob(r),
                _ => self.main.prob(r),
            })
            .collect()
    }
}

impl LoadedLogisticModel for Model {
    fn load(dir: &Path) -> Result<Model> {
        let f: DrawFile = read_artifact(dir, MODEL_FILE, FORMAT, READABLE_VERSIONS, SPEC.name)?;
        let main = Scorer::from_part(f.model)?;
        let fallback = f.fallback.map(Scorer::from_part).transpose()?;
        Ok(Model {
            league: f.header.league,
            main,
            fallback,
        })
    }

    fn scores(
        &self,
        fixtures: &[Fixture],
        dataset: &Dataset,
        league: &str,
        outcomes: &[usize],
    ) -> Result<serde_json::Value> {
        let draws: Vec<bool> = outcomes.iter().map(|&o| o == 1).collect();
        let p = self.probs(fixtures, dataset, league)?;
        Ok(serde_json::to_value(common::scores_binary(&p, &draws))?)
    }

    fn describe(&self) -> serde_json::Value {
        let platt = |s: &Scorer| serde_json::json!({"a": metrics::round(s.platt.a), "b": metrics::round(s.platt.b)});
        let mut calibration = platt(&self.main);
        calibration["fallback"] = self.fallback.as_ref().map(platt).into();
        serde_json::json!({
            "regularisation": {
                "alpha": self.main.alpha,
                "fallback_alpha": self.fallback.as_ref().map(|f| f.alpha),
            },
            "calibration": calibration,
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
        vec!["draw_specialist_draw".to_string()]
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
        Ok(self.probs_from(raw)?.into_iter().map(|p| vec![p]).collect())
    }
}
