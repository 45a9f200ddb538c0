//! 2-D max and average pooling over NCHW images, with the kernels their gradients need.

use crate::buffer;
use crate::conv::window_output;
use crate::error::{expect_ok, ErrorKind, Result, TensorError};
use crate::parallel::{chunk_len, for_each_block, parallel_elements};
use crate::Tensor;

/// Window size, stride and zero-padding of a pooling layer (`[height, width]` pairs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pool2dSpec {
    /// Window size.
    pub kernel: [usize; 2],
    /// Step between windows.
    pub stride: [usize; 2],
    /// Padding on each side (ignored by max pooling, counted as zeros by average pooling).
    pub padding: [usize; 2],
}

impl Pool2dSpec {
    /// A square window with the given stride and padding.
    pub fn new(kernel: usize, stride: usize, padding: usize) -> Self {
        Self {
            kernel: [kernel, kernel],
            stride: [stride, stride],
            padding: [padding, padding],
        }
    }
}

/// Checked sizes of one pooling: `(planes, height, width, out_height, out_width)`.
fn geometry(op: &'static str, shape: &[usize], spec: &Pool2dSpec) -> Result<[usize; 5]> {
    if shape.len() != 4 {
        return Err(TensorError::new(
            op,
            ErrorKind::ShapeMismatch,
            format!("expects an [N, C, H, W] input, found {shape:?}"),
        ));
    }
    let pad_ok = (0..2).all(|a| spec.padding[a] * 2 <= spec.kernel[a]);
    let out_h = window_output(shape[2], spec.kernel[0], spec.stride[0], spec.padding[0]);
    let out_w = window_output(shape[3], spec.kernel[1], spec.stride[1], spec.padding[1]);
    match (out_h, out_w) {
        (Some(oh), Some(ow)) if pad_ok => Ok([shape[0] * shape[1], shape[2], shape[3], oh, ow]),
        _ => Err(TensorError::new(
            op,
            ErrorKind::ShapeMismatch,
            format!(
                "window {:?} with stride {:?} and padding {:?} (at most half the window) does not fit input {shape:?}",
                spec.kernel, spec.stride, spec.padding
            ),
        )),
    }
}

/// Runs `f(plane_index, out_plane)` over the output planes, in parallel when large.
fn for_planes(out: &mut [f32], plane: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    if plane == 0 {
        return;
    }
    let planes = out.len() / plane;
    let block = if parallel_elements(out.len()) {
        chunk_len(planes, 1)
    } else {
        planes.max(1)
    };
    for_each_block(planes, block, [out], |planes, [out]| {
        for (p, o) in planes.zip(out.chunks_mut(plane)) {
            f(p, o);
        }
    });
}

/// Window rows/cols of output position `o` along one axis, clipped to the input.
fn window(o: usize, axis: usize, spec: &Pool2dSpec, size: usize) -> std::ops::Range<usize> {
    let start = (o * spec.stride[axis]).saturating_sub(spec.padding[axis]);
    let end = (o * spec.stride[axis] + spec.kernel[axis])
        .saturating_sub(spec.padding[axis])
        .min(size);
    start..end
}

impl Tensor {
    /// Max pooling: returns the pooled `[N, C, H', W']` tensor and, for each output, the
    /// position (`h·W + w` within its input plane) of the maximum it took, for the backward pass.
    ///
    /// ```
    /// use strata_tensor::{Pool2dSpec, Tensor};
    /// let x = Tensor::from_vec(vec![1.0, 5.0, 2.0, 0.0], &[1, 1, 2, 2]);
    /// let (y, at) = x.max_pool2d(Pool2dSpec::new(2, 2, 0));
    /// assert_eq!((y.item(), at.item()), (5.0, 1.0));
    /// ```
    #[track_caller]
    pub fn max_pool2d(&self, spec: Pool2dSpec) -> (Tensor, Tensor) {
        expect_ok(self.try_max_pool2d(spec))
    }

