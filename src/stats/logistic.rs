//! Logistic-regression plumbing shared by the model types: standardisation, linfa-logistic fits
//! turned into plain coefficient vectors (what the pickles store), multinomial calibration and
//! Platt scaling, and the time-ordered choice of the L2 strength. Keeping the fitted models as
//! plain numbers makes predictions independent of linfa's types and the files readable anywhere.

use anyhow::{anyhow, bail, Context, Result};
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ShapeBuilder};
use serde::{Deserialize, Serialize};

use crate::stats::link::{log_sigmoid, logit, mean_binary_log_loss, neg_log, sigmoid};
use crate::stats::{lanes, linalg};

/// Per-feature mean and standard deviation of the training rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standardiser {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Standardiser {
    /// Fits on `rows` (row-major, `width` values a row). Constant columns get std 1.
    pub fn fit(rows: &[f64], width: usize) -> Standardiser {
        wide::run(
            #[inline(always)]
            || Standardiser::fit_rows(rows, width),
        )
    }

    #[inline(always)]
    fn fit_rows(rows: &[f64], width: usize) -> Standardiser {
        let rows = rows.chunks_exact(width.max(1));
        let n = rows.len().max(1) as f64;
        let mut mean = vec![0.0; width];
        for r in rows.clone() {
            for (m, v) in mean.iter_mut().zip(r) {
                *m += v / n;
            }
        }
        let mut var = vec![0.0; width];
        for r in rows {
            for ((s, v), m) in var.iter_mut().zip(r).zip(&mean) {
                *s += (v - m) * (v - m) / n;
            }
        }
        let std = var
            .into_iter()
            .map(|v| if v.sqrt() > 1e-9 { v.sqrt() } else { 1.0 })
            .collect();
        Standardiser { mean, std }
    }

    pub fn apply(&self, row: &[f64]) -> Vec<f64> {
        row.iter()
            .zip(self.mean.iter().zip(&self.std))
            .map(|(v, (m, s))| (v - m) / s)
            .collect()
    }

    /// The standardised matrix of `rows` (row-major, as wide as the standardiser).
    pub fn matrix(&self, rows: &[f64]) -> Result<Array2<f64>> {
        let width = self.mean.len();
        let n = rows.len().checked_div(width).unwrap_or(0);
        let mut flat = Vec::with_capacity(rows.len());
        wide::run(
            #[inline(always)]
            || {
                for r in rows.chunks_exact(width.max(1)) {
                    let scale = self.mean.iter().zip(&self.std);
                    flat.extend(r.iter().zip(scale).map(|(v, (m, s))| (v - m) / s));
                }
            },
        );
        Array2::from_shape_vec((n, width), flat).context("building a feature matrix")
    }
}

/// Where the L2 penalty of a binary model is centred: on the model whose logit is the raw
/// feature `feature` (a log-odds, e.g. the market's) as it is, so that a strong penalty means
/// "that log-odds" instead of "the base rate". On standardised features that model has the
/// feature's standard deviation s as its coefficient and the feature's mean m as its intercept
/// (s (x - m) / s + m = x). Rows flagged by the 0/1 feature `absent` (whose `feature` is 0) get
/// the mean of `feature` over the other rows, L = m / (1 - a) with a the flag's mean, instead:
/// coefficient L times the flag's standard deviation on the flag, and intercept L. The fitted
/// model stays a plain linear model on the same features: only the penalty changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PenaltyCentre {
    pub feature: usize,
    pub absent: Option<usize>,
}

impl PenaltyCentre {
    /// The centre model under `std` (the standardiser of the rows fitted).
    pub fn model(&self, std: &Standardiser) -> Linear {
        let mut coef = vec![0.0; std.mean.len()];
        coef[self.feature] = std.std[self.feature];
        let mut intercept = std.mean[self.feature];
        if let Some(a) = self.absent {
            let present = 1.0 - std.mean[a];
            if present > 0.0 {
                intercept = std.mean[self.feature] / present;
                coef[a] = std.std[a] * intercept;
            }
        }
        Linear { coef, intercept }
    }
}

/// A fitted binary logistic model on standardised features: P = sigmoid(intercept + coef . x).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Linear {
    pub coef: Vec<f64>,
    pub intercept: f64,
}

impl Linear {
    /// linfa's fitted model in our convention (class `1` = `true` is the positive class; linfa
    /// labels the larger class positive, so its parameters may be ours times -1).
    fn from_linfa(fitted: &linfa_logistic::FittedLogisticRegression<f64, usize>) -> Linear {
        let sign = if fitted.labels().pos.class == 1 {
            1.0
        } else {
            -1.0
        };
        Linear {
            coef: fitted.params().iter().map(|c| sign * c).collect(),
            intercept: sign * fitted.intercept(),
        }
    }

    pub fn score(&self, x: &[f64]) -> f64 {
        self.intercept + self.coef.iter().zip(x).map(|(c, v)| c * v).sum::<f64>()
    }
}

/// A Newton step predicted to lower the logistic objective by less than this is taken whole.
const SURE_STEP: f64 = 1e-8;

/// linfa-logistic's stopping rule: the L2 norm of the gradient of the summed, penalised loss.
const GRADIENT_TOLERANCE: f64 = 1e-3;

/// How Newton's polishing step (the one taken once the gradient is within the target) is
/// computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polish {
    /// With the Hessian at its own point: quadratic convergence to rounding level (every fit
    /// that does not start from an earlier training's fit, so a whole run's models are what
    /// they were, bit for bit).
    Exact,
    /// With the previous step's Hessian when that step is sure (a refit from an earlier
    /// training's fit of the same stage). From a gradient below 1e-6, a step with a Hessian
    /// that moved by a relative ~1e-5 over the previous step leaves a gradient ~1e-11: the
    /// probabilities differ from the exact step's by far less than 1e-9.
    Chord,
}

impl Polish {
    /// [`Polish::Chord`] for a fit starting from an earlier training's fit (`earlier`), else
    /// [`Polish::Exact`].
    pub fn from_earlier(earlier: Option<&Linear>) -> Polish {
        if earlier.is_some() {
            Polish::Chord
        } else {
            Polish::Exact
        }
    }
}

/// Fits a binary L2 logistic regression with linfa-logistic (`alpha` weights the penalty on the
/// summed log loss; the intercept is not penalised). With `centre`, the penalty is
/// alpha/2 (|coef - centre.coef|^2 + (intercept - centre.intercept)^2): it pulls the model
/// towards `centre` (see [`PenaltyCentre`]), its level included, instead of the coefficients
/// towards zero.
///
/// The model is the optimum that [`newton_optimum`] reaches in a few exact Newton steps (from
/// `warm`, a model of the same features, when given, else cold): on these small, often nearly
/// collinear problems linfa's L-BFGS alone needs tens of iterations, each one an exp and a log
/// per row. Newton's point meets linfa's own stopping rule a thousand times over, so linfa would
/// return it unchanged; linfa runs (from `warm` or zero) only if Newton fails, which it never
/// has on real data.
pub fn fit_binary(
    x: &Array2<f64>,
    y: &[bool],
    alpha: f64,
    centre: Option<&Linear>,
    warm: Option<&Linear>,
    polish: Polish,
) -> Result<Linear> {
    if x.nrows() != y.len() {
        bail!("{} rows but {} labels", x.nrows(), y.len());
    }
    if centre.is_some_and(|c| c.coef.len() != x.ncols()) {
        bail!(
            "a penalty centre of the wrong width for {} features",
            x.ncols()
        );
    }
    let pos = y.iter().filter(|&&b| b).count();
    if pos == 0 || pos == y.len() {
        bail!("only one class in {} training rows", y.len());
    }
    let warm = warm.filter(|w| w.coef.len() == x.ncols());
    let start = newton_optimum(x, y, alpha, centre, warm, polish);
    // Newton's point meets a gradient tolerance 1000 times tighter than linfa's, and linfa
    // returns a start that meets its own unchanged (checked: every model of a season's weekly
    // backtest byte-identical either way), so linfa only runs when Newton did not converge.
    if let Some(optimum) = start {
        return Ok(optimum);
    }
    linfa_fit(x, y, alpha, centre, warm)
}

