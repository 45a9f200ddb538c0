//! Bottom-up, top-down attention: a 2×2 grid of digits (16×16) and a query "which digit is in
//! quadrant q?". An encoder codes each quadrant (bottom-up), the query weights the codes
//! (top-down), a head names the digit. Writes a picture of a held-out grid with the attention
//! weights of its quadrants (SVG) to `target/examples/bottom_up/attention.svg`, or into the folder
//! given as argument.
//!
//! `cargo run --release -p strata-patterns --example bottom_up [FOLDER]`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::bottom_up::{test_grids, train, weight_on_queried, write_attention_picture, SEED};
use support::data::digit_datasets;
use support::SPLIT_SEED;
use support::{output_dir, Progress};

fn main() -> std::io::Result<()> {
    let (model, accuracy) = train(SEED, Progress::Bar);
    let (_, test_digits) = digit_datasets(SPLIT_SEED);
    let grids = test_grids(&test_digits);
    let path = output_dir("bottom_up")?.join("attention.svg");
    write_attention_picture(&model, &grids, &path)?;
    println!("attention picture: {}", path.display());
    println!(
        "which digit is in quadrant q: held-out accuracy {:.2}%, mean attention on the queried \
         quadrant {:.3}",
        100.0 * accuracy,
        weight_on_queried(&model, &grids)
    );
    Ok(())
}
