//! Batch normalisation: each channel is normalised by the mean and variance of the batch
//! (training) or by running estimates of them (evaluation), then scaled and shifted by a
//! learned `γ`/`β`, by the fused op [`Var::batch_norm`] of strata-autograd.

use crate::module::Module;
use crate::params::Buffer;
use crate::Params;
use strata_autograd::{NormStatistics, Var};
use strata_tensor::{expect_ok, ErrorKind, Result, Tensor, TensorError};

/// PyTorch's default `ε`, added to the variance before the square root.
pub const BATCH_NORM_EPS: f32 = 1e-5;
/// PyTorch's default momentum of the running statistics:
/// `running ← (1 − momentum)·running + momentum·batch`.
pub const BATCH_NORM_MOMENTUM: f32 = 0.1;

/// Batch normalisation over `[N, C]` or `[N, C, L]` inputs (statistics per channel `C`).
pub type BatchNorm1d = BatchNorm<1>;
/// Batch normalisation over `[N, C, H, W]` inputs (statistics per channel `C`).
pub type BatchNorm2d = BatchNorm<2>;

/// Batch normalisation with `SPATIAL` trailing spatial dimensions (use the aliases
/// [`BatchNorm1d`] and [`BatchNorm2d`]).
///
/// - Training mode: `y = γ·(x − μ_B)/√(σ²_B + ε) + β` with the batch's per-channel mean
///   `μ_B` and biased variance `σ²_B`; the running statistics move towards the batch's with
///   `momentum`, the variance term unbiased (`σ²_B·m/(m − 1)`, `m` values per channel), as in
///   PyTorch.
/// - Evaluation mode: the same with `running_mean` and `running_var` in place of the batch's.
///
/// Parameters `weight` (`γ`, ones) and `bias` (`β`, zeros) and buffers `running_mean`
/// (zeros) and `running_var` (ones) carry PyTorch's names. PyTorch's third buffer,
/// `num_batches_tracked`, only matters there with `momentum=None` (a cumulative average,
/// which Strata does not offer), so Strata does not keep it: see [`crate::io::interop`] for how
/// files that hold it are read and written.
///
/// ```
/// use strata_modules::{BatchNorm2d, Module, Params, Var};
/// use strata_tensor::{Rng, Tensor};
/// let mut bn = BatchNorm2d::new(3);
/// let x = Var::constant(Tensor::rand_normal(&[8, 3, 4, 4], 5.0, 2.0, &mut Rng::new(0)));
/// let y = bn.forward(&x); // training mode: each channel of y has mean 0, variance 1
/// assert!(y.value().mean_axes(&[0, 2, 3], false).abs().max().item() < 1e-5);
/// assert!(bn.running_mean.get().min().item() > 0.4); // moved 10% of the way towards 5
/// bn.eval(); // now normalised with the running statistics
/// assert_eq!(bn.forward(&x).shape(), &[8, 3, 4, 4]);
/// ```
#[derive(Debug, Params)]
pub struct BatchNorm<const SPATIAL: usize> {
    /// `γ`, `[C]` (absent without affine transform).
    pub weight: Option<Var>,
    /// `β`, `[C]` (absent without affine transform).
    pub bias: Option<Var>,
    /// Running mean `[C]`, used in evaluation mode.
    pub running_mean: Buffer,
    /// Running (unbiased) variance `[C]`, used in evaluation mode.
    pub running_var: Buffer,
    /// Added to the variance (default [`BATCH_NORM_EPS`]).
    #[module(skip)]
    pub eps: f32,
    /// Weight of the batch statistics in the running update (default [`BATCH_NORM_MOMENTUM`]).
    #[module(skip)]
    pub momentum: f32,
    #[module(training)]
    training: bool,
}

impl<const SPATIAL: usize> BatchNorm<SPATIAL> {
    /// Normalisation of `num_features` channels with a learned affine transform, PyTorch's
    /// defaults, in training mode.
    pub fn new(num_features: usize) -> Self {
        Self::build(num_features, true)
    }