/// linfa-logistic's L-BFGS fit, when Newton did not converge. linfa penalises the coefficients
/// towards zero and has no offset, so a fit with a penalty centre is refused rather than
/// silently fitted towards zero (a different model).
fn linfa_fit(
    x: &Array2<f64>,
    y: &[bool],
    alpha: f64,
    centre: Option<&Linear>,
    warm: Option<&Linear>,
) -> Result<Linear> {
    if centre.is_some() {
        bail!(
            "a logistic fit with a penalty centre did not converge by Newton's method, and \
             the fallback solver (linfa-logistic) cannot fit a penalty centre: refused"
        );
    }
    let pos = y.iter().filter(|&&b| b).count();
    let targets: Array1<usize> = y.iter().map(|&b| b as usize).collect();
    // Column-major: linfa's gradient is X^T r, which ndarray (without BLAS) computes as one dot
    // product per row of X^T, i.e. per column of X; contiguous columns make those dot products
    // run over contiguous memory instead of striding across rows.
    let mut columns = Array2::<f64>::zeros(x.raw_dim().f());
    columns.assign(x);
    let ds = Dataset::new(columns, targets);
    let mut params = LogisticRegression::default()
        .alpha(alpha)
        .max_iterations(200)
        .gradient_tolerance(GRADIENT_TOLERANCE);
    if let Some(w) = warm {
        // linfa labels the larger class +1 (on a tie, the class of the first row); its
        // parameters are ours times `sign`.
        let class_one_positive = 2 * pos > y.len() || (2 * pos == y.len() && y[0]);
        let sign = if class_one_positive { 1.0 } else { -1.0 };
        let mut init: Vec<f64> = w.coef.iter().map(|c| sign * c).collect();
        init.push(sign * w.intercept);
        params = params.initial_params(Array1::from(init));
    }
    let fitted = params
        .fit(&ds)
        .map_err(|e| anyhow!("logistic regression failed: {e}"))?;
    let out = Linear::from_linfa(&fitted);
    if !out.intercept.is_finite() || out.coef.iter().any(|c| !c.is_finite()) {
        bail!("logistic regression diverged");
    }
    Ok(out)
}

/// One pass over the rows at a point: each row's linear predictor `z`, `exp(-|z|)` and
/// probability, and the summed gradient of the data term. The log loss at the same point follows
/// from the kept values without another `exp`, so a line search's accepted point is also the
/// next Newton step's gradient (the same arithmetic, in the same order, as computing each
/// separately: the results are bit for bit those of separate passes).
struct RowPass {
    z: Vec<f64>,
    e: Vec<f64>,
    mu: Vec<f64>,
    /// Gradient of the summed log loss (no penalty), `p` coefficients then the intercept.
    grad: Vec<f64>,
    /// The rows as the lane pass reads them, when it runs in lanes (see [`RowPass::lanes`]).
    columns: Option<lanes::Columns>,
}

/// A row's linear predictor `z` with `exp(-|z|)` and its probability: `link::sigmoid` and
/// `link::logit_log_loss` with their one shared exp.
#[inline(always)]
fn row_link(z: f64) -> (f64, f64, f64) {
    let e = (-z.abs()).exp();
    let mu = if z >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    (z, e, mu)
}

impl RowPass {
    fn new(n: usize, d: usize) -> RowPass {
        RowPass {
            z: vec![0.0; n],
            e: vec![0.0; n],
            mu: vec![0.0; n],
            grad: vec![0.0; d],
            columns: None,
        }
    }

    /// From now on, evaluates rows of a shipped width in lanes ([`lanes`]: another summation
    /// order and a vectorised `exp`, for refits from an earlier training's fit only).
    fn lanes(mut self, rows: &[f64], y: &[bool], p: usize) -> RowPass {
        if lanes::WIDTHS.contains(&p) {
            let columns = lanes::Columns::new(rows, y, p);
            // The padding rows' values follow the rows' (every user zips with the rows).
            for kept in [&mut self.z, &mut self.e, &mut self.mu] {
                kept.resize(columns.stride, 0.0);
            }
            self.columns = Some(columns);
        }
        self
    }

    /// Evaluates every row at `beta` (`p` coefficients then the intercept).
    fn evaluate(&mut self, rows: &[f64], y: &[bool], beta: &[f64]) {
        let p = beta.len() - 1;
        if let Some(cols) = &self.columns {
            let kept = lanes::Kept {
                z: &mut self.z,
                e: &mut self.e,
                mu: &mut self.mu,
                grad: &mut self.grad,
            };
            return wide::run(
                #[inline(always)]
                || match p {
                    1 => lanes::pass_of::<1>(cols, beta, kept),
                    3 => lanes::pass_of::<3>(cols, beta, kept),
                    4 => lanes::pass_of::<4>(cols, beta, kept),
                    7 => lanes::pass_of::<7>(cols, beta, kept),
                    // 8, the last of `lanes::WIDTHS`: `RowPass::lanes` keeps columns of those only.
                    _ => lanes::pass_of::<8>(cols, beta, kept),
                },
            );
        }
        wide::run(
            #[inline(always)]
            || match p {
                1 => self.evaluate_of::<1>(rows, y, beta),
                3 => self.evaluate_of::<3>(rows, y, beta),
                4 => self.evaluate_of::<4>(rows, y, beta),
                7 => self.evaluate_of::<7>(rows, y, beta),
                8 => self.evaluate_of::<8>(rows, y, beta),
                _ => self.evaluate_any(rows, y, beta),
            },
        )
    }

    /// [`RowPass::evaluate`] with the width known (the loops unroll).
    #[inline(always)]
    fn evaluate_of<const P: usize>(&mut self, rows: &[f64], y: &[bool], beta: &[f64]) {
        let b0 = beta[P];
        let beta: &[f64; P] = beta[..P].try_into().expect("P coefficients");
        let mut grad = [0.0; P];
        let mut grad0 = 0.0;
        let rows = rows.chunks_exact(P).zip(y);
        let kept = self.z.iter_mut().zip(&mut self.e).zip(&mut self.mu);
        for ((row, &yi), ((z_i, e_i), mu_i)) in rows.zip(kept) {
            let row: &[f64; P] = row.try_into().expect("rows of width P");
            // From -0.0, as `Iterator::sum` of floats starts.
            let mut dot = -0.0;
            for j in 0..P {
                dot += row[j] * beta[j];
            }
            let (z, e, mu) = row_link(b0 + dot);
            (*z_i, *e_i, *mu_i) = (z, e, mu);
            let r = mu - if yi { 1.0 } else { 0.0 };
            for j in 0..P {
                grad[j] += r * row[j];
            }
            grad0 += r;
        }
        self.grad[..P].copy_from_slice(&grad);
        self.grad[P] = grad0;
    }

    #[inline(always)]
    fn evaluate_any(&mut self, rows: &[f64], y: &[bool], beta: &[f64]) {
        let p = beta.len() - 1;
        self.grad.fill(0.0);
        let grad = &mut self.grad;
        let rows = rows.chunks_exact(p).zip(y);
        let kept = self.z.iter_mut().zip(&mut self.e).zip(&mut self.mu);
        for ((row, &yi), ((z_i, e_i), mu_i)) in rows.zip(kept) {
            let z = beta[p] + row.iter().zip(beta).map(|(v, b)| v * b).sum::<f64>();
            let (z, e, mu) = row_link(z);
            (*z_i, *e_i, *mu_i) = (z, e, mu);
            let r = mu - if yi { 1.0 } else { 0.0 };
            for (g, &v) in grad[..p].iter_mut().zip(row) {
                *g += r * v;
            }
            grad[p] += r;
        }
    }

    /// The penalised Hessian's lower triangle at the evaluated point ([`hessian`]; in lanes
    /// when the pass runs in lanes).
    fn hessian(&self, rows: &[f64], alpha: f64, p: usize) -> Vec<f64> {
        let Some(cols) = &self.columns else {
            return hessian(rows, &self.mu, alpha, p);
        };
        let d = p + 1;
        let mut hess = vec![0.0; d * d];
        wide::run(
            #[inline(always)]
            || match p {
                1 => lanes::hessian_of::<1>(cols, &self.mu, &mut hess),
                3 => lanes::hessian_of::<3>(cols, &self.mu, &mut hess),
                4 => lanes::hessian_of::<4>(cols, &self.mu, &mut hess),
                7 => lanes::hessian_of::<7>(cols, &self.mu, &mut hess),
                // 8, the last of `lanes::WIDTHS`: `RowPass::lanes` keeps columns of those only.
                _ => lanes::hessian_of::<8>(cols, &self.mu, &mut hess),
            },
        );
        for j in 0..p {
            hess[j * d + j] += alpha;
        }
        hess
    }

