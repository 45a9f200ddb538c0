//! Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019, decoupled weight decay).

use super::{
    apply_updates, flush_subnormal, Optimizer, OptimizerState, OptimizerStateError, Slots,
};
use crate::params::Params;
use std::marker::PhantomData;
use strata_autograd::Gradients;
use strata_tensor::{for_each_block, with_avx2, with_flushed_subnormals};

/// Elements of a parameter updated as one block: large parameters are split into blocks
/// spread over the threads. About 15 µs of Adam arithmetic per block (its square roots and
/// divisions run ~2 cycles an element on AVX2), well above the ~1 µs it takes to hand a
/// block to a waiting worker.
pub(super) const UPDATE_BLOCK: usize = 1 << 14;

/// Adam's hyper-parameters and state.
#[derive(Debug, Clone)]
struct AdamCore {
    lr: f32,
    betas: (f32, f32),
    eps: f32,
    weight_decay: f32,
    amsgrad: bool,
    steps: u64,
    slots: Slots,
}

impl AdamCore {
    fn new(lr: f32) -> Self {
        Self {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            steps: 0,
            slots: Slots::default(),
        }
    }

    /// One step; `decoupled` selects AdamW's `p ← p·(1 − lr·λ)` over Adam's `g ← g + λ·p`;
    /// `name` names the optimizer in errors.
    #[track_caller]
    fn step(&mut self, model: &mut dyn Params, grads: &Gradients, decoupled: bool, name: &str) {
        let steps = self.steps + 1;
        let (b1, b2) = self.betas;
        // Past 2^31 steps the bias corrections are 1 to the last bit anyway.
        let t = steps.min(i32::MAX as u64) as i32;
        let wd = self.weight_decay;
        let update = AdamUpdate {
            b1,
            b2,
            l2: if decoupled { 0.0 } else { wd },
            decay: if decoupled { 1.0 - self.lr * wd } else { 1.0 },
            step_size: self.lr / (1.0 - b1.powi(t)),
            inv_sqrt_c2: 1.0 / (1.0 - b2.powi(t)).sqrt(),
            eps: self.eps,
        };
        let slot_count = self.slot_count();
        apply_updates(
            name,
            model,
            grads,
            &mut self.slots,
            slot_count,
            |p, g, slots, _| match slots {
                [m, v] => for_each_block(p.len(), UPDATE_BLOCK, [p, m, v], |range, [p, m, v]| {
                    update.apply(p, &g[range], m, v, None)
                }),
                [m, v, v_max] => for_each_block(
                    p.len(),
                    UPDATE_BLOCK,
                    [p, m, v, v_max],
                    |range, [p, m, v, v_max]| update.apply(p, &g[range], m, v, Some(v_max)),
                ),
                _ => unreachable!("two or three slots were requested"),
            },
        );
        self.steps = steps;
    }

    /// The state vectors per parameter: the two moments, and with AMSGrad the running
    /// maximum of the second moment.
    fn slot_count(&self) -> usize {
        if self.amsgrad {
            3
        } else {
            2
        }
    }

    fn state(&self, kind: &str) -> OptimizerState {
        self.slots.to_state(kind, self.steps, self.lr)
    }

    fn load_state(
        &mut self,
        state: &OptimizerState,
        kind: &str,
    ) -> Result<(), OptimizerStateError> {
        self.slots = Slots::load(state, kind, self.slot_count())?;
        self.steps = state.steps;
        self.lr = state.learning_rate;
        Ok(())
    }
}

/// The constants of one Adam step (bias corrections folded in).
#[derive(Clone, Copy)]
struct AdamUpdate {
    b1: f32,
    b2: f32,
    l2: f32,
    decay: f32,
    step_size: f32,
    inv_sqrt_c2: f32,
    eps: f32,
}

