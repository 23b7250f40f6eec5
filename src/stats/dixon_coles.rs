//! Time-decay Dixon-Coles goal model, fitted by exact Newton's method.
//!
//! This module exists because fitting the model through penaltyblog is slow (70-280 ms per fit)
//! and slightly inexact (its home-advantage gradient is wrong, so it stops short of the maximum).
//! Here the weighted log-likelihood is maximised with the exact gradient and Hessian, matches
//! aggregated per (home, away) pair and a dense Cholesky solve, which takes about a millisecond
//! for a Premier League history, is deterministic, and needs nothing beyond `std`.
//!
//! Model: home goals `x ~ Poisson(lambda)`, away goals `y ~ Poisson(mu)`,
//! `lambda = exp(home_advantage + attack[home] + defence[away])`,
//! `mu = exp(attack[away] + defence[home])`, times the Dixon-Coles correction `tau(x, y)`.
//! Attack and defence are pinned by `sum(attack) = 0` over the teams that have positive weight.

use std::fmt;
use std::sync::OnceLock;

use crate::stats::linalg::{self, line_search, max_abs, newton_direction};
use crate::stats::scoreline::tau;

/// Stop when the max-abs gradient of the minimised objective is below this.
const GRAD_TOL: f64 = 1e-7;
/// ... and the largest parameter change of the last Newton step below this (the step is taken).
const STEP_TOL: f64 = 1e-6;
/// Newton iteration cap for the full fit.
const MAX_ITER: usize = 200;
/// A fit stops (not converged) when an accepted step moved no parameter by more than this: no
/// progress is left, because the maximum lies on the edge of the region where every pair's
/// tau stays positive (a pair with lambda * rho at -1). A converging fit's steps stay far above
/// it until the stopping rule ends it (the Hessian's scale is the weighted match count).
const STUCK_STEP: f64 = 1e-14;
/// Newton iteration cap for the single-team fit.
const MAX_ITER_SINGLE: usize = 200;
/// Ridge on attack/defence (objective gets `RIDGE * sum of squares`), only for robustness
/// (disconnected schedules, teams that never score). Moves the WLL by ~1e-8 at most.
const RIDGE: f64 = 1e-9;
/// Upper bound on teams with positive weight (the Hessian is dense, (2n+2)^2 doubles).
const MAX_ACTIVE_TEAMS: usize = 1000;

/// Match results, one entry per match in each vector.
#[derive(Clone, Debug, Default)]
pub struct GoalsData {
    pub n_teams: usize,
    /// Team index of the home side, `< n_teams`.
    pub home: Vec<u32>,
    /// Team index of the away side, `< n_teams`.
    pub away: Vec<u32>,
    pub home_goals: Vec<u16>,
    pub away_goals: Vec<u16>,
    /// Match weights, finite and `>= 0` (e.g. `exp(-xi * days_ago)`).
    pub weight: Vec<f64>,
    /// The scores the Poisson part of the likelihood fits, (home, away) per match: empty for the
    /// goals themselves, else one pair per match, finite and `>= 0` (e.g. the goals blended with
    /// a market's expected goals). The Dixon-Coles correction always reads the goals.
    pub scores: Vec<[f64; 2]>,
}

impl GoalsData {
    /// The (home, away) scores match `i` contributes to the Poisson part.
    fn scores_of(&self, i: usize) -> [f64; 2] {
        match self.scores.get(i) {
            Some(&s) => s,
            None => [f64::from(self.home_goals[i]), f64::from(self.away_goals[i])],
        }
    }
}

/// Fitted parameters. `attack`/`defence` are indexed by team (length `n_teams`).
#[derive(Clone, Debug)]
pub struct DixonColesFit {
    pub attack: Vec<f64>,
    pub defence: Vec<f64>,
    pub home_advantage: f64,
    pub rho: f64,
    /// WLL at the returned parameters (no penalty, no ridge).
    pub weighted_log_likelihood: f64,
    /// Newton steps taken.
    pub iterations: usize,
    /// `true` iff the max-abs gradient of the objective fell below 1e-7.
    pub converged: bool,
}

/// Why a fit could not be made.
#[derive(Clone, Debug, PartialEq)]
pub enum FitError {
    /// No match with positive weight (for `fit_single_team`: none involving the team).
    NoMatches,
    /// Inconsistent or invalid input; the message says what.
    BadInput(String),
    /// The optimiser produced non-finite parameters or likelihood.
    NotFinite,
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitError::NoMatches => write!(f, "no match with positive weight"),
            FitError::BadInput(msg) => write!(f, "bad input: {msg}"),
            FitError::NotFinite => write!(f, "fit produced non-finite values"),
        }
    }
}

impl std::error::Error for FitError {}

// ---------------------------------------------------------------------------------------------
// Basic probability pieces
// ---------------------------------------------------------------------------------------------

/// ln(k!) : exact cumulative sum of logs for k < 256, Stirling series above.
fn ln_factorial(k: u16) -> f64 {
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut v = Vec::with_capacity(256);
        let mut acc = 0.0f64;
        v.push(0.0);
        for i in 1..256u32 {
            acc += f64::from(i).ln();
            v.push(acc);
        }
        v
    });
    let ku = usize::from(k);
    if ku < table.len() {
        table[ku]
    } else {
        let n = f64::from(k);
        let n2 = n * n;
        n * n.ln() - n + 0.5 * (2.0 * std::f64::consts::PI * n).ln() + 1.0 / (12.0 * n)
            - 1.0 / (360.0 * n * n2)
            + 1.0 / (1260.0 * n * n2 * n2)
    }
}

/// ln Poisson(k; rate) with the full pmf, given `ln_rate = rate.ln()`.
fn ln_poisson(k: u16, rate: f64, ln_rate: f64) -> f64 {
    if k == 0 {
        -rate
    } else {
        f64::from(k) * ln_rate - rate - ln_factorial(k)
    }
}

/// ln P(x, y) for one match: full Poisson pmf for both sides plus ln tau.
///
/// Returns `-inf` when `tau(x, y) <= 0` (the parameters are outside the valid region for this
/// scoreline) and NaN when `lambda`/`mu` are negative or NaN.
pub fn log_prob(lambda: f64, mu: f64, rho: f64, x: u16, y: u16) -> f64 {
    log_prob_of(&Rates::new(lambda, mu), rho, x, y)
}

/// A match's scoring rates and their logarithms (shared by the matches of one pairing).
#[derive(Clone, Copy)]
struct Rates {
    lambda: f64,
    mu: f64,
    ln_lambda: f64,
    ln_mu: f64,
}

impl Rates {
    fn new(lambda: f64, mu: f64) -> Rates {
        Rates {
            lambda,
            mu,
            ln_lambda: lambda.ln(),
            ln_mu: mu.ln(),
        }
    }
}

fn log_prob_of(r: &Rates, rho: f64, x: u16, y: u16) -> f64 {
    let valid = r.lambda >= 0.0 && r.mu >= 0.0 && !rho.is_nan();
    if !valid {
        return f64::NAN;
    }
    let t = tau(r.lambda, r.mu, rho, usize::from(x), usize::from(y));
    let t_ok = t > 0.0;
    if !t_ok {
        return f64::NEG_INFINITY;
    }
    // ln(1) is exactly 0: most scorelines skip the logarithm.
    let ln_t = if t == 1.0 { 0.0 } else { t.ln() };
    ln_poisson(x, r.lambda, r.ln_lambda) + ln_poisson(y, r.mu, r.ln_mu) + ln_t
}