    /// The summed log loss at the evaluated point (`link::logit_log_loss` per row).
    fn data_loss(&self, y: &[bool]) -> f64 {
        self.z
            .iter()
            .zip(&self.e)
            .zip(y)
            .map(|((&z, &e), &yi)| z.max(0.0) + e.ln_1p() - if yi { z } else { 0.0 })
            .sum()
    }
}

/// The minimum of linfa-logistic's objective, sum of log losses + alpha/2 |coef|^2 (intercept
/// not penalised), or with `centre` of sum of log losses + alpha/2 |beta - centre|^2 (the
/// intercept too, see [`fit_binary`]), by Newton's method with the exact Hessian and step
/// halving, from `start` (or zero coefficients and the intercept of the base rate). `None` unless the gradient norm
/// ends far below linfa's tolerance. With at most a dozen columns each step is one pass over
/// the rows plus a Cholesky solve of a 13x13 system at most.
pub fn newton_optimum(
    x: &Array2<f64>,
    y: &[bool],
    alpha: f64,
    centre: Option<&Linear>,
    start: Option<&Linear>,
    polish: Polish,
) -> Option<Linear> {
    let (n, p) = x.dim();
    let d = p + 1;
    if n == 0 || p == 0 || n != y.len() || centre.is_some_and(|c| c.coef.len() != p) {
        return None;
    }
    let penalty = Penalty::new(alpha, centre, p);
    let x = x.as_standard_layout();
    let rows = x.as_slice()?;
    let mut beta = starting_point(start, y, p);
    // The rows evaluated at `beta` (kept so by every step below).
    let pass = match polish {
        Polish::Exact => RowPass::new(n, d),
        Polish::Chord => RowPass::new(n, d).lanes(rows, y, p),
    };
    let pass = std::cell::RefCell::new(pass);
    pass.borrow_mut().evaluate(rows, y, &beta);
    let target = GRADIENT_TOLERANCE * 1e-3;
    // The value at the current point, summed only when a line search needs it.
    let mut current = f64::NAN;
    let mut work = Vec::with_capacity(d * d);
    let mut polished = false;
    // The Hessian of the previous step (for a chord polishing step).
    let mut last_hess: Option<Vec<f64>> = None;
    for _ in 0..50 {
        // The gradient first (a start at the optimum needs nothing more).
        let mut grad = pass.borrow().grad.clone();
        penalty.add_gradient(&beta, &mut grad);
        let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        if !norm.is_finite() {
            return None;
        }
        let as_linear = |beta: &[f64]| Linear {
            coef: beta[..p].to_vec(),
            intercept: beta[p],
        };
        // Within the target, one more Newton step (quadratic convergence takes the error to
        // rounding level, so where the fit started no longer shows in its result); a point
        // already at rounding level (a warm start on unchanged rows) is the optimum as it is.
        if norm < target * 1e-6 || (norm < target && polished) {
            return Some(as_linear(&beta));
        }
        let within = norm < target;
        polished |= within;
        let decrease_of = |dir: &[f64]| -grad.iter().zip(dir).map(|(g, s)| g * s).sum::<f64>();
        if let (Some(h), true, Polish::Chord) = (&last_hess, within, polish) {
            let direction = linalg::newton_direction(h, &grad, d, &mut work);
            if (0.0..SURE_STEP).contains(&decrease_of(&direction)) {
                let stepped = beta.iter().zip(&direction).map(|(b, s)| b + 1.0 * s);
                return Some(as_linear(&stepped.collect::<Vec<f64>>()));
            }
        }
        let mut hess = pass.borrow().hessian(rows, alpha, p);
        penalty.add_intercept_curvature(&mut hess);
        let direction = linalg::newton_direction(&hess, &grad, d, &mut work);
        // A step whose predicted decrease is this small is one the line search accepts whole
        // (it tolerates rounding noise of 1e-12 of the value): taken without evaluating it.
        let decrease = decrease_of(&direction);
        let sure = (0.0..SURE_STEP).contains(&decrease)
            || (decrease > 0.0 && accepts_whole_step(rows, &hess, &direction, decrease));
        last_hess = Some(hess);
        if sure {
            for (b, s) in beta.iter_mut().zip(&direction) {
                *b += 1.0 * s;
            }
            // The polishing step (taken from within the target, where Newton's error squares):
            // its point is the optimum to rounding level, returned without a pass to check it.
            if within {
                return Some(as_linear(&beta));
            }
            pass.borrow_mut().evaluate(rows, y, &beta);
            current = f64::NAN;
            continue;
        }
        if current.is_nan() {
            current = pass.borrow().data_loss(y) + penalty.value(&beta);
        }
        // Each trial point is evaluated whole: the accepted one (the last evaluated) leaves
        // its gradient and probabilities in `pass` for the next step.
        let value = |b: &[f64]| {
            let mut at = pass.borrow_mut();
            at.evaluate(rows, y, b);
            at.data_loss(y) + penalty.value(b)
        };
        match linalg::line_search(value, &beta, current, &grad, &direction) {
            Some((next, value)) => {
                beta = next;
                current = value;
            }
            // No decrease at any step length: at the optimum up to rounding, or stuck.
            None => return (norm < GRADIENT_TOLERANCE * 0.1).then(|| as_linear(&beta)),
        }
    }
    None
}

/// The L2 penalty of [`newton_optimum`]: alpha/2 |coef - centre|^2, plus alpha/2 (intercept -
/// centre's intercept)^2 with a centre. Uncentred, the coefficients are pulled towards zero
/// (b - 0.0 is b exactly, so such a fit is bit for bit the plain one) and the intercept is free.
struct Penalty {
    alpha: f64,
    coef: Vec<f64>,
    intercept: Option<f64>,
}

impl Penalty {
    fn new(alpha: f64, centre: Option<&Linear>, p: usize) -> Penalty {
        let (coef, intercept) = match centre {
            Some(c) => (c.coef.clone(), Some(c.intercept)),
            None => (vec![0.0; p], None),
        };
        Penalty {
            alpha,
            coef,
            intercept,
        }
    }

    fn value(&self, beta: &[f64]) -> f64 {
        let p = self.coef.len();
        let off = beta[..p]
            .iter()
            .zip(&self.coef)
            .map(|(b, c)| (b - c) * (b - c));
        let level = self
            .intercept
            .map_or(0.0, |c| (beta[p] - c) * (beta[p] - c));
        0.5 * self.alpha * (off.sum::<f64>() + level)
    }

    fn add_gradient(&self, beta: &[f64], grad: &mut [f64]) {
        let p = self.coef.len();
        for j in 0..p {
            grad[j] += self.alpha * (beta[j] - self.coef[j]);
        }
        if let Some(c) = self.intercept {
            grad[p] += self.alpha * (beta[p] - c);
        }
    }

    /// The intercept's penalty curvature (the coefficients' is already in [`hessian`]).
    fn add_intercept_curvature(&self, hess: &mut [f64]) {
        let p = self.coef.len();
        if self.intercept.is_some() {
            hess[p * (p + 1) + p] += self.alpha;
        }
    }
}

/// Newton's starting point: `start` when it fits `p` columns, else zero coefficients and the
/// intercept of the base rate.
fn starting_point(start: Option<&Linear>, y: &[bool], p: usize) -> Vec<f64> {
    let mut beta = vec![0.0; p + 1];
    match start {
        Some(w) if w.coef.len() == p => {
            beta[..p].copy_from_slice(&w.coef);
            beta[p] = w.intercept;
        }
        _ => {
            let n = y.len();
            let rate = (y.iter().filter(|&&b| b).count() as f64 / n as f64).clamp(1e-6, 1.0 - 1e-6);
            beta[p] = logit(rate);
        }
    }
    beta
}

