//! Adversarial training on the digits: a generator from 16 noise numbers to 8×8 digits
//! against a discriminator, alternating steps with one optimizer each, inside `Trainer::fit`.
//! Every 50 epochs the trainer saves a checkpoint (`gan.ckpt`) and a 10×10 grid of digits
//! generated from it is written as a PNG (`gan_epoch_050.png`, …), next to the example's
//! binary or in the folder given as argument; the final samples are judged by a digits
//! classifier trained on real digits.
//!
//! `cargo run --release -p strata-patterns --example gan [FOLDER]`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use std::path::PathBuf;
use support::gan_digits::{judge, train, train_judge, CONFIDENT, SEED};
use support::Progress;

fn main() -> Result<(), String> {
    let folder = match std::env::args().nth(1) {
        Some(folder) => PathBuf::from(folder),
        None => std::env::current_exe()
            .map_err(|err| err.to_string())?
            .with_file_name(""),
    };
    let gan = train(SEED, &folder, Progress::Bar).map_err(|err| err.to_string())?;
    let judgement = judge(&gan, &train_judge(SEED, Progress::Bar), SEED);
    println!(
        "generated digits: {:.1}% recognised by a digits classifier with probability ≥ \
         {CONFIDENT}, {} of 10 digits among them",
        100.0 * judgement.confident,
        judgement.classes
    );
    Ok(())
}
