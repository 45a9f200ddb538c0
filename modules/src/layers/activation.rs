//! Activation modules: the non-linearities between dense layers (without them a stack of
//! linear maps collapses into one), plus `Identity`, `Flatten` and `Unflatten`.

use crate::module::Module;
use crate::Params;
use strata_autograd::Var;
use strata_tensor::{expect_ok, ErrorKind, Result, TensorError};

/// `1 / (1 + e⁻ˣ)`, into (0, 1).
#[derive(Debug, Clone, Copy, Default, Params)]
pub struct Sigmoid;

impl Module for Sigmoid {
    fn forward(&self, x: &Var) -> Var {
        x.sigmoid()
    }
}

/// Hyperbolic tangent, into (−1, 1).
#[derive(Debug, Clone, Copy, Default, Params)]
pub struct Tanh;

impl Module for Tanh {
    fn forward(&self, x: &Var) -> Var {
        x.tanh()
    }
}

/// `max(x, 0)`.
#[derive(Debug, Clone, Copy, Default, Params)]
pub struct Relu;

impl Module for Relu {
    fn forward(&self, x: &Var) -> Var {
        x.relu()
    }
}

/// GELU, `x·Φ(x)` (exact form).
#[derive(Debug, Clone, Copy, Default, Params)]
pub struct Gelu;

impl Module for Gelu {
    fn forward(&self, x: &Var) -> Var {
        x.gelu()
    }
}

/// GELU, tanh approximation `½x(1 + tanh(√(2/π)(x + 0.044715x³)))` (PyTorch's
/// `nn.GELU(approximate="tanh")`).
#[derive(Debug, Clone, Copy, Default, Params)]
pub struct GeluTanh;

impl Module for GeluTanh {
    fn forward(&self, x: &Var) -> Var {
        x.gelu_tanh()
    }
}

/// SiLU (swish), `x·σ(x)`.
#[derive(Debug, Clone, Copy, Default, Params)]
pub struct Silu;

impl Module for Silu {
    fn forward(&self, x: &Var) -> Var {
        x.silu()
    }
}

/// Mish, `x·tanh(ln(1 + eˣ))`.
#[derive(Debug, Clone, Copy, Default, Params)]
pub struct Mish;

impl Module for Mish {
    fn forward(&self, x: &Var) -> Var {
        x.mish()
    }
}

/// Passes its input through unchanged.
#[derive(Debug, Clone, Copy, Default, Params)]
pub struct Identity;

impl Module for Identity {
    fn forward(&self, x: &Var) -> Var {
        x.clone()
    }
}

/// `x` for positive inputs, `slope·x` otherwise.
#[derive(Debug, Clone, Copy, Params)]
pub struct LeakyRelu {
    /// Slope for negative inputs (PyTorch's default is 0.01).
    #[module(skip)]
    pub slope: f32,
}

impl Default for LeakyRelu {
    fn default() -> Self {
        Self { slope: 0.01 }
    }
}

impl Module for LeakyRelu {
    fn forward(&self, x: &Var) -> Var {
        x.leaky_relu(self.slope)
    }
}

/// Softmax along an axis: non-negative outputs that sum to 1 (a distribution over classes).
#[derive(Debug, Clone, Copy, Params)]
pub struct Softmax {
    /// The axis (negative counts from the back).
    #[module(skip)]
    pub axis: isize,
}

impl Default for Softmax {
    /// Along the last axis.
    fn default() -> Self {
        Self { axis: -1 }
    }
}

impl Module for Softmax {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        x.try_softmax(self.axis)
    }
}

/// Log-softmax along an axis (log-probabilities, for NLL).
#[derive(Debug, Clone, Copy, Params)]
pub struct LogSoftmax {
    /// The axis (negative counts from the back).
    #[module(skip)]
    pub axis: isize,
}

impl Default for LogSoftmax {
    /// Along the last axis.
    fn default() -> Self {
        Self { axis: -1 }
    }
}

impl Module for LogSoftmax {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        x.try_log_softmax(self.axis)
    }
}

/// Merges all dimensions after the batch axis: `[N, …] → [N, Π…]`.
#[derive(Debug, Clone, Copy, Default, Params)]
pub struct Flatten;

impl Module for Flatten {
    fn forward(&self, x: &Var) -> Var {
        if x.ndim() < 2 {
            x.clone()
        } else {
            x.flatten(1, -1)
        }
    }
}

/// Splits the dimension after the batch axis into `shape`: `[N, Π shape] → [N, shape…]`
/// (PyTorch's `nn.Unflatten(1, shape)`), e.g. flat pixels back into `[C, H, W]` images.
///
/// ```
/// use strata_modules::{Module, Unflatten, Var};
/// use strata_tensor::Tensor;
/// let y = Unflatten::new(&[2, 3]).forward(&Var::constant(Tensor::zeros(&[4, 6])));
/// assert_eq!(y.shape(), &[4, 2, 3]);
/// ```
#[derive(Debug, Clone, Params)]
pub struct Unflatten {
    /// The shape each example's values take.
    #[module(skip)]
    shape: Vec<usize>,
}

impl Unflatten {
    /// Examples shaped `shape`.
    pub fn new(shape: &[usize]) -> Self {
        Self {
            shape: shape.to_vec(),
        }
    }
}

impl Module for Unflatten {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        let per_example: usize = self.shape.iter().product();
        match x.shape() {
            &[n, width] if width == per_example => {
                let shape: Vec<isize> = std::iter::once(n)
                    .chain(self.shape.iter().copied())
                    .map(|d| d as isize)
                    .collect();
                x.try_reshape(&shape)
            }
            found => Err(TensorError::new(
                "Unflatten",
                ErrorKind::ShapeMismatch,
                format!(
                    "expected [N, {per_example}] to split into {:?}, found {found:?}",
                    self.shape
                ),
            )),
        }
    }
}
