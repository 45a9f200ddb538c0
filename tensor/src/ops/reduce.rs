//! Reductions over chosen axes (sum, mean, max, min, variance, argmax/argmin) and over the
//! whole tensor.

use crate::buffer_pool;
use crate::error::{expect_ok, ErrorKind, Result, TensorError};
use crate::parallel::{chunk_len, for_each_block, parallel_elements};
use crate::shape::{numel, resolve_axes, Axis, Dims, Strides};
use crate::strided::Plan;
use crate::Tensor;

/// Length of the runs a whole-tensor fold is split into: long enough that a parallel job pays
/// for itself, short enough that a sum of a few million elements keeps its precision.
const WHOLE_FOLD_RUN: usize = 1 << 14;

/// Folds a strided run of `len` elements into `acc`, in eight independent lanes when the run
/// is contiguous (so the compiler vectorises it, and long sums lose less precision).
fn fold_run(
    src: &[f32],
    start: usize,
    len: usize,
    stride: isize,
    identity: f32,
    fold: &impl Fn(f32, f32) -> f32,
) -> f32 {
    if stride == 1 {
        let run = &src[start..start + len];
        let mut lanes = [identity; 8];
        let mut chunks = run.chunks_exact(8);
        for chunk in &mut chunks {
            for (lane, &x) in lanes.iter_mut().zip(chunk) {
                *lane = fold(*lane, x);
            }
        }
        let tail = chunks.remainder().iter().fold(identity, |a, &x| fold(a, x));
        lanes.iter().fold(tail, |a, &x| fold(a, x))
    } else {
        (0..len).fold(identity, |acc, i| {
            fold(acc, src[(start as isize + i as isize * stride) as usize])
        })
    }
}

impl Tensor {
    /// Shape of a reduction's output.
    fn reduced_shape(&self, axes: &[usize], keepdim: bool) -> Dims {
        let mut shape = Dims::new();
        for (d, &size) in self.shape().iter().enumerate() {
            if !axes.contains(&d) {
                shape.push(size);
            } else if keepdim {
                shape.push(1);
            }
        }
        shape
    }

    /// Folds the elements over `axes` with an associative, commutative `fold` whose identity
    /// is `identity`.
    fn fold_axes(
        &self,
        axes: &[usize],
        keepdim: bool,
        identity: f32,
        fold: impl Fn(f32, f32) -> f32 + Sync,
    ) -> Tensor {
        let out_shape = self.reduced_shape(axes, keepdim);
        let split = |keep: bool| -> (Dims, Strides) {
            (0..self.ndim())
                .filter(|d| axes.contains(d) != keep)
                .map(|d| (self.shape()[d], self.strides()[d]))
                .unzip()
        };
        let (kept_shape, kept_strides) = split(true);
        let (red_shape, red_strides) = split(false);
        let out_len = numel(&kept_shape);
        let src = self.buffer();
        if out_len == 0 {
            return Tensor::from_dims(Vec::new(), out_shape);
        }

        // Folding everything of a contiguous tensor: fixed-length runs are folded separately
        // (in parallel when large), then combined. The runs do not depend on the thread
        // count, so neither does the result.
        if out_len == 1 && self.is_contiguous() {
            let data = &src[self.offset()..self.offset() + self.numel()];
            let fold_chunk = |run: &[f32]| fold_run(run, 0, run.len(), 1, identity, &fold);
            let runs = data.len().div_ceil(WHOLE_FOLD_RUN);
            let mut partials = vec![identity; runs];
            let runs_per_block = if parallel_elements(data.len()) {
                chunk_len(runs, 1)
            } else {
                runs.max(1)
            };
            for_each_block(
                runs,
                runs_per_block,
                [&mut partials],
                |block, [partials]| {
                    for (partial, run) in partials.iter_mut().zip(block) {
                        let end = ((run + 1) * WHOLE_FOLD_RUN).min(data.len());
                        *partial = fold_chunk(&data[run * WHOLE_FOLD_RUN..end]);
                    }
                },
            );
            let total = partials.iter().fold(identity, |acc, &x| fold(acc, x));
            return Tensor::from_dims(vec![total], out_shape);
        }

        // Reducing the leading axes of a contiguous tensor: fold whole rows into the output,
        // a vectorised pass (e.g. the bias gradient, a sum over the batch axis).
        let leading = axes.iter().enumerate().all(|(i, &a)| i == a);
        if leading && self.is_contiguous() && out_len > 1 {
            let rows = numel(&red_shape);
            let data = &src[self.offset()..self.offset() + self.numel()];
            let mut out = buffer_pool::take(out_len);
            out.fill(identity);
            let fold_cols = |out: &mut [f32], col0: usize| {
                for r in 0..rows {
                    let row = &data[r * out_len + col0..r * out_len + col0 + out.len()];
                    for (o, &x) in out.iter_mut().zip(row) {
                        *o = fold(*o, x);
                    }
                }
            };
            let chunk = if parallel_elements(self.numel()) {
                chunk_len(out_len, 64)
            } else {
                out_len
            };
            for_each_block(out_len, chunk, [&mut out], |cols, [out]| {
                fold_cols(out, cols.start)
            });
            return Tensor::from_dims(out, out_shape);
        }

        let red_plan = Plan::new(&red_shape, [&red_strides], [0]);
        let kept_plan = Plan::new(&kept_shape, [&kept_strides], [self.offset()]);
        let reduce_at = |base: usize| -> f32 {
            let mut acc = identity;
            red_plan.for_rows(0, red_plan.rows(), |_, [at]| {
                let run = fold_run(
                    src,
                    base + at,
                    red_plan.inner_len,
                    red_plan.inner_strides[0],
                    identity,
                    &fold,
                );
                acc = fold(acc, run);
            });
            acc
        };
        let kept_stride = kept_plan.inner_strides[0];
        let fill = |out: &mut [f32], first_row: usize| {
            let len = kept_plan.inner_len;
            let rows = out.len() / len;
            kept_plan.for_rows(first_row, first_row + rows, |row, [at]| {
                for (i, o) in out[(row - first_row) * len..(row - first_row + 1) * len]
                    .iter_mut()
                    .enumerate()
                {
                    *o = reduce_at((at as isize + i as isize * kept_stride) as usize);
                }
            });
        };
        let mut out = buffer_pool::take(out_len);
        let rows = kept_plan.rows();
        let rows_per_block = if parallel_elements(self.numel()) {
            chunk_len(rows, 1)
        } else {
            rows.max(1)
        };
        for_each_block(rows, rows_per_block, [&mut out], |block, [out]| {
            fill(out, block.start)
        });
        Tensor::from_dims(out, out_shape)
    }

