//! Adversarial training on the digits: a generator from 16 noise numbers to 8×8 digits
//! against a discriminator, alternating steps with separate optimizers. Writes a 10×10 grid
//! of generated digits as a PNG every 20 epochs (`gan_epoch_020.png`, … next to the example's
//! binary, or in the folder given as argument) and judges the final samples with a digits
//! classifier trained on real digits.
//!
//! `cargo run --release -p strata-patterns --example gan [FOLDER]`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use std::path::PathBuf;
use support::data::digits_split;
use support::gan_digits::{judge, train, train_judge, write_grid, CONFIDENT, SEED};
use support::SPLIT_SEED;

fn main() -> Result<(), String> {
    let folder = match std::env::args().nth(1) {
        Some(folder) => PathBuf::from(folder),
        None => std::env::current_exe()
            .map_err(|err| err.to_string())?
            .with_file_name(""),
    };
    let (train_set, _) = digits_split(SPLIT_SEED);
    let mut failures = Vec::new();
    let gan = train(&train_set, SEED, |epoch, gan| {
        let path = folder.join(format!("gan_epoch_{epoch:03}.png"));
        match write_grid(gan, &path, SEED) {
            Ok(()) => println!("epoch {epoch}: samples written to {}", path.display()),
            Err(err) => failures.push(err),
        }
    });
    if let Some(err) = failures.into_iter().next() {
        return Err(err);
    }
    let judgement = judge(&gan, &train_judge(&train_set, SEED), SEED);
    println!(
        "generated digits: {:.1}% recognised by a digits classifier with probability ≥ \
         {CONFIDENT}, {} of 10 digits among them",
        100.0 * judgement.confident,
        judgement.classes
    );
    Ok(())
}
