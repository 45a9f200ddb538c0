//! Batch normalisation: each channel is normalised by the mean and variance of the batch
//! (training) or by running estimates of them (evaluation), then scaled and shifted by a
//! learned `γ`/`β`. Forward and backward are fused into one op: one pass for the statistics,
//! one for the output, and the closed-form gradient instead of a chain of recorded ops.

use crate::module::Module;
use crate::params::Buffer;
use crate::Params;
use strata_autograd::{smallvec, Grads, Var};
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
/// which Strata does not offer), so Strata does not keep it: see [`crate::interop`] for how
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

    /// The layout `[N, C, S]` of an input, or an error naming the shapes this layer accepts
    /// (and, in training, that it needs more than one value per channel).
    fn layout(&self, shape: &[usize]) -> Result<Layout> {
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
        let layout = Layout {
            batch: shape[0],
            channels: shape[1],
            spatial: shape[2..].iter().product(),
        };
        if self.training && layout.count() <= 1 {
            return Err(TensorError::new(
                "BatchNorm",
                ErrorKind::ShapeMismatch,
                format!(
                    "training needs more than one value per channel, input is [{}, {}, …]",
                    layout.batch, layout.channels
                ),
            ));
        }
        Ok(layout)
    }
}

impl<const SPATIAL: usize> Module for BatchNorm<SPATIAL> {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        let layout = self.layout(x.shape())?;
        let (mean, inv_std) = if self.training {
            let (mean, var) = layout.batch_statistics(&x.value().values());
            self.update_running(&layout, &mean, &var);
            (mean, var.iter().map(|&v| inv_std(v, self.eps)).collect())
        } else {
            let mean = self.running_mean.get().to_vec();
            let var = self.running_var.get().to_vec();
            (mean, var.iter().map(|&v| inv_std(v, self.eps)).collect())
        };
        Ok(normalize(
            x,
            self.weight.as_ref(),
            self.bias.as_ref(),
            layout,
            Statistics {
                mean,
                inv_std,
                from_batch: self.training,
            },
        ))
    }
}

