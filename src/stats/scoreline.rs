//! One scoreline grid, from which every market is derived (1X2, over/under, both teams to
//! score), so that all of a goals model's outputs are consistent with each other.

/// Goals 0..=MAX_GOALS for each side; the mass beyond is removed by normalising.
pub const MAX_GOALS: usize = 14;

/// Cells per side: goals 0..=MAX_GOALS.
const SIZE: usize = MAX_GOALS + 1;

/// P(home goals = i, away goals = j), normalised to sum to 1. Fixed-size (no allocation): the
/// feature engine builds one per match.
#[derive(Debug, Clone)]
pub struct ScorelineGrid {
    probs: [f64; SIZE * SIZE],
}

impl ScorelineGrid {
    /// The Dixon-Coles grid for expected goals `lambda` (home) and `mu` (away) with correction
    /// `rho`. Cells made negative by an extreme rho are set to zero before normalising.
    pub fn dixon_coles(lambda: f64, mu: f64, rho: f64) -> ScorelineGrid {
        let home = poisson_pmf(lambda);
        let away = poisson_pmf(mu);
        let mut probs = [0.0; SIZE * SIZE];
        for i in 0..SIZE {
            for j in 0..SIZE {
                probs[i * SIZE + j] = (home[i] * away[j] * tau(lambda, mu, rho, i, j)).max(0.0);
            }
        }
        let total: f64 = probs.iter().sum();
        if total > 0.0 {
            probs.iter_mut().for_each(|p| *p /= total);
        }
        ScorelineGrid { probs }
    }

    /// Independent Poisson scores (no Dixon-Coles correction).
    pub fn independent(lambda: f64, mu: f64) -> ScorelineGrid {
        ScorelineGrid::dixon_coles(lambda, mu, 0.0)
    }

    /// P(home goals = i, away goals = j).
    pub fn prob(&self, i: usize, j: usize) -> f64 {
        if i < SIZE && j < SIZE {
            self.probs[i * SIZE + j]
        } else {
            0.0
        }
    }

    fn sum_where(&self, keep: impl Fn(usize, usize) -> bool) -> f64 {
        let mut s = 0.0;
        for i in 0..SIZE {
            for j in 0..SIZE {
                if keep(i, j) {
                    s += self.probs[i * SIZE + j];
                }
            }
        }
        s
    }

    /// (home win, draw, away win), in one pass (each sum in the same cell order as
    /// [`Self::over`] and [`Self::btts`] use).
    pub fn one_x_two(&self) -> [f64; 3] {
        let mut out = [0.0; 3];
        for i in 0..SIZE {
            for j in 0..SIZE {
                let k = match i.cmp(&j) {
                    std::cmp::Ordering::Greater => 0,
                    std::cmp::Ordering::Equal => 1,
                    std::cmp::Ordering::Less => 2,
                };
                out[k] += self.probs[i * SIZE + j];
            }
        }
        out
    }

    /// P(total goals > line), e.g. `line = 2.5`.
    pub fn over(&self, line: f64) -> f64 {
        self.sum_where(|i, j| (i + j) as f64 > line)
    }

    /// P(both teams score).
    pub fn btts(&self) -> f64 {
        self.sum_where(|i, j| i > 0 && j > 0)
    }
}

/// The Dixon-Coles correction factor of scoreline (`home_goals`, `away_goals`): it moves
/// probability between 0-0, 1-1, 0-1 and 1-0 by `rho` and is 1 for every other score.
pub fn tau(lambda: f64, mu: f64, rho: f64, home_goals: usize, away_goals: usize) -> f64 {
    match (home_goals, away_goals) {
        (0, 0) => 1.0 - lambda * mu * rho,
        (0, 1) => 1.0 + lambda * rho,
        (1, 0) => 1.0 + mu * rho,
        (1, 1) => 1.0 - rho,
        _ => 1.0,
    }
}

