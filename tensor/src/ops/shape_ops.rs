//! Views that change how the buffer is read (reshape, permute, transpose, squeeze,
//! unsqueeze, broadcast, narrow, flatten). They share the buffer; only `reshape` of a
//! non-contiguous view copies.

use crate::error::{expect_ok, ErrorKind, Result, TensorError};
use crate::shape::{
    checked_numel, contiguous_strides, numel, resolve_axes, resolve_new_axis, Axis, Dims, Strides,
};
use crate::Tensor;

impl Tensor {
    /// The same elements with another shape; one dimension may be `-1` (inferred).
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let t = Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, -1]);
    /// assert_eq!(t.shape(), &[2, 3]);
    /// ```
    #[track_caller]
    pub fn reshape(&self, shape: &[isize]) -> Tensor {
        expect_ok(self.try_reshape(shape))
    }

    /// Fallible [`Tensor::reshape`].
    pub fn try_reshape(&self, shape: &[isize]) -> Result<Tensor> {
        let err = |msg: String| TensorError::new("reshape", ErrorKind::ShapeMismatch, msg);
        let mut inferred = None;
        for (i, &d) in shape.iter().enumerate() {
            if d < -1 || (d == -1 && inferred.replace(i).is_some()) {
                return Err(err(format!(
                    "only one dimension may be -1 (and none lower), got {shape:?}"
                )));
            }
        }
        let mut dims: Dims = shape.iter().map(|&d| d.max(0) as usize).collect();
        if let Some(i) = inferred {
            dims[i] = 1;
            let known = checked_numel(&dims, "reshape")?;
            if known == 0 || self.numel() % known != 0 {
                return Err(err(format!(
                    "cannot infer a dimension: {:?} ({} elements) into {shape:?}",
                    self.shape(),
                    self.numel()
                )));
            }
            dims[i] = self.numel() / known;
        }
        let count = checked_numel(&dims, "reshape")?;
        if count != self.numel() {
            return Err(err(format!(
                "{:?} ({} elements) cannot be viewed as {shape:?} ({count} elements)",
                self.shape(),
                self.numel(),
            )));
        }
        if dims[..] == self.shape()[..] && self.is_contiguous() {
            // Already that shape (the common no-op reshape of a backward rule).
            return Ok(self.clone());
        }
        Ok(self.reshape_dims(dims))
    }

    /// Reshape to known dimensions (the element count is already checked).
    pub(crate) fn reshape_dims(&self, dims: Dims) -> Tensor {
        let source = self.contiguous();
        let strides = contiguous_strides(&dims);
        source.view(dims, strides, source.offset())
    }

    /// Reorders the dimensions: output dimension `i` is input dimension `order[i]`.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let t = Tensor::zeros(&[2, 3, 4]).permute(&[2, 0, 1]);
    /// assert_eq!(t.shape(), &[4, 2, 3]);
    /// ```
    #[track_caller]
    pub fn permute<A: Axis>(&self, order: &[A]) -> Tensor {
        expect_ok(self.try_permute(order))
    }

    /// Fallible [`Tensor::permute`].
    pub fn try_permute<A: Axis>(&self, order: &[A]) -> Result<Tensor> {
        let resolved: Dims = order
            .iter()
            .map(|a| a.resolve(self.ndim(), "permute"))
            .collect::<Result<_>>()?;
        if resolved.len() != self.ndim() || resolve_axes(order, self.ndim(), "permute").is_err() {
            return Err(TensorError::new(
                "permute",
                ErrorKind::InvalidAxis,
                format!(
                    "{resolved:?} is not a permutation of the axes of shape {:?}",
                    self.shape()
                ),
            ));
        }
        let shape = resolved.iter().map(|&d| self.shape()[d]).collect();
        let strides = resolved.iter().map(|&d| self.strides()[d]).collect();
        Ok(self.view(shape, strides, self.offset()))
    }

    /// Swaps two dimensions.
    #[track_caller]
    pub fn transpose<A: Axis>(&self, a: A, b: A) -> Tensor {
        expect_ok(self.try_transpose(a, b))
    }

    /// Fallible [`Tensor::transpose`].
    pub fn try_transpose<A: Axis>(&self, a: A, b: A) -> Result<Tensor> {
        let a = a.resolve(self.ndim(), "transpose")?;
        let b = b.resolve(self.ndim(), "transpose")?;
        let mut order: Dims = (0..self.ndim()).collect();
        order.swap(a, b);
        self.try_permute(&order)
    }

    /// Transpose of a 2-D tensor (swap of the last two dimensions for N-D).
    #[track_caller]
    pub fn t(&self) -> Tensor {
        expect_ok(self.try_t())
    }

    /// Fallible [`Tensor::t`]: the tensor needs at least 2 dimensions.
    pub fn try_t(&self) -> Result<Tensor> {
        if self.ndim() < 2 {
            return Err(TensorError::new(
                "t",
                ErrorKind::InvalidAxis,
                format!(
                    "expects at least 2 dimensions, found shape {:?}",
                    self.shape()
                ),
            ));
        }
        self.try_transpose(-2, -1)
    }

    /// Removes one dimension of size 1.
    #[track_caller]
    pub fn squeeze<A: Axis>(&self, axis: A) -> Tensor {
        expect_ok(self.try_squeeze(axis))
    }

    /// Fallible [`Tensor::squeeze`].
    pub fn try_squeeze<A: Axis>(&self, axis: A) -> Result<Tensor> {
        let axis = axis.resolve(self.ndim(), "squeeze")?;
        if self.shape()[axis] != 1 {
            return Err(TensorError::new(
                "squeeze",
                ErrorKind::ShapeMismatch,
                format!(
                    "axis {axis} of shape {:?} has size {}, not 1",
                    self.shape(),
                    self.shape()[axis]
                ),
            ));
        }
        let mut shape: Dims = self.shape().into();
        let mut strides: Strides = self.strides().into();
        shape.remove(axis);
        strides.remove(axis);
        Ok(self.view(shape, strides, self.offset()))
    }

    /// Removes every dimension of size 1.
    pub fn squeeze_all(&self) -> Tensor {
        let keep = |&(d, _): &(usize, isize)| d != 1;
        let kept: Vec<(usize, isize)> = self
            .shape()
            .iter()
            .copied()
            .zip(self.strides().iter().copied())
            .filter(keep)
            .collect();
        self.view(
            kept.iter().map(|k| k.0).collect(),
            kept.iter().map(|k| k.1).collect(),
            self.offset(),
        )
    }

    /// Inserts a dimension of size 1 at `axis` (`0..=ndim`; `-1` appends).
    #[track_caller]
    pub fn unsqueeze<A: Axis>(&self, axis: A) -> Tensor {
        expect_ok(self.try_unsqueeze(axis))
    }

    /// Fallible [`Tensor::unsqueeze`].
    pub fn try_unsqueeze<A: Axis>(&self, axis: A) -> Result<Tensor> {
        let axis = resolve_new_axis(axis, self.shape(), "unsqueeze")?;
        let mut shape: Dims = self.shape().into();
        let mut strides: Strides = self.strides().into();
        let inner = if axis < self.ndim() {
            strides[axis] * shape[axis] as isize
        } else {
            1
        };
        shape.insert(axis, 1);
        strides.insert(axis, inner);
        Ok(self.view(shape, strides, self.offset()))
    }

    /// A view with the target shape under NumPy broadcasting (no copy: stride 0 on new axes).
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let t = Tensor::from_vec(vec![1.0, 2.0], &[2, 1]).broadcast_to(&[2, 3]);
    /// assert_eq!(t.to_vec(), vec![1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        expect_ok(self.try_broadcast_to(shape))
    }

    /// Fallible [`Tensor::broadcast_to`].
    pub fn try_broadcast_to(&self, shape: &[usize]) -> Result<Tensor> {
        let lead = shape.len().checked_sub(self.ndim());
        let fits = lead.is_some_and(|lead| {
            self.shape()
                .iter()
                .enumerate()
                .all(|(d, &s)| s == 1 || s == shape[d + lead])
        });
        if !fits {
            return Err(TensorError::new(
                "broadcast_to",
                ErrorKind::ShapeMismatch,
                format!("cannot broadcast {:?} to {shape:?}", self.shape()),
            ));
        }
        checked_numel(shape, "broadcast_to")?;
        let strides = crate::ops::elementwise::broadcast_strides(self, shape);
        Ok(self.view(shape.into(), strides, self.offset()))
    }

    /// The slice `start..start + len` along `axis` (a view).
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let t = Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]).narrow(1, 1, 2);
    /// assert_eq!(t.to_vec(), vec![1.0, 2.0, 4.0, 5.0]);
    /// ```
    #[track_caller]
    pub fn narrow<A: Axis>(&self, axis: A, start: usize, len: usize) -> Tensor {
        expect_ok(self.try_narrow(axis, start, len))
    }

    /// Fallible [`Tensor::narrow`].
    pub fn try_narrow<A: Axis>(&self, axis: A, start: usize, len: usize) -> Result<Tensor> {
        let axis = axis.resolve(self.ndim(), "narrow")?;
        let size = self.shape()[axis];
        if start.checked_add(len).is_none_or(|end| end > size) {
            return Err(TensorError::new(
                "narrow",
                ErrorKind::IndexOutOfRange,
                format!(
                    "range {start}..{} is outside axis {axis} of shape {:?}",
                    start.saturating_add(len),
                    self.shape()
                ),
            ));
        }
        let mut shape: Dims = self.shape().into();
        shape[axis] = len;
        let offset = if len == 0 {
            self.offset()
        } else {
            (self.offset() as isize + start as isize * self.strides()[axis]) as usize
        };
        Ok(self.view(shape, self.strides().into(), offset))
    }

    /// Merges dimensions `start..=end` into one.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// assert_eq!(Tensor::zeros(&[2, 3, 4, 5]).flatten(1, 3).shape(), &[2, 60]);
    /// ```
    #[track_caller]
    pub fn flatten<A: Axis>(&self, start: A, end: A) -> Tensor {
        expect_ok(self.try_flatten(start, end))
    }

    /// Fallible [`Tensor::flatten`].
    pub fn try_flatten<A: Axis>(&self, start: A, end: A) -> Result<Tensor> {
        if self.ndim() == 0 {
            return Ok(self.reshape_dims([1].as_slice().into()));
        }
        let start = start.resolve(self.ndim(), "flatten")?;
        let end = end.resolve(self.ndim(), "flatten")?;
        if start > end {
            return Err(TensorError::new(
                "flatten",
                ErrorKind::InvalidAxis,
                format!("start axis {start} is after end axis {end}"),
            ));
        }
        let mut dims: Dims = self.shape()[..start].into();
        dims.push(numel(&self.shape()[start..=end]));
        dims.extend_from_slice(&self.shape()[end + 1..]);
        Ok(self.reshape_dims(dims))
    }

    /// All elements in one dimension.
    pub fn flatten_all(&self) -> Tensor {
        self.reshape_dims([self.numel()].as_slice().into())
    }
}
