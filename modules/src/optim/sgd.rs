//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.

use super::adam::UPDATE_BLOCK;
use super::{
    apply_updates, flush_subnormal, Optimizer, OptimizerState, OptimizerStateError, Slots,
};
use crate::params::Params;
use strata_autograd::Gradients;
use strata_tensor::{for_each_block, with_flushed_subnormals};

/// SGD, with PyTorch's update rule:
/// `g ← ∇ + λ·p`; with momentum μ and dampening τ, `b ← μ·b + (1 − τ)·g` (`b = g` on a
/// parameter's first step) and `g ← g + μ·b` (Nesterov) or `g ← b`; then `p ← p − lr·g`.
///
/// ```
/// use strata_modules::{Optimizer, Params, Sgd, Var};
/// use strata_tensor::Tensor;
/// let mut w = Var::leaf(Tensor::from_vec(vec![1.0], &[1]));
/// let grads = w.square().sum().backward().unwrap(); // d(w²)/dw = 2
/// Sgd::new(0.1).step(&mut w, &grads);
/// assert!((w.value().item() - 0.8).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct Sgd {
    lr: f32,
    momentum: f32,
    dampening: f32,
    nesterov: bool,
    weight_decay: f32,
    steps: u64,
    slots: Slots,
}

impl Sgd {
    /// Plain SGD with learning rate `lr`.
    pub fn new(lr: f32) -> Self {
        Self {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            steps: 0,
            slots: Slots::default(),
        }
    }

    /// With momentum `μ` (0.9 is usual).
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// With dampening `τ` of the gradient added to the momentum buffer (default 0; PyTorch
    /// rejects it with Nesterov momentum, and so does [`Optimizer::step`] here).
    pub fn dampening(mut self, dampening: f32) -> Self {
        self.dampening = dampening;
        self
    }

    /// With Nesterov momentum (needs a non-zero momentum and no dampening).
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// With L2 weight decay `λ`.
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
    }
}

impl Optimizer for Sgd {
    #[track_caller]
    fn step(&mut self, model: &mut dyn Params, grads: &Gradients) {
        let (lr, mu, wd, nesterov) = (self.lr, self.momentum, self.weight_decay, self.nesterov);
        assert!(
            !nesterov || (mu > 0.0 && self.dampening == 0.0),
            "Sgd::step: Nesterov momentum needs a positive momentum and zero dampening, found \
             momentum {mu} and dampening {}",
            self.dampening
        );
        let kept = 1.0 - self.dampening;
        let slot_count = usize::from(mu != 0.0);
        apply_updates(
            "Sgd",
            model,
            grads,
            &mut self.slots,
            slot_count,
            |p, g, slots, first| {
                let [buf] = slots else {
                    for_each_block(p.len(), UPDATE_BLOCK, [p], |range, [p]| {
                        with_flushed_subnormals(|| {
                            for (p, &g) in p.iter_mut().zip(&g[range]) {
                                *p -= lr * (g + wd * *p);
                            }
                        })
                    });
                    return;
                };
                for_each_block(p.len(), UPDATE_BLOCK, [p, buf], |range, [p, buf]| {
                    with_flushed_subnormals(|| {
                        for ((p, &g), b) in p.iter_mut().zip(&g[range]).zip(buf.iter_mut()) {
                            let g = g + wd * *p;
                            // As in PyTorch, a parameter's first step starts the buffer at
                            // the undampened gradient.
                            *b = flush_subnormal(if first { g } else { mu * *b + kept * g });
                            *p -= lr * if nesterov { g + mu * *b } else { *b };
                        }
                    })
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
        self.slots.to_state("sgd", self.steps, self.lr)
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<(), OptimizerStateError> {
        self.slots = Slots::load(state, "sgd", 1)?;
        self.steps = state.steps;
        self.lr = state.learning_rate;
        Ok(())
    }
}
