//! Joining and indexing along an axis: concat, stack, index_select, gather, and the
//! scatter-adds that are their gradients (index_add, scatter_add).
//!
//! Each works on the tensor seen as `[outer, axis, inner]`, where `outer` is the product of the
//! dimensions before the axis and `inner` of those after it.

use crate::buffer_pool;
use crate::error::{expect_ok, ErrorKind, Result, TensorError};
use crate::shape::{numel, resolve_new_axis, Axis, Dims};
use crate::Tensor;

/// `(outer, axis length, inner)` of a shape split at `axis`.
fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        numel(&shape[..axis]),
        shape[axis],
        numel(&shape[axis + 1..]),
    )
}

/// Checks that `index` holds whole numbers in `0..bound` and converts them.
fn to_indices(op: &'static str, values: &[f32], bound: usize) -> Result<Vec<usize>> {
    values
        .iter()
        .map(|&v| {
            if v >= 0.0 && v.fract() == 0.0 && (v as usize) < bound {
                Ok(v as usize)
            } else {
                Err(TensorError::new(
                    op,
                    ErrorKind::IndexOutOfRange,
                    format!("index {v} is not a whole number in 0..{bound}"),
                ))
            }
        })
        .collect()
}

impl Tensor {
    /// Joins tensors along an existing axis; all other dimensions must agree.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let a = Tensor::ones(&[2, 1]);
    /// let b = Tensor::zeros(&[2, 2]);
    /// assert_eq!(Tensor::concat(&[&a, &b], 1).to_vec(), vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn concat<A: Axis>(tensors: &[&Tensor], axis: A) -> Tensor {
        expect_ok(Self::try_concat(tensors, axis))
    }

    /// Fallible [`Tensor::concat`].
    pub fn try_concat<A: Axis>(tensors: &[&Tensor], axis: A) -> Result<Tensor> {
        let first = tensors.first().ok_or_else(|| {
            TensorError::new("concat", ErrorKind::InvalidArgument, "no tensors to join")
        })?;
        let axis = axis.resolve(first.ndim(), "concat")?;
        for t in tensors {
            let same_rest = t.ndim() == first.ndim()
                && (0..t.ndim()).all(|d| d == axis || t.shape()[d] == first.shape()[d]);
            if !same_rest {
                return Err(TensorError::new(
                    "concat",
                    ErrorKind::ShapeMismatch,
                    format!(
                        "shapes {:?} and {:?} differ outside axis {axis}",
                        first.shape(),
                        t.shape()
                    ),
                ));
            }
        }
        let total: usize = tensors.iter().map(|t| t.shape()[axis]).sum();
        let mut shape: Dims = first.shape().into();
        shape[axis] = total;
        let (outer, _, inner) = split_at_axis(&shape, axis);
        let parts: Vec<_> = tensors.iter().map(|t| t.values()).collect();
        let mut out = buffer_pool::take(numel(&shape));
        let mut at = 0;
        for o in 0..outer {
            for (t, part) in tensors.iter().zip(&parts) {
                let chunk = t.shape()[axis] * inner;
                out[at..at + chunk].copy_from_slice(&part[o * chunk..(o + 1) * chunk]);
                at += chunk;
            }
        }
        Ok(Tensor::from_dims(out, shape))
    }

    /// Joins tensors of one shape along a new axis.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let rows = [Tensor::ones(&[3]), Tensor::zeros(&[3])];
    /// let t = Tensor::stack(&[&rows[0], &rows[1]], 0);
    /// assert_eq!(t.shape(), &[2, 3]);
    /// ```
    #[track_caller]
    pub fn stack<A: Axis>(tensors: &[&Tensor], axis: A) -> Tensor {
        expect_ok(Self::try_stack(tensors, axis))
    }

    /// Fallible [`Tensor::stack`].
    pub fn try_stack<A: Axis>(tensors: &[&Tensor], axis: A) -> Result<Tensor> {
        let first = tensors.first().ok_or_else(|| {
            TensorError::new("stack", ErrorKind::InvalidArgument, "no tensors to stack")
        })?;
        if let Some(t) = tensors.iter().find(|t| t.shape() != first.shape()) {
            return Err(TensorError::new(
                "stack",
                ErrorKind::ShapeMismatch,
                format!("shapes {:?} and {:?} differ", first.shape(), t.shape()),
            ));
        }
        let axis = resolve_new_axis(axis, first.shape(), "stack")?;
        let expanded: Vec<Tensor> = tensors.iter().map(|t| t.unsqueeze(axis)).collect();
        let refs: Vec<&Tensor> = expanded.iter().collect();
        Self::try_concat(&refs, axis)
    }

    /// The slices at `indices` along `axis`, in that order (repeats allowed).
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let table = Tensor::arange(0.0, 6.0, 1.0).reshape(&[3, 2]);
    /// assert_eq!(table.index_select(0, &[2, 0]).to_vec(), vec![4.0, 5.0, 0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn index_select<A: Axis>(&self, axis: A, indices: &[usize]) -> Tensor {
        expect_ok(self.try_index_select(axis, indices))
    }

    /// Fallible [`Tensor::index_select`].
    pub fn try_index_select<A: Axis>(&self, axis: A, indices: &[usize]) -> Result<Tensor> {
        let axis = axis.resolve(self.ndim(), "index_select")?;
        let (outer, len, inner) = split_at_axis(self.shape(), axis);
        if let Some(&bad) = indices.iter().find(|&&i| i >= len) {
            return Err(TensorError::new(
                "index_select",
                ErrorKind::IndexOutOfRange,
                format!(
                    "index {bad} is outside axis {axis} of shape {:?}",
                    self.shape()
                ),
            ));
        }
        let src = self.values();
        let mut shape: Dims = self.shape().into();
        shape[axis] = indices.len();
        let mut out = buffer_pool::take(outer * indices.len() * inner);
        let mut at = 0;
        for o in 0..outer {
            for &i in indices {
                let from = (o * len + i) * inner;
                out[at..at + inner].copy_from_slice(&src[from..from + inner]);
                at += inner;
            }
        }
        Ok(Tensor::from_dims(out, shape))
    }

    /// Adds the slices of `source` into a copy of `self` at `indices` along `axis`
    /// (the gradient of [`Tensor::index_select`]; repeated indices accumulate).
    #[track_caller]
    pub fn index_add<A: Axis>(&self, axis: A, indices: &[usize], source: &Tensor) -> Tensor {
        expect_ok(self.try_index_add(axis, indices, source))
    }

    /// Fallible [`Tensor::index_add`].
    pub fn try_index_add<A: Axis>(
        &self,
        axis: A,
        indices: &[usize],
        source: &Tensor,
    ) -> Result<Tensor> {
        let axis = axis.resolve(self.ndim(), "index_add")?;
        let (outer, len, inner) = split_at_axis(self.shape(), axis);
        let mut expected: Dims = self.shape().into();
        expected[axis] = indices.len();
        if source.shape() != expected.as_slice() {
            return Err(TensorError::new(
                "index_add",
                ErrorKind::ShapeMismatch,
                format!("source should be {expected:?}, found {:?}", source.shape()),
            ));
        }
        if let Some(&bad) = indices.iter().find(|&&i| i >= len) {
            return Err(TensorError::new(
                "index_add",
                ErrorKind::IndexOutOfRange,
                format!(
                    "index {bad} is outside axis {axis} of shape {:?}",
                    self.shape()
                ),
            ));
        }
        let mut result = self.contiguous();
        let src = source.values();
        let out = result.data_mut();
        let mut at = 0;
        for o in 0..outer {
            for &i in indices {
                let to = (o * len + i) * inner;
                for (d, &s) in out[to..to + inner].iter_mut().zip(&src[at..at + inner]) {
                    *d += s;
                }
                at += inner;
            }
        }
        Ok(result)
    }

    /// Picks, along `axis`, the element whose position is given by `index` (a tensor of whole
    /// numbers with the same shape as `self` except along `axis`):
    /// `out[o, j, i] = self[o, index[o, j, i], i]`.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let scores = Tensor::from_vec(vec![0.1, 0.9, 0.7, 0.3], &[2, 2]);
    /// let picked = scores.gather(1, &Tensor::from_vec(vec![1.0, 0.0], &[2, 1]));
    /// assert_eq!(picked.to_vec(), vec![0.9, 0.7]);
    /// ```
    #[track_caller]
    pub fn gather<A: Axis>(&self, axis: A, index: &Tensor) -> Tensor {
        expect_ok(self.try_gather(axis, index))
    }

    /// Fallible [`Tensor::gather`].
    pub fn try_gather<A: Axis>(&self, axis: A, index: &Tensor) -> Result<Tensor> {
        let axis = axis.resolve(self.ndim(), "gather")?;
        check_index_shape("gather", self.shape(), index.shape(), axis)?;
        let (outer, len, inner) = split_at_axis(self.shape(), axis);
        let picks = index.shape()[axis];
        let positions = to_indices("gather", &index.values(), len)?;
        let src = self.values();
        let mut out = buffer_pool::take(positions.len());
        for o in 0..outer {
            for j in 0..picks {
                for i in 0..inner {
                    let at = (o * picks + j) * inner + i;
                    out[at] = src[(o * len + positions[at]) * inner + i];
                }
            }
        }
        Ok(Tensor::from_dims(out, index.shape().into()))
    }

    /// Adds `source` into a copy of `self` at the positions `index` names along `axis`
    /// (the gradient of [`Tensor::gather`]; repeated positions accumulate).
    #[track_caller]
    pub fn scatter_add<A: Axis>(&self, axis: A, index: &Tensor, source: &Tensor) -> Tensor {
        expect_ok(self.try_scatter_add(axis, index, source))
    }

    /// Fallible [`Tensor::scatter_add`].
    pub fn try_scatter_add<A: Axis>(
        &self,
        axis: A,
        index: &Tensor,
        source: &Tensor,
    ) -> Result<Tensor> {
        let axis = axis.resolve(self.ndim(), "scatter_add")?;
        check_index_shape("scatter_add", self.shape(), index.shape(), axis)?;
        if source.shape() != index.shape() {
            return Err(TensorError::new(
                "scatter_add",
                ErrorKind::ShapeMismatch,
                format!(
                    "source {:?} and index {:?} differ",
                    source.shape(),
                    index.shape()
                ),
            ));
        }
        let (outer, len, inner) = split_at_axis(self.shape(), axis);
        let picks = index.shape()[axis];
        let positions = to_indices("scatter_add", &index.values(), len)?;
        let src = source.values();
        let mut result = self.contiguous();
        let out = result.data_mut();
        for o in 0..outer {
            for j in 0..picks {
                for i in 0..inner {
                    let at = (o * picks + j) * inner + i;
                    out[(o * len + positions[at]) * inner + i] += src[at];
                }
            }
        }
        Ok(result)
    }
}

fn check_index_shape(
    op: &'static str,
    shape: &[usize],
    index: &[usize],
    axis: usize,
) -> Result<()> {
    let fits =
        index.len() == shape.len() && (0..shape.len()).all(|d| d == axis || index[d] == shape[d]);
    if fits {
        Ok(())
    } else {
        Err(TensorError::new(
            op,
            ErrorKind::ShapeMismatch,
            format!("index shape {index:?} must match {shape:?} on every axis but {axis}"),
        ))
    }
}
