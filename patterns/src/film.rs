//! FiLM, feature-wise linear modulation (Perez et al. 2018): a conditioning input decides how
//! each feature of a representation is scaled and shifted, `γ(c) ⊙ h + β(c)`, so one network
//! computes a different function for each condition.

use crate::expect_ok;
use strata_autograd::Var;
use strata_modules::{Dense, Module, Params};
use strata_tensor::{ErrorKind, Result, Rng, TensorError};

/// A generator `G` mapping a condition `c` `[N, C]` to `2F` numbers, read as the per-feature
/// scale `γ` (the first `F`) and shift `β` (the last `F`) applied to features `h` `[N, F]`.
/// Parameters are named `generator.…`.
///
/// ```
/// use strata_modules::{Dense, Var};
/// use strata_patterns::Film;
/// use strata_tensor::{Rng, Tensor};
/// let film = Film::dense(2, 3, &mut Rng::new(0)); // condition of width 2, 3 features
/// let h = Var::constant(Tensor::ones(&[4, 3]));
/// let c = Var::constant(Tensor::zeros(&[4, 2]));
/// let (gamma, beta) = film.gamma_beta(&c);
/// let by_hand = gamma.mul(&h).add(&beta);
/// assert_eq!(film.modulate(&h, &c).value().to_vec(), by_hand.value().to_vec());
/// ```
#[derive(Params)]
pub struct Film<G = Dense> {
    /// Condition → `[γ | β]`, `[N, 2F]`.
    pub generator: G,
    /// `F`, the number of modulated features.
    #[module(skip)]
    features: usize,
}

impl Film<Dense> {
    /// A dense generator: `γ` and `β` are affine functions of a condition of width
    /// `condition`, for `features` features.
    pub fn dense(condition: usize, features: usize, rng: &mut Rng) -> Self {
        Self::new(Dense::new(condition, 2 * features, rng), features)
    }
}

impl<G: Module> Film<G> {
    /// Modulation of `features` features by `generator`, which must output `2 · features`.
    pub fn new(generator: G, features: usize) -> Self {
        Self {
            generator,
            features,
        }
    }

    /// `F`, the number of modulated features.
    pub fn features(&self) -> usize {
        self.features
    }

    /// `γ(c)` and `β(c)`, each `[N, F]`. Panics if the generator's output is not `[N, 2F]`.
    #[track_caller]
    pub fn gamma_beta(&self, condition: &Var) -> (Var, Var) {
        expect_ok(self.try_gamma_beta(condition))
    }

    /// Fallible [`Film::gamma_beta`].
    pub fn try_gamma_beta(&self, condition: &Var) -> Result<(Var, Var)> {
        let both = self.generator.forward(condition);
        if both.ndim() != 2 || both.shape()[1] != 2 * self.features {
            return Err(TensorError::new(
                "Film",
                ErrorKind::ShapeMismatch,
                format!(
                    "the generator should output [N, {}] (γ and β for {} features), found {:?}",
                    2 * self.features,
                    self.features,
                    both.shape()
                ),
            ));
        }
        Ok((
            both.narrow(1, 0, self.features),
            both.narrow(1, self.features, self.features),
        ))
    }

    /// `γ(c) ⊙ h + β(c)` for features `h` `[N, F]` and conditions `c` of the same batch.
    /// Panics on a shape mismatch.
    #[track_caller]
    pub fn modulate(&self, h: &Var, condition: &Var) -> Var {
        expect_ok(self.try_modulate(h, condition))
    }

    /// Fallible [`Film::modulate`].
    pub fn try_modulate(&self, h: &Var, condition: &Var) -> Result<Var> {
        let (gamma, beta) = self.try_gamma_beta(condition)?;
        if h.shape() != gamma.shape() {
            return Err(TensorError::new(
                "Film",
                ErrorKind::ShapeMismatch,
                format!(
                    "features should be {:?} (one row per condition), found {:?}",
                    gamma.shape(),
                    h.shape()
                ),
            ));
        }
        Ok(gamma.mul(h).add(&beta))
    }
}