    /// Normalisation only, without `γ` and `β` (PyTorch's `affine=False`).
    pub fn without_affine(num_features: usize) -> Self {
        Self::build(num_features, false)
    }

    fn build(num_features: usize, affine: bool) -> Self {
        Self {
            weight: affine.then(|| Var::leaf(Tensor::ones(&[num_features]))),
            bias: affine.then(|| Var::leaf(Tensor::zeros(&[num_features]))),
            running_mean: Buffer::new(Tensor::zeros(&[num_features])),
            running_var: Buffer::new(Tensor::ones(&[num_features])),
            eps: BATCH_NORM_EPS,
            momentum: BATCH_NORM_MOMENTUM,
            training: true,
        }
    }

    /// This layer with another momentum.
    pub fn with_momentum(self, momentum: f32) -> Self {
        Self { momentum, ..self }
    }

    /// This layer with another `ε`.
    pub fn with_eps(self, eps: f32) -> Self {
        Self { eps, ..self }
    }

    /// Number of channels.
    pub fn num_features(&self) -> usize {
        self.running_mean.get().numel()
    }

    /// Whether batch statistics are used (training mode).
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// The number of values per channel of an input, or an error naming the shapes this
    /// layer accepts (and, in training, that it needs more than one value per channel).
    fn values_per_channel(&self, shape: &[usize]) -> Result<usize> {
        let dims_ok = match SPATIAL {
            1 => shape.len() == 2 || shape.len() == 3,
            _ => shape.len() == 2 + SPATIAL,
        };
        let accepted = match SPATIAL {
            1 => "[N, C] or [N, C, L]".to_string(),
            2 => "[N, C, H, W]".to_string(),
            _ => format!("[N, C] followed by {SPATIAL} spatial dimensions"),
        };
        if !(dims_ok && shape[1] == self.num_features()) {
            return Err(TensorError::new(
                "BatchNorm",
                ErrorKind::ShapeMismatch,
                format!(
                    "expects {accepted} with C = {}, found {shape:?}",
                    self.num_features()
                ),
            ));
        }
        let count = shape[0] * shape[2..].iter().product::<usize>();
        if self.training && count <= 1 {
            return Err(TensorError::new(
                "BatchNorm",
                ErrorKind::ShapeMismatch,
                format!(
                    "training needs more than one value per channel, input is [{}, {}, …]",
                    shape[0], shape[1]
                ),
            ));
        }
        Ok(count)
    }
}

impl<const SPATIAL: usize> Module for BatchNorm<SPATIAL> {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        let count = self.values_per_channel(x.shape())?;
        let (weight, bias) = (self.weight.as_ref(), self.bias.as_ref());
        if !self.training {
            let (mean, var) = (self.running_mean.get(), self.running_var.get());
            let fixed = NormStatistics::Fixed {
                mean: &mean,
                var: &var,
            };
            return Ok(x.try_batch_norm(weight, bias, fixed, self.eps)?.0);
        }
        let (y, batch) = x.try_batch_norm(weight, bias, NormStatistics::Batch, self.eps)?;
        let batch = batch.expect("batch statistics come with NormStatistics::Batch");
        self.update_running(count, &batch.mean, &batch.var);
        Ok(y)
    }
}

impl<const SPATIAL: usize> BatchNorm<SPATIAL> {
    /// `running ← (1 − momentum)·running + momentum·batch`, the variance made unbiased
    /// (`count` values per channel, more than one: [`BatchNorm::values_per_channel`] checks it).
    fn update_running(&self, count: usize, mean: &[f32], var: &[f32]) {
        let unbias = count as f32 / (count - 1) as f32;
        let m = self.momentum;
        let blend = |running: &Buffer, batch: &mut dyn Iterator<Item = f32>| {
            let old = running.get().to_vec();
            let new = old.iter().zip(batch).map(|(&r, b)| (1.0 - m) * r + m * b);
            running.set(Tensor::from_vec(new.collect(), &[old.len()]));
        };
        blend(&self.running_mean, &mut mean.iter().copied());
        blend(&self.running_var, &mut var.iter().map(|&v| v * unbias));
    }
}
