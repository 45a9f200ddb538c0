//! Bottom-up and top-down attention (Anderson et al., CVPR 2018): a bottom-up encoder turns
//! each region of an input into a feature vector without knowing the question; a top-down
//! signal, the query, then decides how much each region counts, and a head answers from the
//! attended mixture of regions.

use crate::expect_ok;
use strata_autograd::Var;
use strata_modules::{try_scaled_dot_product_attention, AttentionMasks, Dense, Module, Params};
use strata_tensor::{ErrorKind, Result, Rng, Tensor, TensorError};

/// Regions `[N, R, F]` are encoded one by one by `E` into features `[N, R, D]` (bottom-up);
/// a query `[N, Q]` is embedded to `[N, D]` and scores every region feature by a scaled
/// scalar product; the softmax of the scores weights the regions (top-down); the head `H`
/// maps the attended feature `[N, D]` to the output. Parameters are named `encoder.…`,
/// `query.…` and `head.…`.
///
/// ```
/// use strata_modules::{Dense, Module, Relu, Sequential};
/// use strata_patterns::BottomUpTopDown;
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let encoder = Sequential::new().push(Dense::new(6, 8, &mut rng)).push(Relu);
/// let model = BottomUpTopDown::new(encoder, 3, 8, Dense::new(8, 2, &mut rng), &mut rng);
/// let regions = Tensor::rand_normal(&[5, 4, 6], 0.0, 1.0, &mut rng); // 5 inputs, 4 regions
/// let queries = Tensor::rand_normal(&[5, 3], 0.0, 1.0, &mut rng);
/// let (output, weights) = model.answer(&regions, &queries);
/// assert_eq!((output.shape(), weights.shape()), (&[5, 2][..], &[5, 4][..]));
/// ```
#[derive(Params)]
pub struct BottomUpTopDown<E, H> {
    /// Bottom-up: one region's input → its feature, applied to every region alike.
    pub encoder: E,
    /// Top-down: query → a vector in the space of the region features.
    pub query: Dense,
    /// Attended feature → output.
    pub head: H,
}

impl<E: Module, H: Module> BottomUpTopDown<E, H> {
    /// A model whose encoder outputs `features` numbers per region and whose queries have
    /// `query_width` numbers.
    pub fn new(encoder: E, query_width: usize, features: usize, head: H, rng: &mut Rng) -> Self {
        Self {
            encoder,
            query: Dense::new(query_width, features, rng),
            head,
        }
    }

    /// The region features `[N, R, D]` (bottom-up, independent of any query).
    pub fn region_features(&self, regions: &Tensor) -> Var {
        self.encoder.forward(&Var::constant(regions.clone()))
    }

    /// The output `[N, out]` for regions `[N, R, F]` and queries `[N, Q]`, and the attention
    /// weights `[N, R]` the query gave the regions (each row sums to 1). Panics on shapes
    /// that do not fit.
    #[track_caller]
    pub fn answer(&self, regions: &Tensor, queries: &Tensor) -> (Var, Var) {
        expect_ok(self.try_answer(regions, queries))
    }

    /// Fallible [`BottomUpTopDown::answer`].
    pub fn try_answer(&self, regions: &Tensor, queries: &Tensor) -> Result<(Var, Var)> {
        if regions.ndim() != 3 || queries.ndim() != 2 || regions.shape()[0] != queries.shape()[0] {
            return Err(TensorError::new(
                "BottomUpTopDown",
                ErrorKind::ShapeMismatch,
                format!(
                    "expected regions [N, R, F] and queries [N, Q], found {:?} and {:?}",
                    regions.shape(),
                    queries.shape()
                ),
            ));
        }
        let features = self.region_features(regions);
        let query = Var::constant(queries.clone())
            .try_linear(&self.query.weight, self.query.bias.as_ref())?
            .unsqueeze(1);
        let (attended, weights) = try_scaled_dot_product_attention(
            &query,
            &features,
            &features,
            &AttentionMasks::default(),
        )?;
        Ok((self.head.forward(&attended.squeeze(1)), weights.squeeze(1)))
    }
}
