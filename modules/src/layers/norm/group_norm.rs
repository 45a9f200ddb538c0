//! `GroupNorm`: each example's channels normalised in groups over the group's channels and
//! positions (no batch statistics, so any batch size works), then scaled and shifted per
//! channel.

use super::layer_norm::{standardize, LAYER_NORM_EPS};
use crate::module::Module;
use crate::Params;
use strata_autograd::Var;
use strata_tensor::{expect_ok, ErrorKind, Result, Tensor, TensorError};

/// Group normalisation of `[N, C, …]` inputs, as PyTorch's `nn.GroupNorm`: the `C` channels
/// fall into `groups` groups of `C/groups`; each example's group is normalised by the mean and
/// biased variance of its values, `y = (x − mean)/√(var + ε)·weight + bias`, with `weight`
/// (ones) and `bias` (zeros) of shape `[C]`. One group is layer norm over `[C, …]`; `C`
/// groups is instance norm.
///
/// Composed from recorded ops, so its gradient is theirs.
///
/// ```
/// use strata_modules::{GroupNorm, Module, Var};
/// use strata_tensor::Tensor;
/// let norm = GroupNorm::new(2, 4);
/// // Channels {0, 1} and {2, 3}: each pair normalised on its own.
/// let x = Var::constant(Tensor::from_vec(vec![1.0, 3.0, 10.0, 30.0], &[1, 4]));
/// let y = norm.forward(&x).value().to_vec();
/// assert!((y[0] + 1.0).abs() < 1e-3 && (y[3] - 1.0).abs() < 1e-3);
/// ```
#[derive(Debug, Params)]
pub struct GroupNorm {
    /// Scale per channel, `[C]` (absent without affine transform).
    pub weight: Option<Var>,
    /// Shift per channel, `[C]` (absent without affine transform).
    pub bias: Option<Var>,
    /// Number of channel groups.
    #[module(skip)]
    groups: usize,
    /// Number of channels.
    #[module(skip)]
    channels: usize,
    /// Added to the variance (default 1e-5, PyTorch's).
    #[module(skip)]
    pub eps: f32,
}

impl GroupNorm {
    /// `channels` channels in `groups` groups, with a learned affine transform.
    ///
    /// Panics (at the caller's line) if `groups` is 0 or does not divide `channels`.
    #[track_caller]
    pub fn new(groups: usize, channels: usize) -> Self {
        Self::build(groups, channels, true)
    }

    /// Normalisation only (PyTorch's `affine=False`).
    #[track_caller]
    pub fn without_affine(groups: usize, channels: usize) -> Self {
        Self::build(groups, channels, false)
    }

    #[track_caller]
    fn build(groups: usize, channels: usize, affine: bool) -> Self {
        assert!(
            groups > 0 && channels % groups == 0,
            "GroupNorm: {groups} groups must divide the {channels} channels"
        );
        Self {
            weight: affine.then(|| Var::leaf(Tensor::ones(&[channels]))),
            bias: affine.then(|| Var::leaf(Tensor::zeros(&[channels]))),
            groups,
            channels,
            eps: LAYER_NORM_EPS,
        }
    }

    /// This layer with another `ε`.
    pub fn with_eps(self, eps: f32) -> Self {
        Self { eps, ..self }
    }

    /// Number of channel groups.
    pub fn groups(&self) -> usize {
        self.groups
    }
}

impl Module for GroupNorm {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        if x.ndim() < 2 || x.shape()[1] != self.channels {
            return Err(TensorError::new(
                "GroupNorm",
                ErrorKind::ShapeMismatch,
                format!(
                    "expected an input [N, {}, …], found {:?}",
                    self.channels,
                    x.shape()
                ),
            ));
        }
        let shape: Vec<isize> = x.shape().iter().map(|&d| d as isize).collect();
        let grouped = x.try_reshape(&[shape[0], self.groups as isize, -1])?;
        let mut y = standardize(&grouped, &[2], self.eps).try_reshape(&shape)?;
        // Per-channel parameters broadcast as [C, 1, …] against [N, C, …].
        let per_channel: Vec<isize> = std::iter::once(self.channels as isize)
            .chain(std::iter::repeat_n(1, x.ndim() - 2))
            .collect();
        if let Some(weight) = &self.weight {
            y = y.try_mul(&weight.try_reshape(&per_channel)?)?;
        }
        if let Some(bias) = &self.bias {
            y = y.try_add(&bias.try_reshape(&per_channel)?)?;
        }
        Ok(y)
    }
}
