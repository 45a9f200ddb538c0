//! Shapes, axes and the NumPy broadcasting rule.

use crate::error::{expect_ok, ErrorKind, Result, TensorError};
use smallvec::SmallVec;

/// Inline storage for the dimensions of a tensor (no heap allocation up to 6 dimensions).
pub type Dims = SmallVec<[usize; 6]>;

/// Inline storage for strides, counted in elements.
pub type Strides = SmallVec<[isize; 6]>;

/// An axis index: `usize` counts from the front, negative `i32`/`isize` from the back (`-1` is the last axis).
pub trait Axis: Copy {
    /// The axis as written by the caller (negative counts from the back), for messages.
    fn signed(self) -> isize;

    /// Resolves the axis against a tensor of `ndim` dimensions.
    fn resolve(self, ndim: usize, op: &'static str) -> Result<usize> {
        let axis = self.signed();
        let resolved = if axis < 0 { axis + ndim as isize } else { axis };
        if (0..ndim as isize).contains(&resolved) {
            Ok(resolved as usize)
        } else {
            Err(TensorError::new(
                op,
                ErrorKind::InvalidAxis,
                format!("axis {axis} is out of range for a tensor with {ndim} dimensions"),
            ))
        }
    }
}

impl Axis for usize {
    fn signed(self) -> isize {
        // Saturate, so that a huge index stays out of range instead of wrapping to negative.
        self.min(isize::MAX as usize) as isize
    }
}

impl Axis for isize {
    fn signed(self) -> isize {
        self
    }
}

impl Axis for i32 {
    fn signed(self) -> isize {
        self as isize
    }
}

/// Resolves where a new axis goes when inserted into `shape` (`0..=ndim`; `-1` appends).
pub(crate) fn resolve_new_axis<A: Axis>(
    axis: A,
    shape: &[usize],
    op: &'static str,
) -> Result<usize> {
    let ndim = shape.len();
    axis.resolve(ndim + 1, op).map_err(|_| {
        TensorError::new(
            op,
            ErrorKind::InvalidAxis,
            format!(
                "cannot insert axis {} into shape {shape:?} (valid: -{}..={ndim})",
                axis.signed(),
                ndim + 1
            ),
        )
    })
}

/// Resolves a list of axes, rejecting repeats; the result is sorted.
pub(crate) fn resolve_axes<A: Axis>(axes: &[A], ndim: usize, op: &'static str) -> Result<Dims> {
    let mut resolved: Dims = axes
        .iter()
        .map(|a| a.resolve(ndim, op))
        .collect::<Result<_>>()?;
    resolved.sort_unstable();
    if resolved.windows(2).any(|w| w[0] == w[1]) {
        return Err(TensorError::new(
            op,
            ErrorKind::InvalidAxis,
            format!("repeated axis in {resolved:?}"),
        ));
    }
    Ok(resolved)
}

/// The most elements a tensor may hold: its `f32` buffer must fit in `isize::MAX` bytes, the
/// largest allocation Rust allows.
pub const MAX_NUMEL: usize = isize::MAX as usize / std::mem::size_of::<f32>();

/// Number of elements of a shape (1 for a scalar), checked: the dimensions, a zero counted as
/// one (so the strides of an empty tensor stay representable too), must multiply to at most
/// [`MAX_NUMEL`]; `op` names the operation in the error.
pub(crate) fn checked_numel(shape: &[usize], op: &'static str) -> Result<usize> {
    let fits = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d.max(1)))
        .is_some_and(|extent| extent <= MAX_NUMEL);
    if fits {
        Ok(shape.iter().product())
    } else {
        Err(TensorError::new(
            op,
            ErrorKind::InvalidArgument,
            format!("expected a shape of at most {MAX_NUMEL} elements, found {shape:?}"),
        ))
    }
}

/// Fallible [`numel`]: an error for a shape with more elements than a tensor can hold.
///
/// ```
/// use strata_tensor::try_numel;
/// assert_eq!(try_numel(&[2, 3, 4]).unwrap(), 24);
/// assert!(try_numel(&[1 << 32, 1 << 32]).is_err());
/// ```
pub fn try_numel(shape: &[usize]) -> Result<usize> {
    checked_numel(shape, "numel")
}

/// Number of elements of a shape (1 for a scalar); panics when the product overflows or
/// exceeds [`MAX_NUMEL`] (see [`try_numel`]).
#[track_caller]
pub fn numel(shape: &[usize]) -> usize {
    expect_ok(try_numel(shape))
}

/// Row-major strides of a dense tensor with this shape.
pub(crate) fn contiguous_strides(shape: &[usize]) -> Strides {
    let mut strides: Strides = SmallVec::from_elem(0, shape.len());
    let mut step = 1isize;
    for (stride, &dim) in strides.iter_mut().zip(shape).rev() {
        *stride = step;
        step *= dim.max(1) as isize;
    }
    strides
}

/// The shape two operands broadcast to under NumPy's rule (dimensions aligned from the right;
/// each pair equal or one of them 1).
///
/// ```
/// use strata_tensor::broadcast_shapes;
/// assert_eq!(broadcast_shapes(&[4, 1, 3], &[5, 1], "add").unwrap().as_slice(), &[4, 5, 3]);
/// assert!(broadcast_shapes(&[2, 3], &[4], "add").is_err());
/// ```
pub fn broadcast_shapes(a: &[usize], b: &[usize], op: &'static str) -> Result<Dims> {
    let ndim = a.len().max(b.len());
    let mut out: Dims = SmallVec::from_elem(0, ndim);
    for i in 0..ndim {
        let da = if i < ndim - a.len() {
            1
        } else {
            a[i - (ndim - a.len())]
        };
        let db = if i < ndim - b.len() {
            1
        } else {
            b[i - (ndim - b.len())]
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(TensorError::new(
                    op,
                    ErrorKind::ShapeMismatch,
                    format!("shapes {a:?} and {b:?} cannot be broadcast together"),
                ))
            }
        };
    }
    Ok(out)
}
