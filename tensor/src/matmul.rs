//! Matrix products through faer: 2-D and batched (leading dimensions broadcast). Operands are
//! handed to faer as strided views, so transposed or sliced operands are never copied.

use crate::buffer_pool::{self, PooledVec};
use crate::error::{expect_ok, ErrorKind, Result, TensorError};
use crate::ops::elementwise::broadcast_strides;
use crate::parallel::{for_each_block, for_each_job, matmul_tiles, parallel_elements, SharedMut};
use crate::shape::{broadcast_shapes, numel, Dims};
use crate::small_matmul::{small_gemm, takes_small_path};
use crate::strided::Plan;
use crate::Tensor;
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// A read-only faer view of the `rows × cols` matrix at `offset` with the given strides.
fn mat_ref(
    t: &Tensor,
    offset: usize,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
) -> MatRef<'_, f32> {
    let buf = t.buffer();
    if rows > 0 && cols > 0 {
        let last = offset as isize + (rows as isize - 1) * rs + (cols as isize - 1) * cs;
        assert!(last < buf.len() as isize, "matmul view out of bounds");
    }
    // SAFETY: the view stays inside `buf` (checked above; strides are non-negative), and the
    // borrow of `t` outlives the returned view.
    unsafe { MatRef::from_raw_parts(buf.as_ptr().add(offset.min(buf.len())), rows, cols, rs, cs) }
}

/// `dst ← a·b` (or `dst += a·b` with `accumulate`) for row-major `dst` of `m × n`.
pub(crate) fn gemm(
    dst: &mut [f32],
    n: usize,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    accumulate: bool,
) {
    let m = a.nrows();
    let k = a.ncols();
    debug_assert_eq!(dst.len(), m * n);
    let accum = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    if k == 0 {
        if !accumulate {
            dst.fill(0.0);
        }
        return;
    }
    if takes_small_path(a, n) {
        return small_gemm(dst, n, a, b, accumulate);
    }
    // faer multiplies 15–60% slower when the left operand is column-major (a transposed
    // view, as in every weight gradient gᵀ·x): when the product is wide enough for a copy to
    // be cheap against it, the operand is copied row-major first, or, when that is smaller,
    // the transposed product Cᵀ = Bᵀ·Aᵀ (whose left operand Bᵀ is copied) is computed and
    // transposed into `dst`.
    let row_major;
    let a = if a.row_stride() == 1 && a.col_stride() != 1 && m > 1 && n >= ROW_MAJOR_COPY_MIN_N {
        if k * n + m * n < m * k {
            return transposed_product(dst, n, a, b, accumulate);
        }
        row_major = PooledVec::new(row_major_copy(a));
        MatRef::from_row_major_slice(row_major.as_slice(), m, k)
    } else {
        a
    };
    let tiles = matmul_tiles(m, n, k);
    if tiles <= 1 {
        let dst = MatMut::from_row_major_slice_mut(dst, m, n);
        return matmul(dst, accum, a, b, 1.0f32, Par::Seq);
    }
    // Split the output into tiles of rows (or of columns when there are too few rows), one
    // single-threaded product each: every output element is still one k-long sum in faer's
    // order, so the result does not depend on the tiling (or the thread count).
    let split_rows = m >= tiles * MIN_TILE_ROWS;
    let (side, align) = if split_rows {
        (m, ROW_ALIGN)
    } else {
        (n, COLUMN_ALIGN)
    };
    // Tile `t` starts at `bound(t)`: equal shares, cut at a multiple of `align`.
    let bound = |t: usize| (t * side / tiles) / align * align;
    let shared = SharedMut::new(dst);
    for_each_job(tiles, |t| {
        let start = bound(t);
        let len = if t + 1 == tiles { side } else { bound(t + 1) } - start;
        if len == 0 {
            return;
        }
        // SAFETY: tiles are disjoint row or column ranges of the `m × n` row-major `dst`,
        // which outlives the jobs.
        unsafe {
            if split_rows {
                let dst = MatMut::from_raw_parts_mut(
                    shared.as_ptr().add(start * n),
                    len,
                    n,
                    n as isize,
                    1,
                );
                matmul(dst, accum, a.subrows(start, len), b, 1.0f32, Par::Seq);
            } else {
                let dst =
                    MatMut::from_raw_parts_mut(shared.as_ptr().add(start), m, len, n as isize, 1);
                matmul(dst, accum, a, b.subcols(start, len), 1.0f32, Par::Seq);
            }
        }
    });
}

