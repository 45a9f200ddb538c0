//! `Dense` (a.k.a. Linear): many pattern detectors at once, `y = x·Wᵀ + b`.

use crate::init::Init;
use crate::module::Module;
use crate::Params;
use strata_autograd::Var;
use strata_tensor::{expect_ok, ErrorKind, Result, Rng, Tensor, TensorError};

/// A fully connected layer on `[N, in]` or `[N, T, in]` batches: each output is the scalar
/// product of the input with one row of the weight `[out, in]` (one learned pattern), plus a
/// bias.
///
/// Default initialisation (PyTorch's): weight and bias `U(−1/√in, 1/√in)`.
///
/// ```
/// use strata_modules::{Dense, Module, Var};
/// use strata_tensor::{Rng, Tensor};
/// let layer = Dense::new(3, 2, &mut Rng::new(0));
/// let y = layer.forward(&Var::constant(Tensor::ones(&[4, 5, 3])));
/// assert_eq!(y.shape(), &[4, 5, 2]);
/// ```
#[derive(Params)]
pub struct Dense {
    /// `[out, in]`.
    pub weight: Var,
    /// `[out]`, if any.
    pub bias: Option<Var>,
}

impl Dense {
    /// A layer with bias and the default initialisation.
    pub fn new(in_features: usize, out_features: usize, rng: &mut Rng) -> Self {
        Self::with_init(
            in_features,
            out_features,
            true,
            Init::PytorchDefault,
            Init::PytorchDefault,
            rng,
        )
    }

    /// A layer without bias, default initialisation.
    pub fn without_bias(in_features: usize, out_features: usize, rng: &mut Rng) -> Self {
        Self::with_init(
            in_features,
            out_features,
            false,
            Init::PytorchDefault,
            Init::PytorchDefault,
            rng,
        )
    }

    /// A layer with chosen initialisers (the bias uses the layer's fan-in).
    pub fn with_init(
        in_features: usize,
        out_features: usize,
        bias: bool,
        weight_init: Init,
        bias_init: Init,
        rng: &mut Rng,
    ) -> Self {
        let weight = weight_init.tensor(&[out_features, in_features], rng);
        let bias = bias.then(|| bias_init.tensor_with_fan_in(&[out_features], in_features, rng));
        Self {
            weight: Var::leaf(weight),
            bias: bias.map(Var::leaf),
        }
    }

    /// A layer from given values: weight `[out, in]`, bias `[out]`.
    pub fn from_tensors(weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
        let fits = weight.ndim() == 2
            && bias
                .as_ref()
                .is_none_or(|b| b.shape() == [weight.shape()[0]]);
        if !fits {
            return Err(TensorError::new(
                "Dense",
                ErrorKind::ShapeMismatch,
                format!(
                    "weight should be [out, in] and bias [out], found {:?} and {:?}",
                    weight.shape(),
                    bias.as_ref().map(|b| b.shape().to_vec())
                ),
            ));
        }
        Ok(Self {
            weight: Var::leaf(weight),
            bias: bias.map(Var::leaf),
        })
    }

    /// Input width.
    pub fn in_features(&self) -> usize {
        self.weight.shape()[1]
    }

    /// Output width.
    pub fn out_features(&self) -> usize {
        self.weight.shape()[0]
    }
}

impl Module for Dense {
    /// `x·Wᵀ + b`; panics at the caller's line when the last axis of `x` is not `in`.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        x.try_linear(&self.weight, self.bias.as_ref())
    }
}