/// WLL of given parameters on `data`: `sum_i w_i * log_prob(lambda_i, mu_i, rho, x_i, y_i)`.
///
/// Matches with zero weight are skipped (so they cannot turn the sum into NaN). Returns NaN if the
/// inputs are inconsistent (length mismatch, index out of range, parameter slices not `n_teams`
/// long), and `-inf` if some positively weighted match has `tau <= 0`.
pub fn weighted_log_likelihood(
    data: &GoalsData,
    attack: &[f64],
    defence: &[f64],
    home_advantage: f64,
    rho: f64,
) -> f64 {
    if let Err(FitError::BadInput(_)) = validate(data) {
        return f64::NAN;
    }
    if attack.len() != data.n_teams || defence.len() != data.n_teams {
        return f64::NAN;
    }
    // The rates of a pairing are computed once (a league meets the same pairings every season);
    // each match's term is the same number either way, summed in match order.
    let mut rates: rustc_hash::FxHashMap<(u32, u32), Rates> = Default::default();
    let mut total = 0.0;
    for i in 0..data.home.len() {
        let w = data.weight[i];
        if w <= 0.0 {
            continue;
        }
        let (h, a) = (data.home[i], data.away[i]);
        let r = rates.entry((h, a)).or_insert_with(|| {
            let (h, a) = (h as usize, a as usize);
            Rates::new(
                (home_advantage + attack[h] + defence[a]).exp(),
                (attack[a] + defence[h]).exp(),
            )
        });
        total += w * log_prob_of(r, rho, data.home_goals[i], data.away_goals[i]);
    }
    total
}

// ---------------------------------------------------------------------------------------------
// Input validation
// ---------------------------------------------------------------------------------------------

fn validate(data: &GoalsData) -> Result<(), FitError> {
    let n = data.home.len();
    if data.away.len() != n
        || data.home_goals.len() != n
        || data.away_goals.len() != n
        || data.weight.len() != n
        || !(data.scores.is_empty() || data.scores.len() == n)
    {
        return Err(FitError::BadInput(format!(
            "length mismatch: home {}, away {}, home_goals {}, away_goals {}, weight {}, scores {}",
            n,
            data.away.len(),
            data.home_goals.len(),
            data.away_goals.len(),
            data.weight.len(),
            data.scores.len()
        )));
    }
    if let Some(i) = data
        .scores
        .iter()
        .position(|s| !s.iter().all(|v| v.is_finite() && *v >= 0.0))
    {
        return Err(FitError::BadInput(format!(
            "match {i}: scores {:?} are not finite and >= 0",
            data.scores[i]
        )));
    }
    let mut any_positive = false;
    for i in 0..n {
        let (h, a) = (data.home[i] as usize, data.away[i] as usize);
        if h >= data.n_teams || a >= data.n_teams {
            return Err(FitError::BadInput(format!(
                "match {i}: team index ({h}, {a}) out of range (n_teams = {})",
                data.n_teams
            )));
        }
        let w = data.weight[i];
        let w_ok = w.is_finite() && w >= 0.0;
        if !w_ok {
            return Err(FitError::BadInput(format!(
                "match {i}: weight {w} is not finite and >= 0"
            )));
        }
        any_positive |= w > 0.0;
    }
    if any_positive {
        Ok(())
    } else {
        Err(FitError::NoMatches)
    }
}

// ---------------------------------------------------------------------------------------------
// Per-match derivative pieces (shared by the full fit and the single-team fit)
// ---------------------------------------------------------------------------------------------

/// Weighted sufficient statistics of the matches between one ordered (home, away) pair.
#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    /// total weight
    w: f64,
    /// sum w * home goals
    sx: f64,
    /// sum w * away goals
    sy: f64,
    /// weight of 0-0, 0-1, 1-0 results
    w00: f64,
    w01: f64,
    w10: f64,
}

impl Stats {
    fn add(&mut self, w: f64, x: u16, y: u16, [sx, sy]: [f64; 2]) {
        self.w += w;
        self.sx += w * sx;
        self.sy += w * sy;
        match (x, y) {
            (0, 0) => self.w00 += w,
            (0, 1) => self.w01 += w,
            (1, 0) => self.w10 += w,
            _ => {}
        }
    }
}

/// Derivatives of the minimised contribution F (negative WLL, without the (1,1) term, which is
/// handled globally) with respect to l = ln lambda, m = ln mu and rho.
#[derive(Clone, Copy, Debug, Default)]
struct Derivs {
    f: f64,
    gl: f64,
    gm: f64,
    gr: f64,
    hll: f64,
    hmm: f64,
    hlm: f64,
    hlr: f64,
    hmr: f64,
    hrr: f64,
}

/// Value of F for one pair (without ln x! constants); `None` if some tau <= 0 or non-finite.
#[inline]
fn pair_value(s: &Stats, l: f64, m: f64, rho: f64) -> Option<f64> {
    let lam = l.exp();
    let mu = m.exp();
    let t00 = 1.0 - lam * mu * rho;
    let t01 = 1.0 + lam * rho;
    let t10 = 1.0 + mu * rho;
    let ok = t00 > 0.0 && t01 > 0.0 && t10 > 0.0 && lam.is_finite() && mu.is_finite();
    if !ok {
        return None;
    }
    let mut f = s.w * (lam + mu) - s.sx * l - s.sy * m;
    if s.w00 > 0.0 {
        f -= s.w00 * t00.ln();
    }
    if s.w01 > 0.0 {
        f -= s.w01 * t01.ln();
    }
    if s.w10 > 0.0 {
        f -= s.w10 * t10.ln();
    }
    Some(f)
}

/// Value, gradient and Hessian of F for one pair; `None` if some tau <= 0 or non-finite.
#[inline]
fn pair_derivs(s: &Stats, l: f64, m: f64, rho: f64) -> Option<Derivs> {
    let lam = l.exp();
    let mu = m.exp();
    let lm = lam * mu;
    let t00 = 1.0 - lm * rho;
    let t01 = 1.0 + lam * rho;
    let t10 = 1.0 + mu * rho;
    let ok = t00 > 0.0 && t01 > 0.0 && t10 > 0.0 && lam.is_finite() && mu.is_finite();
    if !ok {
        return None;
    }
    let mut d = Derivs {
        f: s.w * (lam + mu) - s.sx * l - s.sy * m,
        gl: s.w * lam - s.sx,
        gm: s.w * mu - s.sy,
        hll: s.w * lam,
        hmm: s.w * mu,
        ..Derivs::default()
    };
    if s.w00 > 0.0 {
        // ln t00, t00 = 1 - lam mu rho: d/dl = d/dm = -u/t, d/drho = -lm/t,
        // d2/dl2 = d2/dm2 = d2/dldm = -u/t^2, d2/dl drho = d2/dm drho = -lm/t^2, d2/drho2 = -lm^2/t^2
        let w = s.w00;
        let it = 1.0 / t00;
        let it2 = it * it;
        let u = lm * rho;
        d.f -= w * t00.ln();
        d.gl += w * u * it;
        d.gm += w * u * it;
        d.gr += w * lm * it;
        d.hll += w * u * it2;
        d.hmm += w * u * it2;
        d.hlm += w * u * it2;
        d.hlr += w * lm * it2;
        d.hmr += w * lm * it2;
        d.hrr += w * lm * lm * it2;
    }
    if s.w01 > 0.0 {
        // ln t01, t01 = 1 + lam rho: d/dl = v/t, d/drho = lam/t, d2/dl2 = v/t^2,
        // d2/dl drho = lam/t^2, d2/drho2 = -lam^2/t^2 (v = lam rho)
        let w = s.w01;
        let it = 1.0 / t01;
        let it2 = it * it;
        let v = lam * rho;
        d.f -= w * t01.ln();
        d.gl -= w * v * it;
        d.gr -= w * lam * it;
        d.hll -= w * v * it2;
        d.hlr -= w * lam * it2;
        d.hrr += w * lam * lam * it2;
    }
    if s.w10 > 0.0 {
        let w = s.w10;
        let it = 1.0 / t10;
        let it2 = it * it;
        let v = mu * rho;
        d.f -= w * t10.ln();
        d.gm -= w * v * it;
        d.gr -= w * mu * it;
        d.hmm -= w * v * it2;
        d.hmr -= w * mu * it2;
        d.hrr += w * mu * mu * it2;
    }
    Some(d)
}