/// Narrowest product (output columns) for which a column-major left operand is copied
/// row-major first. The copy costs ~0.6 ns an element of the `m × k` operand; the product ~0.033 ns a multiply-add of `m × k × n` on one
/// core, of which the column-major layout adds 15% (512×128×784) to 60% (512×1600×128): the
/// copy pays from `n` ≈ 0.6 / (0.15 · 0.033) ≈ 120 columns.
const ROW_MAJOR_COPY_MIN_N: usize = 128;

/// Multiply-adds of a batched product (all batches together) from which its batches are
/// spread over the threads.
const PARALLEL_BATCH_WORK: usize = 1 << 18;

/// `dst ← a·b` (or `+=`) for a column-major `a`, computed as `(bᵀ·aᵀ)ᵀ`: `aᵀ` is row-major
/// as it is, `bᵀ` is copied row-major if it is not, and the `n × m` result is transposed into
/// `dst`. Copies `k·n + m·n` elements instead of the `m·k` of copying `a` (the LSTM's weight
/// gradients, `[512, 1600]·[1600, 128]`: 0.27 M instead of 0.82 M).
fn transposed_product(
    dst: &mut [f32],
    n: usize,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    accumulate: bool,
) {
    let (m, k) = (a.nrows(), a.ncols());
    let bt_copy;
    // bᵀ is column-major exactly when b is row-major.
    let bt = if b.col_stride() == 1 && b.row_stride() != 1 {
        bt_copy = PooledVec::new(row_major_copy(b.transpose()));
        MatRef::from_row_major_slice(bt_copy.as_slice(), n, k)
    } else {
        b.transpose()
    };
    let mut ct = PooledVec::new(buffer_pool::take(n * m));
    gemm(ct.as_mut_slice(), m, bt, a.transpose(), false);
    let ct = MatRef::from_row_major_slice(ct.as_slice(), n, m).transpose();
    let block = if parallel_elements(m * n) {
        TRANSPOSE_TILE
    } else {
        m
    };
    for_each_block(m, block, [dst], |rows, [dst]| {
        transpose_rows(ct, rows, dst, accumulate)
    });
}

/// A row-major copy (in a buffer from the pool) of the column-major `a` (unit row stride),
/// tile by tile: each tile's columns are read into a small local block, which is then
/// written out as whole row runs (walking the destination down a column instead would touch
/// one cache line per row, and rows a power of two apart share a handful of cache sets).
/// Large operands are split into row blocks over the threads.
fn row_major_copy(a: MatRef<'_, f32>) -> Vec<f32> {
    let (m, k) = (a.nrows(), a.ncols());
    let mut out = buffer_pool::take(m * k);
    let block = if parallel_elements(m * k) {
        TRANSPOSE_TILE
    } else {
        m
    };
    for_each_block(m, block, [&mut out], |rows, [out]| {
        transpose_rows(a, rows, out, false)
    });
    out
}

