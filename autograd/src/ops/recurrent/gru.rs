//! The GRU cell's rule: reset and update gates over the hidden state, and its derivative.

use super::fast_math::{sigmoid_in_place, tanh_in_place};
use super::{CellRule, CellStep};

/// The GRU update for one example (gate order `r, z, n`, as PyTorch):
/// ```text
/// r = σ(x_r + h_r)   z = σ(x_z + h_z)   n = tanh(x_n + r ⊙ h_n)
/// h' = (1 − z) ⊙ n + z ⊙ h
/// ```
/// where `x_·` and `h_·` are the gate blocks of `W_ih·x + b_ih` and `W_hh·h + b_hh` (so the
/// reset gate also scales `b_hn`). Saved `[r, z, n, h_n]`.
#[derive(Debug, Clone, Copy)]
pub struct GruRule;

impl CellRule for GruRule {
    const NAME: &'static str = "gru";
    const GATES: usize = 3;
    const STATES: usize = 1;
    const SAVED: usize = 4;
    const HIDDEN_BIAS_ADDS: bool = false;
    const HIDDEN_GRAD_IS_INPUT_GRAD: bool = false;

    #[inline(always)]
    fn forward(xp: &[f32], hp: &[f32], prev: &[f32], next: &mut [f32], saved: &mut [f32]) {
        let h = prev.len();
        let (reset_update, rest) = saved.split_at_mut(2 * h);
        let (n, hn) = rest.split_at_mut(h);
        for ((gate, &x), &r) in reset_update.iter_mut().zip(xp).zip(hp) {
            *gate = x + r;
        }
        // Whole-block passes, so that the activations vectorise.
        sigmoid_in_place(reset_update);
        let (r, z) = reset_update.split_at(h);
        hn.copy_from_slice(&hp[2 * h..]);
        for (((n, &x), &r), &hn) in n.iter_mut().zip(&xp[2 * h..]).zip(r).zip(&*hn) {
            *n = x + r * hn;
        }
        tanh_in_place(n);
        for (((next, &prev), &z), &n) in next.iter_mut().zip(prev).zip(z).zip(&*n) {
            *next = (1.0 - z) * n + z * prev;
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
        let h = d_prev.len();
        let s = step.saved;
        for j in 0..h {
            let (r, z, n, hn) = (s[j], s[h + j], s[2 * h + j], s[3 * h + j]);
            let dh = d_next[j];
            let dn = dh * (1.0 - z) * (1.0 - n * n);
            let dr = dn * hn * r * (1.0 - r);
            let dz = dh * (step.prev[j] - n) * z * (1.0 - z);
            d_xp[j] = dr;
            d_xp[h + j] = dz;
            d_xp[2 * h + j] = dn;
            d_hp[j] = dr;
            d_hp[h + j] = dz;
            d_hp[2 * h + j] = dn * r;
            d_prev[j] = dh * z;
        }
    }
}