/// Whether the line search is certain to accept the whole Newton step `direction` (predicted
/// decrease `decrease` = -g.d), so that evaluating the loss there can be skipped. The logistic
/// loss of a row changes its curvature along a step by at most a factor e^|x.d| (its third
/// derivative is bounded by |x.d| times its second), so with R the largest |x.d| over the rows,
/// f(b + d) <= f(b) + g.d + phi(R) d'Hd, phi(R) = (e^R - R - 1) / R^2 (the penalty is
/// quadratic, phi >= 1/2). When phi(R) d'Hd <= 0.9 (-g.d) the step lowers f by at least a tenth
/// of its prediction, a thousand times what the line search asks (1e-4), which also covers the
/// rounding of the two sums it would compare: it would accept the step as it is.
fn accepts_whole_step(rows: &[f64], hess: &[f64], direction: &[f64], decrease: f64) -> bool {
    let d = direction.len();
    let p = d - 1;
    // d'Hd from the lower triangle.
    let mut curvature = 0.0;
    for j in 0..d {
        for k in 0..j {
            curvature += 2.0 * direction[j] * hess[j * d + k] * direction[k];
        }
        curvature += direction[j] * hess[j * d + j] * direction[j];
    }
    if !(curvature.is_finite() && curvature > 0.0) {
        return false;
    }
    let reach = wide::run(
        #[inline(always)]
        || match p {
            1 => reach_of::<1>(rows, direction),
            3 => reach_of::<3>(rows, direction),
            4 => reach_of::<4>(rows, direction),
            7 => reach_of::<7>(rows, direction),
            8 => reach_of::<8>(rows, direction),
            _ => rows
                .chunks_exact(p)
                .map(|row| {
                    let dot = row.iter().zip(direction).map(|(v, s)| v * s).sum::<f64>();
                    (direction[p] + dot).abs()
                })
                .fold(0.0f64, f64::max),
        },
    );
    if !(reach.is_finite() && reach < 2.0) {
        return false;
    }
    let phi = if reach < 1e-4 {
        0.5 + reach / 6.0 + reach * reach / 12.0
    } else {
        (reach.exp_m1() - reach) / (reach * reach)
    };
    phi * curvature <= 0.9 * decrease
}

/// The largest |x.d| over the rows (`d`: `P` coefficients then the intercept), with the width
/// known (the loop unrolls); the sums of [`accepts_whole_step`]'s general loop, in its order.
#[inline(always)]
fn reach_of<const P: usize>(rows: &[f64], direction: &[f64]) -> f64 {
    let d0 = direction[P];
    let direction: &[f64; P] = direction[..P].try_into().expect("P coefficients");
    let mut reach = 0.0f64;
    for row in rows.chunks_exact(P) {
        let row: &[f64; P] = row.try_into().expect("rows of width P");
        let mut dot = -0.0;
        for j in 0..P {
            dot += row[j] * direction[j];
        }
        reach = reach.max((d0 + dot).abs());
    }
    reach
}

/// Lower triangle of the penalised Hessian (what the Cholesky reads) from each row's
/// probability `mu`: X^T diag(mu (1 - mu)) X with the intercept last, plus `alpha` on the
/// coefficients' diagonal.
fn hessian(rows: &[f64], mus: &[f64], alpha: f64, p: usize) -> Vec<f64> {
    let d = p + 1;
    let mut hess = vec![0.0; d * d];
    wide::run(
        #[inline(always)]
        || hessian_sums(&mut hess, rows, mus, p),
    );
    for j in 0..p {
        hess[j * d + j] += alpha;
    }
    hess
}

/// Adds each row's terms to the Hessian's lower triangle. Each entry sums its rows in row
/// order, as one loop per entry would; written as slices so the entries of a row are updated
/// together (vectorised), which does not reorder any sum. The widths of the shipped feature
/// sets get their own copy with the width known, so the loops unroll.
#[inline(always)]
fn hessian_sums(hess: &mut [f64], rows: &[f64], mus: &[f64], p: usize) {
    match p {
        1 => hessian_sums_of::<1>(hess, rows, mus),
        3 => hessian_sums_of::<3>(hess, rows, mus),
        4 => hessian_sums_of::<4>(hess, rows, mus),
        7 => hessian_sums_of::<7>(hess, rows, mus),
        8 => hessian_sums_of::<8>(hess, rows, mus),
        _ => hessian_sums_any(hess, rows, mus, p),
    }
}

#[inline(always)]
fn hessian_sums_of<const P: usize>(hess: &mut [f64], rows: &[f64], mus: &[f64]) {
    let d = P + 1;
    let hess = &mut hess[..d * d];
    for (row, &mu) in rows.chunks_exact(P).zip(mus) {
        let row: &[f64; P] = row.try_into().expect("rows of width P");
        let w = mu * (1.0 - mu);
        for j in 0..P {
            let wx = w * row[j];
            for k in 0..=j {
                hess[j * d + k] += wx * row[k];
            }
        }
        for k in 0..P {
            hess[P * d + k] += w * row[k];
        }
        hess[P * d + P] += w;
    }
}

#[inline(always)]
fn hessian_sums_any(hess: &mut [f64], rows: &[f64], mus: &[f64], p: usize) {
    let d = p + 1;
    for (row, &mu) in rows.chunks_exact(p).zip(mus) {
        let w = mu * (1.0 - mu);
        for j in 0..p {
            let wx = w * row[j];
            let entries = &mut hess[j * d..j * d + j + 1];
            for (h, &v) in entries.iter_mut().zip(&row[..=j]) {
                *h += wx * v;
            }
        }
        let last = &mut hess[p * d..p * d + p];
        for (h, &v) in last.iter_mut().zip(row) {
            *h += w * v;
        }
        hess[p * d + p] += w;
    }
}

// The row loops compiled twice, for the baseline x86-64 and for AVX2 (`linalg::wide`): bit for
// bit the same results.
use crate::stats::linalg::wide;

pub fn softmax3(h: [f64; 3]) -> [f64; 3] {
    let m = h[0].max(h[1]).max(h[2]);
    let e = [(h[0] - m).exp(), (h[1] - m).exp(), (h[2] - m).exp()];
    let s = e[0] + e[1] + e[2];
    let p = [e[0] / s, e[1] / s];
    // The last class takes the remainder so the vector sums to 1 up to one rounding.
    [p[0], p[1], 1.0 - p[0] - p[1]]
}

/// Platt scaling: P = sigmoid(a * z + b) on the model's logit `z`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
}

impl Platt {
    pub fn prob(&self, z: f64) -> f64 {
        sigmoid(self.a * z + self.b)
    }
}

/// Fits Platt scaling on logits `z`; from `start`'s parameters when given (a warm start).
pub fn fit_platt(z: &[f64], y: &[bool], start: Option<&Platt>) -> Result<Platt> {
    let x = Array2::from_shape_vec((z.len(), 1), z.to_vec()).context("Platt matrix")?;
    let start = start.map(|p| Linear {
        coef: vec![p.a],
        intercept: p.b,
    });
    let l = fit_binary(&x, y, 1e-3, None, start.as_ref(), Polish::Exact)?;
    let a = l.coef.first().copied().unwrap_or(1.0);
    Ok(Platt { a, b: l.intercept })
}

/// The L2 strengths tried (linfa's `alpha`, on the summed loss of standardised features).
pub const ALPHAS: &[f64] = &[1.0, 10.0, 100.0];

/// The L2 strengths tried for a model with a penalty centre, where a stronger penalty means
/// closer to the centre (the market) instead of closer to the base rates; chosen on the
/// backtests of 2015-16 to 2018-19 (docs/benchmarks.md).
pub const CENTRED_ALPHAS: &[f64] = &[1000.0, 10000.0, 100000.0];

/// The L2 strengths tried for a model with or without a penalty centre.
pub fn alphas(centred: bool) -> &'static [f64] {
    if centred {
        CENTRED_ALPHAS
    } else {
        ALPHAS
    }
}

/// Where the fits of one binary target start: the same target's fits in an earlier training
/// (a warm start; see [`fit_binary`]). A start changes where Newton begins, not the optimum.
#[derive(Clone, Debug, Default)]
pub struct BinaryStarts {
    /// The model fitted on `fit` rows with each alpha tried.
    pub fit: AlphaFits,
    /// The model fitted on `fit` + `cal` rows.
    pub fitcal: Option<Linear>,
    /// The model fitted on every row (what a version's file holds).
    pub final_model: Option<Linear>,
}