/// Writes rows `rows` of the column-major `a` into `out` (those rows, row-major), or adds
/// them with `accumulate`, through square tiles.
fn transpose_rows(
    a: MatRef<'_, f32>,
    rows: std::ops::Range<usize>,
    out: &mut [f32],
    accumulate: bool,
) {
    assert_eq!(a.row_stride(), 1, "transpose_rows reads columns");
    let (k, ld) = (a.ncols(), a.col_stride());
    // SAFETY: `a` has unit row stride and `k` columns `ld` apart, all in one allocation.
    let column = |j: usize, rows: std::ops::Range<usize>| unsafe {
        std::slice::from_raw_parts(
            a.as_ptr().offset(j as isize * ld).add(rows.start),
            rows.len(),
        )
    };
    let mut tile = [[0.0f32; TRANSPOSE_TILE]; TRANSPOSE_TILE];
    for i0 in (rows.start..rows.end).step_by(TRANSPOSE_TILE) {
        let i1 = (i0 + TRANSPOSE_TILE).min(rows.end);
        for j0 in (0..k).step_by(TRANSPOSE_TILE) {
            let j1 = (j0 + TRANSPOSE_TILE).min(k);
            for j in j0..j1 {
                for (row, &x) in tile.iter_mut().zip(column(j, i0..i1)) {
                    row[j - j0] = x;
                }
            }
            for (i, row) in (i0..i1).zip(&tile) {
                let at = (i - rows.start) * k;
                let (out, row) = (&mut out[at + j0..at + j1], &row[..j1 - j0]);
                if accumulate {
                    out.iter_mut().zip(row).for_each(|(o, &x)| *o += x);
                } else {
                    out.copy_from_slice(row);
                }
            }
        }
    }
}

/// Side of the square tiles of the transposed copy: one 64-byte line of floats.
const TRANSPOSE_TILE: usize = 16;

/// Fewest output rows per tile when a product is split by rows; with fewer rows it is split
/// by columns. Measured at 2 threads on the MLP's products (`scratch` sweep in the commit
/// message): tiles of 32 rows and more run as well as or better than column tiles (up to 2×
/// better when k is small, e.g. 512×32×784), tiles of 8 rows clearly worse (m = 32).
const MIN_TILE_ROWS: usize = 16;

/// Row tiles start at multiples of the f32 micro-kernel's 4 columns (faer computes a
/// row-major product as its transpose, so our rows are its columns).
const ROW_ALIGN: usize = 4;

/// Column tiles start at multiples of the f32 lanes of an AVX-512 register (two of AVX2),
/// so the micro-kernels' vectors stay whole.
const COLUMN_ALIGN: usize = 16;

/// The stride between consecutive rows when the batch dimensions and the `m` rows of an
/// operand form one evenly spaced run of rows, so that the whole batch is one matrix.
fn uniform_row_stride(
    batch: &[usize],
    batch_strides: &[isize],
    m: usize,
    row_stride: isize,
) -> Option<isize> {
    let mut dims: Vec<(usize, isize)> = batch
        .iter()
        .copied()
        .zip(batch_strides.iter().copied())
        .chain(std::iter::once((m, row_stride)))
        .filter(|&(size, _)| size != 1)
        .collect();
    let (mut size, stride) = dims.pop().unwrap_or((1, row_stride));
    for &(outer_size, outer_stride) in dims.iter().rev() {
        if outer_stride != stride * size as isize {
            return None;
        }
        size *= outer_size;
    }
    Some(stride)
}

