//! The `Tensor` type: a shape, strides and a shared, reference-counted f32 buffer.

use crate::buffer_pool::{self, PooledVec};
use crate::error::{expect_ok, ErrorKind, Result, TensorError};
use crate::shape::{checked_numel, contiguous_strides, numel, Dims, Strides};
use std::borrow::Cow;
use std::sync::Arc;

/// An N-dimensional array of `f32`, row-major, with a shared buffer: `clone` is cheap, and
/// views (transpose, permute, narrow, broadcast) share the buffer instead of copying it.
///
/// ```
/// use strata_tensor::Tensor;
/// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
/// let b = Tensor::from_vec(vec![10.0, 20.0], &[2]);
/// let c = &a + &b; // b is broadcast along the rows
/// assert_eq!(c.to_vec(), vec![11.0, 22.0, 13.0, 24.0]);
/// assert_eq!(a.t().to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
/// ```
#[derive(Clone)]
pub struct Tensor {
    buffer: Arc<PooledVec>,
    shape: Dims,
    strides: Strides,
    offset: usize,
}

impl Tensor {
    /// Wraps a row-major vector whose length equals the product of `shape` (unchecked).
    pub(crate) fn from_dims(data: Vec<f32>, shape: Dims) -> Self {
        debug_assert_eq!(data.len(), numel(&shape));
        let strides = contiguous_strides(&shape);
        Self {
            buffer: Arc::new(PooledVec::new(data)),
            shape,
            strides,
            offset: 0,
        }
    }

    /// A view of the same buffer with another layout (the caller keeps it in bounds).
    pub(crate) fn view(&self, shape: Dims, strides: Strides, offset: usize) -> Self {
        Self {
            buffer: Arc::clone(&self.buffer),
            shape,
            strides,
            offset,
        }
    }

    /// Builds a tensor from row-major data; panics if `data.len()` is not the product of `shape`.
    #[track_caller]
    pub fn from_vec(data: Vec<f32>, shape: &[usize]) -> Self {
        expect_ok(Self::try_from_vec(data, shape))
    }

    /// Builds a tensor from row-major data, checking that the shape can exist (see
    /// [`crate::try_numel`]) and that the length matches it.
    pub fn try_from_vec(data: Vec<f32>, shape: &[usize]) -> Result<Self> {
        let expected = checked_numel(shape, "from_vec")?;
        if data.len() != expected {
            return Err(TensorError::new(
                "from_vec",
                ErrorKind::LengthMismatch,
                format!(
                    "shape {shape:?} needs {expected} elements, found {}",
                    data.len()
                ),
            ));
        }
        Ok(Self::from_dims(data, shape.into()))
    }

    /// Builds a tensor by copying a slice.
    #[track_caller]
    pub fn from_slice(data: &[f32], shape: &[usize]) -> Self {
        Self::from_vec(data.to_vec(), shape)
    }

    /// A 0-dimensional tensor holding one value.
    pub fn scalar(value: f32) -> Self {
        Self::from_dims(vec![value], Dims::new())
    }

    /// A tensor filled with `value`; panics if the shape holds more than
    /// [`crate::MAX_NUMEL`] elements.
    #[track_caller]
    pub fn full(shape: &[usize], value: f32) -> Self {
        let mut data = buffer_pool::take(numel(shape));
        data.fill(value);
        Self::from_dims(data, shape.into())
    }

    /// A tensor of zeros (panics like [`Tensor::full`]).
    #[track_caller]
    pub fn zeros(shape: &[usize]) -> Self {
        Self::from_dims(buffer_pool::take_zeroed(numel(shape)), shape.into())
    }