impl AdamUpdate {
    /// Updates parameters `p` and moments `m`, `v` (and with AMSGrad the maximum second
    /// moment `v_max`) from gradients `g`, with AVX2 when the CPU has it (the update is a
    /// large share of a training step's non-GEMM time) and subnormals flushed (tiny
    /// gradients' squares and decaying moments would otherwise cost a microcode assist each).
    fn apply(
        &self,
        p: &mut [f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        v_max: Option<&mut [f32]>,
    ) {
        with_flushed_subnormals(|| {
            with_avx2(
                #[inline(always)]
                || match v_max {
                    None => self.apply_loop::<false>(p, g, m, v, &mut []),
                    Some(v_max) => self.apply_loop::<true>(p, g, m, v, v_max),
                },
            )
        });
    }

    /// Branch-free for each `AMSGRAD`, so the loop vectorises; moments that decay below the
    /// normal range are flushed to zero (subnormal arithmetic is ~100x slower). With AMSGrad
    /// the denominator uses the largest second moment so far, as PyTorch's `amsgrad=True`.
    #[inline(always)]
    fn apply_loop<const AMSGRAD: bool>(
        &self,
        p: &mut [f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        v_max: &mut [f32],
    ) {
        let n = p.len();
        let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
        let v_max = if AMSGRAD { &mut v_max[..n] } else { v_max };
        for i in 0..n {
            let gi = g[i] + self.l2 * p[i];
            m[i] = flush_subnormal(self.b1 * m[i] + (1.0 - self.b1) * gi);
            v[i] = flush_subnormal(self.b2 * v[i] + (1.0 - self.b2) * gi * gi);
            let second = if AMSGRAD {
                v_max[i] = v_max[i].max(v[i]);
                v_max[i]
            } else {
                v[i]
            };
            p[i] = self.decay * p[i]
                - self.step_size * m[i] / (second.sqrt() * self.inv_sqrt_c2 + self.eps);
        }
    }
}

/// How an [`AdamOptimizer`] applies weight decay: [`L2Decay`] for [`Adam`],
/// [`DecoupledDecay`] for [`AdamW`].
pub trait AdamDecay {
    /// The optimizer's kind in saved states (`"adam"`, `"adamw"`).
    const KIND: &'static str;
    /// Its name in errors.
    const NAME: &'static str;
    /// Whether the decay is decoupled (`p ← p·(1 − lr·λ)`) rather than added to the
    /// gradient (`g ← g + λ·p`).
    const DECOUPLED: bool;
    /// The default weight decay `λ`.
    const DEFAULT_WEIGHT_DECAY: f32;
}

/// Adam's weight decay: `λ·p` added to the gradient (L2 regularisation), none by default.
#[derive(Debug, Clone, Copy)]
pub struct L2Decay;

impl AdamDecay for L2Decay {
    const KIND: &'static str = "adam";
    const NAME: &'static str = "Adam";
    const DECOUPLED: bool = false;
    const DEFAULT_WEIGHT_DECAY: f32 = 0.0;
}

/// AdamW's weight decay: `p ← p·(1 − lr·λ)`, apart from the gradient; λ = 0.01 by default
/// (PyTorch's).
#[derive(Debug, Clone, Copy)]
pub struct DecoupledDecay;

impl AdamDecay for DecoupledDecay {
    const KIND: &'static str = "adamw";
    const NAME: &'static str = "AdamW";
    const DECOUPLED: bool = true;
    const DEFAULT_WEIGHT_DECAY: f32 = 0.01;
}

/// Adam with PyTorch's defaults (β = (0.9, 0.999), ε = 1e-8) and optional L2 weight decay
/// added to the gradient.
///
/// ```
/// use strata_modules::{Adam, Optimizer};
/// let adam = Adam::new(1e-3).betas(0.9, 0.98).amsgrad(true);
/// assert_eq!(adam.learning_rate(), 1e-3);
/// ```
pub type Adam = AdamOptimizer<L2Decay>;

/// AdamW: Adam with decoupled weight decay (default λ = 0.01, PyTorch's).
pub type AdamW = AdamOptimizer<DecoupledDecay>;

/// Adam with the weight decay `D` (use the aliases [`Adam`] and [`AdamW`]).
#[derive(Debug, Clone)]
pub struct AdamOptimizer<D> {
    core: AdamCore,
    // `fn() -> D`: the decay is only a type, so the optimizer is `Send + Sync` whatever `D` is.
    decay: PhantomData<fn() -> D>,
}

impl<D: AdamDecay> AdamOptimizer<D> {
    /// With learning rate `lr` and default hyper-parameters.
    pub fn new(lr: f32) -> Self {
        let mut core = AdamCore::new(lr);
        core.weight_decay = D::DEFAULT_WEIGHT_DECAY;
        Self {
            core,
            decay: PhantomData,
        }
    }

    /// With the moment decay rates `(β1, β2)`.
    pub fn betas(mut self, beta1: f32, beta2: f32) -> Self {
        self.core.betas = (beta1, beta2);
        self
    }

    /// With the denominator's ε.
    pub fn eps(mut self, eps: f32) -> Self {
        self.core.eps = eps;
        self
    }

    /// With weight decay `λ`.
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.core.weight_decay = weight_decay;
        self
    }

    /// With AMSGrad (Reddi, Kale & Kumar 2018): the denominator uses the largest second
    /// moment seen so far, a third state vector per parameter.
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.core.amsgrad = amsgrad;
        self
    }
}

impl<D: AdamDecay> Optimizer for AdamOptimizer<D> {
    #[track_caller]
    fn step(&mut self, model: &mut dyn Params, grads: &Gradients) {
        self.core.step(model, grads, D::DECOUPLED, D::NAME);
    }

    fn learning_rate(&self) -> f32 {
        self.core.lr
    }

    fn set_learning_rate(&mut self, lr: f32) {
        self.core.lr = lr;
    }

    fn state(&self) -> OptimizerState {
        self.core.state(D::KIND)
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<(), OptimizerStateError> {
        self.core.load_state(state, D::KIND)
    }
}