impl Tensor {
    /// Matrix product. 2-D: `[m, k] · [k, n] → [m, n]`; with more dimensions, the leading ones
    /// are batch dimensions and broadcast (`[b, m, k] · [k, n] → [b, m, n]`). A 1-D operand is
    /// treated as a row (left) or column (right) vector and its dimension is dropped.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
    /// let b = Tensor::from_vec(vec![5.0, 6.0, 7.0, 8.0], &[2, 2]);
    /// assert_eq!(a.matmul(&b).to_vec(), vec![19.0, 22.0, 43.0, 50.0]);
    /// assert_eq!(a.matmul(&b.t()).to_vec(), vec![17.0, 23.0, 39.0, 53.0]);
    /// ```
    #[track_caller]
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        expect_ok(self.try_matmul(other))
    }

    /// Fallible [`Tensor::matmul`].
    pub fn try_matmul(&self, other: &Tensor) -> Result<Tensor> {
        if self.ndim() == 0 || other.ndim() == 0 {
            return Err(TensorError::new(
                "matmul",
                ErrorKind::ShapeMismatch,
                format!(
                    "both operands need at least 1 dimension: {:?} x {:?}",
                    self.shape(),
                    other.shape()
                ),
            ));
        }
        let k = self.shape()[self.ndim() - 1];
        let k_rhs = other.shape()[other.ndim().saturating_sub(2)];
        if k != k_rhs {
            return Err(TensorError::new(
                "matmul",
                ErrorKind::ShapeMismatch,
                format!(
                    "inner dimensions differ: {:?} x {:?}",
                    self.shape(),
                    other.shape()
                ),
            ));
        }
        if self.ndim() == 2 && other.ndim() == 2 {
            // The common case (dense layers and their gradients): one GEMM, no batch to walk.
            let (m, n) = (self.shape()[0], other.shape()[1]);
            let [ars, acs] = [self.strides()[0], self.strides()[1]];
            let [brs, bcs] = [other.strides()[0], other.strides()[1]];
            let mut out = buffer_pool::take(m * n);
            let lhs = mat_ref(self, self.offset(), m, k, ars, acs);
            let rhs = mat_ref(other, other.offset(), k, n, brs, bcs);
            gemm(&mut out, n, lhs, rhs, false);
            return Ok(Tensor::from_dims(out, [m, n].as_slice().into()));
        }
        let a = if self.ndim() == 1 {
            self.unsqueeze(0)
        } else {
            self.clone()
        };
        let b = if other.ndim() == 1 {
            other.unsqueeze(1)
        } else {
            other.clone()
        };
        let m = a.shape()[a.ndim() - 2];
        let n = b.shape()[b.ndim() - 1];
        let batch = broadcast_shapes(
            &a.shape()[..a.ndim() - 2],
            &b.shape()[..b.ndim() - 2],
            "matmul",
        )
        .map_err(|_| {
            TensorError::new(
                "matmul",
                ErrorKind::ShapeMismatch,
                format!(
                    "batch dimensions do not broadcast: {:?} x {:?}",
                    self.shape(),
                    other.shape()
                ),
            )
        })?;
        let mut out_shape: Dims = batch.clone();
        out_shape.extend_from_slice(&[m, n]);
        let mut out = buffer_pool::take(numel(&out_shape));
        let (ars, acs) = (a.strides()[a.ndim() - 2], a.strides()[a.ndim() - 1]);
        let (brs, bcs) = (b.strides()[b.ndim() - 2], b.strides()[b.ndim() - 1]);

        let sa = broadcast_strides(&a.batch_view(), &batch);
        let sb = broadcast_strides(&b.batch_view(), &batch);
        let shared_rhs = sb.iter().all(|&s| s == 0);
        match uniform_row_stride(&batch, &sa, m, ars) {
            Some(row_stride) if shared_rhs => {
                // Every batch of `a` is a run of evenly spaced rows and `b` is shared: fold
                // the batch into the rows and run one GEMM.
                let rows = numel(&batch) * m;
                let lhs = mat_ref(&a, a.offset(), rows, k, row_stride, acs);
                let rhs = mat_ref(&b, b.offset(), k, n, brs, bcs);
                gemm(&mut out, n, lhs, rhs, false);
            }
            _ => {
                // The offsets of every batch's operands, in the output's order.
                let plan = Plan::new(&batch, [&sa, &sb], [a.offset(), b.offset()]);
                let mut offsets = Vec::with_capacity(numel(&batch));
                plan.for_rows(0, plan.rows(), |_, [oa, ob]| {
                    for i in 0..plan.inner_len {
                        let step = |base: usize, stride: isize| {
                            (base as isize + i as isize * stride) as usize
                        };
                        offsets.push((
                            step(oa, plan.inner_strides[0]),
                            step(ob, plan.inner_strides[1]),
                        ));
                    }
                });
                // Many small products (attention heads): whole products per thread. Each
                // product is computed alone either way, so the result does not depend on the
                // thread count.
                let products = offsets.len();
                let block = if products * m * n * k >= PARALLEL_BATCH_WORK {
                    products.div_ceil(crate::num_threads().max(1))
                } else {
                    products
                };
                for_each_block(products, block.max(1), [&mut out], |range, [out]| {
                    for (local, &(oa, ob)) in offsets[range].iter().enumerate() {
                        let lhs = mat_ref(&a, oa, m, k, ars, acs);
                        let rhs = mat_ref(&b, ob, k, n, brs, bcs);
                        gemm(
                            &mut out[local * m * n..(local + 1) * m * n],
                            n,
                            lhs,
                            rhs,
                            false,
                        );
                    }
                });
            }
        }
        let mut result = Tensor::from_dims(out, out_shape);
        // Drop the row of a vector lhs before the column of a vector rhs, so that
        // vector · vector (`[1, 1]`) ends as a 0-d tensor.
        if self.ndim() == 1 {
            result = result.try_squeeze(-2)?;
        }
        if other.ndim() == 1 {
            result = result.try_squeeze(-1)?;
        }
        Ok(result)
    }

    /// The batch part of a matrix operand: a view of its leading dimensions only (the last
    /// two are dropped), used to walk batches with their strides.
    fn batch_view(&self) -> Tensor {
        let nd = self.ndim() - 2;
        self.view(
            self.shape()[..nd].into(),
            self.strides()[..nd].into(),
            self.offset(),
        )
    }
}

