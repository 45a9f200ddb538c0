//! 2-D convolution on NCHW images, lowered to matrix products one image at a time: the
//! patches of an image are laid out as columns (`im2col`: one column per output pixel, one row
//! per weight of a filter), so each group of filters is applied to the image by one GEMM whose
//! result is already the image's `[O, H'·W']` block of the output (no reordering copy). The
//! columns of one image stay in cache between `im2col` and the GEMM, and images are spread
//! over threads, each with its own columns buffer. The backward kernels reuse the layout: the
//! weight gradient sums one GEMM per image against that image's columns, and the input
//! gradient is one GEMM per image followed by the scatter-add `col2im`. Dilation only moves
//! where each row of the columns matrix starts reading, so it costs nothing per element.

use crate::buffer_pool;
use crate::error::{expect_ok, ErrorKind, Result, TensorError};
use crate::matmul::gemm;
use crate::parallel::{chunk_len, for_each_block, parallel_elements};
use crate::Tensor;
use faer::MatRef;

/// Images whose weight gradients are summed into one partial before the partials are added:
/// a fixed grouping (independent of the thread count, so results are too) that gives each
/// thread several images' worth of work per partial buffer.
const IMAGES_PER_PARTIAL: usize = 8;

/// Stride, zero-padding, dilation and groups of a 2-D convolution (`[height, width]` pairs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Conv2dSpec {
    /// Step between windows.
    pub stride: [usize; 2],
    /// Zeros added on each side.
    pub padding: [usize; 2],
    /// Step between the input positions one window reads (1: adjacent; PyTorch's
    /// `dilation`). A `k`-wide kernel spans `dilation·(k − 1) + 1` positions.
    #[serde(default = "unit_dilation")]
    pub dilation: [usize; 2],
    /// Channel groups: input and output channels are split into `groups` independent sets.
    pub groups: usize,
}

/// The dilation of specs saved before it existed.
fn unit_dilation() -> [usize; 2] {
    [1, 1]
}

impl Conv2dSpec {
    /// The same stride and padding on both axes, no dilation, one group.
    pub fn new(stride: usize, padding: usize) -> Self {
        Self {
            stride: [stride, stride],
            padding: [padding, padding],
            dilation: unit_dilation(),
            groups: 1,
        }
    }

    /// This spec with `groups` channel groups.
    pub fn with_groups(self, groups: usize) -> Self {
        Self { groups, ..self }
    }

    /// This spec with the same dilation on both axes: a 3×3 kernel with dilation 2 reads
    /// every other pixel of a 5×5 window, so the output shrinks as with a 5×5 kernel.
    ///
    /// ```
    /// use strata_tensor::{Conv2dSpec, Tensor};
    /// let image = Tensor::arange(0.0, 25.0, 1.0).reshape(&[1, 1, 5, 5]);
    /// let corners = Tensor::ones(&[1, 1, 2, 2]);
    /// let out = image.conv2d(&corners, None, Conv2dSpec::new(1, 0).with_dilation(4));
    /// assert_eq!(out.to_vec(), vec![0.0 + 4.0 + 20.0 + 24.0]);
    /// ```
    pub fn with_dilation(self, dilation: usize) -> Self {
        Self {
            dilation: [dilation, dilation],
            ..self
        }
    }

