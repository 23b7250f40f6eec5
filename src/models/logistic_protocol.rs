//! How the two logistic model types (`1x2_v2`, `draw_specialist`) split their rows into fit,
//! calibration and validation sets and choose their L2 strength and calibration, under either
//! selection protocol (`stats::selection`): one place, so both types choose the same way and
//! metrics.json records the same description (the windows, the candidates and their scores, the
//! choice, and any fallback to the stated defaults). Under the window protocol every choice has
//! a stated default (L2 strength, temperature 1, Platt identity) that a fitted value replaces only
//! when it beats it on held-out rows by `stats::selection::beats_default`'s rule, the rule of the
//! Poisson decay: a best-of-three on one window is otherwise mostly that window's noise.

use anyhow::{bail, Result};

use crate::stats::link;
use crate::stats::logistic::{
    self, BinaryRun, BinaryStarts, Centres, Linear, PenaltyCentre, Platt, Polish, Prepared, Splits,
};
use crate::stats::selection::{self, Candidate, Protocol};
use serde::Serialize;

/// The stated L2 strength: kept unless another candidate beats it, and used when there are too
/// few calibration rows to choose on (the middle of [`logistic::ALPHAS`]).
pub const DEFAULT_ALPHA: f64 = 10.0;
/// The same for a model with a penalty centre: the strongest of [`logistic::CENTRED_ALPHAS`],
/// the closest to the market (chosen on 2015-16 to 2018-19, docs/benchmarks.md).
pub const DEFAULT_CENTRED_ALPHA: f64 = 100000.0;
/// The stated temperature: the one-vs-rest probabilities are only normalised (for a model at
/// the market, the market's own probabilities).
pub const DEFAULT_TEMPERATURE: f64 = 1.0;
/// The stated Platt scaling: the identity, the model's own probability.
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
    /// every row (the shipped model). Also the candidates' calibration log losses and the
    /// choice weighed against the default.
    /// Each fit starts from `start` (an earlier training's fits of the same target and
    /// features) when given, else cold. With `centre`, every fit's penalty is centred on it.
    pub fn run_binary(
        &self,
        p: &Prepared,
        y: &[bool],
        centre: Option<PenaltyCentre>,
        start: Option<&BinaryStarts>,
    ) -> Result<(BinaryRun, AlphaChoice)> {
        let s = &self.splits;
        let centres = p.centres(centre);
        if self.protocol == Protocol::Season {
            let run = logistic::run_binary(p, y, s, &centres, start)?;
            return Ok((run, AlphaChoice::default()));
        }
        let y_fit = &y[s.fit.clone()];
        let (alpha, m_fit, choice, fits) = if self.choose {
            choose_alpha(p, y_fit, &y[s.cal.clone()], &centres, start)?
        } else {
            let c = centres.fit.as_ref();
            let alpha = default_alpha(c.is_some());
            let warm = start.and_then(|s| s.for_alpha(alpha));
            let polish = Polish::from_earlier(warm);
            let m = logistic::fit_binary(&p.x_fit, y_fit, alpha, c, warm, polish)?;
            (alpha, m.clone(), AlphaChoice::default(), vec![(alpha, m)])
        };
        let run = logistic::refit_stages(p, y, s, alpha, &centres, start, m_fit, fits)?;
        Ok((run, choice))
    }

    /// Whether a fitted calibrator is weighed against the identity before it is used.
    fn weighs_calibration(&self) -> bool {
        self.protocol == Protocol::Window
    }

    /// The temperatures of one feature set: for the validation scores (fitted on the
    /// calibration rows' logits `z_cal`) and shipped, each fit from its `starts` when given.
    /// Window protocol: the stated default, temperature 1, unless the one fitted on the
    /// calibration rows beats it on the validation rows (log loss, [`Weighed`]); then that
    /// temperature, the one weighed, is also the one shipped. The comparison is returned for
    /// metrics.json. Season protocol: shipped fitted on every out-of-sample logit (`z_cal` then
    /// `z_val`). Not choosing (too few calibration rows): the default.
    pub fn temperatures(
        &self,
        (z_cal, y_cal): (&[[f64; 3]], &[usize]),
        (z_val, y_val): (&[[f64; 3]], &[usize]),
        starts: [Option<f64>; 2],
    ) -> Result<Calibration<f64>> {
        self.calibrate(
            DEFAULT_TEMPERATURE,
            |both| {
                if !both {
                    return logistic::fit_temperature(z_cal, y_cal, starts[0]);
                }
                logistic::fit_temperature(&joined(z_cal, z_val), &joined(y_cal, y_val), starts[1])
            },
            |&t| {
                z_val
                    .iter()
                    .zip(y_val)
                    .map(|(z, &k)| link::neg_log(logistic::temperature_probs(z, t)[k]))
                    .collect()
            },
            |&t| crate::stats::metrics::round(t).into(),
        )
    }

    /// Platt scaling of one feature set, like [`Plan::temperatures`]: the stated default is the
    /// identity (the model's own probability).
    pub fn platts(
        &self,
        (z_cal, y_cal): (&[f64], &[bool]),
        (z_val, y_val): (&[f64], &[bool]),
        starts: [Option<&Platt>; 2],
    ) -> Result<Calibration<Platt>> {
        self.calibrate(
            DEFAULT_PLATT,
            |both| {
                if !both {
                    return logistic::fit_platt(z_cal, y_cal, starts[0]);
                }
                logistic::fit_platt(&joined(z_cal, z_val), &joined(y_cal, y_val), starts[1])
            },
            |p| {
                z_val
                    .iter()
                    .zip(y_val)
                    .map(|(&z, &e)| link::binary_log_loss(p.prob(z), e))
                    .collect()
            },
            |p| {
                let r = crate::stats::metrics::round;
                serde_json::json!({"a": r(p.a), "b": r(p.b)})
            },
        )
    }

    /// One calibrator through the protocol: `fit(false)` fits it on the calibration rows,
    /// `fit(true)` on the calibration and validation rows; `losses` scores one on the validation
    /// rows, row by row; `describe` is what metrics.json says of one. Not choosing: `default`.
    /// Window protocol: `default` unless the calibration rows' fit beats it ([`Weighed`]), and
    /// then that fit, for validation and shipped: what ships is what was weighed. (A refit on
    /// both windows would include the validation rows that decided, which favour a departure
    /// whenever one is chosen: the refit would move further from the default than anything
    /// weighed.)
    /// Season protocol: no weighing, the shipped calibrator refitted on both windows.
    fn calibrate<T: Clone>(
        &self,
        default: T,
        fit: impl Fn(bool) -> Result<T>,
        losses: impl Fn(&T) -> Vec<f64>,
        describe: impl Fn(&T) -> serde_json::Value,
    ) -> Result<Calibration<T>> {
        if !self.choose {
            return Ok(Calibration::default_only(default));
        }
        let on_cal = fit(false)?;
        if !self.weighs_calibration() {
            return Ok(Calibration {
                shipped: fit(true)?,
                for_validation: on_cal,
                against_default: None,
            });
        }
        let w = Weighed::new(&losses(&default), &losses(&on_cal));
        let against_default = Some(w.json(describe(&default), describe(&on_cal)));
        let chosen = if w.replaces { on_cal } else { default };
        Ok(Calibration {
            against_default,
            ..Calibration::default_only(chosen)
        })
    }
}

