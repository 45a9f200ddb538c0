//! A DCGAN on the digits: the generator turns 16 noise numbers into 64 feature maps of 2×2
//! and doubles them twice with `ConvTranspose2d` (batch-normalised) into 8×8 digits; the
//! discriminator halves them twice with strided `Conv2d`s. Trained like `gan` inside
//! `Trainer::fit`; every 50 epochs a checkpoint (`dcgan.ckpt`) and a 10×10 grid of samples
//! (`dcgan_epoch_050.png`, …) are written in `target/examples/dcgan/` or in the folder
//! given as argument; the final samples are judged by a digits classifier trained on real digits.
//!
//! `cargo run --release -p strata-patterns --example dcgan [FOLDER]`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::gan_digits::{run_example, Architecture};

fn main() -> Result<(), String> {
    run_example(Architecture::Convolutional)
}
