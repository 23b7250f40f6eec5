//! `draw_specialist`: a binary logistic model of "draw or not" on features chosen for draws
//! (closeness of the sides, expected total goals, the clubs' and the league's recent draw rates,
//! the market's draw probability when the data has odds), Platt-calibrated on matches it did not
//! train on. Draws are the outcome 1X2 models forecast worst; a dedicated, calibrated draw
//! probability is what draw-based selections need. Shares the feature machinery of `1x2_v2`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::data::matches::Dataset;
use crate::features;
use crate::models::common::{self, read_artifact, Artifact, ArtifactHeader, LoadedLogisticModel, LogisticModelType};
use crate::models::model_type::{Fixture, ModelFile, ModelSpec, Predictor, TrainContext};
use crate::stats::logistic::{self, Linear, Platt, Prepared, Splits, Standardiser};
use crate::stats::metrics;

pub static SPEC: ModelSpec = ModelSpec {
    name: "draw_specialist",
    version: "v1",
    required_files: &["draw_model.pkl", "metrics.json"],
    min_matches: 300,
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

/// Used instead of the base features when at least half the training rows had pre-match odds
/// (a fixture without odds then gets the calibrated league draw rate, via `mkt_absent`).
pub const MARKET_FEATURES: &[&str] = &["mkt_draw_logit", "mkt_abs_diff", "mkt_absent"];

const FORMAT: &str = "auto-train/draw_specialist/platt_logistic";
/// Version 2 records the league and the tool's version; version 1 files still load.
const FORMAT_VERSION: u32 = 2;
const READABLE_VERSIONS: &[u32] = &[1, 2];
const MODEL_FILE: &str = "draw_model.pkl";

/// Contents of `draw_model.pkl`: z = intercept + sum coef[i] * (x[i] - mean[i]) / std[i];
/// P(draw) = sigmoid(platt_a * z + platt_b).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrawFile {
    #[serde(flatten)]
    pub header: ArtifactHeader,
    pub features: Vec<String>,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub coef: Vec<f64>,
    pub intercept: f64,
    pub l2_alpha: f64,
    pub calibration: String,
    pub platt_a: f64,
    pub platt_b: f64,
}

impl Artifact for DrawFile {
    fn header(&self) -> &ArtifactHeader {
        &self.header
    }
}

pub struct DrawSpecialist;

