//! Adversarial training on the digits: a generator from 16 noise numbers to 8×8 digits
//! against a discriminator (dense networks), alternating steps with one optimizer each,
//! inside `Trainer::fit`. Every 50 epochs the trainer saves a checkpoint (`gan.ckpt`) and a
//! 10×10 grid of digits generated from it is written as a PNG (`gan_epoch_050.png`, …), in
//! `target/examples/gan/` or in the folder given as argument; the final samples are judged
//! by a digits classifier trained on real digits. `dcgan` is the convolutional twin.
//!
//! `cargo run --release -p strata-patterns --example gan [FOLDER]`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::gan_digits::{run_example, Architecture};

fn main() -> Result<(), String> {
    run_example(Architecture::Dense)
}
