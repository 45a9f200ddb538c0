//! Reductions: sum, mean and max over axes (keepdim or not) and over everything. Their
//! gradients broadcast the incoming gradient back over the reduced axes.

use super::{as_isize, expect_ok};
use crate::var::{BackwardArgs, Var};
use smallvec::smallvec;
use strata_tensor::{Axis, Result, Tensor};

/// The incoming gradient with the reduced axes restored as size-1 dimensions.
fn with_kept_axes(a: &BackwardArgs<'_>, axes: &[usize]) -> Tensor {
    let mut shape: Vec<usize> = a.input(0).shape().to_vec();
    for &d in axes {
        shape[d] = 1;
    }
    a.grad.reshape(&as_isize(&shape))
}

/// Resolves and sorts a list of axes (repeats are rejected by the tensor op itself).
fn resolve<A: Axis>(axes: &[A], ndim: usize, op: &'static str) -> Result<Vec<usize>> {
    let mut resolved = axes
        .iter()
        .map(|a| a.resolve(ndim, op))
        .collect::<Result<Vec<_>>>()?;
    resolved.sort_unstable();
    Ok(resolved)
}

impl Var {
    /// Sum over `axes`; `keepdim` keeps them as size-1 dimensions.
    #[track_caller]
    pub fn sum_axes<A: Axis>(&self, axes: &[A], keepdim: bool) -> Var {
        expect_ok(self.try_sum_axes(axes, keepdim))
    }

    /// Fallible [`Var::sum_axes`].
    #[track_caller]
    pub fn try_sum_axes<A: Axis>(&self, axes: &[A], keepdim: bool) -> Result<Var> {
        let value = self.value().try_sum_axes(axes, keepdim)?;
        let axes = resolve(axes, self.ndim(), "sum")?;
        Ok(Var::from_op("sum", value, &[self], move |a| {
            smallvec![Some(
                with_kept_axes(a, &axes).broadcast_to(a.input(0).shape())
            )]
        }))
    }

    /// Mean over `axes`.
    #[track_caller]
    pub fn mean_axes<A: Axis>(&self, axes: &[A], keepdim: bool) -> Var {
        expect_ok(self.try_mean_axes(axes, keepdim))
    }

    /// Fallible [`Var::mean_axes`].
    #[track_caller]
    pub fn try_mean_axes<A: Axis>(&self, axes: &[A], keepdim: bool) -> Result<Var> {
        let value = self.value().try_mean_axes(axes, keepdim)?;
        let axes = resolve(axes, self.ndim(), "mean")?;
        let count: usize = axes.iter().map(|&d| self.shape()[d]).product();
        Ok(Var::from_op("mean", value, &[self], move |a| {
            let grad = with_kept_axes(a, &axes).mul_scalar(1.0 / count as f32);
            smallvec![Some(grad.broadcast_to(a.input(0).shape()))]
        }))
    }

    /// Maximum over `axes`; the gradient goes to the maximal elements (split evenly on ties).
    #[track_caller]
    pub fn max_axes<A: Axis>(&self, axes: &[A], keepdim: bool) -> Var {
        expect_ok(self.try_max_axes(axes, keepdim))
    }

    /// Fallible [`Var::max_axes`].
    #[track_caller]
    pub fn try_max_axes<A: Axis>(&self, axes: &[A], keepdim: bool) -> Result<Var> {
        let value = self.value().try_max_axes(axes, keepdim)?;
        let axes = resolve(axes, self.ndim(), "max")?;
        Ok(Var::from_op("max", value, &[self], move |a| {
            let x = a.input(0);
            let mut kept_shape: Vec<usize> = x.shape().to_vec();
            for &d in &axes {
                kept_shape[d] = 1;
            }
            let max = a.output.reshape(&as_isize(&kept_shape));
            let winners = x.eq(&max);
            let ties = winners.sum_axes(&axes, true);
            smallvec![Some(winners.mul(&with_kept_axes(a, &axes).div(&ties)))]
        }))
    }

    /// Sum of all elements (a 0-d value).
    #[track_caller]
    pub fn sum(&self) -> Var {
        let axes: Vec<usize> = (0..self.ndim()).collect();
        self.sum_axes(&axes, false)
    }

    /// Mean of all elements (a 0-d value).
    #[track_caller]
    pub fn mean(&self) -> Var {
        let axes: Vec<usize> = (0..self.ndim()).collect();
        self.mean_axes(&axes, false)
    }
}
