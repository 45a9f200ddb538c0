//! Position information for transformers, whose attention alone does not see token order:
//! fixed sinusoids or a learned vector per position, added to the token vectors.

use crate::init::Init;
use crate::module::Module;
use crate::Params;
use strata_autograd::Var;
use strata_tensor::{expect_ok, ErrorKind, Result, Rng, Tensor, TensorError};

/// The sinusoidal encoding of "Attention Is All You Need": adds `PE[t, 2i] = sin(t·ωᵢ)`,
/// `PE[t, 2i+1] = cos(t·ωᵢ)`, `ωᵢ = 10000^(−2i/d)` to `[N, T, d]` token vectors. No
/// parameters; positions up to `max_len`.
///
/// ```
/// use strata_modules::{Module, SinusoidalPositionalEncoding, Var};
/// use strata_tensor::Tensor;
/// let encoding = SinusoidalPositionalEncoding::new(4, 10);
/// let y = encoding.forward(&Var::constant(Tensor::zeros(&[1, 2, 4]))).value().to_vec();
/// // Position 0: sin 0, cos 0, …; position 1: sin 1, cos 1, sin 0.01, cos 0.01.
/// assert_eq!(&y[..4], &[0.0, 1.0, 0.0, 1.0]);
/// assert!((y[4] - 1f32.sin()).abs() < 1e-6 && (y[6] - 0.01f32.sin()).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Params)]
pub struct SinusoidalPositionalEncoding {
    /// `[max_len, d]`.
    #[module(skip)]
    table: Var,
}

impl SinusoidalPositionalEncoding {
    /// The encoding of width `d_model` for positions `0..max_len`.
    pub fn new(d_model: usize, max_len: usize) -> Self {
        let mut table = Vec::with_capacity(max_len * d_model);
        for t in 0..max_len {
            for k in 0..d_model {
                let i = (k / 2) as f64;
                let angle = t as f64 * 10000f64.powf(-2.0 * i / d_model as f64);
                table.push(if k % 2 == 0 { angle.sin() } else { angle.cos() } as f32);
            }
        }
        Self {
            table: Var::constant(Tensor::from_vec(table, &[max_len, d_model])),
        }
    }

    /// `x` `[N, T, d]` plus the encodings of positions `start..start + T` (for the next tokens
    /// of a sequence generated piece by piece).
    #[track_caller]
    pub fn forward_at(&self, x: &Var, start: usize) -> Var {
        expect_ok(self.try_forward_at(x, start))
    }

    /// Fallible [`SinusoidalPositionalEncoding::forward_at`].
    #[track_caller]
    pub fn try_forward_at(&self, x: &Var, start: usize) -> Result<Var> {
        add_positions("SinusoidalPositionalEncoding", x, &self.table, start)
    }
}

impl Module for SinusoidalPositionalEncoding {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        self.try_forward_at(x, 0)
    }
}

/// A learned vector per position (as GPT): `weight` `[max_len, d]`, initialised from
/// `N(0, 0.02²)` (GPT-2's choice), added to `[N, T, d]` token vectors.
///
/// ```
/// use strata_modules::{Module, PositionalEmbedding, Var};
/// use strata_tensor::{Rng, Tensor};
/// let positions = PositionalEmbedding::new(16, 8, &mut Rng::new(0));
/// let y = positions.forward(&Var::constant(Tensor::zeros(&[2, 5, 8])));
/// assert_eq!(y.value().narrow(0, 0, 1).to_vec(), positions.weight.value().narrow(0, 0, 5).to_vec());
/// ```
#[derive(Params)]
pub struct PositionalEmbedding {
    /// `[max_len, d]`.
    pub weight: Var,
}

impl PositionalEmbedding {
    /// Vectors of width `d_model` for positions `0..max_len`.
    pub fn new(max_len: usize, d_model: usize, rng: &mut Rng) -> Self {
        let init = Init::Normal {
            mean: 0.0,
            std: 0.02,
        };
        Self {
            weight: Var::leaf(init.tensor(&[max_len, d_model], rng)),
        }
    }

    /// `x` `[N, T, d]` plus the vectors of positions `start..start + T`.
    #[track_caller]
    pub fn forward_at(&self, x: &Var, start: usize) -> Var {
        expect_ok(self.try_forward_at(x, start))
    }

    /// Fallible [`PositionalEmbedding::forward_at`].
    #[track_caller]
    pub fn try_forward_at(&self, x: &Var, start: usize) -> Result<Var> {
        add_positions("PositionalEmbedding", x, &self.weight, start)
    }
}

impl Module for PositionalEmbedding {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        self.try_forward_at(x, 0)
    }
}

/// `x` `[N, T, d]` plus rows `start..start + T` of `table` `[max_len, d]`, or an error naming
/// what does not fit.
fn add_positions(op: &'static str, x: &Var, table: &Var, start: usize) -> Result<Var> {
    let (max_len, d) = (table.shape()[0], table.shape()[1]);
    match x.shape() {
        &[_, t, width] if width == d && start + t <= max_len => {
            x.try_add(&table.narrow(0, start, t))
        }
        shape => Err(TensorError::new(
            op,
            ErrorKind::ShapeMismatch,
            format!(
                "expected tokens [N, T, {d}] at positions {start}..{start}+T within 0..{max_len}, \
                 found {shape:?}"
            ),
        )),
    }
}
