//! Scores for probability forecasts (RPS, log loss, Brier, accuracy, ECE, AUC), shared by every
//! model type so that their metrics.json files and the benchmark compare like with like.

use serde::Serialize;

use crate::stats::link::{binary_log_loss, neg_log};

/// Scores of 1X2 forecasts (outcomes 0 home, 1 draw, 2 away) on a set of matches.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct OutcomeScores {
    pub n: usize,
    pub rps: f64,
    pub log_loss: f64,
    pub brier: f64,
    pub accuracy: f64,
}

impl OutcomeScores {
    /// The same scores rounded for metrics files.
    pub fn rounded(&self) -> OutcomeScores {
        OutcomeScores {
            n: self.n,
            rps: round(self.rps),
            log_loss: round(self.log_loss),
            brier: round(self.brier),
            accuracy: round(self.accuracy),
        }
    }
}

/// Scores three-way forecasts. `probs[i]` is (home, draw, away); `outcomes[i]` is 0, 1 or 2.
pub fn score_1x2(probs: &[[f64; 3]], outcomes: &[usize]) -> OutcomeScores {
    let n = probs.len().min(outcomes.len());
    let (mut rps, mut ll, mut brier, mut hits) = (0.0, 0.0, 0.0, 0usize);
    for (p, &o) in probs.iter().zip(outcomes) {
        let mut obs = [0.0; 3];
        obs[o] = 1.0;
        let c1 = p[0] - obs[0];
        let c2 = p[0] + p[1] - obs[0] - obs[1];
        rps += 0.5 * (c1 * c1 + c2 * c2);
        ll += neg_log(p[o]);
        brier += (0..3).map(|k| (p[k] - obs[k]).powi(2)).sum::<f64>();
        if argmax3(p) == o {
            hits += 1;
        }
    }
    let d = n.max(1) as f64;
    OutcomeScores {
        n,
        rps: rps / d,
        log_loss: ll / d,
        brier: brier / d,
        accuracy: hits as f64 / d,
    }
}

/// Index of the largest of three probabilities (ties go to the earlier outcome).
pub fn argmax3(p: &[f64; 3]) -> usize {
    let mut best = 0;
    for k in 1..3 {
        if p[k] > p[best] {
            best = k;
        }
    }
    best
}

/// Scores of binary forecasts (probability of the event) on a set of matches.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BinaryScores {
    pub n: usize,
    pub auc: Option<f64>,
    pub log_loss: f64,
    pub brier: f64,
    pub ece: f64,
    pub event_rate: f64,
}

impl BinaryScores {
    /// The same scores rounded for metrics files.
    pub fn rounded(&self) -> BinaryScores {
        BinaryScores {
            n: self.n,
            auc: self.auc.map(round),
            log_loss: round(self.log_loss),
            brier: round(self.brier),
            ece: round(self.ece),
            event_rate: round(self.event_rate),
        }
    }
}

/// Scores binary forecasts `p[i]` = P(event) against `y[i]`.
pub fn score_binary(p: &[f64], y: &[bool]) -> BinaryScores {
    let n = p.len().min(y.len());
    let (mut ll, mut brier, mut events) = (0.0, 0.0, 0usize);
    for (&q, &e) in p.iter().zip(y) {
        ll += binary_log_loss(q, e);
        let t = if e { 1.0 } else { 0.0 };
        brier += (q - t) * (q - t);
        events += e as usize;
    }
    let d = n.max(1) as f64;
    BinaryScores {
        n,
        auc: auc(&p[..n], &y[..n]),
        log_loss: ll / d,
        brier: brier / d,
        ece: ece(&p[..n], &y[..n], 10),
        event_rate: events as f64 / d,
    }
}

/// Area under the ROC curve (ties count one half); `None` when one class is absent.
pub fn auc(p: &[f64], y: &[bool]) -> Option<f64> {
    let mut order: Vec<usize> = (0..p.len().min(y.len())).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    // Rank-sum (Mann-Whitney) with average ranks for ties.
    let (mut pos, mut neg) = (0usize, 0usize);
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && p[order[j + 1]] == p[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            if y[k] {
                pos += 1;
                rank_sum_pos += avg_rank;
            } else {
                neg += 1;
            }
        }
        i = j + 1;
    }
    if pos == 0 || neg == 0 {
        return None;
    }
    let (pos, neg) = (pos as f64, neg as f64);
    Some((rank_sum_pos - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// Expected calibration error with `bins` equal-width bins: the weighted mean gap between the
/// mean forecast and the observed frequency in each bin.
pub fn ece(p: &[f64], y: &[bool], bins: usize) -> f64 {
    let n = p.len().min(y.len());
    if n == 0 || bins == 0 {
        return 0.0;
    }
    let mut sum_p = vec![0.0; bins];
    let mut sum_y = vec![0.0; bins];
    let mut count = vec![0usize; bins];
    for (&q, &e) in p.iter().zip(y) {
        let b = ((q.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        sum_p[b] += q;
        sum_y[b] += e as u8 as f64;
        count[b] += 1;
    }
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (sum_p[b] - sum_y[b]).abs())
        .sum::<f64>()
        / n as f64
}

/// Base rates of the three outcomes in `outcomes` (uniform when empty).
pub fn base_rates(outcomes: &[usize]) -> [f64; 3] {
    let mut c = [0.0; 3];
    for &o in outcomes {
        c[o] += 1.0;
    }
    let n: f64 = c.iter().sum();
    if n == 0.0 {
        return [1.0 / 3.0; 3];
    }
    [c[0] / n, c[1] / n, c[2] / n]
}

/// Rounds for metrics files so they stay readable (12 significant digits are plenty).
pub fn round(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let digits = 12 - x.abs().log10().ceil() as i32;
    let f = 10f64.powi(digits.clamp(0, 300));
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rps_of_certain_forecasts() {
        let s = score_1x2(&[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], &[0, 0]);
        assert_eq!(s.n, 2);
        assert!((s.rps - 0.5).abs() < 1e-12); // first 0, second 1
        assert!((s.accuracy - 0.5).abs() < 1e-12);
        let u = score_1x2(&[[1.0 / 3.0; 3]], &[1]);
        assert!((u.rps - (1.0 / 9.0)).abs() < 1e-12);
        assert!((u.log_loss - 3f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn auc_and_ece() {
        assert_eq!(
            auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]),
            Some(1.0)
        );
        assert_eq!(auc(&[0.5, 0.5], &[false, true]), Some(0.5));
        assert_eq!(auc(&[0.5], &[true]), None);
        assert!((ece(&[0.25, 0.25, 0.25, 0.25], &[true, false, false, false], 10)).abs() < 1e-12);
        let b = score_binary(&[0.9, 0.1], &[true, false]);
        assert!((b.log_loss + 0.9f64.ln()).abs() < 1e-12);
    }
}
