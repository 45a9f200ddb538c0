//! The training recipes behind the examples, shared with the tests so that a test trains
//! exactly what its example shows: the data each pattern sees, its model, its training loop
//! and its headline metric. Each example uses one recipe; the tests use all of them.

pub mod autoencoder;
pub mod bottom_up;
pub mod char_lm;
pub mod data;
pub mod deep_spirals;
pub mod distillation;
pub mod film;
pub mod gan_digits;
pub mod gan_mixture;
pub mod gating;
pub mod max_of_set;
pub mod multimodal;
pub mod multitask;
pub mod pairs;
pub mod relation;
pub mod seq2seq;
pub mod siamese;
pub mod sine;
pub mod svg;

use strata_autograd::Var;
use strata_modules::{Optimizer, Params};

/// Seed of the data split shared by every digits recipe (20% held out).
pub const SPLIT_SEED: u64 = 0;

/// One optimisation step: differentiate `loss` and update `model`; returns the loss value.
pub fn step(model: &mut dyn Params, optimizer: &mut dyn Optimizer, loss: &Var) -> f32 {
    let value = loss.item();
    let grads = loss
        .backward()
        .expect("the loss of a recipe depends on the model's parameters");
    optimizer.step(model, &grads);
    value
}

/// How a recipe reports while it trains: the examples show the library's progress bar; the
/// tests train quietly (their output is captured, and the bars of tests running in parallel
/// would overwrite each other).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A terminal progress bar per epoch (drawn only when stderr is a terminal).
    Bar,
    /// Nothing.
    Quiet,
}

impl Progress {
    /// A trainer with `config` that reports this way.
    pub fn trainer(self, config: strata_modules::TrainConfig) -> strata_modules::Trainer {
        let trainer = strata_modules::Trainer::new(config);
        match self {
            Self::Bar => trainer.with_callback(strata_modules::ProgressBar::new()),
            Self::Quiet => trainer,
        }
    }
}

/// Examples per batch when a recipe evaluates held-out data: the figures do not depend on
/// it (means are weighted by batch size); large batches make few steps.
pub const EVAL_BATCH: usize = 512;