impl BinaryStarts {
    /// Every fit starting from one model: what a version's file offers (its final model).
    pub fn from_final(model: Linear) -> BinaryStarts {
        BinaryStarts {
            final_model: Some(model),
            ..BinaryStarts::default()
        }
    }

    /// The start of the fit with `alpha`: the earlier fit of that alpha, else the final model.
    pub fn for_alpha(&self, alpha: f64) -> Option<&Linear> {
        self.fit
            .iter()
            .find(|(a, _)| a.to_bits() == alpha.to_bits())
            .map(|(_, m)| m)
            .or(self.final_model.as_ref())
    }
}

/// The model fitted with each alpha tried.
pub type AlphaFits = Vec<(f64, Linear)>;

/// Chooses `alpha` for a binary model: fits on `fit` rows, scores log loss on `val` rows, keeps
/// the best (ties: the stronger penalty). Returns (alpha, model fitted on `fit`, the model of
/// every alpha tried). Each fit starts from `start`'s model of the same alpha when given, else
/// from the previous alpha's model (the first: cold).
pub fn choose_alpha(
    x_fit: &Array2<f64>,
    y_fit: &[bool],
    x_val: &Array2<f64>,
    y_val: &[bool],
    centre: Option<&Linear>,
    start: Option<&BinaryStarts>,
) -> Result<(f64, Linear, AlphaFits)> {
    let mut best: Option<(f64, f64, Linear)> = None;
    let mut tried: Vec<(f64, Linear)> = Vec::new();
    for &alpha in alphas(centre.is_some()).iter().rev() {
        let earlier = start.and_then(|s| s.for_alpha(alpha));
        let warm = earlier.or(tried.last().map(|(_, m)| m));
        let m = fit_binary(
            x_fit,
            y_fit,
            alpha,
            centre,
            warm,
            Polish::from_earlier(earlier),
        )?;
        tried.push((alpha, m.clone()));
        let p: Vec<f64> = scores(&m, x_val).into_iter().map(sigmoid).collect();
        let ll = mean_binary_log_loss(&p, y_val);
        if best.as_ref().is_none_or(|b| ll < b.1 - 1e-9) {
            best = Some((alpha, ll, m));
        }
    }
    best.map(|(a, _, m)| (a, m, tried))
        .ok_or_else(|| anyhow!("no regularisation candidate"))
}

/// The model's logit for every row of `x`.
pub fn scores(m: &Linear, x: &Array2<f64>) -> Vec<f64> {
    let coef = Array1::from(m.coef.clone());
    (x.dot(&coef) + m.intercept).to_vec()
}

/// Time-ordered split of the (date-sorted) training rows: `fit` rows train the binary models
/// while the L2 strength is chosen and the calibrator is fitted on `cal`; `val` is held out for
/// the reported validation scores. Nothing is shuffled.
#[derive(Clone, Debug)]
pub struct Splits {
    pub fit: std::ops::Range<usize>,
    pub cal: std::ops::Range<usize>,
    pub val: std::ops::Range<usize>,
}

impl Splits {
    /// The latest season is `val` and the one before `cal` when they hold at least 100 rows each
    /// and leave 150 to fit on; otherwise the latest 20% by date is `val` and the 20% before it
    /// `cal`.
    pub fn by_season(seasons: &[i32]) -> Result<Splits> {
        let n = seasons.len();
        if n < 60 {
            bail!("only {n} matches with enough history to train on");
        }
        let start_of = |end: usize| {
            let s = seasons[end - 1];
            seasons[..end].partition_point(|&x| x < s)
        };
        let val_start = start_of(n);
        if val_start >= 250 && n - val_start >= 100 {
            let cal_start = start_of(val_start);
            if cal_start >= 150 && val_start - cal_start >= 100 {
                return Ok(Splits {
                    fit: 0..cal_start,
                    cal: cal_start..val_start,
                    val: val_start..n,
                });
            }
        }
        let a = n * 3 / 5;
        let b = n * 4 / 5;
        Ok(Splits {
            fit: 0..a,
            cal: a..b,
            val: b..n,
        })
    }
}

/// Standardised matrices of the three stages of training.
pub struct Prepared {
    pub x_fit: Array2<f64>,
    /// `cal` rows standardised like `fit`.
    pub x_cal: Array2<f64>,
    /// `fit` + `cal` rows, standardised on themselves.
    pub x_fitcal: Array2<f64>,
    /// `val` rows standardised like `fit` + `cal`.
    pub x_val: Array2<f64>,
    /// Every row, standardised on all of them (the final model).
    pub x_all: Array2<f64>,
    pub std_all: Standardiser,
    /// The standardisers of `x_fit` and `x_fitcal`.
    pub std_fit: Standardiser,
    pub std_fitcal: Standardiser,
}

/// A penalty centre's coefficients for each stage's standardisation (all `None`: uncentred).
#[derive(Clone, Debug, Default)]
pub struct Centres {
    pub fit: Option<Linear>,
    pub fitcal: Option<Linear>,
    pub all: Option<Linear>,
}

impl Prepared {
    /// The stages' matrices of `rows` (row-major, `width` values a row, in date order).
    pub fn new(rows: &[f64], width: usize, s: &Splits) -> Result<Prepared> {
        let part = |r: std::ops::Range<usize>| &rows[r.start * width..r.end * width];
        let fitcal = s.fit.start..s.cal.end;
        let std_fit = Standardiser::fit(part(s.fit.clone()), width);
        let std_fitcal = Standardiser::fit(part(fitcal.clone()), width);
        let std_all = Standardiser::fit(rows, width);
        Ok(Prepared {
            x_fit: std_fit.matrix(part(s.fit.clone()))?,
            x_cal: std_fit.matrix(part(s.cal.clone()))?,
            x_fitcal: std_fitcal.matrix(part(fitcal))?,
            x_val: std_fitcal.matrix(part(s.val.clone()))?,
            x_all: std_all.matrix(rows)?,
            std_all,
            std_fit,
            std_fitcal,
        })
    }

    /// `centre`'s coefficients for each stage (each standardised on its own rows).
    pub fn centres(&self, centre: Option<PenaltyCentre>) -> Centres {
        let on = |s: &Standardiser| centre.map(|c| c.model(s));
        Centres {
            fit: on(&self.std_fit),
            fitcal: on(&self.std_fitcal),
            all: on(&self.std_all),
        }
    }
}

/// One binary target run through the time-ordered protocol.
pub struct BinaryRun {
    pub alpha: f64,
    /// Logits on `cal` of the model fitted on `fit`.
    pub cal_logits: Vec<f64>,
    /// Logits on `val` of the model fitted on `fit` + `cal`.
    pub val_logits: Vec<f64>,
    /// Fitted on every row with the chosen alpha.
    pub final_model: Linear,
    /// Logits of the final model on every row (in-sample).
    pub train_logits: Vec<f64>,
    /// Every fit of the run, for the next refit to start from.
    pub fits: BinaryStarts,
}

/// Runs one binary target through the protocol; its fits start from `start` (an earlier
/// training's fits of the same target and features) when given, else cold (the fit models
/// chained through the alphas, then each stage from the one before).
pub fn run_binary(
    p: &Prepared,
    y: &[bool],
    s: &Splits,
    centres: &Centres,
    start: Option<&BinaryStarts>,
) -> Result<BinaryRun> {
    let (alpha, m_fit, tried) = choose_alpha(
        &p.x_fit,
        &y[s.fit.clone()],
        &p.x_cal,
        &y[s.cal.clone()],
        centres.fit.as_ref(),
        start,
    )?;
    refit_stages(p, y, s, alpha, centres, start, m_fit, tried)
}