// ---------------------------------------------------------------------------------------------
// Full fit
// ---------------------------------------------------------------------------------------------

struct PairStats {
    /// active index of the home team
    h: usize,
    /// active index of the away team
    a: usize,
    s: Stats,
}

/// The minimised objective, over the teams with positive total weight ("active" teams).
/// Parameter layout: `[attack_0..n, defence_0..n, home_advantage, rho]`.
///
/// F = -(WLL without ln x! constants) + 0.5 * (sum attack)^2 + RIDGE * sum(attack^2 + defence^2)
///     + strength_ridge * (sum attack^2 + sum (defence - mean defence)^2)
///     + total_ridge * sum (attack + defence - mean defence)^2
struct Problem {
    n: usize,
    /// The ridge on team strengths around the league average (0: none); see [`fit_penalised`].
    strength_ridge: f64,
    /// The ridge on each team's scoring tendency (attack + defence: how many goals its matches
    /// hold) around the league average (0: none); see [`fit_shrunk`].
    total_ridge: f64,
    /// active index -> team index
    active: Vec<usize>,
    pairs: Vec<PairStats>,
    /// total weight of 1-1 results
    w11: f64,
}

impl Problem {
    fn new(data: &GoalsData, strength_ridge: f64, total_ridge: f64) -> Result<Problem, FitError> {
        for (name, r) in [("strength", strength_ridge), ("total", total_ridge)] {
            if !(r.is_finite() && r >= 0.0) {
                return Err(FitError::BadInput(format!(
                    "{name} ridge must be a finite number >= 0, got {r}"
                )));
            }
        }
        let mut team_w = vec![0.0f64; data.n_teams];
        for i in 0..data.home.len() {
            let w = data.weight[i];
            if w > 0.0 {
                team_w[data.home[i] as usize] += w;
                team_w[data.away[i] as usize] += w;
            }
        }
        let mut map = vec![usize::MAX; data.n_teams];
        let mut active = Vec::new();
        for (t, &w) in team_w.iter().enumerate() {
            if w > 0.0 {
                map[t] = active.len();
                active.push(t);
            }
        }
        let n = active.len();
        if n > MAX_ACTIVE_TEAMS {
            return Err(FitError::BadInput(format!(
                "{n} teams with positive weight; at most {MAX_ACTIVE_TEAMS} supported"
            )));
        }
        // Pairs in order of first appearance; per-pair sums in data order (deterministic).
        let mut slot = vec![u32::MAX; n * n];
        let mut pairs: Vec<PairStats> = Vec::new();
        let mut w11 = 0.0;
        for i in 0..data.home.len() {
            let w = data.weight[i];
            if w <= 0.0 {
                continue;
            }
            let h = map[data.home[i] as usize];
            let a = map[data.away[i] as usize];
            let k = h * n + a;
            if slot[k] == u32::MAX {
                slot[k] = pairs.len() as u32;
                pairs.push(PairStats {
                    h,
                    a,
                    s: Stats::default(),
                });
            }
            let (x, y) = (data.home_goals[i], data.away_goals[i]);
            pairs[slot[k] as usize].s.add(w, x, y, data.scores_of(i));
            if x == 1 && y == 1 {
                w11 += w;
            }
        }
        Ok(Problem {
            n,
            strength_ridge,
            total_ridge,
            active,
            pairs,
            w11,
        })
    }

    fn dim(&self) -> usize {
        2 * self.n + 2
    }

    /// Objective value; `+inf` outside the valid region (some tau <= 0) or if not finite.
    fn value(&self, x: &[f64]) -> f64 {
        let n = self.n;
        let (att, rest) = x.split_at(n);
        let def = &rest[..n];
        let ha = x[2 * n];
        let rho = x[2 * n + 1];
        let t11 = 1.0 - rho;
        let t11_ok = t11 > 0.0;
        if !t11_ok {
            return f64::INFINITY;
        }
        let mut f = 0.0;
        for p in &self.pairs {
            let l = ha + att[p.h] + def[p.a];
            let m = att[p.a] + def[p.h];
            match pair_value(&p.s, l, m, rho) {
                Some(v) => f += v,
                None => return f64::INFINITY,
            }
        }
        if self.w11 > 0.0 {
            f -= self.w11 * t11.ln();
        }
        f += self.regulariser(x);
        if f.is_finite() {
            f
        } else {
            f64::INFINITY
        }
    }

    fn regulariser(&self, x: &[f64]) -> f64 {
        let n = self.n;
        let s: f64 = x[..n].iter().sum();
        let sq: f64 = x[..2 * n].iter().map(|v| v * v).sum();
        let mut f = 0.5 * s * s + RIDGE * sq;
        if self.strength_ridge > 0.0 {
            let mean_defence = x[n..2 * n].iter().sum::<f64>() / n as f64;
            let spread: f64 = x[..n].iter().map(|a| a * a).sum::<f64>()
                + x[n..2 * n]
                    .iter()
                    .map(|d| (d - mean_defence) * (d - mean_defence))
                    .sum::<f64>();
            f += self.strength_ridge * spread;
        }
        if self.total_ridge > 0.0 {
            let mean_defence = x[n..2 * n].iter().sum::<f64>() / n as f64;
            let totals: f64 = (0..n)
                .map(|i| {
                    let u = x[i] + x[n + i] - mean_defence;
                    u * u
                })
                .sum();
            f += self.total_ridge * totals;
        }
        f
    }

