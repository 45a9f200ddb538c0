//! Weight initialisers, all drawing from an explicit seeded [`Rng`].

use strata_tensor::{Rng, Tensor};

/// How to fill a parameter tensor.
///
/// Fans follow PyTorch: for a weight `[out, in, k…]`, `fan_in = in·Πk` and `fan_out = out·Πk`;
/// a 1-D tensor has `fan_in = fan_out = len`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// `U(−1/√fan_in, 1/√fan_in)`: PyTorch's default for Linear and Conv weights and biases
    /// (give the bias its layer's fan-in with [`Init::tensor_with_fan_in`]).
    PytorchDefault,
    /// Glorot/Xavier uniform: `U(−a, a)`, `a = gain·√(6/(fan_in + fan_out))`.
    XavierUniform {
        /// Scale for the activation that follows (1 for linear/sigmoid, 5/3 for tanh).
        gain: f32,
    },
    /// Glorot/Xavier normal: `N(0, σ²)`, `σ = gain·√(2/(fan_in + fan_out))`.
    XavierNormal {
        /// Scale for the activation that follows.
        gain: f32,
    },
    /// He/Kaiming uniform (fan-in mode): `U(−b, b)`, `b = gain·√(3/fan_in)`.
    KaimingUniform {
        /// √2 for ReLU.
        gain: f32,
    },
    /// He/Kaiming normal (fan-in mode): `N(0, σ²)`, `σ = gain/√fan_in`.
    KaimingNormal {
        /// √2 for ReLU.
        gain: f32,
    },
    /// `U(low, high)`.
    Uniform {
        /// Lower bound.
        low: f32,
        /// Upper bound (exclusive).
        high: f32,
    },
    /// `N(mean, std²)`.
    Normal {
        /// Mean.
        mean: f32,
        /// Standard deviation.
        std: f32,
    },
    /// Every element `value` (zeros, ones, …).
    Constant(f32),
}

/// The gain PyTorch recommends for ReLU, √2.
pub const RELU_GAIN: f32 = std::f32::consts::SQRT_2;

/// `(fan_in, fan_out)` of a parameter shape.
pub fn fans(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] => (1, 1),
        [n] => (*n, *n),
        [out, input, kernel @ ..] => {
            let receptive: usize = kernel.iter().product();
            (input * receptive, out * receptive)
        }
    }
}

impl Init {
    /// A tensor of `shape` filled by this rule.
    pub fn tensor(&self, shape: &[usize], rng: &mut Rng) -> Tensor {
        self.tensor_with_fan_in(shape, fans(shape).0, rng)
    }

    /// Like [`Init::tensor`] but with an explicit fan-in (a bias uses its layer's).
    pub fn tensor_with_fan_in(&self, shape: &[usize], fan_in: usize, rng: &mut Rng) -> Tensor {
        let fan_out = fans(shape).1;
        let fan_in = fan_in.max(1) as f32;
        match *self {
            Init::PytorchDefault => {
                let bound = 1.0 / fan_in.sqrt();
                Tensor::rand_uniform(shape, -bound, bound, rng)
            }
            Init::XavierUniform { gain } => {
                let bound = gain * (6.0 / (fan_in + fan_out as f32)).sqrt();
                Tensor::rand_uniform(shape, -bound, bound, rng)
            }
            Init::XavierNormal { gain } => {
                let std = gain * (2.0 / (fan_in + fan_out as f32)).sqrt();
                Tensor::rand_normal(shape, 0.0, std, rng)
            }
            Init::KaimingUniform { gain } => {
                let bound = gain * (3.0 / fan_in).sqrt();
                Tensor::rand_uniform(shape, -bound, bound, rng)
            }
            Init::KaimingNormal { gain } => {
                Tensor::rand_normal(shape, 0.0, gain / fan_in.sqrt(), rng)
            }
            Init::Uniform { low, high } => Tensor::rand_uniform(shape, low, high, rng),
            Init::Normal { mean, std } => Tensor::rand_normal(shape, mean, std, rng),
            Init::Constant(value) => Tensor::full(shape, value),
        }
    }
}
