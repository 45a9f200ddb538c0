//! Batch normalisation as one op: each channel normalised by per-channel statistics, then
//! scaled and shifted (`y = γ·x̂ + β`). Fused: one pass for the statistics, one for the
//! output, and the closed-form gradient instead of a chain of recorded ops.

use super::expect_ok;
use crate::var::{InputGrads, Var};
use smallvec::smallvec;
use strata_tensor::{ErrorKind, Result, Tensor, TensorError};

/// The statistics batch normalisation normalises with.
#[derive(Debug, Clone, Copy)]
pub enum NormStatistics<'a> {
    /// The batch's own per-channel mean and biased variance (training); the gradient flows
    /// through them.
    Batch,
    /// Given per-channel mean and variance `[C]` (running estimates, in evaluation).
    Fixed {
        /// Mean per channel.
        mean: &'a Tensor,
        /// Variance per channel.
        var: &'a Tensor,
    },
}

/// The per-channel mean and biased variance of a batch, as [`Var::batch_norm`] computed
/// them (accumulated in f64), for updating running estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchStatistics {
    /// Mean per channel.
    pub mean: Vec<f32>,
    /// Biased variance per channel.
    pub var: Vec<f32>,
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
    fn batch_statistics(&self, x: &[f32]) -> BatchStatistics {
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
        BatchStatistics {
            mean: mean.iter().map(|&m| m as f32).collect(),
            var: var.collect(),
        }
    }
}

/// An error unless `t` is `[channels]`.
fn per_channel(name: &str, t: &Tensor, channels: usize, shape: &[usize]) -> Result<()> {
    if t.shape() == [channels] {
        return Ok(());
    }
    Err(TensorError::new(
        "batch_norm",
        ErrorKind::ShapeMismatch,
        format!(
            "{name} {:?} needs one value per channel, [{channels}] for the input {shape:?}",
            t.shape()
        ),
    ))
}

impl Var {
    /// Batch normalisation of this `[N, C, …]` input per channel `C`:
    /// `y = γ·(x − mean)/√(var + eps) + β` with the batch's statistics or given ones, `γ`
    /// (`weight`) and `β` (`bias`) `[C]` or absent. Returns the output and, with
    /// [`NormStatistics::Batch`], the batch's statistics.
    ///
    /// The gradient, closed-form: `∂β = Σ g`, `∂γ = Σ g·x̂`, and
    /// `∂x = γ·inv_std·(g − (∂β + x̂·∂γ)/m)` with batch statistics (`m` values per channel)
    /// or `∂x = γ·inv_std·g` with fixed ones.
    ///
    /// ```
    /// use strata_autograd::{NormStatistics, Var};
    /// use strata_tensor::Tensor;
    /// let x = Var::constant(Tensor::from_vec(vec![1.0, 3.0], &[2, 1]));
    /// let (y, stats) = x.batch_norm(None, None, NormStatistics::Batch, 0.0);
    /// assert_eq!(y.value().to_vec(), vec![-1.0, 1.0]);
    /// assert_eq!(stats.unwrap().mean, vec![2.0]);
    /// ```
    #[track_caller]
    pub fn batch_norm(
        &self,
        weight: Option<&Var>,
        bias: Option<&Var>,
        statistics: NormStatistics<'_>,
        eps: f32,
    ) -> (Var, Option<BatchStatistics>) {
        expect_ok(self.try_batch_norm(weight, bias, statistics, eps))
    }

    /// Fallible [`Var::batch_norm`].
    #[track_caller]
    pub fn try_batch_norm(
        &self,
        weight: Option<&Var>,
        bias: Option<&Var>,
        statistics: NormStatistics<'_>,
        eps: f32,
    ) -> Result<(Var, Option<BatchStatistics>)> {
        let shape = self.shape().to_vec();
        if shape.len() < 2 {
            return Err(TensorError::new(
                "batch_norm",
                ErrorKind::ShapeMismatch,
                format!("expects [N, C, …], found {shape:?}"),
            ));
        }
        let layout = Layout {
            batch: shape[0],
            channels: shape[1],
            spatial: shape[2..].iter().product(),
        };
        let c = layout.channels;
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let Some(t) = t {
                per_channel(name, t.value(), c, &shape)?;
            }
        }
        let input = self.value().values();
        let (batch_stats, mean, var) = match statistics {
            NormStatistics::Batch => {
                let stats = layout.batch_statistics(&input);
                let (mean, var) = (stats.mean.clone(), stats.var.clone());
                (Some(stats), mean, var)
            }
            NormStatistics::Fixed { mean, var } => {
                per_channel("mean", mean, c, &shape)?;
                per_channel("var", var, c, &shape)?;
                (None, mean.to_vec(), var.to_vec())
            }
        };
        let from_batch = batch_stats.is_some();
        let inv_std: Vec<f32> = var.iter().map(|&v| 1.0 / (v + eps).sqrt()).collect();
        let gamma = weight.map(|w| w.value().to_vec());
        let beta = bias.map(|b| b.value().to_vec());
        let mut normalized = vec![0.0f32; input.len()];
        let mut output = vec![0.0f32; input.len()];
        for c in 0..layout.channels {
            let (mu, s) = (mean[c], inv_std[c]);
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
        let normalized = Tensor::from_vec(normalized, &shape);
        let output = Tensor::from_vec(output, &shape);
        let inputs: Vec<&Var> = [Some(self), weight, bias].into_iter().flatten().collect();
        let (has_weight, has_bias) = (weight.is_some(), bias.is_some());
        let output = Var::from_op("batch_norm", output, &inputs, move |a| {
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
            let mut grads: InputGrads = smallvec![None];
            if a.needs(0) {
                let count = layout.count() as f32;
                let mut dx = vec![0.0f32; grad.len()];
                for c in 0..layout.channels {
                    let gamma = gamma.as_ref().map_or(1.0, |g| g[c]);
                    let scale = gamma * inv_std[c];
                    let (db, dg) = if from_batch {
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
        });
        Ok((output, batch_stats))
    }
}
