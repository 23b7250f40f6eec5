//! The logistic row pass and Hessian in lanes of four rows, for refits that start from an
//! earlier training's fit (`logistic::Polish::Chord`): the rows' columns laid out contiguously
//! and a polynomial `exp` the compiler vectorises, so the AVX2 build evaluates four rows per
//! instruction instead of calling libm's scalar `exp` once per row (the largest cost of a
//! weekly backtest). Its sums run in another order than the exact pass's and its `exp` is not
//! libm's (both within a few units in the last place), which moves a fit's optimum by rounding
//! only; a fit from scratch (a whole run) keeps the exact pass, bit for bit.

/// Rows evaluated together.
pub const LANES: usize = 4;

/// ln 2 split so that `k * LN2_HI` is exact for |k| < 2^11 (Cody and Waite; fdlibm's halves,
/// 0.693147180369123816490 and 1.90821492927058770002e-10).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// 1.5 * 2^52: adding it rounds to an integer held in the low bits of the mantissa.
const SHIFTER: f64 = 6_755_399_441_055_744.0;
/// Below this, exp underflows past the normal range: taken as 0 (exp(-708) is 3e-308).
const LOWEST: f64 = -708.0;
/// 1/k! for k = 0..=13: the Taylor series of exp on |r| <= ln2 / 2, whose next term is below
/// 5e-18 (a twentieth of the last place of 1).
const TAYLOR: [f64; 14] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// exp(x) of each lane for x <= 0 (a NaN stays NaN; below -708, 0): x = k ln2 + r with
/// |r| <= ln2 / 2, exp(r) by its Taylor series to r^13, times 2^k built in the exponent bits. Within
/// 2 units in the last place of the exact value (checked against libm in the tests). Written
/// lane by lane without branches so that it vectorises.
#[inline(always)]
pub fn exp_lanes(x: [f64; LANES]) -> [f64; LANES] {
    // Stage by stage over the lanes (each loop one vector operation).
    let mut t = [0.0; LANES];
    let mut r = [0.0; LANES];
    for l in 0..LANES {
        t[l] = x[l] * std::f64::consts::LOG2_E + SHIFTER;
        let k = t[l] - SHIFTER;
        r[l] = (x[l] - k * LN2_HI) - k * LN2_LO;
    }
    // Estrin's scheme: the series in independent pairs, joined by r^2, r^4 and r^8 (a
    // dependency chain of 4 multiply-adds instead of Horner's 13).
    let mut poly = [0.0; LANES];
    for l in 0..LANES {
        let (r1, r2) = (r[l], r[l] * r[l]);
        let (r4, c) = (r2 * r2, &TAYLOR);
        let pair = |i: usize| c[i] + c[i + 1] * r1;
        let s0 = pair(0) + pair(2) * r2;
        let s1 = pair(4) + pair(6) * r2;
        let s2 = pair(8) + pair(10) * r2;
        let s3 = pair(12);
        poly[l] = (s0 + s1 * r4) + (s2 + s3 * r4) * (r4 * r4);
    }
    // t's low mantissa bits hold k (two's complement, offset by SHIFTER's bits).
    let mut bits = [0u64; LANES];
    for l in 0..LANES {
        bits[l] = (t[l]
            .to_bits()
            .wrapping_sub(SHIFTER.to_bits())
            .wrapping_add(1023))
            << 52;
    }
    let mut out = [0.0; LANES];
    for l in 0..LANES {
        let e = poly[l] * f64::from_bits(bits[l]);
        out[l] = if x[l] < LOWEST { 0.0 } else { e };
    }
    out
}

/// The feature counts the lane pass is compiled for (the shipped feature sets' widths); a fit of
/// another width keeps the exact pass.
pub const WIDTHS: [usize; 5] = [1, 3, 4, 7, 8];

/// The rows of one fit as the lane pass reads them: each column contiguous and padded with
/// zeros to a whole number of lanes, the labels as 0/1, and 1 for each real row (0 for padding).
pub struct Columns {
    cols: Vec<f64>,
    /// Values per column (the rows rounded up to a whole number of lanes).
    pub stride: usize,
    labels: Vec<f64>,
    live: Vec<f64>,
}

impl Columns {
    /// The columns of row-major `rows` (`p` values a row) and their labels `y`.
    pub fn new(rows: &[f64], y: &[bool], p: usize) -> Columns {
        let n = y.len();
        let stride = n.div_ceil(LANES) * LANES;
        // Column by column (a strided read of rows that stay in cache), each padded.
        let mut cols = Vec::with_capacity(stride * p);
        for j in 0..p {
            cols.extend(rows.chunks_exact(p).take(n).map(|row| row[j]));
            cols.resize((j + 1) * stride, 0.0);
        }
        let mut labels = vec![0.0; stride];
        let mut live = vec![0.0; stride];
        for (i, &yi) in y.iter().enumerate() {
            labels[i] = if yi { 1.0 } else { 0.0 };
            live[i] = 1.0;
        }
        Columns {
            cols,
            stride,
            labels,
            live,
        }
    }
}

/// Where a pass leaves each row's linear predictor `z`, `exp(-|z|)` and probability `mu` (each
/// [`Columns::stride`] long: the padding's values follow the rows'), and the summed gradient of
/// the log loss (`P` coefficients, then the intercept).
pub struct Kept<'a> {
    pub z: &'a mut [f64],
    pub e: &'a mut [f64],
    pub mu: &'a mut [f64],
    pub grad: &'a mut [f64],
}

