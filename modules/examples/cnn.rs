//! A LeNet-style convolutional network on the embedded 8×8 handwritten digits
//! (strata-datasets), trained on a seeded 80/20 split; prints the held-out accuracy on its
//! last line.
//!
//! Two convolution blocks find small strokes first and their combinations next (3×3
//! filters, batch normalisation, ReLU, 2×2 max pooling), then two dense layers classify.
//!
//! Run: `cargo run --release -p strata-modules --example cnn`

#![allow(clippy::print_stdout)]

use strata_datasets::{digits, DataLoader, Dataset, ScaleToUnit, DIGITS_MAX_VALUE};
use strata_modules::{
    evaluate, Adam, BatchNorm2d, Classification, Conv2d, Conv2dConfig, Dense, Dropout, Flatten,
    MaxPool2d, Module, ProgressBar, Relu, Sequential, TrainConfig, Trainer,
};
use strata_tensor::Rng;

/// Share of the 1,797 digits held out for testing.
pub const TEST_FRACTION: f64 = 0.2;
/// Epochs of the example run (the test runs fewer).
pub const EPOCHS: usize = 15;
/// Seed of the split, the batch order, the initial weights and the dropout masks.
pub const SEED: u64 = 5;
/// Drop probability before the dense layers.
pub const DROPOUT: f32 = 0.25;

/// conv 1→16 3×3 (padding 1) → batch norm → ReLU → max-pool 2 → conv 16→32 3×3 (padding 1)
/// → batch norm → ReLU → max-pool 2 → flatten (32·2·2) → dropout → dense 128→64 → ReLU →
/// dense 64→10, initialised from `seed`.
pub fn lenet(seed: u64) -> Sequential {
    let rng = &mut Rng::new(seed);
    let same = Conv2dConfig::new(3).padding(1);
    Sequential::new()
        .push(Conv2d::with_config(1, 16, same, rng))
        .push(BatchNorm2d::new(16))
        .push(Relu)
        .push(MaxPool2d::new(2))
        .push(Conv2d::with_config(16, 32, same, rng))
        .push(BatchNorm2d::new(32))
        .push(Relu)
        .push(MaxPool2d::new(2))
        .push(Flatten)
        .push(Dropout::new(DROPOUT, seed))
        .push(Dense::new(32 * 2 * 2, 64, rng))
        .push(Relu)
        .push(Dense::new(64, 10, rng))
}

/// Trains the network for `epochs` on the training split (pixels scaled to `[0, 1]`) and
/// returns its held-out accuracy.
pub fn train_and_evaluate(epochs: usize, seed: u64) -> Result<f32, Box<dyn std::error::Error>> {
    let scaled = digits().map(ScaleToUnit::new(DIGITS_MAX_VALUE));
    let (train, test) = scaled.split(TEST_FRACTION, seed)?;
    let train = DataLoader::new(train, 32).shuffle(seed + 1);
    let test = DataLoader::new(test, 512);

    let mut model = lenet(seed + 2);
    let mut trainer = Trainer::new(TrainConfig {
        epochs,
        ..Default::default()
    })
    .with_callback(ProgressBar::new());
    let classifier = &mut model.with_objective(Classification::default());
    trainer.fit(classifier, &mut Adam::new(3e-3), &train, ())?;
    let held_out = evaluate(classifier, &test)?;
    Ok(held_out["accuracy"])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let accuracy = train_and_evaluate(EPOCHS, SEED)?;
    println!(
        "digits CNN: held-out accuracy {:.2}% ({} epochs, seed {SEED})",
        100.0 * accuracy,
        EPOCHS
    );
    Ok(())
}
