//! Stacked recurrent layers of any kind over a batch-first sequence ([`Rnn`](crate::Rnn),
//! [`Lstm`](crate::Lstm), [`Gru`](crate::Gru) are its three kinds).

use super::kind::RecurrentKind;
use super::run::sequence;
use super::weights::{RecurrentConfig, RecurrentWeights};
use crate::module::Module;
use crate::params::{Params, Visitor, VisitorMut};
use std::marker::PhantomData;
use strata_autograd::Var;
use strata_tensor::{expect_ok, Result, Rng};

/// Recurrent layers of kind `K` over a batch-first sequence `[N, T, in]` (PyTorch's recurrent
/// layers with `batch_first=True`). Used through its aliases [`Rnn`](crate::Rnn),
/// [`Lstm`](crate::Lstm) and [`Gru`](crate::Gru). Layer `k` has the parameters of a cell of
/// the kind, named `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`; layer
/// `k > 0` reads the hidden states of layer `k − 1`.
#[derive(Debug, Clone)]
pub struct RecurrentLayers<K> {
    /// Layer `k`: `weight_ih` `[G·H, in or H]`, `weight_hh` `[G·H, H]`, biases `[G·H]`.
    pub layers: Vec<RecurrentWeights>,
    // `fn() -> K`: the kind is only a type, so the layer is `Send + Sync` whatever `K` is.
    kind: PhantomData<fn() -> K>,
}

impl<K: RecurrentKind> RecurrentLayers<K> {
    /// One layer with biases; every parameter `U(−1/√H, 1/√H)` (PyTorch's default).
    pub fn new(input_size: usize, hidden_size: usize, rng: &mut Rng) -> Self {
        Self::with_config(RecurrentConfig::new(input_size, hidden_size), rng)
    }

    /// Layers as configured, initialised as PyTorch does.
    pub fn with_config(config: RecurrentConfig, rng: &mut Rng) -> Self {
        Self::from_layers(config.layers(K::GATES, rng))
    }

    /// Layers with the given weights (checked at each call).
    pub fn from_layers(layers: Vec<RecurrentWeights>) -> Self {
        Self {
            layers,
            kind: PhantomData,
        }
    }

    /// Features of each input step.
    pub fn input_size(&self) -> usize {
        self.layers.first().map_or(0, RecurrentWeights::input_size)
    }

    /// Hidden size `H`.
    pub fn hidden_size(&self) -> usize {
        self.layers.first().map_or(0, RecurrentWeights::hidden_size)
    }

    /// Number of stacked layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Runs the layers over `x` `[N, T, in]` from an `initial` state (each tensor
    /// `[layers, N, H]`; zeros when `None`). Returns the last layer's hidden states
    /// `[N, T, H]` and the final state (each tensor `[layers, N, H]`). Panics on a shape
    /// mismatch.
    #[track_caller]
    pub fn forward_seq(&self, x: &Var, initial: Option<K::StateRef<'_>>) -> (Var, K::State) {
        expect_ok(self.try_forward_seq(x, initial))
    }

    /// Fallible [`RecurrentLayers::forward_seq`].
    #[track_caller]
    pub fn try_forward_seq(
        &self,
        x: &Var,
        initial: Option<K::StateRef<'_>>,
    ) -> Result<(Var, K::State)> {
        let parts = initial.map(K::parts);
        let (outputs, last) = sequence::<K>(K::LAYER_NAME, &self.layers, x, parts.as_deref())?;
        Ok((outputs, K::from_parts(last)))
    }
}

impl<K: RecurrentKind> Params for RecurrentLayers<K> {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        for (k, layer) in self.layers.iter().enumerate() {
            layer.visit(prefix, &format!("_l{k}"), visitor);
        }
    }

    fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn VisitorMut) {
        for (k, layer) in self.layers.iter_mut().enumerate() {
            layer.visit_mut(prefix, &format!("_l{k}"), visitor);
        }
    }

    fn set_training(&mut self, _: bool) {}
}

impl<K: RecurrentKind> Module for RecurrentLayers<K> {
    /// The last layer's hidden states `[N, T, H]`, from a zero state.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        self.forward_seq(x, None).0
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        Ok(self.try_forward_seq(x, None)?.0)
    }
}
