//! How the two logistic model types (`1x2_v2`, `draw_specialist`) split their rows into fit,
//! calibration and validation sets and choose their L2 strength and calibration, under either
//! selection protocol (`stats::selection`): one place, so both types choose the same way and
//! metrics.json records the same description (the windows, the candidates and their scores, the
//! choice, and any fallback to the stated defaults).

use anyhow::{bail, Result};

use crate::stats::logistic::{
    self, BinaryRun, BinaryStarts, Centres, Linear, PenaltyCentre, Platt, Polish, Prepared, Splits,
};
use crate::stats::selection::{self, Candidate, Protocol};

/// L2 strength used when there are too few calibration rows to choose it on (the middle of
/// [`logistic::ALPHAS`]).
pub const DEFAULT_ALPHA: f64 = 10.0;
/// The same for a model with a penalty centre (the middle of [`logistic::CENTRED_ALPHAS`]).
pub const DEFAULT_CENTRED_ALPHA: f64 = 10000.0;
/// The temperature used when there are too few calibration rows: the one-vs-rest probabilities
/// are only normalised.
pub const DEFAULT_TEMPERATURE: f64 = 1.0;
/// Platt scaling used when there are too few calibration rows: the model's own probability.
pub const DEFAULT_PLATT: Platt = Platt { a: 1.0, b: 0.0 };
/// The fewest rows the binary models are fitted on while choosing.
const MIN_FIT_ROWS: usize = 150;

/// The penalty centre of a binary model on `names` that pulls it towards the market log-odds
/// `feature` (`mkt_absent` rows towards its mean), or `None` when `names` does not hold it.
pub fn market_centre(names: &[String], feature: &str) -> Option<PenaltyCentre> {
    let at = |name: &str| names.iter().position(|n| n == name);
    Some(PenaltyCentre {
        feature: at(feature)?,
        absent: at("mkt_absent"),
    })
}

/// The rows' split and whether choices are made on it.
pub struct Plan {
    pub protocol: Protocol,
    pub splits: Splits,
    /// False when the calibration rows are too few to choose on: the defaults are used.
    pub choose: bool,
    /// Why the windows could not be used (a shorter history), if so.
    pub fallback: Option<String>,
    /// A season's worth of the league's rows (window protocol).
    pub season_size: Option<usize>,
}

impl Plan {
    /// Splits rows (per row: season and date, in date order) by `protocol`. Window: validation is
    /// the latest season's worth of rows and calibration the season's worth before it, counted
    /// across season boundaries; with a shorter history, 60/20/20 by date, and the defaults
    /// when the calibration rows are fewer than [`selection::MIN_CHOICE_MATCHES`]. Season: the
    /// latest season validates and the one before calibrates (the earlier protocol, unchanged).
    pub fn new(
        protocol: Protocol,
        seasons: &[i32],
        dates: &[crate::data::date::Date],
    ) -> Result<Plan> {
        if protocol == Protocol::Season {
            return Ok(Plan {
                protocol,
                splits: Splits::by_season(seasons)?,
                choose: true,
                fallback: None,
                season_size: None,
            });
        }
        let n = seasons.len();
        if n < 60 {
            bail!("only {n} matches with enough history to train on");
        }
        let (splits, fallback, size) =
            match selection::latest_windows(dates, seasons, 2, MIN_FIT_ROWS) {
                Ok(w) => (
                    Splits {
                        fit: w.fit.clone(),
                        cal: w.windows[0].clone(),
                        val: w.windows[1].clone(),
                    },
                    None,
                    w.season_size,
                ),
                Err(why) => {
                    let (a, b) = (n * 3 / 5, n * 4 / 5);
                    (
                        Splits {
                            fit: 0..a,
                            cal: a..b,
                            val: b..n,
                        },
                        Some(format!("{why}: 60/20/20 by date")),
                        selection::season_size(seasons),
                    )
                }
            };
        Ok(Plan {
            protocol,
            choose: splits.cal.len() >= selection::MIN_CHOICE_MATCHES,
            splits,
            fallback,
            season_size: Some(size),
        })
    }

    /// What metrics.json records about the protocol.
    pub fn describe(&self, dates: &[crate::data::date::Date]) -> serde_json::Value {
        let s = &self.splits;
        serde_json::json!({
            "protocol": self.protocol.name(),
            "season_size": self.season_size,
            "fit": selection::describe(dates, &s.fit),
            "calibration_window": selection::describe(dates, &s.cal),
            "validation_window": selection::describe(dates, &s.val),
            "minimum_calibration_rows": selection::MIN_CHOICE_MATCHES,
            "window_fallback": self.fallback,
            "defaults_used": (!self.choose).then(|| serde_json::json!({
                "reason": format!("{} calibration rows, fewer than {}", s.cal.len(), selection::MIN_CHOICE_MATCHES),
                "alpha": DEFAULT_ALPHA,
                "alpha_with_a_penalty_centre": DEFAULT_CENTRED_ALPHA,
                "temperature": DEFAULT_TEMPERATURE,
                "platt": {"a": DEFAULT_PLATT.a, "b": DEFAULT_PLATT.b},
            })),
        })
    }

