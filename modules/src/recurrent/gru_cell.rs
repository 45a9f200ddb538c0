//! The GRU cell: a reset gate chooses how much of the past shapes the candidate state, an
//! update gate how much of the past is kept.

use super::fast_math::{sigmoid_in_place, tanh_in_place};
use super::recurrence::{CellRule, Step};
use super::run::cell_step;
use super::weights::{recurrent_module, RecurrentWeights};
use crate::module::Module;
use strata_autograd::Var;
use strata_tensor::Result;

/// The GRU update for one example (gate order `r, z, n`, as PyTorch):
/// ```text
/// r = σ(x_r + h_r)   z = σ(x_z + h_z)   n = tanh(x_n + r ⊙ h_n)
/// h' = (1 − z) ⊙ n + z ⊙ h
/// ```
/// where `x_·` and `h_·` are the gate blocks of `W_ih·x + b_ih` and `W_hh·h + b_hh` (so the
/// reset gate also scales `b_hn`). Saved `[r, z, n, h_n]`.
pub(crate) struct GruRule;

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
        step: Step<'_>,
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

/// One GRU step (PyTorch's `GRUCell`): from an input `[N, in]` and a hidden state `[N, H]`,
/// the next hidden state. Parameters `weight_ih` `[3H, in]`, `weight_hh` `[3H, H]`,
/// `bias_ih`, `bias_hh` `[3H]`, gate blocks in the order reset, update, new; all initialised
/// `U(−1/√H, 1/√H)`.
///
/// ```
/// use strata_modules::{GruCell, Var};
/// use strata_tensor::{Rng, Tensor};
/// let cell = GruCell::new(3, 5, &mut Rng::new(0));
/// let x = Var::constant(Tensor::ones(&[2, 3]));
/// let h = cell.forward_step(&x, None); // the state starts at zeros
/// let h = cell.forward_step(&x, Some(&h));
/// assert_eq!(h.shape(), &[2, 5]);
/// ```
#[derive(Debug, Clone)]
pub struct GruCell {
    /// `weight_ih` `[3H, in]`, `weight_hh` `[3H, H]`, biases `[3H]`.
    pub weights: RecurrentWeights,
}

recurrent_module!(cell GruCell, GruRule);

impl GruCell {
    /// The next hidden state from an input `[N, in]` and a hidden state `[N, H]` (zeros when
    /// `None`). Panics on a shape mismatch.
    #[track_caller]
    pub fn forward_step(&self, x: &Var, h: Option<&Var>) -> Var {
        match self.try_forward_step(x, h) {
            Ok(result) => result,
            Err(err) => panic!("{err}"),
        }
    }

    /// Fallible [`GruCell::forward_step`].
    #[track_caller]
    pub fn try_forward_step(&self, x: &Var, h: Option<&Var>) -> Result<Var> {
        let state = h.as_ref().map(std::slice::from_ref);
        let mut next = cell_step::<GruRule>("GruCell", &self.weights, x, state)?;
        Ok(next.remove(0))
    }
}

impl Module for GruCell {
    /// The next hidden state from a zero state.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        self.forward_step(x, None)
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        self.try_forward_step(x, None)
    }
}
