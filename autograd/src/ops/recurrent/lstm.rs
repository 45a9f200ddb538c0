//! The LSTM cell's rule: input, forget and output gates over a cell state, and its derivative.

use super::fast_math::{sigmoid_in_place, tanh, tanh_in_place};
use super::{CellRule, CellStep};

/// The LSTM update for one example (gate order `i, f, g, o`, as PyTorch):
/// ```text
/// i = σ(x_i + h_i)   f = σ(x_f + h_f)   g = tanh(x_g + h_g)   o = σ(x_o + h_o)
/// c' = f ⊙ c + i ⊙ g        h' = o ⊙ tanh(c')
/// ```
/// where `x_·` and `h_·` are the gate blocks of `W_ih·x + b_ih` and `W_hh·h + b_hh`.
/// State `[h | c]`; saved `[i, f, g, o, tanh c']`.
#[derive(Debug, Clone, Copy)]
pub struct LstmRule;

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
        step: CellStep<'_>,
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