    /// A tensor whose elements are unspecified: each is zero or a value an earlier tensor
    /// left in the reused buffer. For work buffers that are overwritten in full: it saves the
    /// zero fill of [`Tensor::zeros`] (megabytes per step for a recurrent layer's states).
    /// Panics like [`Tensor::zeros`] on an impossible shape.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let mut t = Tensor::empty(&[2, 3]);
    /// t.data_mut().fill(1.5);
    /// assert_eq!(t.to_vec(), vec![1.5; 6]);
    /// ```
    #[track_caller]
    pub fn empty(shape: &[usize]) -> Self {
        Self::from_dims(buffer_pool::take(numel(shape)), shape.into())
    }

    /// A tensor of ones (panics like [`Tensor::full`]).
    #[track_caller]
    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, 1.0)
    }

    /// Zeros with the shape of `self`.
    #[track_caller]
    pub fn zeros_like(&self) -> Self {
        Self::zeros(&self.shape)
    }

    /// Ones with the shape of `self`.
    #[track_caller]
    pub fn ones_like(&self) -> Self {
        Self::ones(&self.shape)
    }

    /// `value` everywhere, with the shape of `self`.
    #[track_caller]
    pub fn full_like(&self, value: f32) -> Self {
        Self::full(&self.shape, value)
    }

    /// The 1-D tensor `start, start + step, …` up to (not including) `end`.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// assert_eq!(Tensor::arange(0.0, 1.0, 0.25).to_vec(), vec![0.0, 0.25, 0.5, 0.75]);
    /// ```
    #[track_caller]
    pub fn arange(start: f32, end: f32, step: f32) -> Self {
        expect_ok(Self::try_arange(start, end, step))
    }

    /// Fallible [`Tensor::arange`]: the step must be non-zero and point from start to end.
    pub fn try_arange(start: f32, end: f32, step: f32) -> Result<Self> {
        let count = ((end - start) / step).ceil();
        if !count.is_finite() || step == 0.0 || count < 0.0 {
            return Err(TensorError::new(
                "arange",
                ErrorKind::InvalidArgument,
                format!("cannot step from {start} to {end} by {step}"),
            ));
        }
        let count = checked_numel(&[count as usize], "arange")?;
        let data = (0..count).map(|i| start + i as f32 * step).collect();
        Ok(Self::from_dims(data, [count].as_slice().into()))
    }

    /// The `n × n` identity matrix (panics like [`Tensor::full`]).
    #[track_caller]
    pub fn eye(n: usize) -> Self {
        let mut data = buffer_pool::take_zeroed(numel(&[n, n]));
        for i in 0..n {
            data[i * n + i] = 1.0;
        }
        Self::from_dims(data, [n, n].as_slice().into())
    }

    /// The dimensions.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The strides of each dimension, in elements (0 on broadcast dimensions).
    pub fn strides(&self) -> &[isize] {
        &self.strides
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }

    /// Size of one dimension (negative axes count from the back); panics on a bad axis.
    #[track_caller]
    pub fn dim<A: crate::Axis>(&self, axis: A) -> usize {
        self.shape[expect_ok(axis.resolve(self.ndim(), "dim"))]
    }

    /// Offset of the first element in the buffer.
    pub(crate) fn offset(&self) -> usize {
        self.offset
    }

    /// The whole underlying buffer (views index into it with `offset` and `strides`).
    pub(crate) fn buffer(&self) -> &[f32] {
        self.buffer.as_slice()
    }

    /// Whether the elements are stored densely in row-major order.
    pub fn is_contiguous(&self) -> bool {
        if self.numel() == 0 {
            return true;
        }
        let mut expected = 1isize;
        for (&dim, &stride) in self.shape.iter().zip(&self.strides).rev() {
            if dim != 1 && stride != expected {
                return false;
            }
            expected *= dim as isize;
        }
        true
    }

    /// The elements as a row-major slice, if the tensor is contiguous.
    pub fn as_slice(&self) -> Option<&[f32]> {
        self.is_contiguous()
            .then(|| &self.buffer.as_slice()[self.offset..self.offset + self.numel()])
    }

    /// The elements in row-major order, borrowed when contiguous, copied otherwise.
    pub fn values(&self) -> Cow<'_, [f32]> {
        match self.as_slice() {
            Some(slice) => Cow::Borrowed(slice),
            None => Cow::Owned(self.contiguous().into_vec()),
        }
    }

    /// The elements in row-major order, as a new vector.
    pub fn to_vec(&self) -> Vec<f32> {
        self.values().into_owned()
    }

    /// The elements as a vector, without copying when this tensor owns a dense buffer alone.
    pub fn into_vec(self) -> Vec<f32> {
        if self.offset == 0 && self.is_contiguous() && self.buffer.as_slice().len() == self.numel()
        {
            match Arc::try_unwrap(self.buffer) {
                Ok(buffer) => buffer.into_vec(),
                Err(shared) => shared.as_slice().to_vec(),
            }
        } else {
            self.to_vec()
        }
    }

    /// A contiguous tensor with the same values (a cheap clone when already contiguous).
    pub fn contiguous(&self) -> Self {
        if self.is_contiguous() {
            return self.clone();
        }
        self.map(|x| x)
    }

    /// The single value of a one-element tensor; panics otherwise.
    #[track_caller]
    pub fn item(&self) -> f32 {
        expect_ok(self.try_item())
    }

    /// Fallible [`Tensor::item`].
    pub fn try_item(&self) -> Result<f32> {
        if self.numel() != 1 {
            return Err(TensorError::new(
                "item",
                ErrorKind::InvalidArgument,
                format!("needs exactly one element, shape is {:?}", self.shape),
            ));
        }
        Ok(self.buffer.as_slice()[self.offset])
    }

    /// The element at a multi-index; panics when out of range.
    #[track_caller]
    pub fn get(&self, index: &[usize]) -> f32 {
        expect_ok(self.try_get(index))
    }

    /// Fallible [`Tensor::get`].
    pub fn try_get(&self, index: &[usize]) -> Result<f32> {
        if index.len() != self.ndim() || index.iter().zip(&self.shape).any(|(&i, &d)| i >= d) {
            return Err(TensorError::new(
                "get",
                ErrorKind::IndexOutOfRange,
                format!("index {index:?} is outside shape {:?}", self.shape),
            ));
        }
        let position = index
            .iter()
            .zip(&self.strides)
            .fold(self.offset as isize, |acc, (&i, &s)| acc + i as isize * s);
        Ok(self.buffer.as_slice()[position as usize])
    }

    /// Mutable access to the elements in row-major order. The buffer is copied first when it
    /// is shared with another tensor or when this tensor is a non-contiguous view, so writes
    /// never show through other tensors.
    pub fn data_mut(&mut self) -> &mut [f32] {
        let dense = self.offset == 0
            && self.is_contiguous()
            && self.buffer.as_slice().len() == self.numel();
        if !dense || Arc::get_mut(&mut self.buffer).is_none() {
            let copy = self.to_vec();
            *self = Self::from_dims(copy, self.shape.clone());
        }
        match Arc::get_mut(&mut self.buffer) {
            Some(buffer) => buffer.as_mut_slice(),
            None => unreachable!("a freshly copied buffer has one owner"),
        }
    }

    /// Whether two tensors share the same buffer (one may be a view of the other).
    pub fn shares_buffer(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.buffer, &other.buffer)
    }
}

impl Default for Tensor {
    /// The scalar 0.
    fn default() -> Self {
        Self::scalar(0.0)
    }
}

impl PartialEq for Tensor {
    /// Equal shapes and equal values (NaN is never equal): `a == b` is one `bool`, as
    /// `torch.equal`. The element-wise comparison, as `torch.eq`, is [`Tensor::eq`].
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0], &[2]);
    /// assert!(a == a.clone());
    /// assert!(a != a.reshape(&[1, 2]));
    /// assert_eq!(a.eq(&Tensor::scalar(2.0)).to_vec(), vec![0.0, 1.0]);
    /// ```
    fn eq(&self, other: &Self) -> bool {
        self.shape == other.shape && self.values() == other.values()
    }
}
