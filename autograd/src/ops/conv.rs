//! Convolution and pooling on NCHW images, differentiated with strata-tensor's backward
//! kernels.

use super::expect_ok;
use crate::var::Var;
use smallvec::smallvec;
use strata_tensor::{Conv2dSpec, ErrorKind, Pool2dSpec, Result, Tensor, TensorError};

impl Var {
    /// 2-D convolution of an `[N, C, H, W]` input with an `[O, C/groups, kH, kW]` weight and
    /// an optional `[O]` bias, with the stride, padding, dilation and groups of `spec`.
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

    /// 2-D transposed convolution (PyTorch's `conv_transpose2d`, the gradient of a
    /// convolution with respect to its input) of an `[N, C_in, H, W]` input with an
    /// `[C_in, C_out/groups, kH, kW]` weight and an optional `[C_out]` bias, into
    /// `[N, C_out, (H − 1)·stride − 2·padding + dilation·(kH − 1) + 1 + output_padding, …]`.
    /// `output_padding` (below the stride; PyTorch also allows it below the dilation)
    /// adds rows and columns at the far edge, choosing among the sizes that a strided
    /// convolution maps to the same input size.
    #[track_caller]
    pub fn conv_transpose2d(
        &self,
        weight: &Var,
        bias: Option<&Var>,
        spec: Conv2dSpec,
        output_padding: [usize; 2],
    ) -> Var {
        expect_ok(self.try_conv_transpose2d(weight, bias, spec, output_padding))
    }

    /// Fallible [`Var::conv_transpose2d`].
    #[track_caller]
    pub fn try_conv_transpose2d(
        &self,
        weight: &Var,
        bias: Option<&Var>,
        spec: Conv2dSpec,
        output_padding: [usize; 2],
    ) -> Result<Var> {
        let output_shape =
            transposed_output_shape(self.shape(), weight.shape(), spec, output_padding)?;
        let mut value =
            Tensor::try_conv2d_backward_input(self.value(), weight.value(), &output_shape, spec)?;
        if let Some(bias) = bias {
            let channels = output_shape[1];
            if bias.shape() != [channels] {
                return Err(TensorError::new(
                    "conv_transpose2d",
                    ErrorKind::ShapeMismatch,
                    format!("expected a bias [{channels}], found {:?}", bias.shape()),
                ));
            }
            value = value.add(&bias.value().reshape(&[channels as isize, 1, 1]));
        }
        let inputs: Vec<&Var> = [Some(self), Some(weight), bias]
            .into_iter()
            .flatten()
            .collect();
        Ok(Var::from_op("conv_transpose2d", value, &inputs, move |a| {
            let (x, w) = (a.input(0), a.input(1));
            // The transposed convolution is linear in x and in w: its input gradient is the
            // convolution of the output gradient, and its weight gradient that convolution's
            // weight gradient with the roles of input and output swapped.
            let mut grads = smallvec![
                a.needs(0).then(|| a.grad.conv2d(w, None, spec)),
                a.needs(1)
                    .then(|| Tensor::conv2d_backward_weight(x, a.grad, w.shape(), spec))
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

    /// 2-D average pooling; the spec says whether padding counts in the divisor.
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

/// The output shape of a transposed convolution, or an error naming what does not fit.
fn transposed_output_shape(
    input: &[usize],
    weight: &[usize],
    spec: Conv2dSpec,
    output_padding: [usize; 2],
) -> Result<[usize; 4]> {
    let err = |msg: String| TensorError::new("conv_transpose2d", ErrorKind::ShapeMismatch, msg);
    let (&[n, c, h, w], &[wc, per_group, kh, kw]) = (input, weight) else {
        return Err(err(format!(
            "expected an input [N, C, H, W] and a weight [C, O/groups, kH, kW], found {input:?} and {weight:?}"
        )));
    };
    if c != wc {
        return Err(err(format!(
            "the input has {c} channels but the weight {weight:?} expects {wc}"
        )));
    }
    if spec.dilation.contains(&0) {
        return Err(TensorError::new(
            "conv_transpose2d",
            ErrorKind::InvalidArgument,
            format!("dilation should be at least 1, found {:?}", spec.dilation),
        ));
    }
    let span = spec.kernel_span([kh, kw]);
    let mut size = [0; 2];
    for (axis, extent) in [h, w].into_iter().enumerate() {
        let (stride, padding, extra) =
            (spec.stride[axis], spec.padding[axis], output_padding[axis]);
        if extra >= stride.max(1) {
            return Err(err(format!(
                "output_padding {output_padding:?} must be below the stride {:?}",
                spec.stride
            )));
        }
        let full = (extent.max(1) - 1) * stride + span[axis] + extra;
        if extent == 0 || full <= 2 * padding {
            return Err(err(format!(
                "an input {input:?} with kernel {kh}x{kw}, stride {:?}, padding {:?} and dilation {:?} leaves no output",
                spec.stride, spec.padding, spec.dilation
            )));
        }
        size[axis] = full - 2 * padding;
    }
    Ok([n, per_group * spec.groups, size[0], size[1]])
}
