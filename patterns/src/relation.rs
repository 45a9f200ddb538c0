//! Relation learning: instead of a fixed distance (as [`Siamese`](crate::Siamese) uses), a
//! learned head judges how two inputs relate, from their codes by a shared encoder.

use strata_autograd::{no_grad, Var};
use strata_modules::{bce_with_logits, Module, Params, Reduction};
use strata_tensor::Tensor;

/// A shared encoder `E` and a relation head `H` scoring pairs: the logit of "`a` and `b` are
/// related" (for example, of the same class) is `H([|z_a − z_b| | z_a ⊙ z_b])`.
///
/// The pair features are symmetric, so the score of `(a, b)` is the score of `(b, a)`; for
/// codes of width `D` the head reads `2·D` features and returns one logit.
///
/// ```
/// use strata_modules::{Dense, Var};
/// use strata_patterns::Relation;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let relation = Relation::new(Dense::new(4, 3, &mut rng), Dense::new(6, 1, &mut rng));
/// let a = Var::constant(Tensor::rand_normal(&[5, 4], 0.0, 1.0, &mut rng));
/// let b = Var::constant(Tensor::rand_normal(&[5, 4], 0.0, 1.0, &mut rng));
/// let (ab, ba) = (relation.score(&a, &b), relation.score(&b, &a));
/// assert_eq!(ab.shape(), &[5, 1]);
/// assert_eq!(ab.value().to_vec(), ba.value().to_vec());
/// ```
#[derive(Params)]
pub struct Relation<E, H> {
    /// Encodes each member of a pair (shared).
    pub encoder: E,
    /// Scores the pair features.
    pub head: H,
}

impl<E: Module, H: Module> Relation<E, H> {
    /// A relation model from its encoder and head.
    pub fn new(encoder: E, head: H) -> Self {
        Self { encoder, head }
    }

    /// The symmetric pair features `[|z_a − z_b| | z_a ⊙ z_b]`, `[N, 2·D]`.
    pub fn pair_features(za: &Var, zb: &Var) -> Var {
        Var::concat(&[&za.sub(zb).abs(), &za.mul(zb)], -1)
    }

    /// The relation logits of pairs `(a, b)`, `[N, 1]`.
    pub fn score(&self, a: &Var, b: &Var) -> Var {
        let (za, zb) = (self.encoder.forward(a), self.encoder.forward(b));
        self.head.forward(&Self::pair_features(&za, &zb))
    }

    /// Binary cross-entropy of the scores against `related` (1 or 0 per pair, `[N]`).
    pub fn loss(&self, a: &Var, b: &Var, related: &Tensor) -> Var {
        let targets = Var::constant(related.unsqueeze(1));
        bce_with_logits(&self.score(a, b), &targets, Reduction::Mean)
    }

    /// Whether each pair is judged related (1) or not (0), `[N]` (nothing recorded).
    pub fn predict(&self, a: &Tensor, b: &Tensor) -> Tensor {
        no_grad(|| {
            let logits = self.score(&Var::constant(a.clone()), &Var::constant(b.clone()));
            logits.value().squeeze(1).gt(&Tensor::scalar(0.0))
        })
    }
}
