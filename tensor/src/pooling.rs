//! 2-D max and average pooling over NCHW images, with the kernels their gradients need.

use crate::buffer_pool;
use crate::conv::window_output;
use crate::error::{expect_ok, ErrorKind, Result, TensorError};
use crate::parallel::{chunk_len, for_each_block, parallel_elements};
use crate::Tensor;
use std::ops::Range;

/// Window size, stride and zero-padding of a pooling layer (`[height, width]` pairs), and
/// PyTorch's `ceil_mode` and `count_include_pad`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pool2dSpec {
    /// Window size.
    pub kernel: [usize; 2],
    /// Step between windows.
    pub stride: [usize; 2],
    /// Padding on each side, at most half the window (ignored by max pooling, counted as
    /// zeros by average pooling).
    pub padding: [usize; 2],
    /// Whether the output size rounds up, adding a last window that hangs over the far edge
    /// where the windows do not tile the input exactly (default false).
    #[serde(default)]
    pub ceil_mode: bool,
    /// Whether average pooling divides by the padding a window covers as well as its input
    /// positions (default true); max pooling ignores it.
    #[serde(default = "counts_padding")]
    pub count_include_pad: bool,
}

/// The `count_include_pad` of specs saved before it existed, and PyTorch's default.
fn counts_padding() -> bool {
    true
}

impl Pool2dSpec {
    /// A square window with the given stride and padding, sizes rounded down, padding counted
    /// by average pooling (PyTorch's defaults).
    pub fn new(kernel: usize, stride: usize, padding: usize) -> Self {
        Self {
            kernel: [kernel, kernel],
            stride: [stride, stride],
            padding: [padding, padding],
            ceil_mode: false,
            count_include_pad: counts_padding(),
        }
    }

    /// This spec with the output size rounded up (PyTorch's `ceil_mode`): where the windows
    /// do not tile the padded input, a last window covers what is left, provided it starts
    /// inside the input or its left padding.
    ///
    /// ```
    /// use strata_tensor::{Pool2dSpec, Tensor};
    /// let x = Tensor::arange(0.0, 25.0, 1.0).reshape(&[1, 1, 5, 5]);
    /// let (floor, _) = x.max_pool2d(Pool2dSpec::new(2, 2, 0));
    /// let (ceil, _) = x.max_pool2d(Pool2dSpec::new(2, 2, 0).with_ceil_mode(true));
    /// assert_eq!((floor.shape(), ceil.shape()), (&[1, 1, 2, 2][..], &[1, 1, 3, 3][..]));
    /// assert_eq!(ceil.to_vec()[8], 24.0); // the 1×1 corner left over
    /// ```
    pub fn with_ceil_mode(self, ceil_mode: bool) -> Self {
        Self { ceil_mode, ..self }
    }

    /// This spec with average pooling dividing by the padded positions of a window too
    /// (`true`, the default) or only by the input positions it covers (`false`). Either way
    /// the positions past the far padding that a [`Pool2dSpec::with_ceil_mode`] window hangs
    /// over are not counted, as in PyTorch.
    ///
    /// ```
    /// use strata_tensor::{Pool2dSpec, Tensor};
    /// let x = Tensor::ones(&[1, 1, 2, 2]);
    /// let spec = Pool2dSpec::new(2, 2, 1);
    /// // The corner window covers one input position and three padded ones.
    /// assert_eq!(x.avg_pool2d(spec).to_vec()[0], 0.25);
    /// assert_eq!(x.avg_pool2d(spec.with_count_include_pad(false)).to_vec()[0], 1.0);
    /// ```
    pub fn with_count_include_pad(self, count_include_pad: bool) -> Self {
        Self {
            count_include_pad,
            ..self
        }
    }
}

/// One output position's window along an axis.
struct Window {
    /// The input positions it covers.
    inside: Range<usize>,
    /// The positions it covers counting the padding, up to the end of the far padding.
    padded: usize,
}

/// The checked sizes of one pooling and its windows along each axis.
struct Geometry {
    /// Input `[N, C, H, W]`.
    shape: [usize; 4],
    /// The windows along the height, one per output row.
    rows: Vec<Window>,
    /// The windows along the width, one per output column.
    cols: Vec<Window>,
}

impl Geometry {
    fn new(op: &'static str, shape: &[usize], spec: &Pool2dSpec) -> Result<Self> {
        let invalid = |msg: String| Err(TensorError::new(op, ErrorKind::InvalidArgument, msg));
        let &[n, c, h, w] = shape else {
            return Err(TensorError::new(
                op,
                ErrorKind::ShapeMismatch,
                format!("expects an [N, C, H, W] input, found {shape:?}"),
            ));
        };
        if spec.kernel.contains(&0) || spec.stride.contains(&0) {
            return invalid(format!(
                "window {:?} and stride {:?} should be positive",
                spec.kernel, spec.stride
            ));
        }
        if (0..2).any(|a| spec.padding[a] > spec.kernel[a] / 2) {
            return invalid(format!(
                "padding should be at most half the window {:?}, found {:?}",
                spec.kernel, spec.padding
            ));
        }
        let (Some(rows), Some(cols)) = (windows(spec, 0, h), windows(spec, 1, w)) else {
            return Err(TensorError::new(
                op,
                ErrorKind::ShapeMismatch,
                format!(
                    "window {:?} with stride {:?} and padding {:?} does not fit input {shape:?}",
                    spec.kernel, spec.stride, spec.padding
                ),
            ));
        };
        Ok(Self {
            shape: [n, c, h, w],
            rows,
            cols,
        })
    }

