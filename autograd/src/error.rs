//! Errors of the differentiation machinery.

use std::fmt;
use strata_tensor::TensorError;

/// What went wrong in `backward`, when reading a gradient, or in `gradcheck`.
#[derive(Debug, Clone, PartialEq)]
pub enum AutogradError {
    /// `backward()` was called on a value with more than one element without a seed gradient.
    NotScalar {
        /// Shape of the value.
        shape: Vec<usize>,
    },
    /// The seed gradient given to `backward_with_seed` does not match the value's shape.
    SeedShape {
        /// Shape of the value.
        expected: Vec<usize>,
        /// Shape of the seed.
        found: Vec<usize>,
    },
    /// `backward` was called on a value that no tracked parameter contributes to.
    Untracked,
    /// The graph was already consumed by an earlier `backward` (use `backward_retain` to keep it).
    GraphFreed {
        /// The op whose recorded graph was gone.
        op: &'static str,
    },
    /// A gradient was read for a value that is not a tracked leaf.
    NotTrackedLeaf,
    /// A tracked leaf did not take part in the computation that was differentiated.
    NoGradient,
    /// Anomaly mode found a NaN or infinity in a gradient.
    Anomaly {
        /// The op whose backward produced it.
        op: &'static str,
        /// Shapes of that op's inputs.
        input_shapes: Vec<Vec<usize>>,
    },
    /// A tensor operation failed (in `gradcheck`, for instance).
    Tensor(TensorError),
}

impl fmt::Display for AutogradError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotScalar { shape } => write!(
                f,
                "backward: the value has shape {shape:?}, not a single element; pass a seed gradient with backward_with_seed"
            ),
            Self::SeedShape { expected, found } => write!(
                f,
                "backward: the seed gradient should have shape {expected:?}, found {found:?}"
            ),
            Self::Untracked => write!(
                f,
                "backward: no tracked parameter contributes to this value (was it computed under no_grad, or from constants only?)"
            ),
            Self::GraphFreed { op } => write!(
                f,
                "backward: the graph through `{op}` was freed by an earlier backward; call backward_retain the first time to differentiate twice"
            ),
            Self::NotTrackedLeaf => write!(
                f,
                "gradient: this value is not a tracked leaf (create parameters with Var::leaf)"
            ),
            Self::NoGradient => write!(
                f,
                "gradient: this tracked leaf did not take part in the differentiated computation"
            ),
            Self::Anomaly { op, input_shapes } => write!(
                f,
                "anomaly: the backward of `{op}` (inputs {input_shapes:?}) produced NaN or infinity"
            ),
            Self::Tensor(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for AutogradError {}

impl From<TensorError> for AutogradError {
    fn from(err: TensorError) -> Self {
        Self::Tensor(err)
    }
}
