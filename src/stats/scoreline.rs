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
    fn independent_poisson_without_correction() {
        let g = ScorelineGrid::dixon_coles(1.0, 1.0, 0.0);
        let e = (-2.0f64).exp();
        assert!((g.prob(0, 0) - e).abs() < 1e-9);
    }
}
