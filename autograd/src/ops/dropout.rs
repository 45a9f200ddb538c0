//! Inverted dropout: zero each element with probability `p` and scale the survivors by
//! `1/(1 − p)`, so the expected value is unchanged. The mask is kept for the backward pass.

use super::expect_ok;
use crate::var::Var;
use smallvec::smallvec;
use strata_tensor::{ErrorKind, Result, Rng, Tensor, TensorError};

impl Var {
    /// Dropout with drop probability `p` in `[0, 1)`, drawing the mask from `rng`.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::{Rng, Tensor};
    /// let x = Var::constant(Tensor::ones(&[1000]));
    /// let y = x.dropout(0.5, &mut Rng::new(1));
    /// let kept = y.value().to_vec().iter().filter(|&&v| v == 2.0).count();
    /// assert!((400..600).contains(&kept));
    /// ```
    #[track_caller]
    pub fn dropout(&self, p: f32, rng: &mut Rng) -> Var {
        expect_ok(self.try_dropout(p, rng))
    }

    /// Fallible [`Var::dropout`].
    #[track_caller]
    pub fn try_dropout(&self, p: f32, rng: &mut Rng) -> Result<Var> {
        if !(0.0..1.0).contains(&p) {
            return Err(TensorError::new(
                "dropout",
                ErrorKind::InvalidArgument,
                format!("drop probability must be in [0, 1), found {p}"),
            ));
        }
        if p == 0.0 {
            return Ok(self.clone());
        }
        let mask = Tensor::rand_bernoulli(self.shape(), 1.0 - p, rng).mul_scalar(1.0 / (1.0 - p));
        let value = self.value().mul(&mask);
        Ok(Var::from_op("dropout", value, &[self], move |a| {
            smallvec![Some(a.grad.mul(&mask))]
        }))
    }
}
