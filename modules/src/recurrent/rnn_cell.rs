//! The plain (Elman) recurrent cell: the next hidden state is a tanh of the input and the
//! previous hidden state.

use super::fast_math::tanh;
use super::recurrence::{CellRule, Step};
use super::run::cell_step;
use super::weights::{recurrent_module, RecurrentWeights};
use crate::module::Module;
use strata_autograd::Var;
use strata_tensor::Result;

/// The tanh update for one example: `h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh)`. Nothing saved:
/// the derivative `1 − h'²` reads the new state.
pub(crate) struct RnnRule;

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
        step: Step<'_>,
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

/// One step of a plain recurrent network with tanh (PyTorch's `RNNCell`): from an input
/// `[N, in]` and a hidden state `[N, H]`, the next hidden state
/// `tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)`. Parameters `weight_ih` `[H, in]`, `weight_hh`
/// `[H, H]`, `bias_ih`, `bias_hh` `[H]`, all initialised `U(−1/√H, 1/√H)`.
///
/// ```
/// use strata_modules::{RnnCell, Var};
/// use strata_tensor::{Rng, Tensor};
/// let cell = RnnCell::new(3, 5, &mut Rng::new(0));
/// let x = Var::constant(Tensor::ones(&[2, 3]));
/// let h = cell.forward_step(&x, None); // the state starts at zeros
/// let h = cell.forward_step(&x, Some(&h));
/// assert!(h.value().to_vec().iter().all(|v| v.abs() < 1.0));
/// ```
#[derive(Debug, Clone)]
pub struct RnnCell {
    /// `weight_ih` `[H, in]`, `weight_hh` `[H, H]`, biases `[H]`.
    pub weights: RecurrentWeights,
}

recurrent_module!(cell RnnCell, RnnRule);

impl RnnCell {
    /// The next hidden state from an input `[N, in]` and a hidden state `[N, H]` (zeros when
    /// `None`). Panics on a shape mismatch.
    #[track_caller]
    pub fn forward_step(&self, x: &Var, h: Option<&Var>) -> Var {
        match self.try_forward_step(x, h) {
            Ok(result) => result,
            Err(err) => panic!("{err}"),
        }
    }

    /// Fallible [`RnnCell::forward_step`].
    #[track_caller]
    pub fn try_forward_step(&self, x: &Var, h: Option<&Var>) -> Result<Var> {
        let state = h.as_ref().map(std::slice::from_ref);
        let mut next = cell_step::<RnnRule>("RnnCell", &self.weights, x, state)?;
        Ok(next.remove(0))
    }
}

impl Module for RnnCell {
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
