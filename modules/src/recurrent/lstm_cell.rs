//! The LSTM cell: gates decide what the cell state forgets, what it takes in and what it
//! shows, so information can be carried over many steps.

use super::fast_math::{sigmoid_in_place, tanh, tanh_in_place};
use super::recurrence::{CellRule, Step};
use super::run::cell_step;
use super::weights::{recurrent_module, RecurrentWeights};
use crate::module::Module;
use strata_autograd::Var;
use strata_tensor::Result;

/// The LSTM update for one example (gate order `i, f, g, o`, as PyTorch):
/// ```text
/// i = σ(x_i + h_i)   f = σ(x_f + h_f)   g = tanh(x_g + h_g)   o = σ(x_o + h_o)
/// c' = f ⊙ c + i ⊙ g        h' = o ⊙ tanh(c')
/// ```
/// where `x_·` and `h_·` are the gate blocks of `W_ih·x + b_ih` and `W_hh·h + b_hh`.
/// State `[h | c]`; saved `[i, f, g, o, tanh c']`.
pub(crate) struct LstmRule;

impl CellRule for LstmRule {
    const NAME: &'static str = "lstm";
    const GATES: usize = 4;
    const STATES: usize = 2;
    const SAVED: usize = 5;
    const HIDDEN_BIAS_ADDS: bool = true;
    const HIDDEN_GRAD_IS_INPUT_GRAD: bool = true;

    #[inline(always)]
    fn forward(xp: &[f32], hp: &[f32], prev: &[f32], next: &mut [f32], saved: &mut [f32]) {
        let h = prev.len() / 2;
        let (gates, tanh_c) = saved.split_at_mut(4 * h);
        for ((gate, &x), &r) in gates.iter_mut().zip(xp).zip(hp) {
            *gate = x + r;
        }
        // Whole-block passes, so that the activations vectorise.
        let (input_forget, cell_output) = gates.split_at_mut(2 * h);
        let (g, o) = cell_output.split_at_mut(h);
        sigmoid_in_place(input_forget);
        tanh_in_place(g);
        sigmoid_in_place(o);
        let (i, f) = input_forget.split_at(h);
        let (h_next, c_next) = next.split_at_mut(h);
        for ((((c, &c_prev), &i), &f), &g) in
            c_next.iter_mut().zip(&prev[h..]).zip(i).zip(f).zip(&*g)
        {
            *c = f * c_prev + i * g;
        }
        for (t, &c) in tanh_c.iter_mut().zip(c_next.iter()) {
            *t = tanh(c);
        }
        for ((h, &o), &t) in h_next.iter_mut().zip(&*o).zip(&*tanh_c) {
            *h = o * t;
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
        let h = d_prev.len() / 2;
        let (dh, dc_next) = d_next.split_at(h);
        let (gates, tanh_c) = step.saved.split_at(4 * h);
        let c_prev = &step.prev[h..];
        let (dh_prev, dc_prev) = d_prev.split_at_mut(h);
        for j in 0..h {
            let (i, f, g, o) = (gates[j], gates[h + j], gates[2 * h + j], gates[3 * h + j]);
            let tc = tanh_c[j];
            // c' reaches the loss directly and through h' = o ⊙ tanh(c').
            let dc = dc_next[j] + dh[j] * o * (1.0 - tc * tc);
            d_xp[j] = dc * g * i * (1.0 - i);
            d_xp[h + j] = dc * c_prev[j] * f * (1.0 - f);
            d_xp[2 * h + j] = dc * i * (1.0 - g * g);
            d_xp[3 * h + j] = dh[j] * tc * o * (1.0 - o);
            dc_prev[j] = dc * f;
            dh_prev[j] = 0.0; // h reaches the step only through W_hh·h
        }
        d_hp.copy_from_slice(d_xp);
    }
}

/// One LSTM step (PyTorch's `LSTMCell`): from an input `[N, in]` and a state `(h, c)`, each
/// `[N, H]`, the next state. Parameters `weight_ih` `[4H, in]`, `weight_hh` `[4H, H]`,
/// `bias_ih`, `bias_hh` `[4H]`, gate blocks in the order input, forget, cell, output; all
/// initialised `U(−1/√H, 1/√H)`.
///
/// ```
/// use strata_modules::{LstmCell, Var};
/// use strata_tensor::{Rng, Tensor};
/// let cell = LstmCell::new(3, 5, &mut Rng::new(0));
/// let x = Var::constant(Tensor::ones(&[2, 3]));
/// let (h, c) = cell.forward_step(&x, None); // the state starts at zeros
/// let (h, c) = cell.forward_step(&x, Some((&h, &c)));
/// assert_eq!((h.shape(), c.shape()), (&[2, 5][..], &[2, 5][..]));
/// ```
#[derive(Debug, Clone)]
pub struct LstmCell {
    /// `weight_ih` `[4H, in]`, `weight_hh` `[4H, H]`, biases `[4H]`.
    pub weights: RecurrentWeights,
}

recurrent_module!(cell LstmCell, LstmRule);

impl LstmCell {
    /// The next state `(h', c')` from an input `[N, in]` and a state `(h, c)` (zeros when
    /// `None`). Panics on a shape mismatch.
    #[track_caller]
    pub fn forward_step(&self, x: &Var, state: Option<(&Var, &Var)>) -> (Var, Var) {
        match self.try_forward_step(x, state) {
            Ok(result) => result,
            Err(err) => panic!("{err}"),
        }
    }

    /// Fallible [`LstmCell::forward_step`].
    #[track_caller]
    pub fn try_forward_step(&self, x: &Var, state: Option<(&Var, &Var)>) -> Result<(Var, Var)> {
        let state = state.map(|(h, c)| [h, c]);
        let [h, c]: [Var; 2] = cell_step::<LstmRule>(
            "LstmCell",
            &self.weights,
            x,
            state.as_ref().map(|s| s.as_slice()),
        )?
        .try_into()
        .expect("the LSTM state is two vectors");
        Ok((h, c))
    }
}

impl Module for LstmCell {
    /// The next hidden state `h'` from a zero state.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        self.forward_step(x, None).0
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        Ok(self.try_forward_step(x, None)?.0)
    }
}