/// `a` then `b`: the calibration rows' values followed by the validation rows'.
fn joined<T: Copy>(a: &[T], b: &[T]) -> Vec<T> {
    a.iter().chain(b).copied().collect()
}

/// A feature set's calibrator as the protocol chose it.
#[derive(Clone, Debug)]
pub struct Calibration<T> {
    /// Applied to the validation logits (fitted on the calibration rows only).
    pub for_validation: T,
    /// Shipped: the default, or under the window protocol the fit weighed against it; under
    /// the season protocol fitted on the calibration and validation rows.
    pub shipped: T,
    /// The fitted calibrator weighed against the identity (window protocol), for metrics.json.
    pub against_default: Option<serde_json::Value>,
}

impl<T: Clone> Calibration<T> {
    fn default_only(t: T) -> Calibration<T> {
        Calibration {
            for_validation: t.clone(),
            shipped: t,
            against_default: None,
        }
    }
}

/// How a binary model's L2 strength was chosen (window protocol): every candidate's calibration
/// log loss, and the best one weighed against the stated default.
#[derive(Clone, Debug, Default)]
pub struct AlphaChoice {
    pub tried: Vec<Candidate>,
    pub against_default: Option<serde_json::Value>,
}

/// The stated default L2 strength of a model with (`centred`) or without a penalty centre.
pub fn default_alpha(centred: bool) -> f64 {
    if centred {
        DEFAULT_CENTRED_ALPHA
    } else {
        DEFAULT_ALPHA
    }
}