    /// Sum over `axes`; `keepdim` keeps them as size-1 dimensions.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    /// assert_eq!(t.sum_axes(&[0], false).to_vec(), vec![5.0, 7.0, 9.0]);
    /// assert_eq!(t.sum_axes(&[-1], true).shape(), &[2, 1]);
    /// ```
    #[track_caller]
    pub fn sum_axes<A: Axis>(&self, axes: &[A], keepdim: bool) -> Tensor {
        expect_ok(self.try_sum_axes(axes, keepdim))
    }

    /// Fallible [`Tensor::sum_axes`].
    pub fn try_sum_axes<A: Axis>(&self, axes: &[A], keepdim: bool) -> Result<Tensor> {
        let axes = resolve_axes(axes, self.ndim(), "sum")?;
        Ok(self.fold_axes(&axes, keepdim, 0.0, |a, b| a + b))
    }

    /// Mean over `axes`.
    #[track_caller]
    pub fn mean_axes<A: Axis>(&self, axes: &[A], keepdim: bool) -> Tensor {
        expect_ok(self.try_mean_axes(axes, keepdim))
    }

    /// Fallible [`Tensor::mean_axes`].
    pub fn try_mean_axes<A: Axis>(&self, axes: &[A], keepdim: bool) -> Result<Tensor> {
        let resolved = resolve_axes(axes, self.ndim(), "mean")?;
        let count: usize = resolved.iter().map(|&d| self.shape()[d]).product();
        let sum = self.fold_axes(&resolved, keepdim, 0.0, |a, b| a + b);
        Ok(sum.mul_scalar(1.0 / count as f32))
    }

    /// Largest element over `axes` (NaN if any element is NaN).
    #[track_caller]
    pub fn max_axes<A: Axis>(&self, axes: &[A], keepdim: bool) -> Tensor {
        expect_ok(self.try_max_axes(axes, keepdim))
    }

    /// Fallible [`Tensor::max_axes`].
    pub fn try_max_axes<A: Axis>(&self, axes: &[A], keepdim: bool) -> Result<Tensor> {
        let axes = self.nonempty_axes(axes, "max")?;
        Ok(self.fold_axes(&axes, keepdim, f32::NEG_INFINITY, |a, b| {
            if a >= b || a.is_nan() {
                a
            } else {
                b
            }
        }))
    }

    /// Smallest element over `axes` (NaN if any element is NaN).
    #[track_caller]
    pub fn min_axes<A: Axis>(&self, axes: &[A], keepdim: bool) -> Tensor {
        expect_ok(self.try_min_axes(axes, keepdim))
    }

    /// Fallible [`Tensor::min_axes`].
    pub fn try_min_axes<A: Axis>(&self, axes: &[A], keepdim: bool) -> Result<Tensor> {
        let axes = self.nonempty_axes(axes, "min")?;
        Ok(self.fold_axes(&axes, keepdim, f32::INFINITY, |a, b| {
            if a <= b || a.is_nan() {
                a
            } else {
                b
            }
        }))
    }

    /// Variance over `axes`; `unbiased` divides by `n - 1` (PyTorch's default) instead of `n`.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]);
    /// assert_eq!(t.var_axes(&[0], false, false).item(), 1.25);
    /// ```
    #[track_caller]
    pub fn var_axes<A: Axis>(&self, axes: &[A], keepdim: bool, unbiased: bool) -> Tensor {
        expect_ok(self.try_var_axes(axes, keepdim, unbiased))
    }

