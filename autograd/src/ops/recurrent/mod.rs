//! A recurrent layer's whole recurrence as one recorded op, and the rules of the three cells
//! it runs ([`RnnRule`], [`LstmRule`], [`GruRule`], each with its derivative beside it).
//!
//! The recurrence is sequential: step `t` needs the state of step `t − 1`. Recording it as
//! ~10 small ops per step would make the graph, not the arithmetic, the cost; and slicing the
//! input projection per step would send a full-size gradient back from every step. So the op
//! takes the input projections of all steps at once (one matmul, made by the caller) and
//! runs, per step, one small matmul for the hidden projection and one pass of the cell's rule
//! ([`CellRule`]) over the batch. Backward runs back-propagation through time the same way
//! and ends with one matmul for the hidden weights' gradient over all steps.

mod fast_math;
mod gru;
mod lstm;
mod rnn;

pub use gru::GruRule;
pub use lstm::LstmRule;
pub use rnn::RnnRule;

use super::expect_ok;
use crate::var::{InputGrads, Var};
use strata_tensor::{
    for_each_block, num_threads, with_avx2, ErrorKind, Result, Tensor, TensorError,
};

/// How one kind of cell updates its state, for one example, on plain slices: the forward rule
/// and, beside it, its derivative. `H` is the hidden size; the state is `STATES` vectors of
/// `H` (`[h]`, or `[h | c]` for the LSTM).
pub trait CellRule: 'static {
    /// Name of the recorded op.
    const NAME: &'static str;
    /// Gate blocks `G` of `H` rows in `weight_ih` / `weight_hh`.
    const GATES: usize;
    /// State vectors of `H` carried from step to step.
    const STATES: usize;
    /// Vectors of `H` the forward keeps for the backward.
    const SAVED: usize;
    /// Whether `b_hh` only adds to the gates (`x_· + h_·`), so that it can be added to the
    /// input projections once instead of to every step's hidden product (false for the GRU,
    /// whose reset gate scales `b_hn`).
    const HIDDEN_BIAS_ADDS: bool;
    /// Whether the gradient of the hidden projection equals that of the input projection
    /// (`d_hp = d_xp`, as for the LSTM and the RNN): it is then not stored a second time.
    const HIDDEN_GRAD_IS_INPUT_GRAD: bool;

    /// One step: `xp` and `hp` (`[G·H]`) are the input and hidden projections with their
    /// biases, `prev` (`[STATES·H]`) the previous state; writes the new state into `next` and
    /// what the backward needs into `saved` (`[SAVED·H]`).
    fn forward(xp: &[f32], hp: &[f32], prev: &[f32], next: &mut [f32], saved: &mut [f32]);

    /// The step's derivative: from `d_next`, the loss gradient with respect to `next`, writes
    /// the gradients with respect to `xp` and `hp`, and into `d_prev` the gradient with
    /// respect to `prev` along every path except through `hp`.
    fn backward(
        step: CellStep<'_>,
        d_next: &[f32],
        d_xp: &mut [f32],
        d_hp: &mut [f32],
        d_prev: &mut [f32],
    );
}

/// What the backward of one step of one example may read: the states around it and what its
/// forward saved.
#[derive(Debug, Clone, Copy)]
pub struct CellStep<'a> {
    /// The state before the step.
    pub prev: &'a [f32],
    /// The state after the step.
    pub next: &'a [f32],
    /// What the forward saved.
    pub saved: &'a [f32],
}

/// Batch rows per block of a step's work: each block runs its own hidden product and cell
/// rule, on its own thread. Below this, a block's product is too thin to run well.
const MIN_BLOCK_ROWS: usize = 8;

/// Rows of each block a step is split into: one block per thread, each of at least
/// [`MIN_BLOCK_ROWS`] rows, balanced so that the last block is not a sliver. Rows are
/// independent, so the results do not depend on it (up to the rounding of a one-row block's
/// product, which faer computes as a matrix-vector product).
fn block_rows(n: usize) -> usize {
    let blocks = num_threads().min(n / MIN_BLOCK_ROWS).max(1);
    n.div_ceil(blocks)
}