    /// The input rows and columns a `[kH, kW]` kernel spans with this dilation:
    /// `dilation·(k − 1) + 1` per axis (0 for an empty kernel).
    ///
    /// ```
    /// use strata_tensor::Conv2dSpec;
    /// assert_eq!(Conv2dSpec::new(1, 0).with_dilation(2).kernel_span([3, 1]), [5, 1]);
    /// ```
    pub fn kernel_span(&self, kernel: [usize; 2]) -> [usize; 2] {
        [0, 1].map(|axis| {
            kernel[axis]
                .checked_sub(1)
                .map_or(0, |k| self.dilation[axis] * k + 1)
        })
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
        if spec.dilation.contains(&0) {
            return Err(TensorError::new(
                op,
                ErrorKind::InvalidArgument,
                format!("dilation should be at least 1, found {:?}", spec.dilation),
            ));
        }
        let span = spec.kernel_span([weight[2], weight[3]]);
        let [out_h, out_w] = [0, 1].map(|axis| {
            window_output(
                input[2 + axis],
                span[axis],
                spec.stride[axis],
                spec.padding[axis],
            )
        });
        let (Some(out_height), Some(out_width)) = (out_h, out_w) else {
            return err(format!(
                "kernel {}x{} with stride {:?}, padding {:?} and dilation {:?} does not fit input {input:?}",
                weight[2], weight[3], spec.stride, spec.padding, spec.dilation
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

    /// Elements of one image's columns matrix (all groups share one buffer).
    fn cols_len(&self) -> usize {
        self.patch_len() * self.pixels()
    }

    /// Whether images are spread over threads: more than one image, and enough columns in
    /// the batch that splitting pays (the element-wise threshold).
    fn parallel_images(&self) -> bool {
        self.batch > 1 && parallel_elements(self.batch * self.cols_len())
    }

    /// The weights of group `group`, `[O/groups, patch_len]` row-major.
    fn group_weight<'w>(&self, weight: &'w [f32], group: usize) -> MatRef<'w, f32> {
        let len = self.group_out() * self.patch_len();
        MatRef::from_row_major_slice(
            &weight[group * len..][..len],
            self.group_out(),
            self.patch_len(),
        )
    }

    /// Runs `f(n, chunk_n, cols)` for each image `n`, where `chunk_n` is image `n`'s part of
    /// `data` (`chunk` elements) and `cols` a columns buffer for the image; images are spread
    /// over threads when [`Geometry::parallel_images`].
    fn for_each_image(
        &self,
        data: &mut [f32],
        chunk: usize,
        f: impl Fn(usize, &mut [f32], &mut [f32]) + Sync,
    ) {
        if chunk == 0 {
            return;
        }
        let images = data.len() / chunk;
        let block = if self.parallel_images() {
            chunk_len(images, 1)
        } else {
            images
        };
        for_each_block(images, block.max(1), [data], |images, [part]| {
            let mut cols = buffer_pool::take(self.cols_len());
            for (n, part) in images.zip(part.chunks_mut(chunk)) {
                f(n, part, &mut cols);
            }
            buffer_pool::recycle(cols);
        });
    }

    /// Row `row` of the columns matrix: its channel within the group and the offsets of its
    /// kernel position into the padded window, `[ki·dilation[0], kj·dilation[1]]`.
    #[inline]
    fn patch_row(&self, row: usize) -> (usize, [usize; 2]) {
        let (kh, kw) = (self.kernel[0], self.kernel[1]);
        let (ki, kj) = (row / kw % kh, row % kw);
        let dilation = self.spec.dilation;
        (row / (kh * kw), [ki * dilation[0], kj * dilation[1]])
    }

    /// Input row read at row offset `di` of the window of output row `oh`, or `None` in the
    /// padding.
    #[inline]
    fn input_row(&self, di: usize, oh: usize) -> Option<usize> {
        (oh * self.spec.stride[0] + di)
            .checked_sub(self.spec.padding[0])
            .filter(|&ih| ih < self.height)
    }

    /// For column offset `dj` into the window: the output columns `lo..hi` that read inside
    /// the image (the others read padding), and the input column read at `lo` (then every
    /// `stride[1]`).
    #[inline]
    fn valid_columns(&self, dj: usize) -> (usize, usize, usize) {
        let (stride, pad) = (self.spec.stride[1], self.spec.padding[1]);
        // ow·stride + dj - pad must lie in 0..width.
        let lo = pad.saturating_sub(dj).div_ceil(stride);
        let hi = if self.width + pad > dj {
            ((self.width - 1 + pad - dj) / stride + 1).min(self.out_width)
        } else {
            0
        };
        let lo = lo.min(hi);
        (lo, hi, (lo * stride + dj).saturating_sub(pad))
    }

    /// Fills `cols` (`patch_len × pixels`, row-major) with the patches of channel group
    /// `group` of one image (`[C, H, W]`). Each output row of a column row is a (strided)
    /// slice of one input row, with zeros where the window reads padding.
    fn im2col(&self, image: &[f32], group: usize, cols: &mut [f32]) {
        let plane = self.height * self.width;
        let stride = self.spec.stride[1];
        for (row, out) in cols.chunks_exact_mut(self.pixels()).enumerate() {
            let (c, [di, dj]) = self.patch_row(row);
            let channel = group * self.group_in() + c;
            let src = &image[channel * plane..][..plane];
            let (lo, hi, start) = self.valid_columns(dj);
            for (oh, dst) in out.chunks_exact_mut(self.out_width).enumerate() {
                let Some(ih) = self.input_row(di, oh) else {
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
    }

    /// Adds the columns gradient of channel group `group` back onto one image's input
    /// gradient (`[C, H, W]`): the transpose of `im2col`.
    fn col2im(&self, cols: &[f32], group: usize, image: &mut [f32]) {
        let plane = self.height * self.width;
        let stride = self.spec.stride[1];
        for (row, src) in cols.chunks_exact(self.pixels()).enumerate() {
            let (c, [di, dj]) = self.patch_row(row);
            let channel = group * self.group_in() + c;
            let dst = &mut image[channel * plane..][..plane];
            let (lo, hi, start) = self.valid_columns(dj);
            for (oh, grad_line) in src.chunks_exact(self.out_width).enumerate() {
                let Some(ih) = self.input_row(di, oh) else {
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
    /// `[O, C/groups, kH, kW]` weight and an optional `[O]` bias; output `[N, O, H', W']` with
    /// `H' = (H + 2·padding − dilation·(kH − 1) − 1)/stride + 1` (and likewise `W'`).
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
        let bias = bias.map(Tensor::values);
        let (pixels, image_len) = (g.pixels(), g.in_channels * g.height * g.width);
        let mut out = buffer_pool::take(g.batch * g.out_channels * pixels);
        g.for_each_image(&mut out, g.out_channels * pixels, |n, out, cols| {
            let image = &input[n * image_len..][..image_len];
            // Group `group`'s filters fill rows group·O/groups.. of the image's [O, pixels].
            for (group, rows) in out.chunks_exact_mut(g.group_out() * pixels).enumerate() {
                g.im2col(image, group, cols);
                let patches = MatRef::from_row_major_slice(cols, g.patch_len(), pixels);
                gemm(rows, pixels, g.group_weight(&weight, group), patches, false);
            }
            if let Some(bias) = &bias {
                for (row, &b) in out.chunks_exact_mut(pixels).zip(bias.iter()) {
                    row.iter_mut().for_each(|v| *v += b);
                }
            }
        });
        Ok(Tensor::from_dims(
            out,
            [g.batch, g.out_channels, g.out_height, g.out_width]
                .as_slice()
                .into(),
        ))
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
        let out_len = g.out_channels * pixels;
        let mut grad = buffer_pool::take_zeroed(g.batch * g.in_channels * g.height * g.width);
        g.for_each_image(
            &mut grad,
            g.in_channels * g.height * g.width,
            |n, image, cols| {
                let image_grad = &grad_out[n * out_len..][..out_len];
                for group in 0..spec.groups {
                    let rows =
                        &image_grad[group * g.group_out() * pixels..][..g.group_out() * pixels];
                    let rows = MatRef::from_row_major_slice(rows, g.group_out(), pixels);
                    // [patch_len, O/groups] · [O/groups, pixels]: each pixel's patch gradient.
                    gemm(
                        cols,
                        pixels,
                        g.group_weight(&weight, group).transpose(),
                        rows,
                        false,
                    );
                    g.col2im(cols, group, image);
                }
            },
        );
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
        let (pixels, image_len) = (g.pixels(), g.in_channels * g.height * g.width);
        let out_len = g.out_channels * pixels;
        let weight_len = g.out_channels * g.patch_len();
        // Each run of IMAGES_PER_PARTIAL images sums its own partial gradient, and the partials
        // are added in order: the same arithmetic on any number of threads.
        let chunks = g.batch.div_ceil(IMAGES_PER_PARTIAL).max(1);
        let mut partials = buffer_pool::take_zeroed(chunks * weight_len);
        let accumulate = |k: usize, grad: &mut [f32]| {
            let mut cols = buffer_pool::take(g.cols_len());
            for n in k * IMAGES_PER_PARTIAL..((k + 1) * IMAGES_PER_PARTIAL).min(g.batch) {
                let image = &input[n * image_len..][..image_len];
                let image_grad = &grad_out[n * out_len..][..out_len];
                for group in 0..spec.groups {
                    g.im2col(image, group, &mut cols);
                    let rows =
                        &image_grad[group * g.group_out() * pixels..][..g.group_out() * pixels];
                    let lhs = MatRef::from_row_major_slice(rows, g.group_out(), pixels);
                    let rhs =
                        MatRef::from_row_major_slice(&cols, g.patch_len(), pixels).transpose();
                    let dst = &mut grad[group * g.group_out() * g.patch_len()..]
                        [..g.group_out() * g.patch_len()];
                    gemm(dst, g.patch_len(), lhs, rhs, true);
                }
            }
            buffer_pool::recycle(cols);
        };
        if weight_len > 0 {
            let block = if g.parallel_images() { 1 } else { chunks };
            for_each_block(chunks, block, [&mut partials], |chunks, [grads]| {
                for (k, grad) in chunks.zip(grads.chunks_exact_mut(weight_len)) {
                    accumulate(k, grad);
                }
            });
        }
        let (grad, rest) = partials.split_at_mut(weight_len);
        for partial in rest.chunks_exact(weight_len.max(1)) {
            grad.iter_mut().zip(partial).for_each(|(g, &p)| *g += p);
        }
        partials.truncate(weight_len);
        Ok(Tensor::from_dims(partials, weight_shape.into()))
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