    /// One binary target through the protocol: the L2 strength chosen on the calibration rows
    /// (or the default), then refitted on fit + calibration rows (validation logits) and on
    /// every row (the shipped model). Also the candidates' calibration log losses.
    /// Each fit starts from `start` (an earlier training's fits of the same target and
    /// features) when given, else cold. With `centre`, every fit's penalty is centred on it.
    pub fn run_binary(
        &self,
        p: &Prepared,
        y: &[bool],
        centre: Option<PenaltyCentre>,
        start: Option<&BinaryStarts>,
    ) -> Result<(BinaryRun, Vec<Candidate>)> {
        let s = &self.splits;
        let centres = p.centres(centre);
        if self.protocol == Protocol::Season {
            let run = logistic::run_binary(p, y, s, &centres, start)?;
            return Ok((run, Vec::new()));
        }
        let y_fit = &y[s.fit.clone()];
        let (alpha, m_fit, tried, fits) = if self.choose {
            choose_alpha(p, y_fit, &y[s.cal.clone()], &centres, start)?
        } else {
            let c = centres.fit.as_ref();
            let alpha = if c.is_some() {
                DEFAULT_CENTRED_ALPHA
            } else {
                DEFAULT_ALPHA
            };
            let warm = start.and_then(|s| s.for_alpha(alpha));
            let polish = Polish::from_earlier(warm);
            let m = logistic::fit_binary(&p.x_fit, y_fit, alpha, c, warm, polish)?;
            (alpha, m.clone(), Vec::new(), vec![(alpha, m)])
        };
        let run = logistic::refit_stages(p, y, s, alpha, &centres, start, m_fit, fits)?;
        Ok((run, tried))
    }

    /// The temperature fitted on `z` (or the default when not choosing).
    pub fn temperature(&self, z: &[[f64; 3]], y: &[usize], start: Option<f64>) -> Result<f64> {
        if self.choose {
            logistic::fit_temperature(z, y, start)
        } else {
            Ok(DEFAULT_TEMPERATURE)
        }
    }

    /// Platt scaling fitted on `z` (or the default when not choosing).
    pub fn platt(&self, z: &[f64], y: &[bool], start: Option<&Platt>) -> Result<Platt> {
        if self.choose {
            logistic::fit_platt(z, y, start)
        } else {
            Ok(DEFAULT_PLATT)
        }
    }
}

/// The L2 strength with the lowest calibration log loss of a model fitted on the fit rows (the
/// strongest penalty first, each fit starting from the previous; ties: the stronger penalty),
/// with that model and every candidate's score.
fn choose_alpha(
    p: &Prepared,
    y_fit: &[bool],
    y_cal: &[bool],
    centres: &Centres,
    start: Option<&BinaryStarts>,
) -> Result<(f64, Linear, Vec<Candidate>, logistic::AlphaFits)> {
    let mut tried = Vec::new();
    let mut fits = Vec::new();
    let mut best: Option<(f64, f64, Linear)> = None;
    let mut previous: Option<Linear> = None;
    for &alpha in logistic::alphas(centres.fit.is_some()).iter().rev() {
        let earlier = start.and_then(|s| s.for_alpha(alpha));
        let warm = earlier.or(previous.as_ref());
        let polish = Polish::from_earlier(earlier);
        let m = logistic::fit_binary(&p.x_fit, y_fit, alpha, centres.fit.as_ref(), warm, polish)?;
        fits.push((alpha, m.clone()));
        let q: Vec<f64> = logistic::scores(&m, &p.x_cal)
            .into_iter()
            .map(crate::stats::link::sigmoid)
            .collect();
        let ll = crate::stats::link::mean_binary_log_loss(&q, y_cal);
        tried.push(Candidate {
            value: alpha,
            score: crate::stats::metrics::round(ll),
        });
        previous = Some(m.clone());
        if best.as_ref().is_none_or(|b| ll < b.1 - 1e-9) {
            best = Some((alpha, ll, m));
        }
    }
    let (alpha, _, m) = best.ok_or_else(|| anyhow::anyhow!("no regularisation candidate"))?;
    Ok((alpha, m, tried, fits))
}