/// Runs rule `K` over all steps: `xp` `[N, T, G·H]` holds the input projections (bias
/// included), `initial` `[N, STATES·H]` the starting state, `weight_hh` `[G·H, H]` and
/// `bias_hh` `[G·H]` the hidden projection. Returns every step's state, `[N, T, STATES·H]`.
/// Each step splits the batch into blocks of rows spread over the threads: a block's hidden
/// product and cell rule touch only its own rows. Panics on a shape mismatch.
///
/// ```
/// use strata_autograd::{recurrence, RnnRule, Var};
/// use strata_tensor::Tensor;
/// // One example, two steps, H = 1, W_hh = 1: h₁ = tanh(0 + 0), h₂ = tanh(1 + h₁).
/// let xp = Var::constant(Tensor::from_vec(vec![0.0, 1.0], &[1, 2, 1]));
/// let h0 = Var::constant(Tensor::zeros(&[1, 1]));
/// let w = Var::leaf(Tensor::ones(&[1, 1]));
/// let states = recurrence::<RnnRule>(&xp, &h0, &w, None);
/// assert_eq!(states.shape(), &[1, 2, 1]);
/// assert!((states.value().to_vec()[1] - 1f32.tanh()).abs() < 1e-6);
/// ```
#[track_caller]
pub fn recurrence<K: CellRule>(
    xp: &Var,
    initial: &Var,
    weight_hh: &Var,
    bias_hh: Option<&Var>,
) -> Var {
    expect_ok(try_recurrence::<K>(xp, initial, weight_hh, bias_hh))
}

/// Fallible [`recurrence`].
#[track_caller]
pub fn try_recurrence<K: CellRule>(
    xp: &Var,
    initial: &Var,
    weight_hh: &Var,
    bias_hh: Option<&Var>,
) -> Result<Var> {
    let fits = xp.ndim() == 3
        && initial.ndim() == 2
        && weight_hh.ndim() == 2
        && initial.shape()[0] == xp.shape()[0]
        && initial.shape()[1] % K::STATES == 0
        && weight_hh.shape() == [xp.shape()[2], initial.shape()[1] / K::STATES]
        && xp.shape()[2] == K::GATES * weight_hh.shape()[1]
        && bias_hh.is_none_or(|b| b.shape() == [xp.shape()[2]]);
    if !fits {
        return Err(TensorError::new(
            K::NAME,
            ErrorKind::ShapeMismatch,
            format!(
                "expects projections [N, T, {g}·H], a state [N, {s}·H], weight_hh [{g}·H, H] \
                 and bias_hh [{g}·H], found {:?}, {:?}, {:?} and {:?}",
                xp.shape(),
                initial.shape(),
                weight_hh.shape(),
                bias_hh.map(Var::shape),
                g = K::GATES,
                s = K::STATES,
            ),
        ));
    }
    Ok(record::<K>(xp, initial, weight_hh, bias_hh))
}

