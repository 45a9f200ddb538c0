//! Products with an inner dimension or output rows of one or two elements: plain loops in
//! the order that vectorises, where a GEMM library's blocking does not pay.
//!
//! A tiny network's layers (2 inputs, 2 outputs) make products of a few thousand
//! multiply-adds; faer sends them to small-matrix kernels that took 0.4–1 µs each, several
//! times the arithmetic, and they were a fifth of a tiny MLP's training step.

use crate::parallel::{for_each_block, num_threads, MATMUL_PAR_MIN_FLOPS};
use crate::simd::with_avx2;
use faer::MatRef;
use std::borrow::Cow;

/// Whether `a·b` (`a` of `k` columns, `b` of `n`) runs these loops: products whose inner
/// dimension or output rows have at most [`NARROW`] elements, the layers next to a tiny
/// network's 2 inputs or 2 outputs, where faer's small-matrix kernels are slowest (measured
/// µs, these loops against faer: `[32, 2]·[2, 64]` 0.65 / 0.98, `[32, 64]·[64, 2]` 0.63 /
/// 0.91, `[1000, 128]·[128, 2]` 21 / 59, `[1000, 2]·[2, 128]` 33 / 30). Outputs of 2 columns
/// need a row-major `a` (dot products along its rows). The choice depends on `n`, `k` and the
/// layout of `a` only, never on the number of rows, so a product split into row blocks
/// (across threads, or a recurrence's batch blocks) computes every row the same way.
pub(crate) fn takes_small_path(a: MatRef<'_, f32>, n: usize) -> bool {
    a.ncols() <= NARROW || (n <= NARROW && a.col_stride() == 1)
}

/// The widest inner dimension or output row the loops take.
const NARROW: usize = 2;

/// Partial sums of a dot product: one per f32 lane of an AVX2 register.
const LANES: usize = 8;

/// `dst ← a·b` (or `dst += a·b` with `accumulate`) for row-major `dst` of `m × n`, where
/// [`takes_small_path`]; rows are split over the threads when the product is large. Each
/// output element is one sum over `k` in order (or in [`LANES`] interleaved partial sums
/// for the dot products).
pub(crate) fn small_gemm(
    dst: &mut [f32],
    n: usize,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    accumulate: bool,
) {
    let (m, k) = (a.nrows(), a.ncols());
    debug_assert!(takes_small_path(a, n) && dst.len() == m * n);
    if !accumulate {
        dst.fill(0.0);
    }
    let block = if m * n * k >= MATMUL_PAR_MIN_FLOPS {
        m.div_ceil(2 * num_threads()).max(1)
    } else {
        m.max(1)
    };
    for_each_block(m, block, [dst], |rows, [dst]| {
        add_product(dst, n, a.subrows(rows.start, rows.len()), b)
    });
}

/// `dst += a·b`: rows of `b` scaled and added when `k` is small, else dot products.
fn add_product(dst: &mut [f32], n: usize, a: MatRef<'_, f32>, b: MatRef<'_, f32>) {
    let k = a.ncols();
    if k <= NARROW {
        // Output row i += a[i, p] · row p of b.
        let b_rows = row_major(b);
        with_avx2(
            #[inline(always)]
            || {
                for (i, out) in dst.chunks_exact_mut(n).enumerate() {
                    for (p, b_row) in b_rows.chunks_exact(n).enumerate() {
                        let x = at(a, i, p);
                        out.iter_mut().zip(b_row).for_each(|(o, &y)| *o += x * y);
                    }
                }
            },
        );
    } else {
        // Each output element the dot product of a row of a and a column of b.
        let (a_rows, b_columns) = (row_major(a), row_major(b.transpose()));
        with_avx2(
            #[inline(always)]
            || {
                for (out, a_row) in dst.chunks_exact_mut(n).zip(a_rows.chunks_exact(k)) {
                    for (o, column) in out.iter_mut().zip(b_columns.chunks_exact(k)) {
                        *o += dot(a_row, column);
                    }
                }
            },
        );
    }
}

/// Element `(i, j)` of a view.
#[inline(always)]
fn at(m: MatRef<'_, f32>, i: usize, j: usize) -> f32 {
    debug_assert!(i < m.nrows() && j < m.ncols());
    // SAFETY: (i, j) is inside the view (the callers iterate over its shape), and every
    // element of a view is valid to read.
    unsafe {
        *m.as_ptr()
            .offset(i as isize * m.row_stride() + j as isize * m.col_stride())
    }
}

/// `Σ xᵢ·yᵢ` with [`LANES`] partial sums, so the loop vectorises.
#[inline(always)]
fn dot(x: &[f32], y: &[f32]) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let (xs, ys) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let tail: f32 = xs
        .remainder()
        .iter()
        .zip(ys.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (xc, yc) in xs.zip(ys) {
        for ((lane, &a), &b) in lanes.iter_mut().zip(xc).zip(yc) {
            *lane += a * b;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The matrix's elements in row-major order: the matrix itself when it is stored that way,
/// else a copy.
fn row_major(m: MatRef<'_, f32>) -> Cow<'_, [f32]> {
    let (rows, cols) = (m.nrows(), m.ncols());
    if rows == 0 || cols == 0 {
        return Cow::Owned(Vec::new());
    }
    if m.col_stride() == 1 && (m.row_stride() == cols as isize || rows == 1) {
        // SAFETY: a dense row-major matrix: its `rows·cols` elements are contiguous from
        // its first one, and the view borrows them.
        return Cow::Borrowed(unsafe { std::slice::from_raw_parts(m.as_ptr(), rows * cols) });
    }
    let mut out = Vec::with_capacity(rows * cols);
    for i in 0..rows {
        out.extend((0..cols).map(|j| at(m, i, j)));
    }
    Cow::Owned(out)
}
