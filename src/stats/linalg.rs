//! The one dense linear-algebra core of the fitters: a Cholesky factorisation and solve, the
//! damped Newton direction built on them, and the backtracking line search that accepts a Newton
//! step. The Dixon-Coles fit, its single-team refit and the logistic Newton start all take their
//! steps here, so a fix to the numerics is made once.

/// In-place Cholesky factorisation of a dense row-major `p x p` matrix: only the lower triangle
/// is read, and it is overwritten by the factor `L` (`A = L L^T`). Returns false if the matrix
/// is not (numerically) positive definite.
///
/// Each entry is `L[i][j] = (A[i][j] - sum_{k<j} L[i][k] L[j][k]) / L[j][j]`, the sum taken in
/// `k` order from -0.0 (as `Iterator::sum`). The sums of one column are independent of each
/// other, so they are accumulated side by side in lanes over a column-major copy of the factor
/// (AVX2 when the CPU has it): the same operations in the same order for every entry, so the
/// factor is bit for bit that of one dot product at a time, several times faster (the
/// Dixon-Coles Hessians are 40 to 110 wide).
pub fn cholesky(a: &mut [f64], p: usize) -> bool {
    COLUMNS.with(|columns| {
        let mut columns = columns.borrow_mut();
        wide::run(
            #[inline(always)]
            || cholesky_in_lanes(a, p, &mut columns),
        )
    })
}

