//! Recurrent cells written out element by element in f64, straight from PyTorch's documented
//! formulas: the independent reference the recurrent tests compare against.

#![allow(dead_code)]
// Index loops read like the formulas they transcribe.
#![allow(clippy::needless_range_loop)]

use strata_modules::RecurrentWeights;
use strata_tensor::Tensor;

/// Which cell a reference step computes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Rnn,
    Lstm,
    Gru,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Row `r` of `W·x + b` for a weight `[rows, cols]` tensor.
fn affine(w: &Tensor, b: Option<&Tensor>, x: &[f64], r: usize) -> f64 {
    let cols = w.shape()[1];
    let sum: f64 = (0..cols).map(|c| w.get(&[r, c]) as f64 * x[c]).sum();
    sum + b.map_or(0.0, |b| b.get(&[r]) as f64)
}

/// One step for one example: `x` `[in]`, state `h` (and `c`) `[H]`; returns `(h', c')`
/// (`c'` empty except for the LSTM).
pub fn step(
    kind: Kind,
    weights: &RecurrentWeights,
    x: &[f64],
    h: &[f64],
    c: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let hidden = h.len();
    let (w_ih, w_hh) = (weights.weight_ih.value(), weights.weight_hh.value());
    let b_ih = weights.bias_ih.as_ref().map(|b| b.value().clone());
    let b_hh = weights.bias_hh.as_ref().map(|b| b.value().clone());
    let xi = |r: usize| affine(w_ih, b_ih.as_ref(), x, r);
    let hh = |r: usize| affine(w_hh, b_hh.as_ref(), h, r);
    let mut h_next = vec![0.0; hidden];
    let mut c_next = Vec::new();
    match kind {
        Kind::Rnn => {
            for j in 0..hidden {
                h_next[j] = (xi(j) + hh(j)).tanh();
            }
        }
        Kind::Lstm => {
            c_next = vec![0.0; hidden];
            for j in 0..hidden {
                let gate = |g: usize| xi(g * hidden + j) + hh(g * hidden + j);
                let (i, f) = (sigmoid(gate(0)), sigmoid(gate(1)));
                let (g, o) = (gate(2).tanh(), sigmoid(gate(3)));
                c_next[j] = f * c[j] + i * g;
                h_next[j] = o * c_next[j].tanh();
            }
        }
        Kind::Gru => {
            for j in 0..hidden {
                let r = sigmoid(xi(j) + hh(j));
                let z = sigmoid(xi(hidden + j) + hh(hidden + j));
                let n = (xi(2 * hidden + j) + r * hh(2 * hidden + j)).tanh();
                h_next[j] = (1.0 - z) * n + z * h[j];
            }
        }
    }
    (h_next, c_next)
}

/// Row `row` of a 2-D tensor, or of the `[N, T, F]` tensor at step `t`, in f64.
pub fn row(t: &Tensor, index: &[usize]) -> Vec<f64> {
    let last = t.shape()[t.ndim() - 1];
    (0..last)
        .map(|k| {
            let mut at = index.to_vec();
            at.push(k);
            t.get(&at) as f64
        })
        .collect()
}

/// Largest absolute difference between a tensor and f64 values in row-major order.
pub fn max_diff(t: &Tensor, expected: &[f64]) -> f64 {
    assert_eq!(t.numel(), expected.len(), "compared sizes differ");
    t.to_vec()
        .iter()
        .zip(expected)
        .map(|(&a, &b)| (a as f64 - b).abs())
        .fold(0.0, f64::max)
}
