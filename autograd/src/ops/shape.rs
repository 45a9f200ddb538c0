//! Shape ops: reshape, permute, transpose, squeeze, unsqueeze, broadcast, narrow, flatten.
//! Their gradients undo the view (reduce what was broadcast, pad what was cut away).

use super::{as_isize, expect_ok, sum_to_shape};
use crate::var::Var;
use smallvec::smallvec;
use strata_tensor::{Axis, Result, Tensor};

impl Var {
    /// The same elements with another shape; one dimension may be `-1`.
    #[track_caller]
    pub fn reshape(&self, shape: &[isize]) -> Var {
        expect_ok(self.try_reshape(shape))
    }

    /// Fallible [`Var::reshape`].
    #[track_caller]
    pub fn try_reshape(&self, shape: &[isize]) -> Result<Var> {
        let value = self.value().try_reshape(shape)?;
        Ok(Var::from_op("reshape", value, &[self], |a| {
            smallvec![Some(a.grad.reshape(&as_isize(a.input(0).shape())))]
        }))
    }

    /// Reorders the dimensions.
    #[track_caller]
    pub fn permute<A: Axis>(&self, order: &[A]) -> Var {
        expect_ok(self.try_permute(order))
    }

    /// Fallible [`Var::permute`].
    #[track_caller]
    pub fn try_permute<A: Axis>(&self, order: &[A]) -> Result<Var> {
        let value = self.value().try_permute(order)?;
        let order: Vec<usize> = order
            .iter()
            .map(|a| a.resolve(self.ndim(), "permute"))
            .collect::<Result<_>>()?;
        let mut inverse = vec![0; order.len()];
        for (i, &d) in order.iter().enumerate() {
            inverse[d] = i;
        }
        Ok(Var::from_op("permute", value, &[self], move |a| {
            smallvec![Some(a.grad.permute(&inverse))]
        }))
    }

    /// Swaps two dimensions.
    #[track_caller]
    pub fn transpose<A: Axis>(&self, d0: A, d1: A) -> Var {
        expect_ok(self.try_transpose(d0, d1))
    }

    /// Fallible [`Var::transpose`].
    #[track_caller]
    pub fn try_transpose<A: Axis>(&self, d0: A, d1: A) -> Result<Var> {
        let (d0, d1) = (
            d0.resolve(self.ndim(), "transpose")?,
            d1.resolve(self.ndim(), "transpose")?,
        );
        let value = self.value().try_transpose(d0, d1)?;
        Ok(Var::from_op("transpose", value, &[self], move |a| {
            smallvec![Some(a.grad.transpose(d0, d1))]
        }))
    }

    /// Transpose of the last two dimensions.
    #[track_caller]
    pub fn t(&self) -> Var {
        self.transpose(-2, -1)
    }

    /// Removes a dimension of size 1.
    #[track_caller]
    pub fn squeeze<A: Axis>(&self, axis: A) -> Var {
        expect_ok(self.try_squeeze(axis))
    }

    /// Fallible [`Var::squeeze`].
    #[track_caller]
    pub fn try_squeeze<A: Axis>(&self, axis: A) -> Result<Var> {
        let value = self.value().try_squeeze(axis)?;
        Ok(Var::from_op("squeeze", value, &[self], |a| {
            smallvec![Some(a.grad.reshape(&as_isize(a.input(0).shape())))]
        }))
    }

    /// Inserts a dimension of size 1.
    #[track_caller]
    pub fn unsqueeze<A: Axis>(&self, axis: A) -> Var {
        expect_ok(self.try_unsqueeze(axis))
    }

    /// Fallible [`Var::unsqueeze`].
    #[track_caller]
    pub fn try_unsqueeze<A: Axis>(&self, axis: A) -> Result<Var> {
        let value = self.value().try_unsqueeze(axis)?;
        Ok(Var::from_op("unsqueeze", value, &[self], |a| {
            smallvec![Some(a.grad.reshape(&as_isize(a.input(0).shape())))]
        }))
    }

    /// Broadcasts to a larger shape (NumPy rule).
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Var {
        expect_ok(self.try_broadcast_to(shape))
    }

    /// Fallible [`Var::broadcast_to`].
    #[track_caller]
    pub fn try_broadcast_to(&self, shape: &[usize]) -> Result<Var> {
        let value = self.value().try_broadcast_to(shape)?;
        Ok(Var::from_op("broadcast_to", value, &[self], |a| {
            smallvec![Some(sum_to_shape(a.grad, a.input(0).shape()))]
        }))
    }

    /// The slice `start..start + len` along `axis`.
    #[track_caller]
    pub fn narrow<A: Axis>(&self, axis: A, start: usize, len: usize) -> Var {
        expect_ok(self.try_narrow(axis, start, len))
    }

    /// Fallible [`Var::narrow`].
    #[track_caller]
    pub fn try_narrow<A: Axis>(&self, axis: A, start: usize, len: usize) -> Result<Var> {
        let axis = axis.resolve(self.ndim(), "narrow")?;
        let value = self.value().try_narrow(axis, start, len)?;
        Ok(Var::from_op("narrow", value, &[self], move |a| {
            // Pad the gradient with zeros where the slice cut the input.
            let full = a.input(0).shape();
            let zeros = |size: usize| {
                let mut shape = full.to_vec();
                shape[axis] = size;
                Tensor::zeros(&shape)
            };
            let (before, after) = (zeros(start), zeros(full[axis] - start - len));
            smallvec![Some(Tensor::concat(&[&before, a.grad, &after], axis))]
        }))
    }

    /// Merges dimensions `start..=end`.
    #[track_caller]
    pub fn flatten<A: Axis>(&self, start: A, end: A) -> Var {
        expect_ok(self.try_flatten(start, end))
    }

    /// Fallible [`Var::flatten`].
    #[track_caller]
    pub fn try_flatten<A: Axis>(&self, start: A, end: A) -> Result<Var> {
        let shape = self.value().try_flatten(start, end)?.shape().to_vec();
        self.try_reshape(&as_isize(&shape))
    }
}
