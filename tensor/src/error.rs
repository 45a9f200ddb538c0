//! The error type of tensor operations.

use std::fmt;

/// What went wrong in a tensor operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Two shapes that had to agree (or broadcast) did not.
    ShapeMismatch,
    /// An axis was outside `-ndim..ndim`, or repeated.
    InvalidAxis,
    /// A buffer length did not match the number of elements of a shape.
    LengthMismatch,
    /// An index was outside the valid range.
    IndexOutOfRange,
    /// An argument had a value the operation cannot accept.
    InvalidArgument,
}

/// Error returned by the `try_` operations; its message names the op and the shapes involved.
///
/// ```
/// use strata_tensor::Tensor;
/// let a = Tensor::zeros(&[32, 784]);
/// let b = Tensor::zeros(&[512, 256]);
/// let err = a.try_matmul(&b).unwrap_err();
/// assert_eq!(err.to_string(), "matmul: inner dimensions differ: [32, 784] x [512, 256]");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorError {
    op: &'static str,
    kind: ErrorKind,
    message: String,
}

impl TensorError {
    /// Builds an error for `op` with a message that names what was expected and found.
    pub fn new(op: &'static str, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            op,
            kind,
            message: message.into(),
        }
    }

    /// The operation that failed, e.g. `"matmul"`.
    pub fn op(&self) -> &'static str {
        self.op
    }

    /// The category of the failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.op, self.message)
    }
}

impl std::error::Error for TensorError {}

/// Result of a fallible tensor operation.
pub type Result<T> = std::result::Result<T, TensorError>;

/// Unwraps the result of a `try_` operation, panicking at the caller's line with the error
/// message: how the panicking twin of every `try_` operation is written (in the crates above
/// too). Called from a `#[track_caller]` function, the panic points at that function's
/// caller; called inside a closure, it would point at the closure.
#[track_caller]
pub fn expect_ok<T>(result: Result<T>) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("{err}"),
    }
}