/// The L2 strength chosen on the calibration rows with models fitted on the fit rows (the
/// strongest penalty first, each fit starting from the previous): the stated default unless the
/// candidate with the lowest calibration log loss beats it by more than
/// [`selection::MIN_STANDARD_ERRORS`] standard errors of the per-row differences
/// ([`selection::beats_default`]); with that model, every candidate's score and the comparison.
fn choose_alpha(
    p: &Prepared,
    y_fit: &[bool],
    y_cal: &[bool],
    centres: &Centres,
    start: Option<&BinaryStarts>,
) -> Result<(f64, Linear, AlphaChoice, logistic::AlphaFits)> {
    let centred = centres.fit.is_some();
    let mut tried = Vec::new();
    let mut fits = Vec::new();
    let mut losses: Vec<Vec<f64>> = Vec::new();
    let mut previous: Option<Linear> = None;
    for &alpha in logistic::alphas(centred).iter().rev() {
        let earlier = start.and_then(|s| s.for_alpha(alpha));
        let warm = earlier.or(previous.as_ref());
        let polish = Polish::from_earlier(earlier);
        let m = logistic::fit_binary(&p.x_fit, y_fit, alpha, centres.fit.as_ref(), warm, polish)?;
        let ll: Vec<f64> = logistic::scores(&m, &p.x_cal)
            .into_iter()
            .zip(y_cal)
            .map(|(z, &e)| link::binary_log_loss(link::sigmoid(z), e))
            .collect();
        let mean = ll.iter().sum::<f64>() / ll.len().max(1) as f64;
        tried.push(Candidate {
            value: alpha,
            score: crate::stats::metrics::round(mean),
        });
        losses.push(ll);
        previous = Some(m.clone());
        fits.push((alpha, m));
    }
    // The lowest mean log loss (ties: the stronger penalty, tried first).
    let mean = |l: &[f64]| l.iter().sum::<f64>() / l.len().max(1) as f64;
    let best = (0..losses.len())
        .reduce(|b, i| {
            if mean(&losses[i]) < mean(&losses[b]) - 1e-9 {
                i
            } else {
                b
            }
        })
        .ok_or_else(|| anyhow::anyhow!("no regularisation candidate"))?;
    let default = default_alpha(centred);
    let d = fits
        .iter()
        .position(|(a, _)| *a == default)
        .ok_or_else(|| anyhow::anyhow!("the default L2 strength is not a candidate"))?;
    let weighed = Weighed::new(&losses[d], &losses[best]);
    let chosen = if weighed.replaces { best } else { d };
    let against_default = weighed.json(default, fits[best].0);
    let m = fits[chosen].1.clone();
    Ok((
        fits[chosen].0,
        m,
        AlphaChoice {
            tried,
            against_default: Some(against_default),
        },
        fits,
    ))
}

/// A candidate weighed against the stated default on the same held-out rows
/// ([`selection::beats_default`] on the per-row losses).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weighed {
    /// The candidate beats the default by more than [`selection::MIN_STANDARD_ERRORS`]
    /// standard errors.
    pub replaces: bool,
    /// Mean per-row loss of the default minus the candidate's (positive: the candidate is better).
    pub mean_improvement: f64,
    pub standard_error: f64,
}

