//! The plain (Elman) recurrent cell's rule, `h' = tanh(x_p + h_p)` over the input and hidden
//! projections, and its derivative.

use super::fast_math::tanh;
use super::{CellRule, CellStep};

/// The tanh update for one example: `h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh)`. Nothing saved:
/// the derivative `1 − h'²` reads the new state.
#[derive(Debug, Clone, Copy)]
pub struct RnnRule;

impl CellRule for RnnRule {
    const NAME: &'static str = "rnn_tanh";
    const GATES: usize = 1;
    const STATES: usize = 1;
    const SAVED: usize = 0;
    const HIDDEN_BIAS_ADDS: bool = true;
    const HIDDEN_GRAD_IS_INPUT_GRAD: bool = true;

    #[inline(always)]
    fn forward(xp: &[f32], hp: &[f32], _prev: &[f32], next: &mut [f32], _saved: &mut [f32]) {
        for ((h, &x), &r) in next.iter_mut().zip(xp).zip(hp) {
            *h = tanh(x + r);
        }
    }

    #[inline(always)]
    fn backward(
        step: CellStep<'_>,
        d_next: &[f32],
        d_xp: &mut [f32],
        d_hp: &mut [f32],
        d_prev: &mut [f32],
    ) {
        for ((d, &dh), &h) in d_xp.iter_mut().zip(d_next).zip(step.next) {
            *d = dh * (1.0 - h * h);
        }
        d_hp.copy_from_slice(d_xp);
        d_prev.fill(0.0); // h reaches the step only through W_hh·h
    }
}
