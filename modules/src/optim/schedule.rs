//! Learning-rate schedules: the rate to use at a given epoch (or step), from a base rate.

use std::f32::consts::PI;

/// A learning-rate schedule.
///
/// ```
/// use strata_modules::{LrSchedule, StepLr};
/// let schedule = StepLr { step_size: 10, gamma: 0.5 };
/// assert_eq!(schedule.learning_rate(0.1, 25), 0.025);
/// ```
pub trait LrSchedule: Send + Sync {
    /// The rate at `step` (an epoch or a batch count, as the caller chooses) for base rate `base`.
    fn learning_rate(&self, base: f32, step: usize) -> f32;
}

/// The base rate throughout.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConstantLr;

impl LrSchedule for ConstantLr {
    fn learning_rate(&self, base: f32, _: usize) -> f32 {
        base
    }
}

/// Multiply by `gamma` every `step_size` steps.
#[derive(Debug, Clone, Copy)]
pub struct StepLr {
    /// Steps between decays.
    pub step_size: usize,
    /// Decay factor.
    pub gamma: f32,
}

impl LrSchedule for StepLr {
    fn learning_rate(&self, base: f32, step: usize) -> f32 {
        base * self.gamma.powi((step / self.step_size.max(1)) as i32)
    }
}

/// Multiply by `gamma` every step.
#[derive(Debug, Clone, Copy)]
pub struct ExponentialLr {
    /// Decay factor per step.
    pub gamma: f32,
}

impl LrSchedule for ExponentialLr {
    fn learning_rate(&self, base: f32, step: usize) -> f32 {
        base * self.gamma.powi(step as i32)
    }
}

/// Cosine annealing from the base rate down to `min_lr` over `period` steps (then held).
#[derive(Debug, Clone, Copy)]
pub struct CosineAnnealingLr {
    /// Steps to reach the minimum.
    pub period: usize,
    /// The final rate.
    pub min_lr: f32,
}

impl LrSchedule for CosineAnnealingLr {
    fn learning_rate(&self, base: f32, step: usize) -> f32 {
        let progress = step.min(self.period) as f32 / self.period.max(1) as f32;
        self.min_lr + 0.5 * (base - self.min_lr) * (1.0 + (PI * progress).cos())
    }
}

/// Linear warm-up from `base/warmup` to `base` over `warmup` steps, then `after` (counted
/// from the end of the warm-up).
pub struct LinearWarmup<S: LrSchedule> {
    /// Warm-up length in steps.
    pub warmup: usize,
    /// The schedule that follows.
    pub after: S,
}

impl<S: LrSchedule> LrSchedule for LinearWarmup<S> {
    fn learning_rate(&self, base: f32, step: usize) -> f32 {
        if step < self.warmup {
            base * (step + 1) as f32 / self.warmup as f32
        } else {
            self.after.learning_rate(base, step - self.warmup)
        }
    }
}