/// The stages after the choice of `alpha`: the fit rows' model `m_fit` (and every alpha's fit
/// on them, `fits`) is refitted on fit + calibration rows (validation logits) and on every row
/// (the shipped model), each from `start`'s fit of the same stage when given, else from the
/// stage before. Both protocols end this way.
#[allow(clippy::too_many_arguments)]
pub fn refit_stages(
    p: &Prepared,
    y: &[bool],
    s: &Splits,
    alpha: f64,
    centres: &Centres,
    start: Option<&BinaryStarts>,
    m_fit: Linear,
    fits: AlphaFits,
) -> Result<BinaryRun> {
    let warm = start.and_then(|s| s.fitcal.as_ref().or(s.final_model.as_ref()));
    let m_fitcal = fit_binary(
        &p.x_fitcal,
        &y[s.fit.start..s.cal.end],
        alpha,
        centres.fitcal.as_ref(),
        Some(warm.unwrap_or(&m_fit)),
        Polish::from_earlier(warm),
    )?;
    let warm = start.and_then(|s| s.final_model.as_ref());
    let final_model = fit_binary(
        &p.x_all,
        y,
        alpha,
        centres.all.as_ref(),
        Some(warm.unwrap_or(&m_fitcal)),
        Polish::from_earlier(warm),
    )?;
    Ok(BinaryRun {
        alpha,
        cal_logits: scores(&m_fit, &p.x_cal),
        val_logits: scores(&m_fitcal, &p.x_val),
        train_logits: scores(&final_model, &p.x_all),
        fits: BinaryStarts {
            fit: fits,
            fitcal: Some(m_fitcal),
            final_model: Some(final_model.clone()),
        },
        final_model,
    })
}

/// Temperature calibration of one-vs-rest probabilities:
/// p_k = sigmoid(z_k)^t / sum_j sigmoid(z_j)^t. With t = 1 it just normalises the binary models.
pub fn temperature_probs(z: &[f64; 3], t: f64) -> [f64; 3] {
    let h = z.map(|zk| t * log_sigmoid(zk));
    softmax3(h)
}

/// Fits the temperature: the minimum over t in [0.2, 5] of the summed log loss, which is convex
/// in t (its second derivative is a sum of variances). Newton's method on t finds it: from
/// `start` (a warm start: an earlier fit's temperature), else from the point a golden-section
/// search on ln t brackets (cold). Newton stops once its step is below 1e-10 (after taking it);
/// a warm start that does not get there falls back to the cold search.
pub fn fit_temperature(z: &[[f64; 3]], y: &[usize], start: Option<f64>) -> Result<f64> {
    if z.is_empty() || z.len() != y.len() || y.iter().any(|&k| k > 2) {
        bail!("no usable calibration rows");
    }
    // The log-sigmoids once, not per evaluation: `temperature_probs` computes the same numbers.
    let log_s: Vec<[f64; 3]> = z.iter().map(|zi| zi.map(log_sigmoid)).collect();
    if let Some(t) = start.filter(|t| t.is_finite() && (T_MIN..=T_MAX).contains(t)) {
        if let Some(t) = temperature_newton(&log_s, y, t) {
            return Ok(t);
        }
    }
    let loss = |t: f64| {
        log_s
            .iter()
            .zip(y)
            .map(|(ls, &k)| neg_log(softmax3(ls.map(|l| t * l))[k]))
            .sum::<f64>()
    };
    let (mut a, mut b) = (T_MIN.ln(), T_MAX.ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (loss(c.exp()), loss(d.exp()));
    for _ in 0..40 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = loss(c.exp());
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = loss(d.exp());
        }
    }
    let t = ((a + b) / 2.0).exp();
    if !t.is_finite() {
        bail!("temperature search failed");
    }
    Ok(temperature_newton(&log_s, y, t).unwrap_or(t))
}

/// The temperature search interval.
const T_MIN: f64 = 0.2;
const T_MAX: f64 = 5.0;

