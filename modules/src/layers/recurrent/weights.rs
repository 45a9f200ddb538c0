//! The parameters of one recurrent layer, in PyTorch's layout and under PyTorch's names.

use crate::params::{join_name, Visitor, VisitorMut};
use strata_autograd::Var;
use strata_tensor::{ErrorKind, Result, Rng, Tensor, TensorError};

/// The weights of one recurrent layer: `G` gate blocks of `H` rows each, stacked in the
/// kind's gate order (LSTM `i, f, g, o`; GRU `r, z, n`; plain RNN one block).
///
/// Named `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh` in a cell and `weight_ih_l{k}`, … in
/// layer `k` of a sequence layer, as in PyTorch's state dicts.
#[derive(Debug, Clone)]
pub struct RecurrentWeights {
    /// `[G·H, input]`: input-to-hidden weights.
    pub weight_ih: Var,
    /// `[G·H, H]`: hidden-to-hidden weights.
    pub weight_hh: Var,
    /// `[G·H]`, if any: bias of the input projection.
    pub bias_ih: Option<Var>,
    /// `[G·H]`, if any: bias of the hidden projection.
    pub bias_hh: Option<Var>,
}

impl RecurrentWeights {
    /// PyTorch's initialisation: every weight and bias `U(−1/√H, 1/√H)`, drawn in the order
    /// `weight_ih, weight_hh, bias_ih, bias_hh`.
    pub fn new(gates: usize, input: usize, hidden: usize, bias: bool, rng: &mut Rng) -> Self {
        let bound = 1.0 / (hidden.max(1) as f32).sqrt();
        let mut uniform =
            |shape: &[usize]| Var::leaf(Tensor::rand_uniform(shape, -bound, bound, rng));
        let weight_ih = uniform(&[gates * hidden, input]);
        let weight_hh = uniform(&[gates * hidden, hidden]);
        let (bias_ih, bias_hh) = if bias {
            (
                Some(uniform(&[gates * hidden])),
                Some(uniform(&[gates * hidden])),
            )
        } else {
            (None, None)
        };
        Self {
            weight_ih,
            weight_hh,
            bias_ih,
            bias_hh,
        }
    }

    /// Hidden size `H`.
    pub fn hidden_size(&self) -> usize {
        self.weight_hh.shape().get(1).copied().unwrap_or(0)
    }

    /// Input size.
    pub fn input_size(&self) -> usize {
        self.weight_ih.shape().get(1).copied().unwrap_or(0)
    }

    /// Checks the shapes against a kind with `gates` blocks; `op` names the module in errors.
    pub(crate) fn check(&self, gates: usize, op: &'static str) -> Result<()> {
        let hidden = self.hidden_size();
        let rows = gates * hidden;
        let bias_fits = |b: &Option<Var>| b.as_ref().is_none_or(|b| b.shape() == [rows]);
        let fits = self.weight_hh.shape() == [rows, hidden]
            && self.weight_ih.ndim() == 2
            && self.weight_ih.shape()[0] == rows
            && bias_fits(&self.bias_ih)
            && bias_fits(&self.bias_hh)
            && self.bias_ih.is_some() == self.bias_hh.is_some();
        if fits {
            return Ok(());
        }
        let shape = |b: &Option<Var>| b.as_ref().map(|b| b.shape().to_vec());
        Err(TensorError::new(
            op,
            ErrorKind::ShapeMismatch,
            format!(
                "weights should be weight_ih [{gates}·H, in], weight_hh [{gates}·H, H] and both \
                 or no biases [{gates}·H], found {:?}, {:?}, {:?}, {:?}",
                self.weight_ih.shape(),
                self.weight_hh.shape(),
                shape(&self.bias_ih),
                shape(&self.bias_hh)
            ),
        ))
    }

    /// Visits the parameters as `prefix.weight_ih{suffix}`, … (suffix `""` or `"_l0"`, …).
    pub(crate) fn visit(&self, prefix: &str, suffix: &str, visitor: &mut dyn Visitor) {
        let name = |field: &str| join_name(prefix, &format!("{field}{suffix}"));
        visitor.param(&name("weight_ih"), &self.weight_ih);
        visitor.param(&name("weight_hh"), &self.weight_hh);
        if let Some(b) = &self.bias_ih {
            visitor.param(&name("bias_ih"), b);
        }
        if let Some(b) = &self.bias_hh {
            visitor.param(&name("bias_hh"), b);
        }
    }

    /// Mutable twin of [`RecurrentWeights::visit`].
    pub(crate) fn visit_mut(&mut self, prefix: &str, suffix: &str, visitor: &mut dyn VisitorMut) {
        let name = |field: &str| join_name(prefix, &format!("{field}{suffix}"));
        visitor.param(&name("weight_ih"), &mut self.weight_ih);
        visitor.param(&name("weight_hh"), &mut self.weight_hh);
        if let Some(b) = &mut self.bias_ih {
            visitor.param(&name("bias_ih"), b);
        }
        if let Some(b) = &mut self.bias_hh {
            visitor.param(&name("bias_hh"), b);
        }
    }
}

/// How a sequence layer is built: sizes, depth and whether it has biases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecurrentConfig {
    /// Features of each input step.
    pub input_size: usize,
    /// Hidden size `H`.
    pub hidden_size: usize,
    /// Stacked layers: layer `k > 0` reads the hidden states of layer `k − 1`.
    pub num_layers: usize,
    /// Whether the layers have `bias_ih` and `bias_hh`.
    pub bias: bool,
}

impl RecurrentConfig {
    /// One layer with biases (PyTorch's defaults).
    pub fn new(input_size: usize, hidden_size: usize) -> Self {
        Self {
            input_size,
            hidden_size,
            num_layers: 1,
            bias: true,
        }
    }

    /// The weights of every layer, initialised as PyTorch does, layer by layer.
    pub(crate) fn layers(&self, gates: usize, rng: &mut Rng) -> Vec<RecurrentWeights> {
        (0..self.num_layers)
            .map(|k| {
                let input = if k == 0 {
                    self.input_size
                } else {
                    self.hidden_size
                };
                RecurrentWeights::new(gates, input, self.hidden_size, self.bias, rng)
            })
            .collect()
    }
}