    /// Objective value, gradient `g` and dense row-major Hessian `h` (overwritten).
    /// Returns `+inf` (g, h unspecified) outside the valid region.
    fn value_grad_hess(&self, x: &[f64], g: &mut [f64], h: &mut [f64]) -> f64 {
        let n = self.n;
        let p = self.dim();
        g.iter_mut().for_each(|v| *v = 0.0);
        h.iter_mut().for_each(|v| *v = 0.0);
        let (att, rest) = x.split_at(n);
        let def = &rest[..n];
        let iha = 2 * n;
        let ir = 2 * n + 1;
        let ha = x[iha];
        let rho = x[ir];
        let t11 = 1.0 - rho;
        let t11_ok = t11 > 0.0;
        if !t11_ok {
            return f64::INFINITY;
        }
        let mut f = 0.0;
        // Home advantage and rho rows are accumulated in scalars and written at the end.
        let (mut g_ha, mut g_r) = (0.0, 0.0);
        let (mut h_haha, mut h_har, mut h_rr) = (0.0, 0.0, 0.0);
        for pr in &self.pairs {
            let l = ha + att[pr.h] + def[pr.a];
            let m = att[pr.a] + def[pr.h];
            let d = match pair_derivs(&pr.s, l, m, rho) {
                Some(d) => d,
                None => return f64::INFINITY,
            };
            f += d.f;
            // l depends on attack[h], defence[a], home_adv; m on attack[a], defence[h].
            let lset = [pr.h, n + pr.a];
            let mset = [pr.a, n + pr.h];
            for &i in &lset {
                g[i] += d.gl;
            }
            for &i in &mset {
                g[i] += d.gm;
            }
            g_ha += d.gl;
            g_r += d.gr;
            for &i in &lset {
                let row = &mut h[i * p..(i + 1) * p];
                for &j in &lset {
                    row[j] += d.hll;
                }
                for &j in &mset {
                    row[j] += d.hlm;
                }
                row[iha] += d.hll;
                row[ir] += d.hlr;
            }
            for &i in &mset {
                let row = &mut h[i * p..(i + 1) * p];
                for &j in &mset {
                    row[j] += d.hmm;
                }
                for &j in &lset {
                    row[j] += d.hlm;
                }
                row[iha] += d.hlm;
                row[ir] += d.hmr;
            }
            h_haha += d.hll;
            h_har += d.hlr;
            h_rr += d.hrr;
        }
        if self.w11 > 0.0 {
            f -= self.w11 * t11.ln();
            g_r += self.w11 / t11;
            h_rr += self.w11 / (t11 * t11);
        }
        g[iha] = g_ha;
        g[ir] = g_r;
        // Rows iha and ir mirror the columns filled above (symmetric Hessian).
        for i in 0..2 * n {
            h[iha * p + i] = h[i * p + iha];
            h[ir * p + i] = h[i * p + ir];
        }
        h[iha * p + iha] = h_haha;
        h[iha * p + ir] = h_har;
        h[ir * p + iha] = h_har;
        h[ir * p + ir] = h_rr;
        // Penalty 0.5 (sum attack)^2 and ridge.
        let s: f64 = x[..n].iter().sum();
        for i in 0..n {
            g[i] += s;
            for v in &mut h[i * p..i * p + n] {
                *v += 1.0;
            }
        }
        for i in 0..2 * n {
            g[i] += 2.0 * RIDGE * x[i];
            h[i * p + i] += 2.0 * RIDGE;
        }
        self.add_strength_ridge(x, g, h);
        self.add_total_ridge(x, g, h);
        f += self.regulariser(x);
        if f.is_finite() {
            f
        } else {
            f64::INFINITY
        }
    }

    /// Starting point from weighted mean goals (all taus are 1 there, so it is always valid).
    /// The strength ridge's gradient and Hessian (r = strength_ridge): 2 r attack_i for attack,
    /// and 2 r (defence_i - mean defence) for defence, whose Hessian block is 2 r (I - 11'/n)
    /// (the mean moves with every defence).
    fn add_strength_ridge(&self, x: &[f64], g: &mut [f64], h: &mut [f64]) {
        if self.strength_ridge <= 0.0 {
            return;
        }
        let (n, p, two) = (self.n, self.dim(), 2.0 * self.strength_ridge);
        let mean_defence = x[n..2 * n].iter().sum::<f64>() / n as f64;
        for i in 0..n {
            g[i] += two * x[i];
            h[i * p + i] += two;
            g[n + i] += two * (x[n + i] - mean_defence);
            for j in 0..n {
                let identity = if i == j { 1.0 } else { 0.0 };
                h[(n + i) * p + n + j] += two * (identity - 1.0 / n as f64);
            }
        }
    }

    /// The total ridge's gradient and Hessian (r = total_ridge, u_i = attack_i + defence_i -
    /// mean defence, whose derivative is 1 in attack_i and (identity - 1/n) in the defences):
    /// 2 r u_i for attack_i, 2 r (u_j - mean u) for defence_j; Hessian blocks 2 r I (attack,
    /// attack) and 2 r (I - 11'/n) (attack, defence) and (defence, defence).
    fn add_total_ridge(&self, x: &[f64], g: &mut [f64], h: &mut [f64]) {
        if self.total_ridge <= 0.0 {
            return;
        }
        let (n, p, two) = (self.n, self.dim(), 2.0 * self.total_ridge);
        let mean_defence = x[n..2 * n].iter().sum::<f64>() / n as f64;
        let u: Vec<f64> = (0..n).map(|i| x[i] + x[n + i] - mean_defence).collect();
        let mean_u = u.iter().sum::<f64>() / n as f64;
        for i in 0..n {
            g[i] += two * u[i];
            g[n + i] += two * (u[i] - mean_u);
            h[i * p + i] += two;
            for j in 0..n {
                let centred = two * (if i == j { 1.0 } else { 0.0 } - 1.0 / n as f64);
                h[i * p + n + j] += centred;
                h[(n + j) * p + i] += centred;
                h[(n + i) * p + n + j] += centred;
            }
        }
    }

    fn cold_start(&self) -> Vec<f64> {
        let (mut w, mut sx, mut sy) = (0.0, 0.0, 0.0);
        for p in &self.pairs {
            w += p.s.w;
            sx += p.s.sx;
            sy += p.s.sy;
        }
        let hbar = (sx / w).max(0.05);
        let abar = (sy / w).max(0.05);
        let mut x = vec![0.0; self.dim()];
        for v in &mut x[self.n..2 * self.n] {
            *v = abar.ln();
        }
        x[2 * self.n] = (hbar / abar).ln();
        x
    }

    fn warm_start(&self, ws: &DixonColesFit) -> Vec<f64> {
        let n = self.n;
        let mut x = vec![0.0; self.dim()];
        for (k, &t) in self.active.iter().enumerate() {
            x[k] = ws.attack[t];
            x[n + k] = ws.defence[t];
        }
        x[2 * n] = ws.home_advantage;
        x[2 * n + 1] = ws.rho;
        x
    }
}

/// Maximum of the weighted log-likelihood (the plain maximum-likelihood fit, as penaltyblog's):
/// [`fit_penalised`] with no strength ridge.
pub fn fit(
    data: &GoalsData,
    warm_start: Option<&DixonColesFit>,
) -> Result<DixonColesFit, FitError> {
    fit_penalised(data, 0.0, warm_start)
}

/// Maximum of the weighted log-likelihood minus `strength_ridge * (sum attack^2 + sum (defence -
/// mean defence)^2)`: a Gaussian prior of standard deviation `1 / sqrt(2 strength_ridge)` on every team's
/// attack and defence around the league's average (the maximum a posteriori fit), which keeps
/// a club with a handful of matches from extreme strengths. `strength_ridge` 0 is the plain maximum of
/// the likelihood. `warm_start` (same n_teams) speeds up repeated fits.
///
/// Teams with zero total weight are not fitted: they get attack 0 (the mean attack, since
/// `sum(attack) = 0` over the other teams) and the mean defence of the other teams.
/// A warm start that is non-finite or outside the valid region is ignored (cold start).
pub fn fit_penalised(
    data: &GoalsData,
    strength_ridge: f64,
    warm_start: Option<&DixonColesFit>,
) -> Result<DixonColesFit, FitError> {
    fit_with(data, strength_ridge, 0.0, warm_start, true)
}

/// [`fit_penalised`] with a second ridge, `total_ridge * sum (attack + defence - mean
/// defence)^2`: a prior that pulls each team's scoring tendency (how many goals its matches hold,
/// for and against) towards the league's more than its strength (attack - defence, which decides
/// who wins). `total_ridge` 0 is [`fit_penalised`], bit for bit.
pub fn fit_shrunk(
    data: &GoalsData,
    strength_ridge: f64,
    total_ridge: f64,
    warm_start: Option<&DixonColesFit>,
) -> Result<DixonColesFit, FitError> {
    fit_with(data, strength_ridge, total_ridge, warm_start, true)
}