    /// Fallible [`Tensor::max_pool2d`].
    pub fn try_max_pool2d(&self, spec: Pool2dSpec) -> Result<(Tensor, Tensor)> {
        let [planes, h, w, oh, ow] = geometry("max_pool2d", self.shape(), &spec)?;
        let input = self.values();
        // The windows' row and column ranges, computed once for every plane.
        let rows: Vec<_> = (0..oh).map(|i| window(i, 0, &spec, h)).collect();
        let cols: Vec<_> = (0..ow).map(|j| window(j, 1, &spec, w)).collect();
        let pool_plane = |p: usize, values: &mut [f32], positions: &mut [f32]| {
            let src = &input[p * h * w..(p + 1) * h * w];
            let mut out = values.iter_mut().zip(positions.iter_mut());
            for window_rows in &rows {
                for (window_cols, (value, position)) in cols.iter().zip(&mut out) {
                    let (mut best, mut best_at) = (f32::NEG_INFINITY, 0);
                    if !window_rows.is_empty() && !window_cols.is_empty() {
                        best_at = window_rows.start * w + window_cols.start;
                        best = src[best_at];
                    }
                    for r in window_rows.clone() {
                        let line = &src[r * w..(r + 1) * w];
                        for c in window_cols.clone() {
                            let x = line[c];
                            // A NaN wins (and stays), as in PyTorch.
                            if x > best || x.is_nan() && !best.is_nan() {
                                best = x;
                                best_at = r * w + c;
                            }
                        }
                    }
                    *value = best;
                    *position = best_at as f32;
                }
            }
        };
        let plane_out = oh * ow;
        let mut values = buffer::take(planes * plane_out);
        let mut positions = buffer::take(planes * plane_out);
        if plane_out > 0 {
            let block = if parallel_elements(planes * h * w) {
                chunk_len(planes, 1)
            } else {
                planes.max(1)
            };
            for_each_block(
                planes,
                block,
                [&mut values, &mut positions],
                |planes, [values, positions]| {
                    let outputs = values
                        .chunks_mut(plane_out)
                        .zip(positions.chunks_mut(plane_out));
                    for (p, (v, at)) in planes.zip(outputs) {
                        pool_plane(p, v, at);
                    }
                },
            );
        }
        let shape = [self.shape()[0], self.shape()[1], oh, ow];
        Ok((
            Tensor::from_dims(values, shape.as_slice().into()),
            Tensor::from_dims(positions, shape.as_slice().into()),
        ))
    }

    /// Gradient of max pooling: routes each output gradient to the input position that won.
    #[track_caller]
    pub fn max_pool2d_backward(
        grad_out: &Tensor,
        positions: &Tensor,
        input_shape: &[usize],
    ) -> Tensor {
        expect_ok(Self::try_max_pool2d_backward(
            grad_out,
            positions,
            input_shape,
        ))
    }

    /// Fallible [`Tensor::max_pool2d_backward`].
    pub fn try_max_pool2d_backward(
        grad_out: &Tensor,
        positions: &Tensor,
        input_shape: &[usize],
    ) -> Result<Tensor> {
        let op = "max_pool2d_backward";
        let ok = input_shape.len() == 4
            && grad_out.shape() == positions.shape()
            && grad_out.ndim() == 4
            && grad_out.shape()[..2] == input_shape[..2];
        if !ok {
            return Err(TensorError::new(
                op,
                ErrorKind::ShapeMismatch,
                format!(
                    "gradient {:?} and positions {:?} do not fit input {input_shape:?}",
                    grad_out.shape(),
                    positions.shape()
                ),
            ));
        }
        let plane = input_shape[2] * input_shape[3];
        let out_plane = grad_out.shape()[2] * grad_out.shape()[3];
        let grad_out = grad_out.values();
        let positions = positions.values();
        let mut grad = buffer::take_zeroed(input_shape.iter().product());
        if let Some(bad) = positions
            .iter()
            .find(|&&p| !(p >= 0.0 && (p as usize) < plane))
        {
            return Err(TensorError::new(
                op,
                ErrorKind::IndexOutOfRange,
                format!("position {bad} is outside a plane of {plane} elements"),
            ));
        }
        for_planes(&mut grad, plane, |p, g| {
            let range = p * out_plane..(p + 1) * out_plane;
            for (&d, &at) in grad_out[range.clone()].iter().zip(&positions[range]) {
                g[at as usize] += d;
            }
        });
        Ok(Tensor::from_dims(grad, input_shape.into()))
    }

