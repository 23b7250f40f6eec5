//! The logistic link and the log loss, in one place: the feature engine's log-odds, the logistic
//! fitters and calibrators, and the scoring rules all use these, so they clip and round alike.

/// Probabilities are clipped to `[LOG_LOSS_EPS, 1 - LOG_LOSS_EPS]` before taking logs.
pub const LOG_LOSS_EPS: f64 = 1e-15;

/// `1 / (1 + e^-z)`, without overflow for large `|z|`.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `ln sigmoid(z)`, accurate for large `|z|`.
pub fn log_sigmoid(z: f64) -> f64 {
    if z > 0.0 {
        -(-z).exp().ln_1p()
    } else {
        z - z.exp().ln_1p()
    }
}

/// Log-odds `ln(p / (1 - p))`, with `p` clipped to `[1e-9, 1 - 1e-9]` so it stays finite.
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    (p / (1.0 - p)).ln()
}

/// `-ln sigmoid(z)` if `event`, else `-ln(1 - sigmoid(z))`: the log loss of a logit, computed
/// without overflow (softplus).
pub fn logit_log_loss(z: f64, event: bool) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p() - if event { z } else { 0.0 }
}

/// `-ln p`, `p` clipped to `[LOG_LOSS_EPS, 1 - LOG_LOSS_EPS]`: the log loss of the probability
/// given to what happened.
pub fn neg_log(p: f64) -> f64 {
    -p.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS).ln()
}

/// The log loss of a binary forecast `q` = P(event).
pub fn binary_log_loss(q: f64, event: bool) -> f64 {
    let q = q.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS);
    -if event { q.ln() } else { (1.0 - q).ln() }
}

/// Mean binary log loss of `p` against `y` (0 for no rows).
pub fn mean_binary_log_loss(p: &[f64], y: &[bool]) -> f64 {
    let n = p.len().min(y.len()).max(1) as f64;
    p.iter()
        .zip(y)
        .map(|(&q, &e)| binary_log_loss(q, e))
        .sum::<f64>()
        / n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_functions_agree() {
        for z in [-800.0, -30.0, -1.5, 0.0, 0.7, 30.0, 800.0] {
            let s = sigmoid(z);
            assert!(s.is_finite() && (0.0..=1.0).contains(&s));
            assert!((log_sigmoid(z) - s.ln()).abs() < 1e-12 || s == 0.0);
            assert!((logit_log_loss(z, true) + log_sigmoid(z)).abs() < 1e-9);
            assert!((logit_log_loss(z, false) + log_sigmoid(-z)).abs() < 1e-9);
        }
        assert!((logit(sigmoid(1.25)) - 1.25).abs() < 1e-12);
        assert!(logit(0.0).is_finite() && logit(1.0).is_finite());
        assert_eq!(neg_log(0.0), -LOG_LOSS_EPS.ln());
        assert!((binary_log_loss(0.9, false) + 0.1f64.ln()).abs() < 1e-12);
        assert!((mean_binary_log_loss(&[0.5, 0.5], &[true, false]) - 2f64.ln()).abs() < 1e-12);
    }
}