fn train_all(ctx: &TrainContext) -> Result<(Vec<ModelFile>, serde_json::Value, String)> {
    let rows = ctx
        .features
        .league_rows(ctx.dataset, ctx.league)
        .with_context(|| format!("computing draw features for {}", ctx.league.league))?;
    let use_market = rows.market_share() >= 0.5;
    let mut names: Vec<String> = BASE_FEATURES.iter().map(|s| s.to_string()).collect();
    if use_market {
        // On validation seasons (2019-20, 2021-22) the market's draw features alone ranked
        // draws at least as well as with the rating features added, at a lower log loss.
        names = MARKET_FEATURES.iter().map(|s| s.to_string()).collect();
    }
    let x = features::select(&rows.raw, &names)?;
    let splits = Splits::by_season(&rows.seasons)?;
    let prep = Prepared::new(&x, &splits)?;
    let y: Vec<bool> = rows.outcomes.iter().map(|&o| o == 1).collect();
    let run = logistic::run_binary(&prep, &y, &splits).context("fitting the draw model")?;
    let y_cal = &y[splits.cal.clone()];
    let y_val = &y[splits.val.clone()];
    let platt_val = logistic::fit_platt(&run.cal_logits, y_cal).context("Platt scaling")?;
    let p_val: Vec<f64> = run.val_logits.iter().map(|&z| platt_val.prob(z)).collect();
    let mut oos = run.cal_logits.clone();
    oos.extend_from_slice(&run.val_logits);
    let platt =
        logistic::fit_platt(&oos, &y[splits.cal.start..splits.val.end]).context("Platt scaling")?;
    let p_train: Vec<f64> = run.train_logits.iter().map(|&z| platt.prob(z)).collect();

    let prior_rate = y[..splits.val.start].iter().filter(|&&b| b).count() as f64
        / splits.val.start.max(1) as f64;
    let p_const = vec![prior_rate; y_val.len()];
    let (mk, mk_model, mk_y) =
        common::on_market_rows(&rows.raw[splits.val.clone()], &p_val, y_val, |b| b[1]);
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
    let val = common::scores_binary(&p_val, y_val);
    let constant = common::scores_binary(&p_const, y_val);
    let train = common::scores_binary(&p_train, &y);
    let summary = format!(
        "{} features{}, validation AUC {} log loss {:.4} (constant {:.4})",
        names.len(),
        if use_market { " incl. market" } else { "" },
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
        "regularisation": {
            "penalty": "L2, linfa-logistic alpha (alpha/2 |w|^2 on the summed log loss of standardised features)",
            "alpha": run.alpha,
        },
        "calibration": {"method": "platt", "a": metrics::round(platt.a), "b": metrics::round(platt.b)},
        "uses_market_features": use_market,
        "features": names,
        "split": {
            "fit": common::span(&rows.dates, &splits.fit),
            "calibration": common::span(&rows.dates, &splits.cal),
            "validation": common::span(&rows.dates, &splits.val),
        },
    });
    let file = DrawFile {
        header: ArtifactHeader::new(FORMAT, FORMAT_VERSION, SPEC.name, &ctx.league.league),
        features: names,
        mean: prep.std_all.mean.clone(),
        std: prep.std_all.std.clone(),
        coef: run.final_model.coef.clone(),
        intercept: run.final_model.intercept,
        l2_alpha: run.alpha,
        calibration: "platt".to_string(),
        platt_a: platt.a,
        platt_b: platt.b,
    };
    let files = vec![ModelFile {
        name: MODEL_FILE.to_string(),
        bytes: crate::store::pickle::to_bytes(&file)?,
    }];
    Ok((files, metrics_json, summary))
}

impl LogisticModelType for DrawSpecialist {
    const SPEC: &'static ModelSpec = &SPEC;
    type Model = Model;
    const TRAIN: fn(&TrainContext) -> Result<(Vec<ModelFile>, serde_json::Value, String)> =
        train_all;
}

/// A loaded draw specialist.
pub struct Model {
    league: Option<String>,
    names: Vec<String>,
    std: Standardiser,
    linear: Linear,
    platt: Platt,
}

impl Model {
    pub fn probs(&self, fixtures: &[Fixture], dataset: &Dataset, league: &str) -> Result<Vec<f64>> {
        let raw = common::fixture_features(dataset, league, fixtures)?;
        let x = features::select(&raw, &self.names)?;
        Ok(x.iter()
            .map(|row| self.platt.prob(self.linear.score(&self.std.apply(row))))
            .collect())
    }
}

impl LoadedLogisticModel for Model {
    fn load(dir: &Path) -> Result<Model> {
        let f: DrawFile = read_artifact(dir, MODEL_FILE, FORMAT, READABLE_VERSIONS, SPEC.name)?;
        let w = f.features.len();
        if f.mean.len() != w || f.std.len() != w || f.coef.len() != w {
            bail!("draw_model.pkl: coefficient lengths do not match its features");
        }
        if f.std.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            bail!("draw_model.pkl: invalid standard deviations");
        }
        features::indices(&f.features).context("draw_model.pkl")?;
        Ok(Model {
            league: f.header.league,
            names: f.features,
            std: Standardiser {
                mean: f.mean,
                std: f.std,
            },
            linear: Linear {
                coef: f.coef,
                intercept: f.intercept,
            },
            platt: Platt {
                a: f.platt_a,
                b: f.platt_b,
            },
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

    fn predict(
        &self,
        fixtures: &[Fixture],
        dataset: &Dataset,
        league: &str,
    ) -> Result<Vec<Vec<f64>>> {
        Ok(self
            .probs(fixtures, dataset, league)?
            .into_iter()
            .map(|p| vec![p])
            .collect())
    }
}
