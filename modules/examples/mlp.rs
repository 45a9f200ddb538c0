//! Trains an MLP on two interleaved spirals (strata-datasets' seeded generator), holding out
//! a quarter of the points, and prints the held-out accuracy.
//!
//! Run: `cargo run --release -p strata-modules --example mlp`

#![allow(clippy::print_stdout)]

use strata_datasets::{spirals, DataLoader, Dataset};
use strata_modules::{
    evaluate, Adam, Classification, Dense, Sequential, Tanh, TrainConfig, Trainer,
};
use strata_tensor::Rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (train, test) = spirals(800, 2, 0.02, 1).split(0.25, 2)?;
    let loader = DataLoader::new(train, 32).shuffle(3);
    let test_batch = DataLoader::new(test, 800)
        .epoch(0)
        .next()
        .expect("a test batch")?;

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
    });
    trainer.fit(
        &mut model,
        &mut Adam::new(0.01),
        &Classification::default(),
        |epoch| {
            loader
                .epoch(epoch as u64)
                .map(|batch| batch.map(|b| (b.inputs, b.targets)))
                .collect::<Result<Vec<_>, _>>()
                .expect("in-memory batches cannot fail")
        },
        std::iter::empty,
    )?;
    let (loss, accuracy) = evaluate(
        &mut model,
        &Classification::default(),
        [(test_batch.inputs, test_batch.targets)],
    );
    println!(
        "spirals: held-out loss {loss:.4}, accuracy {:.1}%",
        100.0 * accuracy.unwrap_or(0.0)
    );
    Ok(())
}