/// [`recurrence`] on checked shapes.
fn record<K: CellRule>(xp: &Var, initial: &Var, weight_hh: &Var, bias_hh: Option<&Var>) -> Var {
    let (n, steps, gh) = (xp.shape()[0], xp.shape()[1], xp.shape()[2]);
    let sh = initial.shape()[1];
    let h = sh / K::STATES;
    let saved_len = K::SAVED * h;
    let block = block_rows(n);

    let projections = xp.value().values();
    let (w_hh, b_hh) = (weight_hh.value(), bias_hh.map(Var::value));
    // States of every step, time-major: [T + 1, N, STATES·H], the initial state first.
    let mut states = pooled((steps + 1) * n * sh);
    states[..n * sh].copy_from_slice(&initial.value().values());
    let mut saved = pooled(steps * n * saved_len);
    for t in 0..steps {
        let (done, rest) = states.split_at_mut((t + 1) * n * sh);
        let prev = &done[t * n * sh..];
        let next = &mut rest[..n * sh];
        let saved_t = &mut saved[t * n * saved_len..][..n * saved_len];
        for_each_block(n, block, [next, saved_t], |rows, [next, saved]| {
            let prev = &prev[rows.start * sh..rows.end * sh];
            // hp = h·W_hhᵀ + b_hh for the block's rows.
            let hp = hidden_part(prev, sh, h).linear(w_hh, b_hh);
            let hp = hp.values();
            with_avx2(
                #[inline(always)]
                || {
                    for (i, row) in rows.enumerate() {
                        K::forward(
                            &projections[(row * steps + t) * gh..][..gh],
                            &hp[i * gh..][..gh],
                            &prev[i * sh..][..sh],
                            &mut next[i * sh..][..sh],
                            &mut saved[i * saved_len..][..saved_len],
                        );
                    }
                },
            );
        });
    }

    // Kept for the backward as tensors, so that their buffers go back to the pool after it.
    let states = Tensor::from_vec(states, &[(steps + 1) * n, sh]);
    let saved = Tensor::from_vec(saved, &[steps * n * saved_len]);
    // The outputs are the states after each step, batch-first: a view, not a copy.
    let outputs = states
        .reshape(&[steps as isize + 1, n as isize, sh as isize])
        .narrow(0, 1, steps)
        .permute(&[1, 0, 2]);

    let mut inputs = vec![xp, initial, weight_hh];
    inputs.extend(bias_hh);
    Var::from_op(K::NAME, outputs, &inputs, move |a| {
        let d_outputs = a.grad().values();
        let (states_all, saved) = (states.values(), saved.values());
        let weight_hh = a.input(2);
        let mut d_carry = vec![0.0; n * sh];
        let mut d_xp = pooled(n * steps * gh);
        // Gradients of the hidden projections, time-major [T, N, G·H] like `states`, unless
        // they are the input projections' (then `d_xp` serves for both).
        let keep_d_hp = !K::HIDDEN_GRAD_IS_INPUT_GRAD;
        let mut d_hp = if keep_d_hp {
            pooled(steps * n * gh)
        } else {
            Vec::new()
        };
        for t in (0..steps).rev() {
            let d_hp_t: &mut [f32] = if keep_d_hp {
                &mut d_hp[t * n * gh..][..n * gh]
            } else {
                &mut []
            };
            // Whether the gradient must reach h_{t−1} through the hidden product.
            let through_hidden = t > 0 || a.needs(1);
            let parts = [&mut d_xp[..], d_hp_t, &mut d_carry[..]];
            for_each_block(n, block, parts, |rows, [d_xp, d_hp_t, d_carry]| {
                let mut d_next = vec![0.0; sh];
                // This step's d_hp for the block's rows: the left operand of dh += d_hp·W_hh.
                let mut block_hp = Tensor::empty(&[rows.len(), gh]);
                let block_hp_values = block_hp.data_mut();
                with_avx2(
                    #[inline(always)]
                    || {
                        for (i, row) in rows.clone().enumerate() {
                            let from_output = &d_outputs[(row * steps + t) * sh..][..sh];
                            let carried = &mut d_carry[i * sh..][..sh];
                            for ((d, &o), &c) in
                                d_next.iter_mut().zip(from_output).zip(carried.iter())
                            {
                                *d = o + c;
                            }
                            let step = CellStep {
                                prev: &states_all[(t * n + row) * sh..][..sh],
                                next: &states_all[((t + 1) * n + row) * sh..][..sh],
                                saved: &saved[(t * n + row) * saved_len..][..saved_len],
                            };
                            K::backward(
                                step,
                                &d_next,
                                &mut d_xp[(i * steps + t) * gh..][..gh],
                                &mut block_hp_values[i * gh..][..gh],
                                carried,
                            );
                        }
                    },
                );
                if keep_d_hp {
                    d_hp_t.copy_from_slice(block_hp_values);
                }
                if through_hidden {
                    // hp = h·W_hhᵀ, so dh += d_hp·W_hh.
                    let d_h = block_hp.matmul(weight_hh);
                    for (carried, d) in d_carry.chunks_mut(sh).zip(d_h.values().chunks(h)) {
                        carried[..h].iter_mut().zip(d).for_each(|(c, d)| *c += d);
                    }
                }
            });
        }
        let d_xp = Tensor::from_vec(d_xp, &[n, steps, gh]);
        // The hidden projections' gradients as rows beside the states they multiplied,
        // h_{t−1}: time-major as kept, or batch-major as in `d_xp` (then the states are
        // gathered in that order).
        let (d_hp, previous) = if keep_d_hp {
            let previous = states.narrow(0, 0, steps * n).narrow(1, 0, h);
            (Tensor::from_vec(d_hp, &[steps * n, gh]), previous)
        } else {
            let by_row = states
                .reshape(&[steps as isize + 1, n as isize, sh as isize])
                .narrow(0, 0, steps)
                .narrow(2, 0, h)
                .permute(&[1, 0, 2])
                .reshape(&[(n * steps) as isize, h as isize]);
            (d_xp.reshape(&[(n * steps) as isize, gh as isize]), by_row)
        };
        let mut grads: InputGrads = InputGrads::new();
        grads.push(a.needs(0).then(|| d_xp.clone()));
        grads.push(a.needs(1).then(|| Tensor::from_vec(d_carry, &[n, sh])));
        // dW_hh = Σ_t d_hpₜᵀ·h_{t−1}, one product over all steps.
        grads.push(a.needs(2).then(|| d_hp.t().matmul(&previous)));
        if a.num_inputs() == 4 {
            grads.push(a.needs(3).then(|| d_hp.sum_axes(&[0], false)));
        }
        grads
    })
}

/// A work buffer of `len` elements that the caller overwrites in full, taken from
/// strata-tensor's pool of large buffers (these are megabytes for a typical layer: fresh
/// ones page-fault, and zeroing them would be wasted).
fn pooled(len: usize) -> Vec<f32> {
    Tensor::empty(&[len]).into_vec()
}

/// The `h` part of a block of packed `[rows, STATES·H]` states, as a `[rows, H]` tensor
/// (a copy of just those values, in a pooled buffer).
fn hidden_part(states: &[f32], sh: usize, h: usize) -> Tensor {
    let rows = states.len() / sh;
    let mut hidden = Tensor::empty(&[rows, h]);
    for (out, state) in hidden
        .data_mut()
        .chunks_exact_mut(h)
        .zip(states.chunks_exact(sh))
    {
        out.copy_from_slice(&state[..h]);
    }
    hidden
}
