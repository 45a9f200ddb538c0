//! `LayerNorm`: each example normalised over its own last dimensions (no batch statistics,
//! so training and evaluation behave alike), then scaled and shifted elementwise.

use crate::module::Module;
use crate::Params;
use strata_autograd::Var;
use strata_tensor::{expect_ok, ErrorKind, Result, Tensor, TensorError};

/// PyTorch's default `ε`, added to the variance before the square root.
pub const LAYER_NORM_EPS: f32 = 1e-5;

/// Layer normalisation over the trailing `normalized_shape` dimensions:
/// `y = (x − mean)/√(var + ε)·weight + bias`, with the mean and biased variance of each
/// example's last `normalized_shape.len()` dimensions; `weight` (ones) and `bias` (zeros)
/// have shape `normalized_shape`, as in PyTorch.
///
/// Composed from recorded ops (mean, subtract, square, …), so its gradient is theirs.
///
/// ```
/// use strata_modules::{LayerNorm, Module, Var};
/// use strata_tensor::{expect_ok, ErrorKind, Result, Tensor, TensorError};
/// let norm = LayerNorm::new(&[4]);
/// let x = Var::constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[1, 4]));
/// let y = norm.forward(&x).value().to_vec();
/// // mean 2.5, variance 1.25
/// assert!((y[0] + 1.5 / 1.25f32.sqrt()).abs() < 1e-4);
/// ```
#[derive(Debug, Params)]
pub struct LayerNorm {
    /// Scale, shaped `normalized_shape` (absent without affine transform).
    pub weight: Option<Var>,
    /// Shift, shaped `normalized_shape` (absent without affine transform).
    pub bias: Option<Var>,
    /// The trailing dimensions normalised over.
    #[module(skip)]
    normalized_shape: Vec<usize>,
    /// Added to the variance (default [`LAYER_NORM_EPS`]).
    #[module(skip)]
    pub eps: f32,
}

impl LayerNorm {
    /// Normalisation over the trailing dimensions `normalized_shape`, with a learned affine
    /// transform.
    pub fn new(normalized_shape: &[usize]) -> Self {
        Self::build(normalized_shape, true)
    }

    /// Normalisation only (PyTorch's `elementwise_affine=False`).
    pub fn without_affine(normalized_shape: &[usize]) -> Self {
        Self::build(normalized_shape, false)
    }

    fn build(normalized_shape: &[usize], affine: bool) -> Self {
        Self {
            weight: affine.then(|| Var::leaf(Tensor::ones(normalized_shape))),
            bias: affine.then(|| Var::leaf(Tensor::zeros(normalized_shape))),
            normalized_shape: normalized_shape.to_vec(),
            eps: LAYER_NORM_EPS,
        }
    }

    /// This layer with another `ε`.
    pub fn with_eps(self, eps: f32) -> Self {
        Self { eps, ..self }
    }

    /// The trailing dimensions normalised over.
    pub fn normalized_shape(&self) -> &[usize] {
        &self.normalized_shape
    }

    /// A new layer norm over the same shape with the same `ε` and affine choice, its weight
    /// and bias at their initial values.
    pub(crate) fn fresh(&self) -> Self {
        Self::build(&self.normalized_shape, self.weight.is_some()).with_eps(self.eps)
    }
}

impl Module for LayerNorm {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        let k = self.normalized_shape.len();
        if x.ndim() < k || x.shape()[x.ndim() - k..] != self.normalized_shape[..] {
            return Err(TensorError::new(
                "LayerNorm",
                ErrorKind::ShapeMismatch,
                format!(
                    "input {:?} does not end with the normalized shape {:?}",
                    x.shape(),
                    self.normalized_shape
                ),
            ));
        }
        let axes: Vec<usize> = (x.ndim() - k..x.ndim()).collect();
        let mut y = standardize(x, &axes, self.eps);
        if let Some(weight) = &self.weight {
            y = y.mul(weight);
        }
        if let Some(bias) = &self.bias {
            y = y.add(bias);
        }
        Ok(y)
    }
}

/// `(x − mean)/√(var + ε)` with the mean and biased variance over `axes` (kept as size-1
/// dimensions, so they broadcast back): the normalisation shared by layer and group norm.
pub(crate) fn standardize(x: &Var, axes: &[usize], eps: f32) -> Var {
    let centred = x.sub(&x.mean_axes(axes, true));
    let var = centred.square().mean_axes(axes, true);
    centred.div(&var.add_scalar(eps).sqrt())
}
