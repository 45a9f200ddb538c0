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

/// Linear warm-up over `warmup` steps, then `after` (counted from the end of the warm-up):
/// step `s < warmup` runs at `base·(s + 1)/(warmup + 1)`, so every warm-up step is below
/// `base` and the ramp ends where `after` starts. With a schedule applied per epoch, one
/// warm-up epoch runs at half the rate; `warmup: 0` is `after` alone.
///
/// ```
/// use strata_modules::{CosineAnnealingLr, LinearWarmup, LrSchedule};
/// // One warm-up epoch, then a cosine from 0.1 to 0 over the next 4.
/// let schedule = LinearWarmup { warmup: 1, after: CosineAnnealingLr { period: 4, min_lr: 0.0 } };
/// let rates: Vec<f32> = (0..6).map(|epoch| schedule.learning_rate(0.1, epoch)).collect();
/// assert_eq!(rates[..2], [0.05, 0.1]);
/// assert!((rates[2] - 0.0853553).abs() < 1e-6 && rates[5].abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LinearWarmup<S: LrSchedule> {
    /// Warm-up length in steps.
    pub warmup: usize,
    /// The schedule that follows.
    pub after: S,
}

impl<S: LrSchedule> LrSchedule for LinearWarmup<S> {
    fn learning_rate(&self, base: f32, step: usize) -> f32 {
        if step < self.warmup {
            base * (step + 1) as f32 / (self.warmup + 1) as f32
        } else {
            self.after.learning_rate(base, step - self.warmup)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_rises_below_the_base_then_hands_over_to_the_cosine() {
        let schedule = LinearWarmup {
            warmup: 3,
            after: CosineAnnealingLr {
                period: 2,
                min_lr: 0.01,
            },
        };
        let rates: Vec<f32> = (0..7).map(|s| schedule.learning_rate(0.2, s)).collect();
        let expected = [0.05, 0.1, 0.15, 0.2, 0.105, 0.01, 0.01];
        for (rate, want) in rates.iter().zip(expected) {
            assert!((rate - want).abs() < 1e-6, "{rates:?} against {expected:?}");
        }
    }

    #[test]
    fn no_warmup_is_the_following_schedule_alone() {
        let cosine = CosineAnnealingLr {
            period: 5,
            min_lr: 0.0,
        };
        let schedule = LinearWarmup {
            warmup: 0,
            after: cosine,
        };
        for step in 0..8 {
            assert_eq!(
                schedule.learning_rate(0.3, step),
                cosine.learning_rate(0.3, step)
            );
        }
    }
}
