//! Modulation by FiLM: one network answers "is this digit a k?" for any queried class k; the
//! query sets a per-feature scale γ and shift β of the image's features. Half of the held-out
//! queries name the true digit, half a random other one.
//!
//! `cargo run --release -p strata-patterns --example film`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::film::{train, SEED};
use support::Progress;

fn main() {
    let (_, accuracy) = train(SEED, Progress::Bar);
    println!(
        "\"is this digit a k?\" with FiLM: held-out accuracy {:.2}%",
        100.0 * accuracy
    );
}
