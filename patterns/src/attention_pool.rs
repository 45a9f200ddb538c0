//! Attention pooling: a set or sequence of vectors is summarised by a weighted mean whose
//! weights come from the content itself. A learned query scores every element by a scalar
//! product with its key (scaled dot-product attention), and the softmax of the scores weights
//! the elements, so the summary can single out the element that matters.

use crate::expect_ok;
use strata_autograd::Var;
use strata_modules::{try_scaled_dot_product_attention, AttentionMasks, Dense, Module, Params};
use strata_tensor::{ErrorKind, Result, Rng, Tensor, TensorError};

/// Pools `x` `[N, S, D]` to `[N, D]`: `Σₛ aₛ xₛ` with `a = softmax(q·(K xₛ)ᵀ/√D)`, where the
/// query `q` `[D]` and the key map `K` (a [`Dense`] `D → D`) are learned. Parameters are named
/// `query` and `key.…`.
///
/// ```
/// use strata_modules::{Module, Var};
/// use strata_patterns::AttentionPool;
/// use strata_tensor::{Rng, Tensor};
/// let pool = AttentionPool::new(4, &mut Rng::new(0));
/// let x = Var::constant(Tensor::rand_normal(&[2, 5, 4], 0.0, 1.0, &mut Rng::new(1)));
/// let (pooled, weights) = pool.pool(&x);
/// assert_eq!((pooled.shape(), weights.shape()), (&[2, 4][..], &[2, 5][..]));
/// // The weights of each set sum to one.
/// let sums = weights.value().sum_axes(&[1], false).to_vec();
/// assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-6));
/// ```
#[derive(Params)]
pub struct AttentionPool {
    /// The learned query `q`, `[D]`.
    pub query: Var,
    /// `K`: element → key.
    pub key: Dense,
}

impl AttentionPool {
    /// A pool over elements of width `dim`; the query starts at zero (uniform weights, a
    /// plain mean) and the key map with the default initialisation.
    pub fn new(dim: usize, rng: &mut Rng) -> Self {
        Self {
            query: Var::leaf(Tensor::zeros(&[dim])),
            key: Dense::new(dim, dim, rng),
        }
    }

    /// The pooled vectors `[N, D]` and the attention weights `[N, S]` (each row sums to 1).
    /// Panics unless `x` is `[N, S, D]` with the pool's `D`.
    #[track_caller]
    pub fn pool(&self, x: &Var) -> (Var, Var) {
        expect_ok(self.try_pool(x))
    }

    /// Fallible [`AttentionPool::pool`].
    pub fn try_pool(&self, x: &Var) -> Result<(Var, Var)> {
        let dim = self.query.numel();
        if x.ndim() != 3 || x.shape()[2] != dim {
            return Err(TensorError::new(
                "AttentionPool",
                ErrorKind::ShapeMismatch,
                format!("expected elements [N, S, {dim}], found {:?}", x.shape()),
            ));
        }
        let n = x.shape()[0];
        let query = self.query.reshape(&[1, 1, -1]).broadcast_to(&[n, 1, dim]);
        let keys = self.key.forward(x);
        let (pooled, weights) =
            try_scaled_dot_product_attention(&query, &keys, x, &AttentionMasks::default())?;
        Ok((pooled.squeeze(1), weights.squeeze(1)))
    }
}

impl Module for AttentionPool {
    /// The pooled vectors `[N, D]`.
    fn forward(&self, x: &Var) -> Var {
        self.pool(x).0
    }
}