    /// Fallible [`Tensor::var_axes`].
    pub fn try_var_axes<A: Axis>(
        &self,
        axes: &[A],
        keepdim: bool,
        unbiased: bool,
    ) -> Result<Tensor> {
        let resolved = resolve_axes(axes, self.ndim(), "var")?;
        let count: usize = resolved.iter().map(|&d| self.shape()[d]).product();
        let divisor = if unbiased {
            count.saturating_sub(1)
        } else {
            count
        };
        let mean = self
            .fold_axes(&resolved, true, 0.0, |a, b| a + b)
            .mul_scalar(1.0 / count as f32);
        let squared = self.sub(&mean).square();
        Ok(squared
            .fold_axes(&resolved, keepdim, 0.0, |a, b| a + b)
            .mul_scalar(1.0 / divisor as f32))
    }

    /// Position of the largest element along `axis` (the first one on ties), as whole numbers.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let t = Tensor::from_vec(vec![0.1, 0.7, 0.2, 0.9, 0.05, 0.05], &[2, 3]);
    /// assert_eq!(t.argmax(1, false).to_vec(), vec![1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn argmax<A: Axis>(&self, axis: A, keepdim: bool) -> Tensor {
        expect_ok(self.try_arg_extreme(axis, keepdim, "argmax", |x, best| x > best))
    }

    /// Fallible [`Tensor::argmax`].
    pub fn try_argmax<A: Axis>(&self, axis: A, keepdim: bool) -> Result<Tensor> {
        self.try_arg_extreme(axis, keepdim, "argmax", |x, best| x > best)
    }

    /// Position of the smallest element along `axis` (the first one on ties).
    #[track_caller]
    pub fn argmin<A: Axis>(&self, axis: A, keepdim: bool) -> Tensor {
        expect_ok(self.try_arg_extreme(axis, keepdim, "argmin", |x, best| x < best))
    }

    /// Fallible [`Tensor::argmin`].
    pub fn try_argmin<A: Axis>(&self, axis: A, keepdim: bool) -> Result<Tensor> {
        self.try_arg_extreme(axis, keepdim, "argmin", |x, best| x < best)
    }

    fn try_arg_extreme<A: Axis>(
        &self,
        axis: A,
        keepdim: bool,
        op: &'static str,
        better: impl Fn(f32, f32) -> bool,
    ) -> Result<Tensor> {
        let axis = axis.resolve(self.ndim(), op)?;
        let len = self.shape()[axis];
        if len == 0 {
            return Err(TensorError::new(
                op,
                ErrorKind::InvalidArgument,
                format!("axis {axis} of shape {:?} is empty", self.shape()),
            ));
        }
        let last = self.ndim() - 1;
        let moved = self.try_transpose(axis, last)?.contiguous();
        let values = moved.values();
        let picks: Vec<f32> = values
            .chunks_exact(len)
            .map(|row| {
                let mut best = 0;
                for (i, &x) in row.iter().enumerate() {
                    if !row[best].is_nan() && (x.is_nan() || better(x, row[best])) {
                        best = i;
                    }
                }
                best as f32
            })
            .collect();
        let mut shape: Dims = moved.shape()[..last].into();
        shape.push(1);
        let picked = Tensor::from_dims(picks, shape).try_transpose(axis, last)?;
        Ok(if keepdim {
            picked.contiguous()
        } else {
            picked.try_squeeze(axis)?.contiguous()
        })
    }

    fn nonempty_axes<A: Axis>(&self, axes: &[A], op: &'static str) -> Result<Dims> {
        let resolved = resolve_axes(axes, self.ndim(), op)?;
        if let Some(&d) = resolved.iter().find(|&&d| self.shape()[d] == 0) {
            return Err(TensorError::new(
                op,
                ErrorKind::InvalidArgument,
                format!("axis {d} of shape {:?} is empty", self.shape()),
            ));
        }
        Ok(resolved)
    }

    fn all_axes(&self) -> Dims {
        (0..self.ndim()).collect()
    }

    /// Sum of all elements, as a 0-d tensor.
    pub fn sum(&self) -> Tensor {
        self.fold_axes(&self.all_axes(), false, 0.0, |a, b| a + b)
    }

    /// Mean of all elements, as a 0-d tensor (NaN for an empty tensor).
    pub fn mean(&self) -> Tensor {
        self.sum().mul_scalar(1.0 / self.numel() as f32)
    }

    /// Largest element, as a 0-d tensor; panics on an empty tensor.
    #[track_caller]
    pub fn max(&self) -> Tensor {
        expect_ok(self.try_max_axes(&self.all_axes(), false))
    }

    /// Smallest element, as a 0-d tensor; panics on an empty tensor.
    #[track_caller]
    pub fn min(&self) -> Tensor {
        expect_ok(self.try_min_axes(&self.all_axes(), false))
    }
}
