//! `exp`, `sigmoid` and `tanh` over slices, written so the compiler vectorises them.
//!
//! The cells spend most of their non-matmul time in these functions: the LSTM evaluates five
//! per hidden unit and step. The standard library calls libm one element at a time (`tanhf`
//! alone took a quarter of an LSTM training step in the `lstm` bench); these versions are
//! branch-free, so each pass runs several lanes at once, and accurate to a few f32 ulps.

/// `log2(e)`.
const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// `ln 2` split in a part exact in f32 and a remainder (Cody–Waite range reduction).
const LN_2_HI: f32 = 0.693_359_4;
const LN_2_LO: f32 = -2.121_944_4e-4;
/// Arguments outside `[MIN_ARG, MAX_ARG]` are clamped: `e^x` is then 0-ish or near
/// `f32::MAX`, and the reduction `2^n` below stays a normal float.
const MIN_ARG: f32 = -87.0;
const MAX_ARG: f32 = 88.0;
/// Adding and subtracting `1.5·2²³` rounds an f32 of magnitude below `2²²` to an integer,
/// without a rounding instruction that the baseline x86-64 target lacks.
const ROUND: f32 = 12_582_912.0;

/// `eˣ` within about 2 ulp: `x = n·ln 2 + r` with `|r| ≤ ln 2 / 2`, `e^r` by a degree-6
/// polynomial (Cephes' `expf` coefficients), `2ⁿ` by writing the exponent bits.
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(MIN_ARG, MAX_ARG);
    let n = (x * LOG2_E + ROUND) - ROUND;
    let r = x - n * LN_2_HI - n * LN_2_LO;
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    // 2ⁿ from the bits of `n + ROUND`, whose low mantissa bits hold n: integer arithmetic
    // only (an `as i32` conversion would saturate NaN and infinities lane by lane, and keep
    // the loop from vectorising).
    let n_bits = (n + ROUND).to_bits().wrapping_sub(ROUND.to_bits());
    e_r * f32::from_bits(n_bits.wrapping_add(127) << 23)
}

/// `1 / (1 + e⁻ˣ)`.
#[inline(always)]
pub(super) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh x = 1 − 2 / (e²ˣ + 1)`: absolute error below 1e-7 (relative error grows only for
/// `|x| < 1e-4`, where the result is below the noise of the sums that produced `x`).
#[inline(always)]
pub(super) fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * x) + 1.0)
}

/// `sigmoid` applied in place.
#[inline(always)]
pub(super) fn sigmoid_in_place(values: &mut [f32]) {
    values.iter_mut().for_each(|v| *v = sigmoid(*v));
}

/// `tanh` applied in place.
#[inline(always)]
pub(super) fn tanh_in_place(values: &mut [f32]) {
    values.iter_mut().for_each(|v| *v = tanh(*v));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_library() {
        for i in -20_000..=20_000 {
            let x = i as f32 * 1e-3; // [−20, 20]
            let exact = (x as f64).exp();
            let relative = ((exp(x) as f64 - exact) / exact).abs();
            assert!(relative < 3.0 * f32::EPSILON as f64, "exp({x}): {relative}");
            assert!(
                (sigmoid(x) as f64 - 1.0 / (1.0 + (-x as f64).exp())).abs() < 2e-7,
                "σ({x})"
            );
            assert!(
                (tanh(x) as f64 - (x as f64).tanh()).abs() < 2e-7,
                "tanh({x})"
            );
        }
        for x in [-1e4, -100.0, 100.0, 1e4, f32::MAX, f32::MIN] {
            assert!(sigmoid(x).is_finite() && tanh(x).is_finite(), "{x}");
        }
        assert!(sigmoid(-1e4) < 1e-37 && sigmoid(1e4) == 1.0);
        assert_eq!((tanh(-1e4), tanh(1e4)), (-1.0, 1.0));
    }
}
