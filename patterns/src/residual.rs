//! Skip connections (He et al. 2016): a block learns a correction `M(x)` added to its input
//! instead of a whole new representation, so a deep stack starts close to the identity and
//! gradients reach the first layers through the sum.

use strata_autograd::Var;
use strata_modules::{Dense, Module, Params};
use strata_tensor::Rng;

/// `x + M(x)`, or `P·x + M(x)` with a learned projection `P` (a bias-free [`Dense`]) when the
/// block changes the width of its input. Parameters are named `block.…` and `projection.…`.
///
/// ```
/// use strata_modules::{Dense, Module, Var};
/// use strata_patterns::Residual;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let block = Dense::new(3, 3, &mut rng);
/// let x = Var::constant(Tensor::rand_normal(&[2, 3], 0.0, 1.0, &mut rng));
/// let expected = x.value().add(block.forward(&x).value());
/// let residual = Residual::new(block);
/// assert_eq!(residual.forward(&x).value().to_vec(), expected.to_vec());
/// // A block 3 → 5 gets a projection of the input to width 5.
/// let widening = Residual::with_projection(Dense::new(3, 5, &mut rng), 3, 5, &mut rng);
/// assert_eq!(widening.forward(&x).shape(), &[2, 5]);
/// ```
#[derive(Params)]
pub struct Residual<M> {
    /// The block `M` whose output is added to the (projected) input.
    pub block: M,
    /// `P`, present when the block's output width differs from its input width.
    pub projection: Option<Dense>,
}

impl<M: Module> Residual<M> {
    /// `x + M(x)`: the block keeps the width of its input.
    pub fn new(block: M) -> Self {
        Self {
            block,
            projection: None,
        }
    }

    /// `P·x + M(x)` for a block mapping `in_features` to `out_features`.
    pub fn with_projection(
        block: M,
        in_features: usize,
        out_features: usize,
        rng: &mut Rng,
    ) -> Self {
        Self {
            block,
            projection: Some(Dense::without_bias(in_features, out_features, rng)),
        }
    }
}

impl<M: Module> Module for Residual<M> {
    /// Panics (naming the shapes) when the skip and the block's output differ in shape.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        let skip = match &self.projection {
            Some(projection) => projection.forward(x),
            None => x.clone(),
        };
        let update = self.block.forward(x);
        assert_eq!(
            skip.shape(),
            update.shape(),
            "Residual: the skip {:?} and the block's output {:?} differ; use \
             Residual::with_projection for a block that changes the width",
            skip.shape(),
            update.shape()
        );
        skip.add(&update)
    }
}