/// [`fit_penalised`] without the log-likelihood of the result (`weighted_log_likelihood` is
/// NaN): the same parameters, bit for bit, without the pass over every match that computes it
/// (about a sixth of a fit), for fits that only predict (the validation replay's refits).
pub fn fit_parameters(
    data: &GoalsData,
    strength_ridge: f64,
    total_ridge: f64,
    warm_start: Option<&DixonColesFit>,
) -> Result<DixonColesFit, FitError> {
    fit_with(data, strength_ridge, total_ridge, warm_start, false)
}

fn fit_with(
    data: &GoalsData,
    strength_ridge: f64,
    total_ridge: f64,
    warm_start: Option<&DixonColesFit>,
    likelihood: bool,
) -> Result<DixonColesFit, FitError> {
    validate(data)?;
    if let Some(ws) = warm_start {
        if ws.attack.len() != data.n_teams || ws.defence.len() != data.n_teams {
            return Err(FitError::BadInput(format!(
                "warm start has {} attack / {} defence values, data has {} teams",
                ws.attack.len(),
                ws.defence.len(),
                data.n_teams
            )));
        }
    }
    let prob = Problem::new(data, strength_ridge, total_ridge)?;
    let p = prob.dim();
    let mut g = vec![0.0; p];
    let mut h = vec![0.0; p * p];
    let mut work = Vec::with_capacity(p * p);
    let (mut g_next, mut h_next) = (vec![0.0; p], vec![0.0; p * p]);

    let mut x = prob.cold_start();
    let mut f = f64::INFINITY;
    if let Some(ws) = warm_start {
        let xw = prob.warm_start(ws);
        if xw.iter().all(|v| v.is_finite()) {
            let fw = prob.value_grad_hess(&xw, &mut g, &mut h);
            if fw.is_finite() {
                x = xw;
                f = fw;
            }
        }
    }
    if !f.is_finite() {
        f = prob.value_grad_hess(&x, &mut g, &mut h);
        if !f.is_finite() {
            return Err(FitError::NotFinite);
        }
    }

    let mut iterations = 0;
    let mut converged = false;
    let mut last_step = f64::INFINITY;
    while iterations < MAX_ITER {
        // Within the gradient tolerance, and the last Newton step was small: a weakly
        // determined direction (a club that has not scored yet, held only by the ridge) has a
        // small gradient far from its optimum, so the gradient alone would stop wherever the
        // fit started; the step shows the distance left.
        // A gradient at rounding level (a warm start on unchanged data) ends it at once.
        let gradient = max_abs(&g);
        if gradient < GRAD_TOL && (last_step < STEP_TOL || gradient < GRAD_TOL * 1e-4) {
            converged = true;
            break;
        }
        let d = newton_direction(&h, &g, p, &mut work);
        let xn = match full_step(&prob, &x, f, &g, &d, &mut g_next, &mut h_next) {
            Some((xn, f_next)) => {
                // Taken with its derivatives (near the optimum, nearly every step).
                std::mem::swap(&mut g, &mut g_next);
                std::mem::swap(&mut h, &mut h_next);
                f = f_next;
                xn
            }
            None => match line_search(|z| prob.value(z), &x, f, &g, &d) {
                Some((xn, _)) => {
                    f = prob.value_grad_hess(&xn, &mut g, &mut h);
                    if !f.is_finite() {
                        return Err(FitError::NotFinite);
                    }
                    xn
                }
                None => break,
            },
        };
        last_step = xn
            .iter()
            .zip(&x)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        x = xn;
        iterations += 1;
        if last_step <= STUCK_STEP && max_abs(&g) >= GRAD_TOL {
            break;
        }
    }
    if !converged && max_abs(&g) < GRAD_TOL {
        converged = true;
    }

    fit_result(&prob, data, &x, likelihood, iterations, converged)
}

/// The fit at `x` (the active teams' parameters) as [`DixonColesFit`], with the log-likelihood
/// when `likelihood`; teams without weight at attack 0 and the mean defence.
fn fit_result(
    prob: &Problem,
    data: &GoalsData,
    x: &[f64],
    likelihood: bool,
    iterations: usize,
    converged: bool,
) -> Result<DixonColesFit, FitError> {
    let n = prob.n;
    let mut attack = vec![0.0; data.n_teams];
    let mut defence = vec![0.0; data.n_teams];
    let mean_def = x[n..2 * n].iter().sum::<f64>() / n as f64;
    defence.iter_mut().for_each(|v| *v = mean_def);
    for (k, &t) in prob.active.iter().enumerate() {
        attack[t] = x[k];
        defence[t] = x[n + k];
    }
    let home_advantage = x[2 * n];
    let rho = x[2 * n + 1];
    let wll = if likelihood {
        weighted_log_likelihood(data, &attack, &defence, home_advantage, rho)
    } else {
        f64::NAN
    };
    let all_finite = (wll.is_finite() || !likelihood)
        && home_advantage.is_finite()
        && rho.is_finite()
        && attack.iter().chain(&defence).all(|v| v.is_finite());
    if !all_finite {
        return Err(FitError::NotFinite);
    }
    Ok(DixonColesFit {
        attack,
        defence,
        home_advantage,
        rho,
        weighted_log_likelihood: wll,
        iterations,
        converged,
    })
}

/// The full Newton step `x + d` with its value, gradient and Hessian (into `g`, `h`) when the
/// line search would accept it at once (the same rule, [`linalg::accepts`] at step 1, so the
/// same point, value and derivatives as the line search followed by a fresh evaluation); `None`
/// when it would not (`d` not a descent direction, or too small a decrease).
fn full_step(
    prob: &Problem,
    x: &[f64],
    f: f64,
    grad: &[f64],
    d: &[f64],
    g: &mut [f64],
    h: &mut [f64],
) -> Option<(Vec<f64>, f64)> {
    let gd: f64 = grad.iter().zip(d).map(|(a, b)| a * b).sum();
    let slope_ok = gd < 0.0;
    if !slope_ok {
        return None;
    }
    let xn: Vec<f64> = x.iter().zip(d).map(|(xi, di)| xi + 1.0 * di).collect();
    let f_next = prob.value_grad_hess(&xn, g, h);
    linalg::accepts(f, gd, 1.0, f_next).then_some((xn, f_next))
}

// ---------------------------------------------------------------------------------------------
// Single-team fit
// ---------------------------------------------------------------------------------------------

/// One match of the single-team problem: l = cl + jl . (a_t, d_t), m = cm + jm . (a_t, d_t).
struct TeamMatch {
    cl: f64,
    cm: f64,
    jl: [f64; 2],
    jm: [f64; 2],
    s: Stats,
    w11: f64,
}

fn team_value(ms: &[TeamMatch], rho: f64, z: [f64; 2]) -> f64 {
    let mut f = RIDGE * (z[0] * z[0] + z[1] * z[1]);
    for t in ms {
        let l = t.cl + t.jl[0] * z[0] + t.jl[1] * z[1];
        let m = t.cm + t.jm[0] * z[0] + t.jm[1] * z[1];
        match pair_value(&t.s, l, m, rho) {
            Some(v) => f += v,
            None => return f64::INFINITY,
        }
        if t.w11 > 0.0 {
            f -= t.w11 * (1.0 - rho).ln();
        }
    }
    if f.is_finite() {
        f
    } else {
        f64::INFINITY
    }
}

