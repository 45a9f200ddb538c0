//! Matrix products: `matmul` (2-D and batched, broadcasting batch dimensions) and `linear`
//! (`x·Wᵀ + b`, the dense layer, with its gradients computed without transposed copies).

use super::{as_isize, expect_ok, sum_to_shape};
use crate::var::Var;
use smallvec::smallvec;
use strata_tensor::{ErrorKind, Result, Tensor, TensorError};

impl Var {
    /// Matrix product with batch broadcasting (see `Tensor::matmul`); a 1-D operand is a
    /// row (left) or column (right) vector.
    #[track_caller]
    pub fn matmul(&self, other: &Var) -> Var {
        expect_ok(self.try_matmul(other))
    }

    /// Fallible [`Var::matmul`].
    #[track_caller]
    pub fn try_matmul(&self, other: &Var) -> Result<Var> {
        if self.ndim() == 1 || other.ndim() == 1 {
            // Promote vectors to matrices, multiply, and drop the added dimension again.
            let a = if self.ndim() == 1 {
                self.try_unsqueeze(0)?
            } else {
                self.clone()
            };
            let b = if other.ndim() == 1 {
                other.try_unsqueeze(1)?
            } else {
                other.clone()
            };
            let product = a.try_matmul(&b).map_err(|_| {
                TensorError::new(
                    "matmul",
                    ErrorKind::ShapeMismatch,
                    format!(
                        "inner dimensions differ: {:?} x {:?}",
                        self.shape(),
                        other.shape()
                    ),
                )
            })?;
            let product = if other.ndim() == 1 {
                product.try_squeeze(-1)?
            } else {
                product
            };
            return if self.ndim() == 1 {
                product.try_squeeze(-2)
            } else {
                Ok(product)
            };
        }
        let value = self.value().try_matmul(other.value())?;
        Ok(Var::from_op("matmul", value, &[self, other], |a| {
            // C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC (transposes are views), summed over broadcast batches.
            smallvec![
                a.needs(0)
                    .then(|| sum_to_shape(&a.grad.matmul(&a.input(1).t()), a.input(0).shape())),
                a.needs(1)
                    .then(|| sum_to_shape(&a.input(0).t().matmul(a.grad), a.input(1).shape()))
            ]
        }))
    }

    /// The dense layer `x·Wᵀ + b` for `x` of shape `[…, in]`, weight `[out, in]` and optional
    /// bias `[out]`; output `[…, out]`.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    /// let x = Var::constant(Tensor::from_vec(vec![1.0, 2.0], &[1, 2]));
    /// let w = Var::leaf(Tensor::from_vec(vec![1.0, 0.0, 1.0, 1.0], &[2, 2]));
    /// let b = Var::leaf(Tensor::from_vec(vec![0.5, -0.5], &[2]));
    /// assert_eq!(x.linear(&w, Some(&b)).value().to_vec(), vec![1.5, 2.5]);
    /// ```
    #[track_caller]
    pub fn linear(&self, weight: &Var, bias: Option<&Var>) -> Var {
        expect_ok(self.try_linear(weight, bias))
    }

    /// Fallible [`Var::linear`].
    #[track_caller]
    pub fn try_linear(&self, weight: &Var, bias: Option<&Var>) -> Result<Var> {
        let value = self
            .value()
            .try_linear(weight.value(), bias.map(Var::value))?;
        let out_features = weight.shape()[0];
        let inputs: Vec<&Var> = [Some(self), Some(weight), bias]
            .into_iter()
            .flatten()
            .collect();
        Ok(Var::from_op("linear", value, &inputs, move |a| {
            let (x, w) = (a.input(0), a.input(1));
            let in_features = w.shape()[1];
            let rows_of = |t: &Tensor, cols: usize| t.reshape(&[-1, cols as isize]);
            let mut grads = smallvec![
                a.needs(0)
                    .then(|| a.grad.matmul(w).reshape(&as_isize(x.shape()))),
                a.needs(1).then(|| rows_of(a.grad, out_features)
                    .t()
                    .matmul(&rows_of(x, in_features)))
            ];
            if a.inputs.len() == 3 {
                grads.push(
                    a.needs(2)
                        .then(|| rows_of(a.grad, out_features).sum_axes(&[0], false)),
                );
            }
            grads
        }))
    }
}