    /// Planes (`N·C`), input height and width, output height and width.
    fn sizes(&self) -> [usize; 5] {
        let [n, c, h, w] = self.shape;
        [n * c, h, w, self.rows.len(), self.cols.len()]
    }

    /// Output `[N, C, H', W']`.
    fn out_shape(&self) -> [usize; 4] {
        let [n, c, _, _] = self.shape;
        [n, c, self.rows.len(), self.cols.len()]
    }
}

/// The windows along axis `axis` (of `size` input positions), or `None` if none fits.
fn windows(spec: &Pool2dSpec, axis: usize, size: usize) -> Option<Vec<Window>> {
    let (kernel, stride, padding) = (spec.kernel[axis], spec.stride[axis], spec.padding[axis]);
    let count = if spec.ceil_mode {
        // Rounded up, but the last window must start inside the input or the left padding.
        let count = window_output(size + stride - 1, kernel, stride, padding)?;
        count - usize::from((count - 1) * stride >= size + padding)
    } else {
        window_output(size, kernel, stride, padding)?
    };
    let windows = (0..count).map(|o| {
        // In padded coordinates, clipped to the end of the far padding.
        let start = o * stride;
        let end = (start + kernel).min(size + 2 * padding);
        Window {
            inside: start.saturating_sub(padding)..end.min(size + padding) - padding,
            padded: end - start,
        }
    });
    (count > 0).then(|| windows.collect())
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

/// The reciprocal of average pooling's divisor for the window of rows `r` and columns `c`.
fn average_scale(spec: &Pool2dSpec, r: &Window, c: &Window) -> f32 {
    let divisor = if spec.count_include_pad {
        r.padded * c.padded
    } else {
        r.inside.len() * c.inside.len()
    };
    1.0 / divisor as f32
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
        let g = Geometry::new("max_pool2d", self.shape(), &spec)?;
        let [planes, h, w, oh, ow] = g.sizes();
        let input = self.values();
        let pool_plane = |p: usize, values: &mut [f32], positions: &mut [f32]| {
            let src = &input[p * h * w..(p + 1) * h * w];
            let mut out = values.iter_mut().zip(positions.iter_mut());
            for row_window in &g.rows {
                for (col_window, (value, position)) in g.cols.iter().zip(&mut out) {
                    let (window_rows, window_cols) = (&row_window.inside, &col_window.inside);
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
        let mut values = buffer_pool::take(planes * plane_out);
        let mut positions = buffer_pool::take(planes * plane_out);
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
        let shape = g.out_shape();
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
        let mut grad = buffer_pool::take_zeroed(input_shape.iter().product());
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

    /// Average pooling: the sum of each window over its divisor, which counts the padded
    /// positions the window covers unless the spec says otherwise
    /// ([`Pool2dSpec::with_count_include_pad`]).
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
        let g = Geometry::new("avg_pool2d", self.shape(), &spec)?;
        let [planes, h, w, oh, ow] = g.sizes();
        let input = self.values();
        let mut out = buffer_pool::take(planes * oh * ow);
        for_planes(&mut out, oh * ow, |p, o| {
            let src = &input[p * h * w..(p + 1) * h * w];
            let mut out = o.iter_mut();
            for r in &g.rows {
                for (c, o) in g.cols.iter().zip(&mut out) {
                    let mut sum = 0.0;
                    for row in r.inside.clone() {
                        for &x in &src[row * w..][c.inside.clone()] {
                            sum += x;
                        }
                    }
                    *o = sum * average_scale(&spec, r, c);
                }
            }
        });
        Ok(Tensor::from_dims(out, g.out_shape().as_slice().into()))
    }

    /// Gradient of average pooling: spreads each output gradient evenly over the input
    /// positions of its window (its share of the divisor).
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
        let g = Geometry::new(op, input_shape, &spec)?;
        let [planes, h, w, oh, ow] = g.sizes();
        if grad_out.shape() != g.out_shape() {
            return Err(TensorError::new(
                op,
                ErrorKind::ShapeMismatch,
                format!(
                    "gradient should be {:?}, found {:?}",
                    g.out_shape(),
                    grad_out.shape()
                ),
            ));
        }
        let grad_out = grad_out.values();
        let mut grad = buffer_pool::take_zeroed(planes * h * w);
        for_planes(&mut grad, h * w, |p, grad| {
            let mut src = grad_out[p * oh * ow..(p + 1) * oh * ow].iter();
            for r in &g.rows {
                for (c, &d) in g.cols.iter().zip(&mut src) {
                    let d = d * average_scale(&spec, r, c);
                    for row in r.inside.clone() {
                        grad[row * w..][c.inside.clone()]
                            .iter_mut()
                            .for_each(|v| *v += d);
                    }
                }
            }
        });
        Ok(Tensor::from_dims(grad, input_shape.into()))
    }
}
