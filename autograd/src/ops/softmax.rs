//! Softmax and log-softmax along an axis, stabilised by subtracting the maximum first.

use super::expect_ok;
use crate::var::Var;
use smallvec::smallvec;
use strata_tensor::{Axis, Result, Tensor};

/// `x − max(x)` along `axis` (keepdim), which leaves softmax unchanged and keeps `exp` finite.
fn shifted(x: &Tensor, axis: usize) -> Tensor {
    x.sub(&x.max_axes(&[axis], true))
}

impl Var {
    /// Softmax along `axis`: `eˣ / Σ eˣ`; the result sums to 1 along the axis.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    /// let p = Var::constant(Tensor::from_vec(vec![1000.0, 1000.0], &[2])).softmax(0);
    /// assert_eq!(p.value().to_vec(), vec![0.5, 0.5]);
    /// ```
    #[track_caller]
    pub fn softmax<A: Axis>(&self, axis: A) -> Var {
        expect_ok(self.try_softmax(axis))
    }

    /// Fallible [`Var::softmax`].
    #[track_caller]
    pub fn try_softmax<A: Axis>(&self, axis: A) -> Result<Var> {
        let axis = axis.resolve(self.ndim(), "softmax")?;
        let e = shifted(self.value(), axis).exp();
        let value = e.div(&e.sum_axes(&[axis], true));
        Ok(Var::from_op("softmax", value, &[self], move |a| {
            // dx = y ⊙ (g − Σ g⊙y)
            let y = a.output;
            let dot = a.grad.mul(y).sum_axes(&[axis], true);
            smallvec![Some(y.mul(&a.grad.sub(&dot)))]
        }))
    }

    /// Log-softmax along `axis`: `x − max − ln Σ e^(x − max)`, finite for any finite input.
    #[track_caller]
    pub fn log_softmax<A: Axis>(&self, axis: A) -> Var {
        expect_ok(self.try_log_softmax(axis))
    }

    /// Fallible [`Var::log_softmax`].
    #[track_caller]
    pub fn try_log_softmax<A: Axis>(&self, axis: A) -> Result<Var> {
        let axis = axis.resolve(self.ndim(), "log_softmax")?;
        let z = shifted(self.value(), axis);
        let value = z.sub(&z.exp().sum_axes(&[axis], true).log());
        Ok(Var::from_op("log_softmax", value, &[self], move |a| {
            // dx = g − softmax ⊙ Σ g
            let total = a.grad.sum_axes(&[axis], true);
            smallvec![Some(a.grad.sub(&a.output.exp().mul(&total)))]
        }))
    }
}