/// The expected goals (home, away) of independent Poisson scores whose markets are the given
/// ones: 1X2 probabilities `one_x_two` (margin removed) and, when known, the probability of over
/// 2.5 goals. With the over/under, the goal difference comes from P(home) - P(away) and the
/// total from P(over 2.5); without it, both from P(home) and P(away). `None` when the
/// probabilities are not a usable market or no pair of rates in (0.05, 8) reproduces them.
pub fn expected_goals_of_market(one_x_two: [f64; 3], over: Option<f64>) -> Option<(f64, f64)> {
    let ok = |p: f64| p.is_finite() && p > 0.0 && p < 1.0;
    if !one_x_two.iter().all(|&p| ok(p)) || !over.is_none_or(ok) {
        return None;
    }
    let [ph, _, pa] = one_x_two;
    let residuals = |a: f64, b: f64| -> [f64; 2] {
        let (lambda, mu) = (a.exp(), b.exp());
        let [h, _, aw] = independent_one_x_two(lambda, mu);
        match over {
            Some(o) => {
                let t = lambda + mu;
                let under = (-t).exp() * (1.0 + t + 0.5 * t * t);
                [(h - aw) - (ph - pa), (1.0 - under) - o]
            }
            None => [h - ph, aw - pa],
        }
    };
    let (mut a, mut b) = (1.4f64.ln(), 1.1f64.ln());
    let (lo, hi) = (0.05f64.ln(), 8.0f64.ln());
    const STEP: f64 = 1e-6;
    for _ in 0..50 {
        let r = residuals(a, b);
        if r[0].abs() < 1e-10 && r[1].abs() < 1e-10 {
            return Some((a.exp(), b.exp()));
        }
        let ra = residuals(a + STEP, b);
        let rb = residuals(a, b + STEP);
        let j = [
            [(ra[0] - r[0]) / STEP, (rb[0] - r[0]) / STEP],
            [(ra[1] - r[1]) / STEP, (rb[1] - r[1]) / STEP],
        ];
        let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
        if !(det.is_finite() && det.abs() > 1e-300) {
            return None;
        }
        let da = (j[1][1] * r[0] - j[0][1] * r[1]) / det;
        let db = (j[0][0] * r[1] - j[1][0] * r[0]) / det;
        // At most a doubling or halving of a rate per step.
        let scale = 1.0f64.max(da.abs().max(db.abs()) / std::f64::consts::LN_2);
        a = (a - da / scale).clamp(lo, hi);
        b = (b - db / scale).clamp(lo, hi);
    }
    None
}

/// (home win, draw, away win) of independent Poisson scores, normalised over the grid's cells,
/// in O(cells per side).
fn independent_one_x_two(lambda: f64, mu: f64) -> [f64; 3] {
    let home = poisson_pmf(lambda);
    let away = poisson_pmf(mu);
    let (mut h, mut d, mut a) = (0.0, 0.0, 0.0);
    let (mut home_below, mut away_below) = (0.0, 0.0);
    for k in 0..SIZE {
        // Home scores k and away fewer; away scores k and home fewer; both k.
        h += home[k] * away_below;
        a += away[k] * home_below;
        d += home[k] * away[k];
        home_below += home[k];
        away_below += away[k];
    }
    let total = h + d + a;
    [h / total, d / total, a / total]
}

fn poisson_pmf(rate: f64) -> [f64; SIZE] {
    let mut p = [0.0; SIZE];
    let mut term = (-rate).exp();
    for (k, cell) in p.iter_mut().enumerate() {
        if k > 0 {
            term *= rate / k as f64;
        }
        *cell = term;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markets_are_consistent() {
        let g = ScorelineGrid::dixon_coles(1.6, 1.1, 0.05);
        let [h, d, a] = g.one_x_two();
        assert!((h + d + a - 1.0).abs() < 1e-12);
        assert!(h > a);
        let under = g.sum_where(|i, j| i + j <= 2);
        assert!((g.over(2.5) + under - 1.0).abs() < 1e-12);
        let no_goal_side = g.sum_where(|i, j| i == 0 || j == 0);
        assert!((g.btts() + no_goal_side - 1.0).abs() < 1e-12);
    }

    #[test]
    fn expected_goals_of_a_market_reproduce_its_probabilities() {
        for (lambda, mu) in [(1.6, 1.1), (0.7, 2.4), (3.1, 0.4), (1.3, 1.3)] {
            let g = ScorelineGrid::independent(lambda, mu);
            let p = g.one_x_two();
            // Probabilities matched to 1e-10 pin the rates to about 1e-5 where the markets
            // move little with them (a 3.1 v 0.4 mismatch).
            let close =
                |(l, m): (f64, f64)| (l / lambda - 1.0).abs() < 1e-5 && (m / mu - 1.0).abs() < 1e-5;
            let both = expected_goals_of_market(p, Some(g.over(2.5))).unwrap();
            assert!(close(both), "{both:?}");
            let one_x_two = expected_goals_of_market(p, None).unwrap();
            assert!(close(one_x_two), "{one_x_two:?}");
            assert!((independent_one_x_two(lambda, mu)[1] - p[1]).abs() < 1e-12);
        }
        assert_eq!(expected_goals_of_market([0.5, 0.5, 0.0], None), None);
        assert_eq!(
            expected_goals_of_market([0.4, 0.3, 0.3], Some(f64::NAN)),
            None
        );
    }

    #[test]
    fn independent_poisson_without_correction() {
        let g = ScorelineGrid::dixon_coles(1.0, 1.0, 0.0);
        let e = (-2.0f64).exp();
        assert!((g.prob(0, 0) - e).abs() < 1e-9);
    }
}
