//! Iteration over strided views: the N-d index space is split into rows of the innermost
//! dimension, after merging dimensions that are contiguous for every operand.

use crate::shape::Dims;
use smallvec::SmallVec;

/// A walk over `K` operands that share one logical shape (each with its own strides).
pub(crate) struct Plan<const K: usize> {
    outer: Dims,
    outer_strides: [SmallVec<[isize; 6]>; K],
    base: [isize; K],
    /// Length of each row.
    pub(crate) inner_len: usize,
    /// Stride of each operand along a row.
    pub(crate) inner_strides: [isize; K],
}

impl<const K: usize> Plan<K> {
    /// Plans the walk; `strides[k]` and `offsets[k]` describe operand `k`.
    pub(crate) fn new(shape: &[usize], strides: [&[isize]; K], offsets: [usize; K]) -> Self {
        // Drop size-1 dimensions, then merge each dimension into the one inside it when every
        // operand steps over the inner one exactly (stride[d] == stride[d+1] * shape[d+1]).
        let mut dims: SmallVec<[(usize, [isize; K]); 6]> = SmallVec::new();
        for (d, &size) in shape.iter().enumerate() {
            if size != 1 {
                dims.push((size, std::array::from_fn(|k| strides[k][d])));
            }
        }
        let mut merged: SmallVec<[(usize, [isize; K]); 6]> = SmallVec::new();
        for (size, st) in dims.into_iter().rev() {
            match merged.last_mut() {
                Some((inner_size, inner_st))
                    if (0..K).all(|k| st[k] == inner_st[k] * *inner_size as isize) =>
                {
                    *inner_size *= size;
                }
                _ => merged.push((size, st)),
            }
        }
        merged.reverse();
        let (inner_len, inner_strides) = merged.pop().unwrap_or((1, [0; K]));
        Self {
            outer: merged.iter().map(|d| d.0).collect(),
            outer_strides: std::array::from_fn(|k| merged.iter().map(|d| d.1[k]).collect()),
            base: offsets.map(|o| o as isize),
            inner_len,
            inner_strides,
        }
    }

    /// Number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.outer.iter().product()
    }

    /// Calls `f(segment, offsets)` for the rows that overlap `out`, where `out` holds the
    /// elements `start..start + out.len()` of the walk in row-major order: `segment` is the
    /// part of `out` inside one row and `offsets[k]` is where that part starts in operand `k`.
    /// Rows are cut wherever `out` begins or ends, so a pass can be split at any element.
    pub(crate) fn for_segments(
        &self,
        start: usize,
        out: &mut [f32],
        mut f: impl FnMut(&mut [f32], [usize; K]),
    ) {
        let len = self.inner_len;
        if out.is_empty() || len == 0 {
            return;
        }
        let end = start + out.len();
        self.for_rows(start / len, (end - 1) / len + 1, |row, offsets| {
            let row_start = row * len;
            let (from, to) = (start.max(row_start), end.min(row_start + len));
            let skip = (from - row_start) as isize;
            let offsets = std::array::from_fn(|k| {
                (offsets[k] as isize + skip * self.inner_strides[k]) as usize
            });
            f(&mut out[from - start..to - start], offsets);
        });
    }

    /// Calls `f(row, offsets)` for rows `start..end`, where `offsets[k]` is where the row
    /// starts in operand `k`'s buffer.
    pub(crate) fn for_rows(&self, start: usize, end: usize, mut f: impl FnMut(usize, [usize; K])) {
        if start >= end {
            return;
        }
        let nd = self.outer.len();
        let mut index: Dims = SmallVec::from_elem(0, nd);
        let mut rest = start;
        for d in (0..nd).rev() {
            index[d] = rest % self.outer[d];
            rest /= self.outer[d];
        }
        let mut offsets = self.base;
        for d in 0..nd {
            for (k, offset) in offsets.iter_mut().enumerate() {
                *offset += index[d] as isize * self.outer_strides[k][d];
            }
        }
        for row in start..end {
            f(row, offsets.map(|o| o as usize));
            // Advance the odometer.
            for d in (0..nd).rev() {
                index[d] += 1;
                for (k, offset) in offsets.iter_mut().enumerate() {
                    *offset += self.outer_strides[k][d];
                }
                if index[d] < self.outer[d] {
                    break;
                }
                for (k, offset) in offsets.iter_mut().enumerate() {
                    *offset -= self.outer[d] as isize * self.outer_strides[k][d];
                }
                index[d] = 0;
            }
        }
    }
}
