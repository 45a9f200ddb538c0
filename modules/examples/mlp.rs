//! Trains an MLP on two interleaved spirals (strata-datasets' seeded generator), holding out
//! a quarter of the points, and prints the held-out accuracy.
//!
//! Run: `cargo run --release -p strata-modules --example mlp`

#![allow(clippy::print_stdout)]

use strata_datasets::{spirals, DataLoader, Dataset};
use strata_modules::{
    Adam, Classification, Dense, Module, ProgressBar, Sequential, Tanh, TrainConfig, Trainer,
};
use strata_tensor::Rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (train, test) = spirals(800, 2, 0.02, 1).split(0.25, 2)?;
    let train = DataLoader::new(train, 32).shuffle(3);
    let test = DataLoader::new(test, 800);

    let mut rng = Rng::new(4);
    let mut model = Sequential::new()
        .push(Dense::new(2, 32, &mut rng))
        .push(Tanh)
        .push(Dense::new(32, 32, &mut rng))
        .push(Tanh)
        .push(Dense::new(32, 2, &mut rng));
    let mut trainer = Trainer::new(TrainConfig {
        epochs: 200,
        ..Default::default()
    })
    .with_callback(ProgressBar::new());
    let classifier = &mut model.with_objective(Classification::default());
    let history = trainer.fit(classifier, &mut Adam::new(0.01), &train, &test)?;
    let last = history.last().ok_or("no epoch ran")?;
    println!(
        "spirals: held-out loss {:.4}, accuracy {:.1}%",
        last.val_loss().unwrap_or(f32::NAN),
        100.0 * last.val_accuracy().unwrap_or(0.0)
    );
    Ok(())
}