/// The row pass at `beta` (`P` coefficients then the intercept) over `c`, four rows at a time.
#[inline(always)]
pub fn pass_of<const P: usize>(c: &Columns, beta: &[f64], kept: Kept<'_>) {
    let stride = c.stride;
    let b0 = beta[P];
    let beta: &[f64; P] = beta[..P].try_into().expect("P coefficients");
    let mut grad = [[0.0; LANES]; P];
    let mut grad0 = [0.0; LANES];
    let four = |v: &[f64], at: usize| -> [f64; LANES] {
        v[at..at + LANES].try_into().expect("a whole lane")
    };
    for i in (0..stride).step_by(LANES) {
        let mut z = [b0; LANES];
        for (j, &b) in beta.iter().enumerate() {
            let x = four(&c.cols, j * stride + i);
            for l in 0..LANES {
                z[l] += x[l] * b;
            }
        }
        let mut neg = [0.0; LANES];
        for l in 0..LANES {
            neg[l] = -z[l].abs();
        }
        let e = exp_lanes(neg);
        let (y, live) = (four(&c.labels, i), four(&c.live, i));
        let mut mu = [0.0; LANES];
        let mut r = [0.0; LANES];
        for l in 0..LANES {
            let up = 1.0 / (1.0 + e[l]);
            let down = e[l] * up;
            mu[l] = if z[l] >= 0.0 { up } else { down };
            r[l] = (mu[l] - y[l]) * live[l];
        }
        for (j, g) in grad.iter_mut().enumerate() {
            let x = four(&c.cols, j * stride + i);
            for l in 0..LANES {
                g[l] += r[l] * x[l];
            }
        }
        for l in 0..LANES {
            grad0[l] += r[l];
        }
        kept.z[i..i + LANES].copy_from_slice(&z);
        kept.e[i..i + LANES].copy_from_slice(&e);
        kept.mu[i..i + LANES].copy_from_slice(&mu);
    }
    for (out, g) in kept.grad.iter_mut().zip(&grad) {
        *out = g.iter().sum();
    }
    kept.grad[P] = grad0.iter().sum();
}

/// Adds the data term of the Hessian's lower triangle, X^T diag(mu (1 - mu)) X with the
/// intercept last (`P + 1` square, row-major; `P` at most 8), over `c` four rows at a time;
/// `mu` as a pass left it (padded rows weigh nothing).
#[inline(always)]
pub fn hessian_of<const P: usize>(c: &Columns, mu: &[f64], hess: &mut [f64]) {
    const { assert!(P <= 8, "lane sums for at most 8 coefficients") };
    let d = P + 1;
    let stride = c.stride;
    // One lane sum per entry of the lower triangle, the intercept's row included.
    let mut acc = [[[0.0; LANES]; 9]; 9];
    let four = |v: &[f64], at: usize| -> [f64; LANES] {
        v[at..at + LANES].try_into().expect("a whole lane")
    };
    for i in (0..stride).step_by(LANES) {
        let (m, live) = (four(mu, i), four(&c.live, i));
        let mut w = [0.0; LANES];
        for l in 0..LANES {
            w[l] = m[l] * (1.0 - m[l]) * live[l];
        }
        let mut x = [[0.0; LANES]; P];
        for (j, xj) in x.iter_mut().enumerate() {
            *xj = four(&c.cols, j * stride + i);
        }
        for j in 0..P {
            let mut wx = [0.0; LANES];
            for l in 0..LANES {
                wx[l] = w[l] * x[j][l];
            }
            for k in 0..=j {
                for l in 0..LANES {
                    acc[j][k][l] += wx[l] * x[k][l];
                }
            }
            for l in 0..LANES {
                acc[P][j][l] += wx[l];
            }
        }
        for l in 0..LANES {
            acc[P][P][l] += w[l];
        }
    }
    for j in 0..d {
        for k in 0..=j {
            hess[j * d + k] += acc[j][k].iter().sum::<f64>();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units of the last place.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn exp_is_libms_within_two_units_in_the_last_place() {
        let mut worst = 0;
        let mut x = 0.0f64;
        // Every 1e-4 from 0 to -40 (where the logistic rows live), then coarser to -708.
        while x > LOWEST {
            let xs = [x, x - 3.3e-5, x - 6.7e-5, x * 0.999_999_9];
            let got = exp_lanes(xs);
            for l in 0..LANES {
                worst = worst.max(ulps(got[l], xs[l].exp()));
            }
            x -= if x > -40.0 { 1e-4 } else { 0.0137 };
        }
        assert!(worst <= 2, "{worst} ulps");
    }

    #[test]
    fn exp_keeps_nan_and_underflows_to_zero() {
        let got = exp_lanes([f64::NAN, -709.0, f64::NEG_INFINITY, -0.0]);
        assert!(got[0].is_nan());
        assert_eq!(got[1..], [0.0, 0.0, 1.0]);
    }

    #[test]
    fn columns_are_the_rows_transposed_and_padded() {
        let rows = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let c = Columns::new(&rows, &[true, false], 3);
        assert_eq!(c.stride, 4);
        let want = [1.0, 4.0, 0.0, 0.0, 2.0, 5.0, 0.0, 0.0, 3.0, 6.0, 0.0, 0.0];
        assert_eq!(c.cols, want);
        assert_eq!(c.labels, [1.0, 0.0, 0.0, 0.0]);
        assert_eq!(c.live, [1.0, 1.0, 0.0, 0.0]);
    }
}