    /// Average pooling; padded positions count as zeros in the average (PyTorch's default,
    /// `count_include_pad = true`).
    ///
    /// ```
    /// use strata_tensor::{Pool2dSpec, Tensor};
    /// let x = Tensor::from_vec(vec![1.0, 5.0, 2.0, 0.0], &[1, 1, 2, 2]);
    /// assert_eq!(x.avg_pool2d(Pool2dSpec::new(2, 2, 0)).item(), 2.0);
    /// ```
    #[track_caller]
    pub fn avg_pool2d(&self, spec: Pool2dSpec) -> Tensor {
        expect_ok(self.try_avg_pool2d(spec))
    }

    /// Fallible [`Tensor::avg_pool2d`].
    pub fn try_avg_pool2d(&self, spec: Pool2dSpec) -> Result<Tensor> {
        let [planes, h, w, oh, ow] = geometry("avg_pool2d", self.shape(), &spec)?;
        let input = self.values();
        let scale = 1.0 / (spec.kernel[0] * spec.kernel[1]) as f32;
        let mut out = buffer::take(planes * oh * ow);
        for_planes(&mut out, oh * ow, |p, o| {
            let src = &input[p * h * w..(p + 1) * h * w];
            for i in 0..oh {
                for j in 0..ow {
                    let mut sum = 0.0;
                    for r in window(i, 0, &spec, h) {
                        for c in window(j, 1, &spec, w) {
                            sum += src[r * w + c];
                        }
                    }
                    o[i * ow + j] = sum * scale;
                }
            }
        });
        Ok(Tensor::from_dims(
            out,
            [self.shape()[0], self.shape()[1], oh, ow].as_slice().into(),
        ))
    }

    /// Gradient of average pooling: spreads each output gradient evenly over its window.
    #[track_caller]
    pub fn avg_pool2d_backward(
        grad_out: &Tensor,
        input_shape: &[usize],
        spec: Pool2dSpec,
    ) -> Tensor {
        expect_ok(Self::try_avg_pool2d_backward(grad_out, input_shape, spec))
    }

    /// Fallible [`Tensor::avg_pool2d_backward`].
    pub fn try_avg_pool2d_backward(
        grad_out: &Tensor,
        input_shape: &[usize],
        spec: Pool2dSpec,
    ) -> Result<Tensor> {
        let op = "avg_pool2d_backward";
        let [planes, h, w, oh, ow] = geometry(op, input_shape, &spec)?;
        if grad_out.shape() != [input_shape[0], input_shape[1], oh, ow] {
            return Err(TensorError::new(
                op,
                ErrorKind::ShapeMismatch,
                format!(
                    "gradient should be {:?}, found {:?}",
                    [input_shape[0], input_shape[1], oh, ow],
                    grad_out.shape()
                ),
            ));
        }
        let grad_out = grad_out.values();
        let scale = 1.0 / (spec.kernel[0] * spec.kernel[1]) as f32;
        let mut grad = buffer::take_zeroed(planes * h * w);
        for_planes(&mut grad, h * w, |p, g| {
            let src = &grad_out[p * oh * ow..(p + 1) * oh * ow];
            for i in 0..oh {
                for j in 0..ow {
                    let d = src[i * ow + j] * scale;
                    for r in window(i, 0, &spec, h) {
                        for c in window(j, 1, &spec, w) {
                            g[r * w + c] += d;
                        }
                    }
                }
            }
        });
        Ok(Tensor::from_dims(grad, input_shape.into()))
    }
}
