//! 2-D convolution on NCHW images, lowered to matrix products: the input patches are laid out
//! as columns (`im2col`: one column per output pixel of the whole batch, one row per weight
//! of a filter), so each group of filters is applied to the batch by one GEMM. The two
//! kernels of the backward pass reuse the same layout: the weight gradient is one GEMM
//! against the columns, the input gradient one GEMM followed by the scatter-add `col2im`.

use crate::buffer;
use crate::error::{expect_ok, ErrorKind, Result, TensorError};
use crate::matmul::gemm;
use crate::parallel::parallel_elements;
use crate::Tensor;
use faer::MatRef;
use rayon::prelude::*;

/// Columns buffers larger than this many elements (64 MiB of f32) are built a slice of the
/// batch at a time, so memory stays bounded for large images.
const MAX_COLUMN_ELEMENTS: usize = 16 << 20;

/// Stride, zero-padding and groups of a 2-D convolution (`[height, width]` pairs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Conv2dSpec {
    /// Step between windows.
    pub stride: [usize; 2],
    /// Zeros added on each side.
    pub padding: [usize; 2],
    /// Channel groups: input and output channels are split into `groups` independent sets.
    pub groups: usize,
}

impl Conv2dSpec {
    /// The same stride and padding on both axes, one group.
    pub fn new(stride: usize, padding: usize) -> Self {
        Self {
            stride: [stride, stride],
            padding: [padding, padding],
            groups: 1,
        }
    }

    /// This spec with `groups` channel groups.
    pub fn with_groups(self, groups: usize) -> Self {
        Self { groups, ..self }
    }
}

impl Default for Conv2dSpec {
    fn default() -> Self {
        Self::new(1, 0)
    }
}

