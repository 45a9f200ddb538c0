//! Gating (Dauphin et al. 2017, "gated linear units"): a representation is modulated by a
//! learned gate in `(0, 1)` computed from the same input, element by element. The LSTM's
//! input, forget and output gates are the same idea applied through time (see the modules'
//! `Lstm` and the `gating` example).

use strata_autograd::Var;
use strata_modules::{Dense, Module, Params};
use strata_tensor::Rng;

/// A gated linear unit `(W·x + b) ⊙ σ(V·x + c)`: the value path `W` proposes features and the
/// gate path `V` decides, per example and per feature, how much of each passes. Parameters
/// are named `value.…` and `gate.…`.
///
/// ```
/// use strata_modules::{Dense, Module, Var};
/// use strata_patterns::Glu;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let glu = Glu::new(4, 3, &mut rng);
/// let x = Var::constant(Tensor::rand_normal(&[2, 4], 0.0, 1.0, &mut rng));
/// let by_hand = glu.value.forward(&x).mul(&glu.gate.forward(&x).sigmoid());
/// assert_eq!(glu.forward(&x).value().to_vec(), by_hand.value().to_vec());
/// ```
#[derive(Params)]
pub struct Glu {
    /// `W`, `b`: the proposed features.
    pub value: Dense,
    /// `V`, `c`: the gate's logits.
    pub gate: Dense,
}

impl Glu {
    /// A unit mapping `in_features` to `out_features` gated features.
    pub fn new(in_features: usize, out_features: usize, rng: &mut Rng) -> Self {
        Self {
            value: Dense::new(in_features, out_features, rng),
            gate: Dense::new(in_features, out_features, rng),
        }
    }

    /// The gate `σ(V·x + c)` alone, in `(0, 1)`: what the unit lets through.
    pub fn gate_values(&self, x: &Var) -> Var {
        self.gate.forward(x).sigmoid()
    }
}

impl Module for Glu {
    fn forward(&self, x: &Var) -> Var {
        self.value.forward(x).mul(&self.gate_values(x))
    }
}
