//! `Dropout`: during training, zero each activation with probability `p` and scale the
//! survivors by `1/(1 − p)` (inverted dropout), so no unit can rely on any other; in
//! evaluation mode it is the identity.

use crate::module::Module;
use crate::params::RngCell;
use crate::Params;
use strata_autograd::Var;

/// Inverted dropout with its own seeded random stream. The stream is saved in checkpoints
/// (under the name `rng`), so a resumed run draws the same masks as an uninterrupted one.
/// Like every module it starts in training mode; `eval()` makes it the identity.
///
/// ```
/// use strata_modules::{Dropout, Module, Params, Var};
/// use strata_tensor::Tensor;
/// let mut dropout = Dropout::new(0.5, 7);
/// let x = Var::constant(Tensor::ones(&[1000]));
/// let y = dropout.forward(&x).value().to_vec();
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// dropout.eval();
/// assert_eq!(dropout.forward(&x).value(), x.value());
/// ```
#[derive(Debug, Clone, Params)]
pub struct Dropout {
    /// Drop probability, in `[0, 1)`.
    #[module(skip)]
    p: f32,
    /// The stream the masks are drawn from.
    rng: RngCell,
    #[module(training)]
    training: bool,
}

impl Dropout {
    /// Dropout with drop probability `p` in `[0, 1)`, masks drawn from a stream seeded by
    /// `seed`. Panics on a `p` outside `[0, 1)` (a programming error).
    #[track_caller]
    pub fn new(p: f32, seed: u64) -> Self {
        assert!(
            (0.0..1.0).contains(&p),
            "Dropout: the drop probability must be in [0, 1), found {p}"
        );
        Self {
            p,
            rng: RngCell::new(seed),
            training: true,
        }
    }

    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }

    /// Whether masks are drawn (training mode).
    pub fn is_training(&self) -> bool {
        self.training
    }
}

impl Module for Dropout {
    fn forward(&self, x: &Var) -> Var {
        if !self.training || self.p == 0.0 {
            return x.clone();
        }
        self.rng.with(|rng| x.dropout(self.p, rng))
    }
}
