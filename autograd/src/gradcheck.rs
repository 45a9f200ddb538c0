//! Gradient checking: analytic gradients against central finite differences.

use crate::error::AutogradError;
use crate::graph::no_grad;
use crate::var::Var;
use strata_tensor::{Rng, Tensor};

/// Settings of [`gradcheck_with`].
#[derive(Debug, Clone, Copy)]
pub struct GradcheckOptions {
    /// Step of the central differences. 1e-3 balances f32 rounding (which grows as 1/eps)
    /// against the truncation error (which grows as eps²) for inputs of order 1.
    pub eps: f32,
    /// Seed of the random projection that turns a non-scalar output into a scalar.
    pub seed: u64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        Self {
            eps: 1e-3,
            seed: 0x6772_6164,
        }
    }
}

/// Smallest denominator of the relative error: gradients this small are compared in
/// absolute terms, since finite differences in f32 cannot resolve them relatively.
const ERROR_FLOOR: f64 = 1e-3;

/// Result of a gradient check: one entry per input.
#[derive(Debug, Clone, PartialEq)]
pub struct GradcheckReport {
    /// Worst error per input: `max |analytic − numeric| / max(‖analytic‖∞, ‖numeric‖∞, 1e-3)`.
    pub max_relative_error: Vec<f64>,
    /// Flat index of the element where each input's worst error occurred.
    pub worst_index: Vec<usize>,
}

impl GradcheckReport {
    /// The largest error over all inputs.
    pub fn worst(&self) -> f64 {
        self.max_relative_error.iter().copied().fold(0.0, f64::max)
    }

    /// Panics with the per-input errors if any exceeds `tolerance`.
    #[track_caller]
    pub fn assert_within(&self, tolerance: f64) {
        assert!(
            self.worst() <= tolerance,
            "gradcheck failed: relative errors {:?} (at flat indices {:?}) exceed {tolerance}",
            self.max_relative_error,
            self.worst_index
        );
    }
}

/// Checks the gradients of `f` at `inputs` with the default options.
///
/// `f` receives one tracked `Var` per input and returns any tensor; a non-scalar output is
/// reduced to `Σ f(x) ⊙ R` with a fixed random `R`, which checks every output at once.
///
/// ```
/// use strata_autograd::gradcheck;
/// use strata_tensor::Tensor;
/// let x = Tensor::from_vec(vec![0.3, -1.2, 2.0], &[3]);
/// let report = gradcheck(|v| v[0].tanh().mul(&v[0]), &[x]).unwrap();
/// report.assert_within(1e-2);
/// ```
pub fn gradcheck(
    f: impl Fn(&[Var]) -> Var,
    inputs: &[Tensor],
) -> Result<GradcheckReport, AutogradError> {
    gradcheck_with(f, inputs, GradcheckOptions::default())
}

/// [`gradcheck`] with explicit options.
pub fn gradcheck_with(
    f: impl Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    options: GradcheckOptions,
) -> Result<GradcheckReport, AutogradError> {
    let leaves: Vec<Var> = inputs.iter().cloned().map(Var::leaf).collect();
    let output = f(&leaves);
    let projection = Tensor::rand_uniform(output.shape(), -1.0, 1.0, &mut Rng::new(options.seed));
    let projected = |out: &Tensor| -> f64 {
        out.values()
            .iter()
            .zip(projection.values().iter())
            .map(|(&o, &r)| o as f64 * r as f64)
            .sum()
    };
    let grads = if output.is_tracked() {
        output.backward_with_seed(&projection)?
    } else {
        Default::default()
    };

    let mut report = GradcheckReport {
        max_relative_error: Vec::new(),
        worst_index: Vec::new(),
    };
    for (i, leaf) in leaves.iter().enumerate() {
        let analytic = grads
            .get(leaf)
            .map(|g| g.to_vec())
            .unwrap_or_else(|| vec![0.0; leaf.numel()]);
        let base = inputs[i].to_vec();
        let mut numeric = Vec::with_capacity(base.len());
        for j in 0..base.len() {
            let evaluate = |delta: f32| {
                let mut moved = base.clone();
                moved[j] += delta;
                let args: Vec<Var> = (0..inputs.len())
                    .map(|k| {
                        let value = if k == i {
                            Tensor::from_vec(moved.clone(), inputs[k].shape())
                        } else {
                            inputs[k].clone()
                        };
                        Var::constant(value)
                    })
                    .collect();
                no_grad(|| projected(f(&args).value()))
            };
            let (plus, minus) = (evaluate(options.eps), evaluate(-options.eps));
            numeric.push((plus - minus) / (2.0 * options.eps as f64));
        }
        let scale = analytic
            .iter()
            .map(|&a| (a as f64).abs())
            .chain(numeric.iter().map(|n| n.abs()))
            .fold(ERROR_FLOOR, f64::max);
        let (worst, at) = analytic
            .iter()
            .zip(&numeric)
            .map(|(&a, &n)| (a as f64 - n).abs() / scale)
            .enumerate()
            .fold(
                (0.0, 0),
                |best, (k, e)| if e > best.0 { (e, k) } else { best },
            );
        report.max_relative_error.push(worst);
        report.worst_index.push(at);
    }
    Ok(report)
}
