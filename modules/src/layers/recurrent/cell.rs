//! One step of a recurrent cell of any kind ([`RnnCell`](crate::RnnCell),
//! [`LstmCell`](crate::LstmCell), [`GruCell`](crate::GruCell) are its three kinds).

use super::kind::RecurrentKind;
use super::run::cell_step;
use super::weights::RecurrentWeights;
use crate::module::Module;
use crate::params::{Params, Visitor, VisitorMut};
use std::marker::PhantomData;
use strata_autograd::Var;
use strata_tensor::{expect_ok, Result, Rng};

/// A recurrent cell of kind `K`: from an input `[N, in]` and a state, the next state. Used
/// through its aliases [`RnnCell`](crate::RnnCell), [`LstmCell`](crate::LstmCell) and
/// [`GruCell`](crate::GruCell); its parameters are named `weight_ih`, `weight_hh`, `bias_ih`,
/// `bias_hh`, as in PyTorch's cells.
#[derive(Debug, Clone)]
pub struct RecurrentCell<K> {
    /// `weight_ih` `[G·H, in]`, `weight_hh` `[G·H, H]`, biases `[G·H]`.
    pub weights: RecurrentWeights,
    // `fn() -> K`: the kind is only a type, so the layer is `Send + Sync` whatever `K` is.
    kind: PhantomData<fn() -> K>,
}

impl<K: RecurrentKind> RecurrentCell<K> {
    /// A cell with biases; every parameter `U(−1/√H, 1/√H)` (PyTorch's default).
    pub fn new(input_size: usize, hidden_size: usize, rng: &mut Rng) -> Self {
        Self::from_weights(RecurrentWeights::new(
            K::GATES,
            input_size,
            hidden_size,
            true,
            rng,
        ))
    }

    /// A cell without biases.
    pub fn without_bias(input_size: usize, hidden_size: usize, rng: &mut Rng) -> Self {
        Self::from_weights(RecurrentWeights::new(
            K::GATES,
            input_size,
            hidden_size,
            false,
            rng,
        ))
    }

    /// A cell with the given weights (checked at each step).
    pub fn from_weights(weights: RecurrentWeights) -> Self {
        Self {
            weights,
            kind: PhantomData,
        }
    }

    /// Input width.
    pub fn input_size(&self) -> usize {
        self.weights.input_size()
    }

    /// Hidden size `H`.
    pub fn hidden_size(&self) -> usize {
        self.weights.hidden_size()
    }

    /// The next state from an input `[N, in]` and a state (each tensor `[N, H]`; zeros when
    /// `None`). Panics on a shape mismatch.
    #[track_caller]
    pub fn forward_step(&self, x: &Var, state: Option<K::StateRef<'_>>) -> K::State {
        expect_ok(self.try_forward_step(x, state))
    }

    /// Fallible [`RecurrentCell::forward_step`].
    #[track_caller]
    pub fn try_forward_step(&self, x: &Var, state: Option<K::StateRef<'_>>) -> Result<K::State> {
        let parts = state.map(K::parts);
        let next = cell_step::<K>(K::CELL_NAME, &self.weights, x, parts.as_deref())?;
        Ok(K::from_parts(next))
    }
}

impl<K: RecurrentKind> Params for RecurrentCell<K> {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        self.weights.visit(prefix, "", visitor);
    }

    fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn VisitorMut) {
        self.weights.visit_mut(prefix, "", visitor);
    }

    fn set_training(&mut self, _: bool) {}
}

impl<K: RecurrentKind> Module for RecurrentCell<K> {
    /// The next hidden state `h'` from a zero state.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        K::hidden(self.forward_step(x, None))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        Ok(K::hidden(self.try_forward_step(x, None)?))
    }
}
