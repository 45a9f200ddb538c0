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