thread_local! {
    /// [`cholesky`]'s scratch: the factor's columns.
    static COLUMNS: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[inline(always)]
fn cholesky_in_lanes(a: &mut [f64], p: usize, columns: &mut Vec<f64>) -> bool {
    // Column k of the factor at `columns[k * stride..]`, L[i][k] at i > k; rows from `p` on
    // stay zero, so a block of rows never runs out of its column.
    let stride = p + BLOCK;
    columns.clear();
    columns.resize(p * stride, 0.0);
    for j in 0..p {
        let (_, tail) = a.split_at_mut(j * p);
        let (rj, below) = tail.split_at_mut(p);
        let d = rj[j] - rj[..j].iter().map(|v| v * v).sum::<f64>();
        let d_ok = d > 0.0 && d.is_finite();
        if !d_ok {
            return false;
        }
        let ljj = d.sqrt();
        rj[j] = ljj;
        let lj = &rj[..j];
        for (b, rows) in below.chunks_mut(BLOCK * p).enumerate() {
            let first = j + 1 + b * BLOCK;
            let sums = block_sums(columns, stride, first, lj);
            for (r, (row_i, s)) in rows.chunks_exact_mut(p).zip(sums).enumerate() {
                row_i[j] = (row_i[j] - s) / ljj;
                columns[j * stride + first + r] = row_i[j];
            }
        }
    }
    true
}

/// Rows per block of [`block_sums`]: four AVX2 registers of sums.
const BLOCK: usize = 16;

/// `sum_{k<j} L[i][k] * L[j][k]` for the `BLOCK` rows `i` from `first` (`lj` = L[j][..j]), each
/// in `k` order from -0.0, over the column-major factor `columns`: the sums stay in registers
/// while `k` runs.
#[inline(always)]
fn block_sums(columns: &[f64], stride: usize, first: usize, lj: &[f64]) -> [f64; BLOCK] {
    let mut acc = [-0.0f64; BLOCK];
    for (k, &ljk) in lj.iter().enumerate() {
        let at = k * stride + first;
        let column: &[f64; BLOCK] = columns[at..at + BLOCK]
            .try_into()
            .expect("a block of a column");
        for (a, &lik) in acc.iter_mut().zip(column) {
            *a += lik * ljk;
        }
    }
    acc
}

/// Loops compiled twice, for the baseline x86-64 and for AVX2, the second chosen at run time
/// when the CPU has it. AVX2 without FMA only widens the vectorised loops (four lanes instead
/// of two): the same multiplications and additions in the same order, so the results are bit
/// for bit those of the baseline build.
pub(crate) mod wide {
    /// Runs `f` (an `#[inline(always)]` loop) in AVX2 code when the CPU supports it.
    #[inline(always)]
    pub fn run<R>(f: impl FnOnce() -> R) -> R {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { avx2(f) };
        }
        f()
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn avx2<R>(f: impl FnOnce() -> R) -> R {
        f()
    }
}

/// Solves `L L^T x = b` in place (`b` becomes `x`) given the factor from [`cholesky`].
pub fn cholesky_solve(l: &[f64], p: usize, b: &mut [f64]) {
    for i in 0..p {
        let row = &l[i * p..i * p + i];
        let s: f64 = row.iter().zip(&b[..i]).map(|(a, c)| a * c).sum();
        b[i] = (b[i] - s) / l[i * p + i];
    }
    for i in (0..p).rev() {
        let mut s = b[i];
        for k in i + 1..p {
            s -= l[k * p + i] * b[k];
        }
        b[i] = s / l[i * p + i];
    }
}

/// Newton direction `-H^{-1} g` for a row-major `p x p` Hessian `h` (lower triangle read), with
/// Levenberg damping (`H + damping I`, damping from `1e-8` of the largest diagonal, times ten
/// per try) while `H` is not positive definite, and scaled steepest descent if that never
/// succeeds. `work` is scratch space (reused between calls to avoid allocating).
pub fn newton_direction(h: &[f64], g: &[f64], p: usize, work: &mut Vec<f64>) -> Vec<f64> {
    let max_diag = (0..p).map(|i| h[i * p + i].abs()).fold(1.0f64, f64::max);
    let mut damping = 0.0;
    for _ in 0..40 {
        work.clear();
        work.extend_from_slice(h);
        for i in 0..p {
            work[i * p + i] += damping;
        }
        if cholesky(work, p) {
            let mut d: Vec<f64> = g.iter().map(|v| -v).collect();
            cholesky_solve(work, p, &mut d);
            if d.iter().all(|v| v.is_finite()) {
                return d;
            }
        }
        damping = if damping == 0.0 {
            1e-8 * max_diag
        } else {
            damping * 10.0
        };
    }
    g.iter().map(|v| -v / max_diag).collect()
}

/// Backtracking (Armijo) line search along `d` from `x` (value `f`, gradient `g`), halving the
/// step, with a tolerance for rounding noise in `f` so that the final quadratic-convergence
/// Newton steps are not rejected. Returns the accepted point and its value, or `None` if no step
/// decreases `value` (or `d` is not a descent direction).
pub fn line_search(
    value: impl Fn(&[f64]) -> f64,
    x: &[f64],
    f: f64,
    g: &[f64],
    d: &[f64],
) -> Option<(Vec<f64>, f64)> {
    let gd: f64 = g.iter().zip(d).map(|(a, b)| a * b).sum();
    let slope_ok = gd < 0.0;
    if !slope_ok {
        return None;
    }
    let mut t = 1.0;
    let mut xn = vec![0.0; x.len()];
    for _ in 0..60 {
        for ((o, xi), di) in xn.iter_mut().zip(x).zip(d) {
            *o = xi + t * di;
        }
        let fnew = value(&xn);
        if accepts(f, gd, t, fnew) {
            return Some((xn, fnew));
        }
        t *= 0.5;
    }
    None
}

/// The acceptance rule of [`line_search`]: from value `f` with slope `gd` along the direction,
/// the point at step `t` with value `fnew` decreases enough (Armijo, with a tolerance for
/// rounding noise in `f`). Public so that a caller that evaluates the full step itself (with
/// its derivatives) accepts exactly the points `line_search` would.
pub fn accepts(f: f64, gd: f64, t: f64, fnew: f64) -> bool {
    let noise = 1e-12 * (1.0 + f.abs());
    fnew.is_finite() && fnew <= f + 1e-4 * t * gd + noise
}

/// Largest absolute entry (0 for an empty slice).
pub fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The factorisation one dot product at a time (what [`cholesky`] computes in lanes).
    fn cholesky_by_dot_products(a: &mut [f64], p: usize) -> bool {
        for j in 0..p {
            let (_, tail) = a.split_at_mut(j * p);
            let (rj, below) = tail.split_at_mut(p);
            let d = rj[j] - rj[..j].iter().map(|v| v * v).sum::<f64>();
            if !(d > 0.0 && d.is_finite()) {
                return false;
            }
            let ljj = d.sqrt();
            rj[j] = ljj;
            for row_i in below.chunks_exact_mut(p) {
                let s: f64 = row_i[..j].iter().zip(&rj[..j]).map(|(x, y)| x * y).sum();
                row_i[j] = (row_i[j] - s) / ljj;
            }
        }
        true
    }

    #[test]
    fn cholesky_in_lanes_is_bit_for_bit_the_dot_product_factorisation() {
        // Symmetric positive definite matrices B B^T + c I of the widths the fitters use (a
        // logistic Hessian, Dixon-Coles Hessians of 20 to 60 teams, widths that leave a
        // partial lane), from a fixed linear congruential sequence.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for p in [1, 2, 3, 5, 9, 42, 61, 104, 122] {
            let b: Vec<f64> = (0..p * p).map(|_| next()).collect();
            let mut a = vec![0.0; p * p];
            for i in 0..p {
                for j in 0..p {
                    let dot: f64 = (0..p).map(|k| b[i * p + k] * b[j * p + k]).sum();
                    a[i * p + j] = dot + if i == j { 0.1 } else { 0.0 };
                }
            }
            let (mut lanes, mut reference) = (a.clone(), a.clone());
            assert!(cholesky(&mut lanes, p) && cholesky_by_dot_products(&mut reference, p));
            for i in 0..p {
                for j in 0..=i {
                    let (x, y) = (lanes[i * p + j], reference[i * p + j]);
                    assert_eq!(
                        x.to_bits(),
                        y.to_bits(),
                        "p {p}, L[{i}][{j}]: {x:e} vs {y:e}"
                    );
                }
            }
        }
        // Not positive definite: refused alike.
        let mut indefinite = vec![1.0, 2.0, 2.0, 1.0];
        assert!(!cholesky(&mut indefinite.clone(), 2));
        assert!(!cholesky_by_dot_products(&mut indefinite, 2));
    }

    #[test]
    fn cholesky_solves_a_known_system() {
        // [[4, 2], [2, 3]] x = [2, 1]  =>  x = [0.5, 0]. Only the lower triangle is read.
        let mut a = vec![4.0, f64::NAN, 2.0, 3.0];
        assert!(cholesky(&mut a, 2));
        let mut b = vec![2.0, 1.0];
        cholesky_solve(&a, 2, &mut b);
        assert!((b[0] - 0.5).abs() < 1e-12 && b[1].abs() < 1e-12);
        let mut singular = vec![1.0, 0.0, 1.0, 1.0];
        assert!(!cholesky(&mut singular, 2));
    }

    #[test]
    fn newton_direction_damps_an_indefinite_hessian() {
        let mut work = Vec::new();
        // Positive definite: the exact Newton step.
        let d = newton_direction(&[2.0, 0.0, 0.0, 4.0], &[2.0, 4.0], 2, &mut work);
        assert!((d[0] + 1.0).abs() < 1e-12 && (d[1] + 1.0).abs() < 1e-12);
        // Indefinite: still a descent direction.
        let g = [1.0, 1.0];
        let d = newton_direction(&[1.0, 0.0, 0.0, -1.0], &g, 2, &mut work);
        assert!(d.iter().zip(&g).map(|(a, b)| a * b).sum::<f64>() < 0.0);
    }

    #[test]
    fn line_search_accepts_a_decrease_and_refuses_an_ascent() {
        let value = |x: &[f64]| (x[0] - 1.0).powi(2);
        let (x, f) = line_search(value, &[0.0], 1.0, &[-2.0], &[1.0]).unwrap();
        assert_eq!((x[0], f), (1.0, 0.0));
        assert!(line_search(value, &[0.0], 1.0, &[-2.0], &[-1.0]).is_none());
    }
}