fn team_derivs(ms: &[TeamMatch], rho: f64, z: [f64; 2]) -> Option<(f64, [f64; 2], [[f64; 2]; 2])> {
    let mut f = RIDGE * (z[0] * z[0] + z[1] * z[1]);
    let mut g = [2.0 * RIDGE * z[0], 2.0 * RIDGE * z[1]];
    let mut h = [[2.0 * RIDGE, 0.0], [0.0, 2.0 * RIDGE]];
    for t in ms {
        let l = t.cl + t.jl[0] * z[0] + t.jl[1] * z[1];
        let m = t.cm + t.jm[0] * z[0] + t.jm[1] * z[1];
        let d = pair_derivs(&t.s, l, m, rho)?;
        f += d.f;
        if t.w11 > 0.0 {
            f -= t.w11 * (1.0 - rho).ln();
        }
        for (i, (gi, hi)) in g.iter_mut().zip(h.iter_mut()).enumerate() {
            *gi += t.jl[i] * d.gl + t.jm[i] * d.gm;
            for (j, hij) in hi.iter_mut().enumerate() {
                *hij += t.jl[i] * t.jl[j] * d.hll
                    + t.jm[i] * t.jm[j] * d.hmm
                    + (t.jl[i] * t.jm[j] + t.jm[i] * t.jl[j]) * d.hlm;
            }
        }
    }
    if f.is_finite() {
        Some((f, g, h))
    } else {
        None
    }
}

/// Fit only one team's (attack, defence) on the given matches, every other parameter held fixed
/// (2-parameter Newton with exact gradient/Hessian). Used to estimate how strong teams were in
/// their first season in a league. `team` is an index; matches not involving it are ignored.
///
/// Starts from `fixed`'s values for the team. Returns the best point found even if the gradient
/// tolerance was not reached within the iteration cap (a tiny ridge keeps it finite for teams
/// that never score or never concede).
pub fn fit_single_team(
    data: &GoalsData,
    team: u32,
    fixed: &DixonColesFit,
) -> Result<(f64, f64), FitError> {
    match validate(data) {
        Ok(()) | Err(FitError::NoMatches) => {}
        Err(e) => return Err(e),
    }
    let t = team as usize;
    if t >= data.n_teams {
        return Err(FitError::BadInput(format!(
            "team {t} out of range (n_teams = {})",
            data.n_teams
        )));
    }
    if fixed.attack.len() != data.n_teams || fixed.defence.len() != data.n_teams {
        return Err(FitError::BadInput(format!(
            "fixed parameters have {} attack / {} defence values, data has {} teams",
            fixed.attack.len(),
            fixed.defence.len(),
            data.n_teams
        )));
    }
    let rho = fixed.rho;
    let rho_ok = rho.is_finite() && rho < 1.0 && fixed.home_advantage.is_finite();
    if !rho_ok {
        return Err(FitError::BadInput(format!(
            "fixed home_advantage {} / rho {} invalid (need finite, rho < 1)",
            fixed.home_advantage, rho
        )));
    }
    let mut ms: Vec<TeamMatch> = Vec::new();
    for i in 0..data.home.len() {
        let w = data.weight[i];
        let (h, a) = (data.home[i] as usize, data.away[i] as usize);
        if w <= 0.0 || (h != t && a != t) {
            continue;
        }
        let pin = |c: bool| if c { 1.0 } else { 0.0 };
        let mut cl = fixed.home_advantage;
        let mut cm = 0.0;
        if h != t {
            cl += fixed.attack[h];
            cm += fixed.defence[h];
        }
        if a != t {
            cl += fixed.defence[a];
            cm += fixed.attack[a];
        }
        let finite = cl.is_finite() && cm.is_finite();
        if !finite {
            return Err(FitError::BadInput(format!(
                "match {i}: fixed parameters of the opponent are not finite"
            )));
        }
        let mut s = Stats::default();
        let (x, y) = (data.home_goals[i], data.away_goals[i]);
        s.add(w, x, y, data.scores_of(i));
        ms.push(TeamMatch {
            cl,
            cm,
            jl: [pin(h == t), pin(a == t)],
            jm: [pin(a == t), pin(h == t)],
            s,
            w11: if x == 1 && y == 1 { w } else { 0.0 },
        });
    }
    if ms.is_empty() {
        return Err(FitError::NoMatches);
    }

    // Start at the given values; if invalid there, lower both until every tau is positive
    // (as lambda, mu -> 0 every tau -> 1, given rho < 1).
    let mut z = [fixed.attack[t], fixed.defence[t]];
    let start_ok = z[0].is_finite() && z[1].is_finite();
    if !start_ok {
        z = [0.0, 0.0];
    }
    let mut cur = team_derivs(&ms, rho, z);
    let mut shift = 0.0;
    while cur.is_none() && shift < 200.0 {
        shift += 1.0;
        z = [-shift, -shift];
        cur = team_derivs(&ms, rho, z);
    }
    let (mut f, mut g, mut h) = cur.ok_or(FitError::NotFinite)?;
    let mut work = Vec::with_capacity(4);

    let mut last_step = f64::INFINITY;
    for _ in 0..MAX_ITER_SINGLE {
        // As in `fit`: a small gradient and a small last step.
        if g[0].abs().max(g[1].abs()) < GRAD_TOL && last_step < STEP_TOL {
            break;
        }
        let step = newton_direction(&[h[0][0], h[0][1], h[1][0], h[1][1]], &g, 2, &mut work);
        let value = |v: &[f64]| team_value(&ms, rho, [v[0], v[1]]);
        match line_search(value, &z, f, &g, &step) {
            Some((zn, _)) => {
                last_step = (zn[0] - z[0]).abs().max((zn[1] - z[1]).abs());
                z = [zn[0], zn[1]];
            }
            None => break,
        }
        match team_derivs(&ms, rho, z) {
            Some((fn_, gn, hn)) => {
                f = fn_;
                g = gn;
                h = hn;
            }
            None => return Err(FitError::NotFinite),
        }
    }
    if z[0].is_finite() && z[1].is_finite() {
        Ok((z[0], z[1]))
    } else {
        Err(FitError::NotFinite)
    }
}

