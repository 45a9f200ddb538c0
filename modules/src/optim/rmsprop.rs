//! RMSprop (Hinton's lecture 6e), with PyTorch's options.

use super::adam::UPDATE_BLOCK;
use super::{
    apply_updates, flush_subnormal, Optimizer, OptimizerState, OptimizerStateError, Slots,
};
use crate::params::Params;
use strata_autograd::Gradients;
use strata_tensor::{for_each_block, with_flushed_subnormals};

/// RMSprop: `v ← α·v + (1 − α)·g²`, then `p ← p − lr·g/(√v + ε)`, or with momentum μ:
/// `b ← μ·b + g/(√v + ε)`, `p ← p − lr·b`. Defaults α = 0.99, ε = 1e-8 (PyTorch's).
#[derive(Debug, Clone)]
pub struct RmsProp {
    lr: f32,
    alpha: f32,
    eps: f32,
    momentum: f32,
    weight_decay: f32,
    steps: u64,
    slots: Slots,
}

impl RmsProp {
    /// With learning rate `lr` (0.01 is PyTorch's default).
    pub fn new(lr: f32) -> Self {
        Self {
            lr,
            alpha: 0.99,
            eps: 1e-8,
            momentum: 0.0,
            weight_decay: 0.0,
            steps: 0,
            slots: Slots::default(),
        }
    }

    /// With smoothing constant α.
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha;
        self
    }

    /// With momentum μ.
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// With L2 weight decay λ.
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
    }
}

impl Optimizer for RmsProp {
    #[track_caller]
    fn step(&mut self, model: &mut dyn Params, grads: &Gradients) {
        let (lr, alpha, eps, mu, wd) = (
            self.lr,
            self.alpha,
            self.eps,
            self.momentum,
            self.weight_decay,
        );
        apply_updates(
            "RmsProp",
            model,
            grads,
            &mut self.slots,
            2,
            |p, g, slots, _first| {
                let [v, b] = slots else {
                    unreachable!("two slots were requested")
                };
                let update = |range: std::ops::Range<usize>, [p, v, b]: [&mut [f32]; 3]| {
                    let moments = v.iter_mut().zip(b.iter_mut());
                    for ((p, &g), (v, b)) in p.iter_mut().zip(&g[range]).zip(moments) {
                        let g = g + wd * *p;
                        *v = flush_subnormal(alpha * *v + (1.0 - alpha) * g * g);
                        let scaled = g / (v.sqrt() + eps);
                        if mu > 0.0 {
                            *b = flush_subnormal(mu * *b + scaled);
                            *p -= lr * *b;
                        } else {
                            *p -= lr * scaled;
                        }
                    }
                };
                for_each_block(p.len(), UPDATE_BLOCK, [p, v, b], |range, parts| {
                    with_flushed_subnormals(|| update(range, parts))
                });
            },
        );
        self.steps += 1;
    }

    fn learning_rate(&self) -> f32 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f32) {
        self.lr = lr;
    }

    fn state(&self) -> OptimizerState {
        self.slots.to_state("rmsprop", self.steps, self.lr)
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<(), OptimizerStateError> {
        self.slots = Slots::load(state, "rmsprop", 2)?;
        self.steps = state.steps;
        self.lr = state.learning_rate;
        Ok(())
    }
}