impl Weighed {
    /// Weighs per-row losses (lower is better) of the default and of a candidate, row by row.
    pub fn new(default_losses: &[f64], candidate_losses: &[f64]) -> Weighed {
        let differences: Vec<f64> = default_losses
            .iter()
            .zip(candidate_losses)
            .map(|(d, c)| d - c)
            .collect();
        let (replaces, mean_improvement, standard_error) = selection::beats_default(&differences);
        Weighed {
            replaces,
            mean_improvement,
            standard_error,
        }
    }

    /// What metrics.json records about the comparison.
    pub fn json(&self, default: impl Serialize, candidate: impl Serialize) -> serde_json::Value {
        serde_json::json!({
            "default": default,
            "candidate": candidate,
            "mean_log_loss_improvement": crate::stats::metrics::round(self.mean_improvement),
            "standard_error": crate::stats::metrics::round(self.standard_error),
            "min_standard_errors": selection::MIN_STANDARD_ERRORS,
            "candidate_replaces_default": self.replaces,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::link::logit;

    /// A window-protocol plan that chooses (its splits are not used by the calibrators).
    fn plan() -> Plan {
        Plan {
            protocol: Protocol::Window,
            splits: Splits {
                fit: 0..0,
                cal: 0..0,
                val: 0..0,
            },
            choose: true,
            fallback: None,
            season_size: None,
        }
    }

    /// A reproducible uniform generator on (0, 1).
    fn uniforms(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
    }

    /// `n` reproducible matches: each one's true (home, draw, away) probabilities and outcome.
    fn matches(n: usize, seed: u64) -> Vec<([f64; 3], usize)> {
        let mut uniform = uniforms(seed);
        (0..n)
            .map(|_| {
                let home = 0.25 + 0.4 * uniform();
                let p = [home, 0.27, 0.73 - home];
                let u = uniform();
                let k = if u < p[0] {
                    0
                } else if u < p[0] + p[1] {
                    1
                } else {
                    2
                };
                (p, k)
            })
            .collect()
    }

    /// One-vs-rest logits whose temperature-1 probabilities are `p` sharpened: p^s normalised.
    fn logits(m: &[([f64; 3], usize)], s: f64) -> (Vec<[f64; 3]>, Vec<usize>) {
        let z = m
            .iter()
            .map(|(p, _)| {
                let q = p.map(|x| x.powf(s));
                let total: f64 = q.iter().sum();
                q.map(|x| logit(x / total))
            })
            .collect();
        (z, m.iter().map(|(_, k)| *k).collect())
    }

    #[test]
    fn a_temperature_replaces_the_identity_only_when_it_beats_it_on_later_rows() {
        let (cal, val) = (matches(2000, 1), matches(2000, 2));
        // Calibrated logits: the fitted temperature is near 1 and does not beat 1 on later
        // rows, so exactly 1 is used, for validation and shipped.
        let (zc, yc) = logits(&cal, 1.0);
        let (zv, yv) = logits(&val, 1.0);
        let c = plan()
            .temperatures((&zc, &yc), (&zv, &yv), [None, None])
            .unwrap();
        let against = c.against_default.unwrap();
        assert_eq!(against["candidate_replaces_default"], false, "{against}");
        assert_ne!(against["candidate"], 1.0);
        assert_eq!((c.for_validation, c.shipped), (1.0, 1.0));
        // Logits three times too sharp: a temperature near 1/3 beats 1 by far more than two
        // standard errors and replaces it. The temperature weighed (fitted on the calibration
        // rows) is the one used for validation and shipped, not a refit on both windows.
        let (zc, yc) = logits(&cal, 3.0);
        let (zv, yv) = logits(&val, 3.0);
        let c = plan()
            .temperatures((&zc, &yc), (&zv, &yv), [None, None])
            .unwrap();
        let against = c.against_default.unwrap();
        assert_eq!(against["candidate_replaces_default"], true);
        let on_cal = logistic::fit_temperature(&zc, &yc, None).unwrap();
        assert!((on_cal - 1.0 / 3.0).abs() < 0.05, "{on_cal}");
        assert_eq!((c.for_validation, c.shipped), (on_cal, on_cal));
        assert_eq!(against["candidate"], crate::stats::metrics::round(on_cal));
        let all: Vec<[f64; 3]> = zc.iter().chain(&zv).copied().collect();
        let y: Vec<usize> = yc.iter().chain(&yv).copied().collect();
        assert_ne!(
            c.shipped,
            logistic::fit_temperature(&all, &y, None).unwrap(),
            "not refitted on the validation rows that decided"
        );
        // The season protocol weighs nothing and ships the refit on both windows.
        let mut season = plan();
        season.protocol = Protocol::Season;
        let c = season
            .temperatures((&zc, &yc), (&zv, &yv), [None, None])
            .unwrap();
        assert!(c.against_default.is_none());
        assert_eq!(c.for_validation, on_cal);
        assert_eq!(
            c.shipped,
            logistic::fit_temperature(&all, &y, None).unwrap()
        );
        // Without enough rows to choose on, the default and no comparison.
        let mut few = plan();
        few.choose = false;
        let c = few
            .temperatures((&zc, &yc), (&zv, &yv), [None, None])
            .unwrap();
        assert_eq!((c.for_validation, c.shipped), (1.0, 1.0));
        assert!(c.against_default.is_none());
    }

    #[test]
    fn platt_scaling_replaces_the_identity_only_when_it_beats_it_on_later_rows() {
        // Draws with probability between 0.15 and 0.40 and the draw logit `stretch` times too
        // far from the logit of 0.27.
        let sample = |n: usize, seed: u64, stretch: f64| -> (Vec<f64>, Vec<bool>) {
            let mut uniform = uniforms(seed);
            let centre = logit(0.27);
            (0..n)
                .map(|_| {
                    let q = 0.15 + 0.25 * uniform();
                    let z = centre + stretch * (logit(q) - centre);
                    (z, uniform() < q)
                })
                .unzip()
        };
        let (zc, yc) = sample(3000, 3, 1.0);
        let (zv, yv) = sample(3000, 4, 1.0);
        let c = plan().platts((&zc, &yc), (&zv, &yv), [None, None]).unwrap();
        assert_eq!(
            c.against_default.unwrap()["candidate_replaces_default"],
            false
        );
        assert_eq!(
            (c.for_validation, c.shipped),
            (DEFAULT_PLATT, DEFAULT_PLATT)
        );
        let (zc, yc) = sample(3000, 3, 3.0);
        let (zv, yv) = sample(3000, 4, 3.0);
        let c = plan().platts((&zc, &yc), (&zv, &yv), [None, None]).unwrap();
        assert_eq!(
            c.against_default.unwrap()["candidate_replaces_default"],
            true
        );
        assert!((c.shipped.a - 1.0 / 3.0).abs() < 0.1, "{:?}", c.shipped);
        // What ships is the scaling weighed: fitted on the calibration rows only.
        let on_cal = logistic::fit_platt(&zc, &yc, None).unwrap();
        assert_eq!((c.for_validation, c.shipped), (on_cal.clone(), on_cal));
    }

    #[test]
    fn weighed_follows_the_two_standard_error_rule() {
        // The candidate better by 0.01 a row on average, sd 0.1 over 100 rows: one SE, kept out.
        let default: Vec<f64> = (0..100)
            .map(|i| if i % 2 == 0 { 0.7 } else { 0.5 })
            .collect();
        let candidate: Vec<f64> = default.iter().map(|d| d - 0.01).collect();
        let noisy: Vec<f64> = candidate
            .iter()
            .enumerate()
            .map(|(i, c)| if i % 4 < 2 { c + 0.1 } else { c - 0.1 })
            .collect();
        let w = Weighed::new(&default, &noisy);
        assert!(!w.replaces);
        assert!((w.mean_improvement - 0.01).abs() < 1e-12);
        // The same improvement on every row: no spread, it replaces.
        let w = Weighed::new(&default, &candidate);
        assert!(w.replaces, "{w:?}");
        let j = w.json(DEFAULT_ALPHA, 100.0);
        assert_eq!(j["default"], 10.0);
        assert_eq!(j["candidate"], 100.0);
        assert_eq!(j["candidate_replaces_default"], true);
    }
}