// ---------------------------------------------------------------------------------------------
// Unit tests (private derivatives)
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random generator (64-bit LCG, top bits).
    struct Lcg(u64);
    impl Lcg {
        fn uniform(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
        }
        fn poisson(&mut self, rate: f64) -> u16 {
            let u = self.uniform();
            let mut k = 0u16;
            let mut p = (-rate).exp();
            let mut c = p;
            while u > c && k < 20 {
                k += 1;
                p *= rate / f64::from(k);
                c += p;
            }
            k
        }
    }

    fn small_data(n_teams: usize, n_matches: usize, seed: u64) -> GoalsData {
        let mut rng = Lcg(seed);
        let mut d = GoalsData {
            n_teams,
            ..GoalsData::default()
        };
        let strength: Vec<f64> = (0..n_teams).map(|_| rng.uniform() - 0.5).collect();
        for k in 0..n_matches {
            let h = k % n_teams;
            let a = (h + 1 + (rng.uniform() * (n_teams - 1) as f64) as usize) % n_teams;
            let lam = (0.25 + strength[h] - 0.5 * strength[a]).exp();
            let mu = (strength[a] - 0.5 * strength[h]).exp();
            d.home.push(h as u32);
            d.away.push(a as u32);
            d.home_goals.push(rng.poisson(lam));
            d.away_goals.push(rng.poisson(mu));
            d.weight.push(0.2 + rng.uniform());
        }
        d
    }

    fn random_point(prob: &Problem, seed: u64) -> Vec<f64> {
        let mut rng = Lcg(seed);
        let mut x: Vec<f64> = (0..prob.dim())
            .map(|_| 0.6 * (rng.uniform() - 0.5))
            .collect();
        x[2 * prob.n + 1] = 0.08; // rho
        x
    }

    #[test]
    fn fit_parameters_is_fit_without_the_likelihood() {
        for seed in [3u64, 11, 29] {
            let data = small_data(8, 300, seed);
            let full = fit(&data, None).unwrap();
            let params = fit_parameters(&data, 0.0, 0.0, None).unwrap();
            let bits = |f: &DixonColesFit| {
                let mut v: Vec<u64> = f
                    .attack
                    .iter()
                    .chain(&f.defence)
                    .map(|x| x.to_bits())
                    .collect();
                v.extend([f.home_advantage.to_bits(), f.rho.to_bits()]);
                v
            };
            assert_eq!(bits(&full), bits(&params), "seed {seed}");
            assert_eq!(full.iterations, params.iterations);
            assert!(full.weighted_log_likelihood.is_finite());
            assert!(params.weighted_log_likelihood.is_nan());
        }
    }

    #[test]
    fn gradient_and_hessian_match_finite_differences() {
        let data = small_data(6, 120, 7);
        for (seed, rho, strength_ridge, total_ridge) in [
            (1u64, 0.08, 0.0, 0.0),
            (2, -0.12, 0.0, 0.0),
            (3, 0.0, 0.0, 0.0),
            (4, 0.05, 2.5, 0.0),
            (5, 0.05, 0.0, 4.0),
            (6, -0.03, 2.5, 4.0),
        ] {
            let prob = Problem::new(&data, strength_ridge, total_ridge).unwrap();
            let p = prob.dim();
            let mut x = random_point(&prob, seed);
            x[p - 1] = rho;
            let mut g = vec![0.0; p];
            let mut h = vec![0.0; p * p];
            let f = prob.value_grad_hess(&x, &mut g, &mut h);
            assert!((f - prob.value(&x)).abs() <= 1e-12 * f.abs().max(1.0));
            let eps = 1e-6;
            for i in 0..p {
                let mut xp = x.clone();
                let mut xm = x.clone();
                xp[i] += eps;
                xm[i] -= eps;
                let fd = (prob.value(&xp) - prob.value(&xm)) / (2.0 * eps);
                assert!(
                    (fd - g[i]).abs() < 1e-5 * (1.0 + g[i].abs()),
                    "grad {i}: analytic {} vs fd {}",
                    g[i],
                    fd
                );
                let mut gp = vec![0.0; p];
                let mut gm = vec![0.0; p];
                let mut hh = vec![0.0; p * p];
                prob.value_grad_hess(&xp, &mut gp, &mut hh);
                prob.value_grad_hess(&xm, &mut gm, &mut hh);
                for j in 0..p {
                    let fdh = (gp[j] - gm[j]) / (2.0 * eps);
                    let an = h[j * p + i];
                    assert!(
                        (fdh - an).abs() < 1e-5 * (1.0 + an.abs()),
                        "hess ({j},{i}): analytic {an} vs fd {fdh}"
                    );
                    assert_eq!(h[i * p + j].to_bits(), h[j * p + i].to_bits());
                }
            }
        }
    }

    #[test]
    fn objective_matches_public_wll() {
        let data = small_data(5, 80, 11);
        let prob = Problem::new(&data, 0.0, 0.0).unwrap();
        let x = random_point(&prob, 5);
        let n = prob.n;
        let wll = weighted_log_likelihood(&data, &x[..n], &x[n..2 * n], x[2 * n], x[2 * n + 1]);
        let mut lnfact = 0.0;
        for i in 0..data.home.len() {
            lnfact += data.weight[i]
                * (ln_factorial(data.home_goals[i]) + ln_factorial(data.away_goals[i]));
        }
        let f = prob.value(&x) - prob.regulariser(&x);
        assert!((-f - lnfact - wll).abs() < 1e-9 * wll.abs());
    }

    #[test]
    fn single_team_derivatives_match_finite_differences() {
        let data = small_data(6, 120, 3);
        let fit0 = fit(&data, None).unwrap();
        for team in 0..6u32 {
            let t = team as usize;
            let mut ms = Vec::new();
            for i in 0..data.home.len() {
                let (h, a) = (data.home[i] as usize, data.away[i] as usize);
                if h != t && a != t {
                    continue;
                }
                let mut s = Stats::default();
                s.add(
                    data.weight[i],
                    data.home_goals[i],
                    data.away_goals[i],
                    data.scores_of(i),
                );
                let other_h = if h == t { 0.0 } else { 1.0 };
                let other_a = if a == t { 0.0 } else { 1.0 };
                ms.push(TeamMatch {
                    cl: fit0.home_advantage + other_h * fit0.attack[h] + other_a * fit0.defence[a],
                    cm: other_a * fit0.attack[a] + other_h * fit0.defence[h],
                    jl: [1.0 - other_h, 1.0 - other_a],
                    jm: [1.0 - other_a, 1.0 - other_h],
                    s,
                    w11: 0.0,
                });
            }
            let z = [0.1, -0.2];
            let (_, g, h) = team_derivs(&ms, fit0.rho, z).unwrap();
            let eps = 1e-6;
            for i in 0..2 {
                let mut zp = z;
                let mut zm = z;
                zp[i] += eps;
                zm[i] -= eps;
                let fd =
                    (team_value(&ms, fit0.rho, zp) - team_value(&ms, fit0.rho, zm)) / (2.0 * eps);
                assert!((fd - g[i]).abs() < 1e-6 * (1.0 + g[i].abs()));
                let (_, gp, _) = team_derivs(&ms, fit0.rho, zp).unwrap();
                let (_, gm, _) = team_derivs(&ms, fit0.rho, zm).unwrap();
                for j in 0..2 {
                    let fdh = (gp[j] - gm[j]) / (2.0 * eps);
                    assert!((fdh - h[j][i]).abs() < 1e-5 * (1.0 + h[j][i].abs()));
                }
            }
        }
    }

    #[test]
    fn scores_equal_to_the_goals_are_the_goals_fit_and_bad_scores_are_refused() {
        let data = small_data(6, 150, 23);
        let plain = fit(&data, None).unwrap();
        let mut scored = data.clone();
        scored.scores = (0..data.home.len())
            .map(|i| [f64::from(data.home_goals[i]), f64::from(data.away_goals[i])])
            .collect();
        let same = fit(&scored, None).unwrap();
        assert_eq!(same.attack, plain.attack);
        assert_eq!(same.defence, plain.defence);
        assert_eq!(same.rho.to_bits(), plain.rho.to_bits());
        // Other scores move the strengths; the reported likelihood is still the goals'.
        scored.scores[0][0] += 2.5;
        let moved = fit(&scored, None).unwrap();
        assert_ne!(moved.attack, plain.attack);
        let wll = weighted_log_likelihood(
            &data,
            &moved.attack,
            &moved.defence,
            moved.home_advantage,
            moved.rho,
        );
        assert_eq!(moved.weighted_log_likelihood, wll);
        for bad in [[f64::NAN, 1.0], [-0.5, 1.0], [1.0, f64::INFINITY]] {
            let mut refused = scored.clone();
            refused.scores[3] = bad;
            assert!(matches!(fit(&refused, None), Err(FitError::BadInput(_))));
        }
        scored.scores.pop();
        assert!(matches!(fit(&scored, None), Err(FitError::BadInput(_))));
    }

    #[test]
    fn small_fit_converges_and_is_a_maximum() {
        let data = small_data(6, 150, 19);
        let fit0 = fit(&data, None).unwrap();
        assert!(fit0.converged, "{fit0:?}");
        let s: f64 = fit0.attack.iter().sum();
        assert!(s.abs() < 1e-8);
        // Perturbing any parameter lowers the WLL.
        let base = fit0.weighted_log_likelihood;
        for i in 0..6 {
            for delta in [-1e-3, 1e-3] {
                let mut a = fit0.attack.clone();
                a[i] += delta;
                let w = weighted_log_likelihood(
                    &data,
                    &a,
                    &fit0.defence,
                    fit0.home_advantage,
                    fit0.rho,
                );
                assert!(w < base);
            }
        }
        for delta in [-1e-3, 1e-3] {
            let w = weighted_log_likelihood(
                &data,
                &fit0.attack,
                &fit0.defence,
                fit0.home_advantage,
                fit0.rho + delta,
            );
            assert!(w < base);
        }
    }

    /// The strength ridge pulls every team towards the league average without moving the league's level:
    /// the spread of the strengths shrinks, the mean defence (the away scoring level) stays, the
    /// fit maximises the penalised objective (any perturbation lowers it), and a warm start
    /// converges to the same point.
    #[test]
    fn strength_ridge_shrinks_towards_the_average_and_keeps_the_level() {
        let data = small_data(8, 120, 23);
        let plain = fit(&data, None).unwrap();
        let shrunk = fit_penalised(&data, 3.0, None).unwrap();
        assert!(plain.converged && shrunk.converged);
        let spread = |f: &DixonColesFit| {
            let md = f.defence.iter().sum::<f64>() / f.defence.len() as f64;
            f.attack.iter().map(|a| a * a).sum::<f64>()
                + f.defence.iter().map(|d| (d - md) * (d - md)).sum::<f64>()
        };
        assert!(
            spread(&shrunk) < 0.8 * spread(&plain),
            "{} vs {}",
            spread(&shrunk),
            spread(&plain)
        );
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        // The league's level: the weighted goals both fits expect over the data.
        let expected_goals = |f: &DixonColesFit| -> f64 {
            (0..data.home.len())
                .map(|i| {
                    let (h, a) = (data.home[i] as usize, data.away[i] as usize);
                    data.weight[i]
                        * ((f.home_advantage + f.attack[h] + f.defence[a]).exp()
                            + (f.attack[a] + f.defence[h]).exp())
                })
                .sum()
        };
        let (e0, e1) = (expected_goals(&plain), expected_goals(&shrunk));
        assert!((e1 / e0 - 1.0).abs() < 0.005, "{e0} vs {e1}");
        assert!(shrunk.weighted_log_likelihood < plain.weighted_log_likelihood);
        let objective = |a: &[f64], d: &[f64], ha: f64, rho: f64| {
            let md = mean(d);
            weighted_log_likelihood(&data, a, d, ha, rho)
                - 3.0
                    * (a.iter().map(|x| x * x).sum::<f64>()
                        + d.iter().map(|x| (x - md) * (x - md)).sum::<f64>())
        };
        assert_maximises(&shrunk, objective);
        let warm = fit_penalised(&data, 3.0, Some(&plain)).unwrap();
        for (a, b) in warm.attack.iter().zip(&shrunk.attack) {
            assert!((a - b).abs() < 1e-9);
        }
    }

    /// That `fit` maximises `objective` (of attack, defence, home advantage, rho): moving any
    /// one team's attack or defence by 1e-3 either way lowers it.
    fn assert_maximises(fit: &DixonColesFit, objective: impl Fn(&[f64], &[f64], f64, f64) -> f64) {
        let (ha, rho) = (fit.home_advantage, fit.rho);
        let best = objective(&fit.attack, &fit.defence, ha, rho);
        for i in 0..fit.attack.len() {
            for delta in [-1e-3, 1e-3] {
                let mut a = fit.attack.clone();
                a[i] += delta;
                let mut d = fit.defence.clone();
                d[i] += delta;
                assert!(
                    objective(&a, &fit.defence, ha, rho) < best,
                    "attack {i} {delta}"
                );
                assert!(
                    objective(&fit.attack, &d, ha, rho) < best,
                    "defence {i} {delta}"
                );
            }
        }
    }

    /// The total ridge pulls each team's scoring tendency (attack + defence - mean defence) towards
    /// the league's much more than its strength (attack - defence + mean defence); at 0 it is the
    /// strength-ridge fit bit for bit; and the fit is the maximum of its objective.
    #[test]
    fn total_ridge_shrinks_scoring_tendencies_not_strengths() {
        let data = small_data(8, 160, 31);
        let base = fit_penalised(&data, 3.0, None).unwrap();
        let zero = fit_shrunk(&data, 3.0, 0.0, None).unwrap();
        let bits = |f: &DixonColesFit| -> Vec<u64> {
            f.attack
                .iter()
                .chain(&f.defence)
                .chain([&f.home_advantage, &f.rho])
                .map(|x| x.to_bits())
                .collect()
        };
        assert_eq!(bits(&base), bits(&zero));
        let shrunk = fit_shrunk(&data, 3.0, 20.0, None).unwrap();
        assert!(shrunk.converged);
        // Sums of squares of the tendencies (a + d') and of the strengths (a - d').
        let spreads = |f: &DixonColesFit| {
            let md = f.defence.iter().sum::<f64>() / f.defence.len() as f64;
            let (mut t, mut s) = (0.0, 0.0);
            for (a, d) in f.attack.iter().zip(&f.defence) {
                t += (a + d - md).powi(2);
                s += (a - d + md).powi(2);
            }
            (t, s)
        };
        let ((t0, s0), (t1, s1)) = (spreads(&base), spreads(&shrunk));
        assert!(t1 < 0.3 * t0, "tendencies {t1} vs {t0}");
        assert!(s1 > 0.8 * s0, "strengths {s1} vs {s0}");
        let objective = |a: &[f64], d: &[f64], ha: f64, rho: f64| {
            let md = d.iter().sum::<f64>() / d.len() as f64;
            let mut pen = 0.0;
            for (x, y) in a.iter().zip(d) {
                pen += 3.0 * (x * x + (y - md) * (y - md)) + 20.0 * (x + y - md).powi(2);
            }
            weighted_log_likelihood(&data, a, d, ha, rho) - pen
        };
        assert_maximises(&shrunk, objective);
    }

    #[test]
    fn ln_factorial_is_accurate() {
        let mut acc = 0.0f64;
        for k in 1..=400u16 {
            acc += f64::from(k).ln();
            let v = ln_factorial(k);
            assert!((v - acc).abs() <= 1e-12 * acc, "k={k}: {v} vs {acc}");
        }
        assert_eq!(ln_factorial(0), 0.0);
        assert!(ln_factorial(u16::MAX).is_finite());
    }

    #[test]
    fn log_prob_edge_cases() {
        assert_eq!(log_prob(0.0, 0.0, 0.0, 0, 0), 0.0);
        assert_eq!(log_prob(0.0, 1.0, 0.0, 1, 0), f64::NEG_INFINITY);
        assert_eq!(log_prob(2.0, 2.0, 0.5, 0, 0), f64::NEG_INFINITY);
        assert!(log_prob(-1.0, 1.0, 0.0, 0, 0).is_nan());
        let lp = log_prob(1.3, 0.9, 0.05, 1, 1);
        let direct = (1.3f64.ln() - 1.3) + (0.9f64.ln() - 0.9) + (0.95f64).ln();
        assert!((lp - direct).abs() < 1e-15);
    }
}