impl<const SPATIAL: usize> BatchNorm<SPATIAL> {
    /// `running ← (1 − momentum)·running + momentum·batch`, the variance made unbiased
    /// (`layout` holds more than one value per channel: [`BatchNorm::layout`] checks it).
    fn update_running(&self, layout: &Layout, mean: &[f32], var: &[f32]) {
        let count = layout.count();
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

fn inv_std(var: f32, eps: f32) -> f32 {
    1.0 / (var + eps).sqrt()
}

/// An input seen as `[batch, channels, spatial]`: channel `c` of example `n` is the run
/// `(n·C + c)·S .. + S`.
#[derive(Debug, Clone, Copy)]
struct Layout {
    batch: usize,
    channels: usize,
    spatial: usize,
}

impl Layout {
    /// Values per channel.
    fn count(&self) -> usize {
        self.batch * self.spatial
    }

    /// The runs of channel `c`, one per example.
    fn runs(&self, c: usize) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        (0..self.batch).map(move |n| {
            let start = (n * self.channels + c) * self.spatial;
            start..start + self.spatial
        })
    }

    /// Per channel: `Σ f(run)` accumulated in f64 over the channel's runs.
    fn channel_sums(&self, f: impl Fn(std::ops::Range<usize>) -> f64) -> Vec<f64> {
        (0..self.channels)
            .map(|c| self.runs(c).map(&f).sum())
            .collect()
    }

    /// Per-channel mean and biased variance (two passes, accumulated in f64).
    fn batch_statistics(&self, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let count = self.count().max(1) as f64;
        let mean = self.channel_sums(|r| x[r].iter().map(|&v| v as f64).sum());
        let mean: Vec<f64> = mean.iter().map(|s| s / count).collect();
        let var = (0..self.channels).map(|c| {
            let mu = mean[c];
            let sq: f64 = self
                .runs(c)
                .map(|r| x[r].iter().map(|&v| (v as f64 - mu).powi(2)).sum::<f64>())
                .sum();
            (sq / count) as f32
        });
        let var = var.collect();
        (mean.iter().map(|&m| m as f32).collect(), var)
    }
}

/// The statistics one forward normalises with.
struct Statistics {
    mean: Vec<f32>,
    inv_std: Vec<f32>,
    /// Whether they were computed from this batch (so the gradient flows through them).
    from_batch: bool,
}

/// `y = γ·x̂ + β` with `x̂ = (x − mean)·inv_std`, recorded as one op with its closed-form
/// gradient:
/// `∂β = Σ g`, `∂γ = Σ g·x̂`, and `∂x = γ·inv_std·(g − (∂β + x̂·∂γ)/m)` with batch statistics
/// (`m` values per channel) or `∂x = γ·inv_std·g` with fixed ones.
#[track_caller]
fn normalize(
    x: &Var,
    weight: Option<&Var>,
    bias: Option<&Var>,
    layout: Layout,
    stats: Statistics,
) -> Var {
    let input = x.value().values();
    let gamma = weight.map(|w| w.value().to_vec());
    let beta = bias.map(|b| b.value().to_vec());
    let mut normalized = vec![0.0f32; input.len()];
    let mut output = vec![0.0f32; input.len()];
    for c in 0..layout.channels {
        let (mu, s) = (stats.mean[c], stats.inv_std[c]);
        let g = gamma.as_ref().map_or(1.0, |g| g[c]);
        let b = beta.as_ref().map_or(0.0, |b| b[c]);
        for r in layout.runs(c) {
            for ((xh, y), &v) in normalized[r.clone()]
                .iter_mut()
                .zip(&mut output[r.clone()])
                .zip(&input[r])
            {
                *xh = (v - mu) * s;
                *y = *xh * g + b;
            }
        }
    }
    let shape = x.shape().to_vec();
    let normalized = Tensor::from_vec(normalized, &shape);
    let output = Tensor::from_vec(output, &shape);
    let inputs: Vec<&Var> = [Some(x), weight, bias].into_iter().flatten().collect();
    let (has_weight, has_bias) = (weight.is_some(), bias.is_some());
    Var::from_op("batch_norm", output, &inputs, move |a| {
        let grad = a.grad().values();
        let xhat = normalized.values();
        let grad_beta = layout.channel_sums(|r| grad[r].iter().map(|&g| g as f64).sum());
        let grad_gamma = layout.channel_sums(|r| {
            grad[r.clone()]
                .iter()
                .zip(&xhat[r])
                .map(|(&g, &h)| g as f64 * h as f64)
                .sum()
        });
        let mut grads: Grads = smallvec![None];
        if a.needs(0) {
            let count = layout.count() as f32;
            let mut dx = vec![0.0f32; grad.len()];
            for c in 0..layout.channels {
                let gamma = gamma.as_ref().map_or(1.0, |g| g[c]);
                let scale = gamma * stats.inv_std[c];
                let (db, dg) = if stats.from_batch {
                    (grad_beta[c] as f32 / count, grad_gamma[c] as f32 / count)
                } else {
                    (0.0, 0.0)
                };
                for r in layout.runs(c) {
                    for ((d, &g), &h) in
                        dx[r.clone()].iter_mut().zip(&grad[r.clone()]).zip(&xhat[r])
                    {
                        *d = scale * (g - db - h * dg);
                    }
                }
            }
            grads[0] = Some(Tensor::from_vec(dx, &shape));
        }
        let per_channel = |sums: &[f64]| {
            let values = sums.iter().map(|&s| s as f32).collect();
            Tensor::from_vec(values, &[layout.channels])
        };
        if has_weight {
            grads.push(a.needs(1).then(|| per_channel(&grad_gamma)));
        }
        if has_bias {
            grads.push(a.needs(a.num_inputs() - 1).then(|| per_channel(&grad_beta)));
        }
        grads
    })
}