/// Newton's method on t for the temperature loss from `t` (kept in [0.2, 5]), with the exact
/// first and second derivatives; `None` if it does not reach a step below 1e-10 in 50 steps.
fn temperature_newton(log_s: &[[f64; 3]], y: &[usize], mut t: f64) -> Option<f64> {
    for _ in 0..50 {
        let (mut d1, mut d2) = (0.0, 0.0);
        for (ls, &k) in log_s.iter().zip(y) {
            let q = softmax3(ls.map(|l| t * l));
            let mean = q[0] * ls[0] + q[1] * ls[1] + q[2] * ls[2];
            let second = q[0] * ls[0] * ls[0] + q[1] * ls[1] * ls[1] + q[2] * ls[2] * ls[2];
            d1 += mean - ls[k];
            d2 += second - mean * mean;
        }
        if !(d1.is_finite() && d2.is_finite() && d2 > 0.0) {
            return None;
        }
        let next = (t - d1 / d2).clamp(T_MIN, T_MAX);
        let step = (next - t).abs();
        t = next;
        if step < 1e-10 {
            return Some(t);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reproducible problem with correlated columns (like the rating features) and ~45% ones.
    fn problem(n: usize, p: usize, seed: u64) -> (Array2<f64>, Vec<bool>) {
        let mut state = seed;
        let mut uniform = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let mut x = Array2::zeros((n, p));
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let common = uniform() - 0.5;
            for j in 0..p {
                x[[i, j]] = common * (j as f64 + 1.0) + 0.3 * (uniform() - 0.5);
            }
            let z = -0.2 + 1.5 * x[[i, 0]] - 0.7 * x[[i, p - 1]];
            y.push(uniform() < sigmoid(z));
        }
        (x, y)
    }

    /// linfa-logistic from its own zero start, in our sign convention.
    fn linfa_from_zero(x: &Array2<f64>, y: &[bool], alpha: f64) -> Linear {
        let targets: Array1<usize> = y.iter().map(|&b| b as usize).collect();
        let fitted = LogisticRegression::default()
            .alpha(alpha)
            .max_iterations(1000)
            .gradient_tolerance(1e-8)
            .fit(&Dataset::new(x.clone(), targets))
            .expect("linfa fits");
        Linear::from_linfa(&fitted)
    }

    fn max_difference(a: &Linear, b: &Linear) -> f64 {
        a.coef
            .iter()
            .zip(&b.coef)
            .map(|(u, v)| (u - v).abs())
            .fold((a.intercept - b.intercept).abs(), f64::max)
    }

    #[test]
    fn newton_reaches_linfas_own_optimum() {
        for (seed, alpha) in [(1, 1.0), (2, 10.0), (3, 100.0), (4, 1e-3)] {
            let (x, y) = problem(3000, 6, seed);
            let newton =
                newton_optimum(&x, &y, alpha, None, None, Polish::Exact).expect("Newton converges");
            let linfa = linfa_from_zero(&x, &y, alpha);
            let d = max_difference(&newton, &linfa);
            assert!(d < 1e-4, "seed {seed} alpha {alpha}: differ by {d}");
        }
    }

    /// Newton as it was written before its passes were shared: a separate pass for the
    /// gradient, one for the Hessian and one per loss the line search evaluates.
    fn separate_passes(x: &Array2<f64>, y: &[bool], alpha: f64, start: &[f64]) -> Vec<f64> {
        let (_, p) = x.dim();
        let d = p + 1;
        let rows = x.as_slice().unwrap();
        let lp = |b: &[f64], row: &[f64]| b[p] + row.iter().zip(b).map(|(v, c)| v * c).sum::<f64>();
        let loss = |b: &[f64]| {
            let data: f64 = rows
                .chunks_exact(p)
                .zip(y)
                .map(|(row, &yi)| crate::stats::link::logit_log_loss(lp(b, row), yi))
                .sum();
            data + 0.5 * alpha * b[..p].iter().map(|c| c * c).sum::<f64>()
        };
        let (mut beta, mut current, mut polished) = (start.to_vec(), f64::NAN, false);
        let target = GRADIENT_TOLERANCE * 1e-3;
        for _ in 0..50 {
            let mut grad = vec![0.0; d];
            let mut mus = Vec::new();
            for (row, &yi) in rows.chunks_exact(p).zip(y) {
                let mu = sigmoid(lp(&beta, row));
                mus.push(mu);
                let r = mu - if yi { 1.0 } else { 0.0 };
                for j in 0..p {
                    grad[j] += r * row[j];
                }
                grad[p] += r;
            }
            for j in 0..p {
                grad[j] += alpha * beta[j];
            }
            let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
            if norm < target * 1e-6 || (norm < target && polished) {
                return beta;
            }
            polished |= norm < target;
            let hess = hessian(rows, &mus, alpha, p);
            let dir = linalg::newton_direction(&hess, &grad, d, &mut Vec::new());
            let decrease: f64 = -grad.iter().zip(&dir).map(|(g, s)| g * s).sum::<f64>();
            if (0.0..SURE_STEP).contains(&decrease) {
                for (b, s) in beta.iter_mut().zip(&dir) {
                    *b += 1.0 * s;
                }
                current = f64::NAN;
                continue;
            }
            if current.is_nan() {
                current = loss(&beta);
            }
            let (next, value) = linalg::line_search(loss, &beta, current, &grad, &dir).unwrap();
            (beta, current) = (next, value);
        }
        panic!("no convergence");
    }

    #[test]
    fn shared_passes_give_the_separate_passes_fit_bit_for_bit() {
        for (seed, alpha, p) in [(21, 1.0, 8), (22, 10.0, 4), (23, 100.0, 12), (24, 1e-3, 1)] {
            let (x, y) = problem(2500, p, seed);
            let rate = y.iter().filter(|&&b| b).count() as f64 / y.len() as f64;
            let mut cold = vec![0.0; p + 1];
            cold[p] = logit(rate);
            let far: Vec<f64> = (0..=p).map(|j| 0.7 - 0.3 * j as f64).collect();
            for start in [cold, far] {
                let reference = separate_passes(&x, &y, alpha, &start);
                let warm = Linear {
                    coef: start[..p].to_vec(),
                    intercept: start[p],
                };
                let shared = newton_optimum(&x, &y, alpha, None, Some(&warm), Polish::Exact)
                    .expect("converges");
                let mut got = shared.coef.clone();
                got.push(shared.intercept);
                let bits = |v: &[f64]| v.iter().map(|c| c.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&reference), "seed {seed} alpha {alpha}");
            }
        }
    }

    #[test]
    fn the_hessian_of_every_width_is_the_plain_loops_bit_for_bit() {
        // The unrolled widths (1, 3, 4, 7, 8) and the general loop, in AVX2 code where the CPU
        // has it, against the plain loop run in baseline code.
        for p in 1..=9 {
            let (x, _) = problem(333, p, 40 + p as u64);
            let rows = x.as_slice().unwrap();
            let mus: Vec<f64> = (0..333)
                .map(|i| 0.05 + 0.9 * ((i * 7) % 333) as f64 / 333.0)
                .collect();
            let got = hessian(rows, &mus, 2.5, p);
            let d = p + 1;
            let mut plain = vec![0.0; d * d];
            hessian_sums_any(&mut plain, rows, &mus, p);
            for j in 0..p {
                plain[j * d + j] += 2.5;
            }
            let bits = |v: &[f64]| v.iter().map(|c| c.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&plain), "width {p}");
        }
    }

    #[test]
    fn the_pass_in_lanes_is_the_exact_pass_up_to_rounding() {
        // Every shipped width, row counts with and without a partial lane, a point far out
        // (|z| up to ~30, where exp(-|z|) is tiny) and one near zero.
        for (p, n, scale) in [(8, 1001, 1.0), (7, 1000, 30.0), (4, 3, 0.01), (3, 998, 5.0)] {
            let (x, y) = problem(n, p, 41 + p as u64);
            let rows = x.as_slice().unwrap();
            let beta: Vec<f64> = (0..=p).map(|j| scale * (0.3 - 0.1 * j as f64)).collect();
            let mut exact = RowPass::new(n, p + 1);
            exact.evaluate(rows, &y, &beta);
            let mut lanes = RowPass::new(n, p + 1).lanes(rows, &y, p);
            assert!(lanes.columns.is_some());
            lanes.evaluate(rows, &y, &beta);
            let close = |a: f64, b: f64, scale: f64| (a - b).abs() <= 1e-13 * scale.max(1.0);
            for i in 0..n {
                assert!(
                    close(lanes.z[i], exact.z[i], exact.z[i].abs()),
                    "z of row {i}"
                );
                assert!(close(lanes.e[i], exact.e[i], exact.e[i]), "exp of row {i}");
                assert!(
                    close(lanes.mu[i], exact.mu[i], exact.mu[i]),
                    "mu of row {i}"
                );
            }
            let size: f64 = exact.grad.iter().map(|g| g.abs()).sum::<f64>() + n as f64;
            for (a, b) in lanes.grad.iter().zip(&exact.grad) {
                assert!(close(*a, *b, size), "gradient {a} vs {b}");
            }
            assert!(close(lanes.data_loss(&y), exact.data_loss(&y), n as f64));
            let (h_lanes, h_exact) = (lanes.hessian(rows, 2.5, p), exact.hessian(rows, 2.5, p));
            for (a, b) in h_lanes.iter().zip(&h_exact) {
                assert!(close(*a, *b, n as f64), "Hessian entry {a} vs {b}");
            }
        }
        // Other widths keep the exact pass.
        let (x, y) = problem(10, 5, 1);
        assert!(RowPass::new(10, 6)
            .lanes(x.as_slice().unwrap(), &y, 5)
            .columns
            .is_none());
    }

    #[test]
    fn a_refit_polished_with_the_previous_hessian_is_the_cold_optimum() {
        // A week's rows appended to a fitted problem, refitted from the earlier fit with the
        // chord polishing step, against a cold fit with the exact one.
        for (seed, alpha, p) in [(31, 1.0, 8), (32, 10.0, 4), (33, 100.0, 7), (34, 1.0, 3)] {
            let (x, y) = problem(3000, p, seed);
            let n = 2950;
            let earlier = x.slice(ndarray::s![..n, ..]).to_owned();
            let before = fit_binary(&earlier, &y[..n], alpha, None, None, Polish::Exact).unwrap();
            let refit = fit_binary(&x, &y, alpha, None, Some(&before), Polish::Chord).unwrap();
            let cold = fit_binary(&x, &y, alpha, None, None, Polish::Exact).unwrap();
            let d = max_difference(&refit, &cold);
            assert!(d < 1e-11, "seed {seed} alpha {alpha}: differ by {d:e}");
        }
    }

    #[test]
    fn fit_binary_is_the_optimum_from_any_start() {
        let (x, y) = problem(2000, 4, 7);
        let reference = linfa_from_zero(&x, &y, 10.0);
        let cold = fit_binary(&x, &y, 10.0, None, None, Polish::Exact).unwrap();
        // A poor start (wrong signs, far away) ends at the same model.
        let poor = Linear {
            coef: vec![-3.0, 2.0, -1.0, 4.0],
            intercept: 2.0,
        };
        let from_poor = fit_binary(&x, &y, 10.0, None, Some(&poor), Polish::Exact).unwrap();
        assert!(max_difference(&cold, &reference) < 1e-4);
        assert!(max_difference(&from_poor, &reference) < 1e-4);
    }

    #[test]
    fn fit_binary_handles_the_minority_class_and_ties() {
        // Flipping the labels flips the model: linfa's internal sign is undone either way.
        let (x, y) = problem(1500, 3, 11);
        let flipped: Vec<bool> = y.iter().map(|b| !b).collect();
        let a = fit_binary(&x, &y, 1.0, None, None, Polish::Exact).unwrap();
        let b = fit_binary(&x, &flipped, 1.0, None, None, Polish::Exact).unwrap();
        assert!((a.intercept + b.intercept).abs() < 1e-6);
        for (u, v) in a.coef.iter().zip(&b.coef) {
            assert!((u + v).abs() < 1e-6);
        }
        // Exactly half ones, first row a zero and then a one.
        let (x, _) = problem(10, 2, 5);
        let y: Vec<bool> = (0..10).map(|i| i % 2 == 1).collect();
        let m = fit_binary(&x, &y, 1.0, None, None, Polish::Exact).unwrap();
        assert!(m.intercept.is_finite());
        assert!(fit_binary(&x, &[true; 10], 1.0, None, None, Polish::Exact).is_err());
    }

    #[test]
    fn separable_data_with_a_tiny_penalty_still_fits() {
        // y = (x > 0): the optimum's coefficient is huge and only the penalty bounds it.
        let x = Array2::from_shape_fn((400, 1), |(i, _)| i as f64 / 200.0 - 1.0 + 0.0025);
        let y: Vec<bool> = x.column(0).iter().map(|&v| v > 0.0).collect();
        let m = fit_binary(&x, &y, 1e-3, None, None, Polish::Exact).unwrap();
        assert!(m.coef[0] > 10.0 && m.coef[0].is_finite(), "{m:?}");
        let p = fit_platt(&x.column(0).to_vec(), &y, None).unwrap();
        assert!(p.a > 10.0 && p.b.is_finite(), "{p:?}");
    }

    #[test]
    fn temperature_from_any_start_is_the_cold_optimum() {
        // Outcomes drawn from the calibrated probabilities of temperature 1.6.
        let mut state = 99u64;
        let mut uniform = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let mut z = Vec::new();
        let mut k = Vec::new();
        for _ in 0..900 {
            let zi = [
                uniform() * 2.0 - 1.0,
                uniform() - 1.2,
                uniform() * 2.0 - 1.5,
            ];
            let p = temperature_probs(&zi, 1.6);
            let u = uniform();
            k.push(if u < p[0] {
                0
            } else if u < p[0] + p[1] {
                1
            } else {
                2
            });
            z.push(zi);
        }
        let cold = fit_temperature(&z, &k, None).unwrap();
        assert!(cold > 0.2 && cold < 5.0, "{cold}");
        for start in [0.2, 0.9, cold * 1.01, 4.9] {
            let warm = fit_temperature(&z, &k, Some(start)).unwrap();
            assert!(
                (warm - cold).abs() < 1e-12,
                "from {start}: {warm} vs {cold}"
            );
        }
        // The optimum: the derivative of the loss vanishes there.
        let loss = |t: f64| -> f64 {
            z.iter()
                .zip(&k)
                .map(|(zi, &c)| neg_log(temperature_probs(zi, t)[c]))
                .sum()
        };
        let h = 1e-5;
        assert!((loss(cold + h) - loss(cold - h)).abs() / (2.0 * h) < 1e-4);
    }

    #[test]
    fn platt_from_a_far_start_is_the_cold_fit() {
        let (x, y) = problem(1200, 1, 5);
        let z = x.column(0).to_vec();
        let cold = fit_platt(&z, &y, None).unwrap();
        let far = Platt { a: -4.0, b: 3.0 };
        let warm = fit_platt(&z, &y, Some(&far)).unwrap();
        let d = (warm.a - cold.a).abs().max((warm.b - cold.b).abs());
        assert!(d < 1e-12, "{warm:?} vs {cold:?}");
    }

    /// Rows whose outcomes agree exactly with a log-odds feature: market probabilities 0.2, 0.5
    /// and 0.8 (column 0, as logits), a second feature taking -1 and +1, and rows without the
    /// market (column 0 is 0, column 2 flags them) with half ones (the mean market logit is 0);
    /// in every (probability, second feature) group exactly that share of ones.
    fn market_rows() -> (Vec<Vec<f64>>, Vec<bool>, Vec<f64>) {
        let (mut rows, mut y, mut market) = (Vec::new(), Vec::new(), Vec::new());
        for (p, absent) in [(0.2, false), (0.5, false), (0.8, false), (0.5, true)] {
            for second in [-1.0, 1.0] {
                for i in 0..10 {
                    let l = if absent { 0.0 } else { logit(p) };
                    rows.push(vec![l, second, absent as u8 as f64]);
                    y.push((i as f64) < p * 10.0);
                    market.push(p);
                }
            }
        }
        (rows, y, market)
    }

    /// The standardiser of `rows` and their standardised matrix.
    fn standardised(rows: &[Vec<f64>]) -> (Standardiser, Array2<f64>) {
        let flat = rows.concat();
        let std = Standardiser::fit(&flat, rows[0].len());
        let x = std.matrix(&flat).unwrap();
        (std, x)
    }

    fn probabilities(m: &Linear, x: &Array2<f64>) -> Vec<f64> {
        scores(m, x).into_iter().map(sigmoid).collect()
    }

    #[test]
    fn a_centred_fit_on_outcomes_that_agree_with_the_market_is_the_market() {
        let (rows, y, market) = market_rows();
        let (std, x) = standardised(&rows);
        let centre = PenaltyCentre {
            feature: 0,
            absent: Some(2),
        }
        .model(&std);
        // The market is the exact optimum whatever the penalty's strength: the data's gradient
        // vanishes there and so does the penalty's.
        for alpha in [1.0, 10.0, 100.0, 1e4] {
            let m = fit_binary(&x, &y, alpha, Some(&centre), None, Polish::Exact).unwrap();
            for (q, p) in probabilities(&m, &x).iter().zip(&market) {
                assert!((q - p).abs() < 1e-9, "alpha {alpha}: {q} vs market {p}");
            }
        }
        // Penalised towards zero instead, the model is a damped copy of the market.
        let m = fit_binary(&x, &y, 10.0, None, None, Polish::Exact).unwrap();
        let gap = probabilities(&m, &x)
            .iter()
            .zip(&market)
            .map(|(q, p)| (q - p).abs())
            .fold(0.0, f64::max);
        assert!(gap > 0.01, "uncentred gap {gap}");
    }

    #[test]
    fn a_strong_centred_penalty_keeps_the_log_odds_as_they_are() {
        // Outcomes that do not follow the feature: only the penalty holds the model there.
        let (x_raw, y) = problem(2000, 3, 31);
        let rows: Vec<Vec<f64>> = x_raw.rows().into_iter().map(|r| r.to_vec()).collect();
        let (std, x) = standardised(&rows);
        let c = PenaltyCentre {
            feature: 1,
            absent: None,
        };
        let alpha = 1e8;
        let m = fit_binary(&x, &y, alpha, Some(&c.model(&std)), None, Polish::Exact).unwrap();
        // At the optimum alpha |beta - centre| = |data gradient| <= n max(|x|, 1) per entry, so
        // the logit moves from the log-odds by at most (p + 1) n max(|x|, 1)^2 / alpha.
        let reach = x.iter().fold(1.0f64, |a, v| a.max(v.abs()));
        let bound = 4.0 * 2000.0 * reach * reach / alpha;
        assert!(bound < 1e-3, "{bound}");
        for (z, r) in scores(&m, &x).iter().zip(&rows) {
            assert!((z - r[1]).abs() < bound, "logit {z}, log-odds {}", r[1]);
        }
    }

    #[test]
    fn a_centred_fit_is_the_same_from_any_start() {
        let (x_raw, y) = problem(2500, 4, 61);
        let rows: Vec<Vec<f64>> = x_raw.rows().into_iter().map(|r| r.to_vec()).collect();
        let (std, x) = standardised(&rows);
        let centre = PenaltyCentre {
            feature: 0,
            absent: None,
        }
        .model(&std);
        for alpha in [1000.0, 100000.0] {
            let cold = fit_binary(&x, &y, alpha, Some(&centre), None, Polish::Exact).unwrap();
            let poor = Linear {
                coef: vec![-3.0, 2.0, -1.0, 4.0],
                intercept: 2.0,
            };
            for start in [&poor, &centre] {
                let warm =
                    fit_binary(&x, &y, alpha, Some(&centre), Some(start), Polish::Exact).unwrap();
                let d = max_difference(&warm, &cold);
                assert!(d < 1e-9, "alpha {alpha}: differ by {d}");
            }
        }
    }

    #[test]
    fn the_fallback_solver_refuses_a_centre_it_cannot_fit() {
        let (x, y) = problem(500, 2, 51);
        let centre = Linear {
            coef: vec![0.5, 0.0],
            intercept: 0.0,
        };
        let err = linfa_fit(&x, &y, 10.0, Some(&centre), None).unwrap_err();
        assert!(
            err.to_string().contains("cannot fit a penalty centre"),
            "{err}"
        );
        // Uncentred, it is linfa's own objective: fitted.
        let m = linfa_fit(&x, &y, 10.0, None, None).unwrap();
        let newton = newton_optimum(&x, &y, 10.0, None, None, Polish::Exact).unwrap();
        assert!(max_difference(&m, &newton) < 1e-3);
        let narrow = Linear {
            coef: vec![1.0],
            intercept: 0.0,
        };
        assert!(fit_binary(&x, &y, 10.0, Some(&narrow), None, Polish::Exact).is_err());
    }
}