/// Output length of a sliding window along one axis, if the window fits.
pub(crate) fn window_output(
    input: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Option<usize> {
    let padded = input + 2 * padding;
    (stride > 0 && kernel > 0 && padded >= kernel).then(|| (padded - kernel) / stride + 1)
}

/// All sizes of one convolution, checked.
#[derive(Clone, Copy)]
struct Geometry {
    batch: usize,
    in_channels: usize,
    height: usize,
    width: usize,
    out_channels: usize,
    kernel: [usize; 2],
    out_height: usize,
    out_width: usize,
    spec: Conv2dSpec,
}

impl Geometry {
    fn new(op: &'static str, input: &[usize], weight: &[usize], spec: Conv2dSpec) -> Result<Self> {
        let err = |msg: String| Err(TensorError::new(op, ErrorKind::ShapeMismatch, msg));
        if input.len() != 4 || weight.len() != 4 {
            return err(format!(
                "expects input [N, C, H, W] and weight [O, C/groups, kH, kW], found {input:?} and {weight:?}"
            ));
        }
        let groups = spec.groups;
        if groups == 0 || input[1] % groups != 0 || weight[0] % groups != 0 {
            return err(format!(
                "{groups} groups must divide input channels {} and output channels {}",
                input[1], weight[0]
            ));
        }
        if weight[1] * groups != input[1] {
            return err(format!(
                "input {input:?} has {} channels but weight {weight:?} expects {} per group x {groups} groups",
                input[1], weight[1]
            ));
        }
        let out_h = window_output(input[2], weight[2], spec.stride[0], spec.padding[0]);
        let out_w = window_output(input[3], weight[3], spec.stride[1], spec.padding[1]);
        let (Some(out_height), Some(out_width)) = (out_h, out_w) else {
            return err(format!(
                "kernel {}x{} with stride {:?} and padding {:?} does not fit input {input:?}",
                weight[2], weight[3], spec.stride, spec.padding
            ));
        };
        Ok(Self {
            batch: input[0],
            in_channels: input[1],
            height: input[2],
            width: input[3],
            out_channels: weight[0],
            kernel: [weight[2], weight[3]],
            out_height,
            out_width,
            spec,
        })
    }

    fn group_in(&self) -> usize {
        self.in_channels / self.spec.groups
    }

    fn group_out(&self) -> usize {
        self.out_channels / self.spec.groups
    }

    /// Rows of the columns matrix of one group: `C/groups · kH · kW`.
    fn patch_len(&self) -> usize {
        self.group_in() * self.kernel[0] * self.kernel[1]
    }

    fn pixels(&self) -> usize {
        self.out_height * self.out_width
    }

    /// Images per slice of the batch, so the columns buffer stays under its cap.
    fn images_per_slice(&self) -> usize {
        let per_image = self.patch_len() * self.pixels();
        (MAX_COLUMN_ELEMENTS / per_image.max(1)).clamp(1, self.batch.max(1))
    }

    /// Input row read by kernel row `ki` at output row `oh`, or `None` in the padding.
    #[inline]
    fn input_row(&self, ki: usize, oh: usize) -> Option<usize> {
        (oh * self.spec.stride[0] + ki)
            .checked_sub(self.spec.padding[0])
            .filter(|&ih| ih < self.height)
    }

    /// For kernel column `kj`: the output columns `lo..hi` that read inside the image (the
    /// others read padding), and the input column read at `lo` (then every `stride[1]`).
    #[inline]
    fn valid_columns(&self, kj: usize) -> (usize, usize, usize) {
        let (stride, pad) = (self.spec.stride[1], self.spec.padding[1]);
        // ow·stride + kj - pad must lie in 0..width.
        let lo = pad.saturating_sub(kj).div_ceil(stride);
        let hi = if self.width + pad > kj {
            ((self.width - 1 + pad - kj) / stride + 1).min(self.out_width)
        } else {
            0
        };
        let lo = lo.min(hi);
        (lo, hi, (lo * stride + kj).saturating_sub(pad))
    }

    /// Fills `cols` (`patch_len × images·pixels`, row-major) with the patches of images
    /// `first..first + images` for channel group `group`. Each output row of a column row is
    /// a (strided) slice of one input row, with zeros where the window reads padding.
    fn im2col(&self, input: &[f32], group: usize, first: usize, images: usize, cols: &mut [f32]) {
        let (kh, kw) = (self.kernel[0], self.kernel[1]);
        let plane = self.height * self.width;
        let width = images * self.pixels();
        let stride = self.spec.stride[1];
        let fill_row = |row: usize, out: &mut [f32]| {
            let (c, ki, kj) = (row / (kh * kw), row / kw % kh, row % kw);
            let channel = group * self.group_in() + c;
            let (lo, hi, start) = self.valid_columns(kj);
            let mut lines = out.chunks_exact_mut(self.out_width);
            for n in first..first + images {
                let src = &input[(n * self.in_channels + channel) * plane..][..plane];
                for (oh, dst) in (0..self.out_height).zip(&mut lines) {
                    let Some(ih) = self.input_row(ki, oh) else {
                        dst.fill(0.0);
                        continue;
                    };
                    let line = &src[ih * self.width..][..self.width];
                    dst[..lo].fill(0.0);
                    dst[hi..].fill(0.0);
                    if stride == 1 {
                        dst[lo..hi].copy_from_slice(&line[start..start + hi - lo]);
                    } else {
                        for (i, d) in dst[lo..hi].iter_mut().enumerate() {
                            *d = line[start + i * stride];
                        }
                    }
                }
            }
        };
        if parallel_elements(cols.len()) {
            cols.par_chunks_mut(width)
                .enumerate()
                .for_each(|(row, out)| fill_row(row, out));
        } else {
            for (row, out) in cols.chunks_mut(width).enumerate() {
                fill_row(row, out);
            }
        }
    }

    /// Adds the columns gradient back onto the input gradient of images
    /// `first..first + images` (the transpose of `im2col`).
    fn col2im(&self, cols: &[f32], group: usize, first: usize, images: usize, grad: &mut [f32]) {
        let (kh, kw) = (self.kernel[0], self.kernel[1]);
        let plane = self.height * self.width;
        let width = images * self.pixels();
        let image_len = self.in_channels * plane;
        let stride = self.spec.stride[1];
        let add_image = |n: usize, image: &mut [f32]| {
            for row in 0..self.patch_len() {
                let (c, ki, kj) = (row / (kh * kw), row / kw % kh, row % kw);
                let channel = group * self.group_in() + c;
                let dst = &mut image[channel * plane..(channel + 1) * plane];
                let src = &cols[row * width + n * self.pixels()..][..self.pixels()];
                let (lo, hi, start) = self.valid_columns(kj);
                for (oh, grad_line) in src.chunks_exact(self.out_width).enumerate() {
                    let Some(ih) = self.input_row(ki, oh) else {
                        continue;
                    };
                    let line = &mut dst[ih * self.width..][..self.width];
                    if stride == 1 {
                        for (d, &g) in line[start..start + hi - lo]
                            .iter_mut()
                            .zip(&grad_line[lo..hi])
                        {
                            *d += g;
                        }
                    } else {
                        for (i, &g) in grad_line[lo..hi].iter().enumerate() {
                            line[start + i * stride] += g;
                        }
                    }
                }
            }
        };
        let images_grad = &mut grad[first * image_len..(first + images) * image_len];
        if parallel_elements(cols.len()) {
            images_grad
                .par_chunks_mut(image_len)
                .enumerate()
                .for_each(|(n, image)| add_image(n, image));
        } else {
            for (n, image) in images_grad.chunks_mut(image_len).enumerate() {
                add_image(n, image);
            }
        }
    }
}

fn check_bias(bias: Option<&Tensor>, channels: usize) -> Result<()> {
    match bias {
        Some(b) if b.shape() != [channels] => Err(TensorError::new(
            "conv2d",
            ErrorKind::ShapeMismatch,
            format!("bias should be [{channels}], found {:?}", b.shape()),
        )),
        _ => Ok(()),
    }
}

impl Tensor {
    /// 2-D convolution (cross-correlation, as in PyTorch) of an `[N, C, H, W]` input with an
    /// `[O, C/groups, kH, kW]` weight and an optional `[O]` bias; output `[N, O, H', W']`.
    ///
    /// ```
    /// use strata_tensor::{Conv2dSpec, Tensor};
    /// let image = Tensor::arange(0.0, 9.0, 1.0).reshape(&[1, 1, 3, 3]);
    /// let kernel = Tensor::ones(&[1, 1, 2, 2]);
    /// let out = image.conv2d(&kernel, None, Conv2dSpec::new(1, 0));
    /// assert_eq!(out.to_vec(), vec![8.0, 12.0, 20.0, 24.0]);
    /// ```
    #[track_caller]
    pub fn conv2d(&self, weight: &Tensor, bias: Option<&Tensor>, spec: Conv2dSpec) -> Tensor {
        expect_ok(self.try_conv2d(weight, bias, spec))
    }

    /// Fallible [`Tensor::conv2d`].
    pub fn try_conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        spec: Conv2dSpec,
    ) -> Result<Tensor> {
        let g = Geometry::new("conv2d", self.shape(), weight.shape(), spec)?;
        check_bias(bias, g.out_channels)?;
        let input = self.values();
        let weight = weight.values();
        let pixels = g.pixels();
        let mut out = buffer::take(g.batch * g.out_channels * pixels);
        let slice = g.images_per_slice();
        let mut cols = buffer::take(g.patch_len() * slice * pixels);
        let mut product = buffer::take(g.group_out() * slice * pixels);
        for first in (0..g.batch).step_by(slice) {
            let images = slice.min(g.batch - first);
            let width = images * pixels;
            for group in 0..spec.groups {
                let cols = &mut cols[..g.patch_len() * width];
                g.im2col(&input, group, first, images, cols);
                let w = &weight[group * g.group_out() * g.patch_len()..]
                    [..g.group_out() * g.patch_len()];
                let lhs = MatRef::from_row_major_slice(w, g.group_out(), g.patch_len());
                let rhs = MatRef::from_row_major_slice(cols, g.patch_len(), width);
                let product = &mut product[..g.group_out() * width];
                gemm(product, width, lhs, rhs, false);
                // [O/groups, images·pixels] → out[n, group·O/groups + o, pixel].
                for o in 0..g.group_out() {
                    let channel = group * g.group_out() + o;
                    for n in 0..images {
                        let dst =
                            &mut out[((first + n) * g.out_channels + channel) * pixels..][..pixels];
                        dst.copy_from_slice(&product[o * width + n * pixels..][..pixels]);
                    }
                }
            }
        }
        buffer::recycle(cols);
        buffer::recycle(product);
        let mut result = Tensor::from_dims(
            out,
            [g.batch, g.out_channels, g.out_height, g.out_width]
                .as_slice()
                .into(),
        );
        if let Some(bias) = bias {
            result = result.add(&bias.reshape(&[-1, 1, 1]));
        }
        Ok(result)
    }

    /// Gradient of [`Tensor::conv2d`] with respect to its input, given the output gradient
    /// `[N, O, H', W']`, the weight and the input's shape.
    #[track_caller]
    pub fn conv2d_backward_input(
        grad_out: &Tensor,
        weight: &Tensor,
        input_shape: &[usize],
        spec: Conv2dSpec,
    ) -> Tensor {
        expect_ok(Self::try_conv2d_backward_input(
            grad_out,
            weight,
            input_shape,
            spec,
        ))
    }

    /// Fallible [`Tensor::conv2d_backward_input`].
    pub fn try_conv2d_backward_input(
        grad_out: &Tensor,
        weight: &Tensor,
        input_shape: &[usize],
        spec: Conv2dSpec,
    ) -> Result<Tensor> {
        let g = Geometry::new("conv2d_backward_input", input_shape, weight.shape(), spec)?;
        check_grad_out("conv2d_backward_input", grad_out, &g)?;
        let grad_out = grad_out.values();
        let weight = weight.values();
        let pixels = g.pixels();
        let mut grad = buffer::take_zeroed(g.batch * g.in_channels * g.height * g.width);
        let slice = g.images_per_slice();
        let mut cols = buffer::take(g.patch_len() * slice * pixels);
        let mut gathered = buffer::take(g.group_out() * slice * pixels);
        for first in (0..g.batch).step_by(slice) {
            let images = slice.min(g.batch - first);
            let width = images * pixels;
            for group in 0..spec.groups {
                let gathered = &mut gathered[..g.group_out() * width];
                gather_grad_out(&grad_out, &g, group, first, images, gathered);
                let w = &weight[group * g.group_out() * g.patch_len()..]
                    [..g.group_out() * g.patch_len()];
                let lhs = MatRef::from_row_major_slice(w, g.group_out(), g.patch_len()).transpose();
                let rhs = MatRef::from_row_major_slice(gathered, g.group_out(), width);
                let cols = &mut cols[..g.patch_len() * width];
                gemm(cols, width, lhs, rhs, false);
                g.col2im(cols, group, first, images, &mut grad);
            }
        }
        buffer::recycle(cols);
        buffer::recycle(gathered);
        Ok(Tensor::from_dims(grad, input_shape.into()))
    }

    /// Gradient of [`Tensor::conv2d`] with respect to its weight, given the output gradient,
    /// the input and the weight's shape.
    #[track_caller]
    pub fn conv2d_backward_weight(
        grad_out: &Tensor,
        input: &Tensor,
        weight_shape: &[usize],
        spec: Conv2dSpec,
    ) -> Tensor {
        expect_ok(Self::try_conv2d_backward_weight(
            grad_out,
            input,
            weight_shape,
            spec,
        ))
    }

    /// Fallible [`Tensor::conv2d_backward_weight`].
    pub fn try_conv2d_backward_weight(
        grad_out: &Tensor,
        input: &Tensor,
        weight_shape: &[usize],
        spec: Conv2dSpec,
    ) -> Result<Tensor> {
        let g = Geometry::new("conv2d_backward_weight", input.shape(), weight_shape, spec)?;
        check_grad_out("conv2d_backward_weight", grad_out, &g)?;
        let grad_out = grad_out.values();
        let input = input.values();
        let pixels = g.pixels();
        let mut grad = buffer::take_zeroed(g.out_channels * g.patch_len());
        let slice = g.images_per_slice();
        let mut cols = buffer::take(g.patch_len() * slice * pixels);
        let mut gathered = buffer::take(g.group_out() * slice * pixels);
        for first in (0..g.batch).step_by(slice) {
            let images = slice.min(g.batch - first);
            let width = images * pixels;
            for group in 0..spec.groups {
                let cols = &mut cols[..g.patch_len() * width];
                g.im2col(&input, group, first, images, cols);
                let gathered = &mut gathered[..g.group_out() * width];
                gather_grad_out(&grad_out, &g, group, first, images, gathered);
                let lhs = MatRef::from_row_major_slice(gathered, g.group_out(), width);
                let rhs = MatRef::from_row_major_slice(cols, g.patch_len(), width).transpose();
                let dst = &mut grad[group * g.group_out() * g.patch_len()..]
                    [..g.group_out() * g.patch_len()];
                gemm(dst, g.patch_len(), lhs, rhs, true);
            }
        }
        buffer::recycle(cols);
        buffer::recycle(gathered);
        Ok(Tensor::from_dims(grad, weight_shape.into()))
    }
}

fn check_grad_out(op: &'static str, grad_out: &Tensor, g: &Geometry) -> Result<()> {
    let expected = [g.batch, g.out_channels, g.out_height, g.out_width];
    if grad_out.shape() != expected {
        return Err(TensorError::new(
            op,
            ErrorKind::ShapeMismatch,
            format!(
                "output gradient should be {expected:?}, found {:?}",
                grad_out.shape()
            ),
        ));
    }
    Ok(())
}

/// Copies the output gradient of one group and slice of the batch into the
/// `[O/groups, images·pixels]` layout of the GEMMs.
fn gather_grad_out(
    grad_out: &[f32],
    g: &Geometry,
    group: usize,
    first: usize,
    images: usize,
    dst: &mut [f32],
) {
    let pixels = g.pixels();
    let width = images * pixels;
    for o in 0..g.group_out() {
        let channel = group * g.group_out() + o;
        for n in 0..images {
            let src = &grad_out[((first + n) * g.out_channels + channel) * pixels..][..pixels];
            dst[o * width + n * pixels..][..pixels].copy_from_slice(src);
        }
    }
}
