//! The code example of the workspace README, kept here so that every `cargo test` compiles it
//! (`tests/readme.rs` checks that the README shows exactly this code, and builds and runs it in
//! a project of its own that depends on this crate as the README's usage section says).
//!
//! Run: `cargo run --release -p strata --example readme_mlp`

#![allow(clippy::print_stdout)]

use strata::datasets::{digits, ScaleToUnit};
use strata::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1,797 handwritten 8x8 digits (embedded), pixels 0..16 scaled to [0, 1]; 20% held out.
    let (train, test) = digits().map(ScaleToUnit::new(16.0)).split(0.2, 0)?;
    let train = DataLoader::new(train, 32).shuffle(1);
    let test = DataLoader::new(test, 512);

    let mut rng = Rng::new(2);
    let mut mlp = Sequential::new()
        .push(Flatten) // [B, 1, 8, 8] -> [B, 64]
        .push(Dense::new(64, 128, &mut rng))
        .push(Relu)
        .push(Dense::new(128, 10, &mut rng)); // one score per digit

    let mut trainer = Trainer::new(TrainConfig {
        epochs: 20,
        ..Default::default()
    })
    .with_callback(ProgressBar::new());
    let classifier = &mut mlp.with_objective(Classification::default());
    let history = trainer.fit(classifier, &mut Adam::new(1e-3), &train, &test)?;
    let accuracy = history.last().and_then(|e| e.val_accuracy()).unwrap_or(0.0);
    println!("test accuracy: {:.1}%", 100.0 * accuracy);

    let out = std::path::Path::new("target/examples/readme_mlp");
    std::fs::create_dir_all(out)?;
    save_model(&mlp, out.join("digits-mlp.ckpt"))?;
    println!(
        "saved the model to {}",
        out.join("digits-mlp.ckpt").display()
    );
    Ok(())
}