impl Tensor {
    /// The dense layer's product `x·Wᵀ + b` for `x` of shape `[…, in]`, weight `[out, in]` and
    /// an optional bias `[out]`; output `[…, out]`. The bias is written into the output first
    /// and the GEMM accumulates onto it, so the output is traversed once.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 2.0], &[1, 2]);
    /// let w = Tensor::from_vec(vec![1.0, 0.0, 1.0, 1.0], &[2, 2]);
    /// let b = Tensor::from_vec(vec![0.5, -0.5], &[2]);
    /// assert_eq!(x.linear(&w, Some(&b)).to_vec(), vec![1.5, 2.5]);
    /// ```
    #[track_caller]
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
        expect_ok(self.try_linear(weight, bias))
    }

    /// Fallible [`Tensor::linear`].
    pub fn try_linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        let err = |msg: String| Err(TensorError::new("linear", ErrorKind::ShapeMismatch, msg));
        if self.ndim() == 0
            || weight.ndim() != 2
            || self.shape()[self.ndim() - 1] != weight.shape()[1]
        {
            return err(format!(
                "input {:?} needs [..., in] and weight [out, in], found weight {:?}",
                self.shape(),
                weight.shape()
            ));
        }
        let (out_features, in_features) = (weight.shape()[0], weight.shape()[1]);
        if let Some(b) = bias {
            if b.shape() != [out_features] {
                return err(format!(
                    "bias should be [{out_features}], found {:?}",
                    b.shape()
                ));
            }
        }
        // A matrix input is read through its own strides; more dimensions fold into rows.
        let x = if self.ndim() == 2 {
            self.clone()
        } else {
            self.reshape_dims(
                [self.numel() / in_features.max(1), in_features]
                    .as_slice()
                    .into(),
            )
        };
        let rows = x.shape()[0];
        let mut out = buffer_pool::take(rows * out_features);
        if let Some(b) = bias {
            let b = b.values();
            for row in out.chunks_exact_mut(out_features.max(1)) {
                row.copy_from_slice(&b);
            }
        }
        let lhs = mat_ref(
            &x,
            x.offset(),
            rows,
            in_features,
            x.strides()[0],
            x.strides()[1],
        );
        // Wᵀ as a view: element (i, o) of Wᵀ is W[o, i].
        let rhs = mat_ref(
            weight,
            weight.offset(),
            in_features,
            out_features,
            weight.strides()[1],
            weight.strides()[0],
        );
        gemm(&mut out, out_features, lhs, rhs, bias.is_some());
        let mut shape: Dims = self.shape()[..self.ndim() - 1].into();
        shape.push(out_features);
        Ok(Tensor::from_dims(out, shape))
    }
}
