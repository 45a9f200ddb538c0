//! Convolution and pooling on NCHW images, differentiated with strata-tensor's backward
//! kernels.

use super::expect_ok;
use crate::var::Var;
use smallvec::smallvec;
use strata_tensor::{Conv2dSpec, Pool2dSpec, Result, Tensor};

impl Var {
    /// 2-D convolution of an `[N, C, H, W]` input with an `[O, C/groups, kH, kW]` weight and
    /// an optional `[O]` bias.
    #[track_caller]
    pub fn conv2d(&self, weight: &Var, bias: Option<&Var>, spec: Conv2dSpec) -> Var {
        expect_ok(self.try_conv2d(weight, bias, spec))
    }

    /// Fallible [`Var::conv2d`].
    #[track_caller]
    pub fn try_conv2d(&self, weight: &Var, bias: Option<&Var>, spec: Conv2dSpec) -> Result<Var> {
        let value = self
            .value()
            .try_conv2d(weight.value(), bias.map(Var::value), spec)?;
        let inputs: Vec<&Var> = [Some(self), Some(weight), bias]
            .into_iter()
            .flatten()
            .collect();
        Ok(Var::from_op("conv2d", value, &inputs, move |a| {
            let (x, w) = (a.input(0), a.input(1));
            let mut grads = smallvec![
                a.needs(0)
                    .then(|| Tensor::conv2d_backward_input(a.grad, w, x.shape(), spec)),
                a.needs(1)
                    .then(|| Tensor::conv2d_backward_weight(a.grad, x, w.shape(), spec))
            ];
            if a.inputs.len() == 3 {
                grads.push(a.needs(2).then(|| a.grad.sum_axes(&[0, 2, 3], false)));
            }
            grads
        }))
    }

    /// 2-D max pooling; the gradient goes to the position that won each window.
    #[track_caller]
    pub fn max_pool2d(&self, spec: Pool2dSpec) -> Var {
        expect_ok(self.try_max_pool2d(spec))
    }

    /// Fallible [`Var::max_pool2d`].
    #[track_caller]
    pub fn try_max_pool2d(&self, spec: Pool2dSpec) -> Result<Var> {
        let (value, positions) = self.value().try_max_pool2d(spec)?;
        Ok(Var::from_op("max_pool2d", value, &[self], move |a| {
            smallvec![Some(Tensor::max_pool2d_backward(
                a.grad,
                &positions,
                a.input(0).shape()
            ))]
        }))
    }

    /// 2-D average pooling (padding counts as zeros).
    #[track_caller]
    pub fn avg_pool2d(&self, spec: Pool2dSpec) -> Var {
        expect_ok(self.try_avg_pool2d(spec))
    }

    /// Fallible [`Var::avg_pool2d`].
    #[track_caller]
    pub fn try_avg_pool2d(&self, spec: Pool2dSpec) -> Result<Var> {
        let value = self.value().try_avg_pool2d(spec)?;
        Ok(Var::from_op("avg_pool2d", value, &[self], move |a| {
            smallvec![Some(Tensor::avg_pool2d_backward(
                a.grad,
                a.input(0).shape(),
                spec
            ))]
        }))
    }
}
