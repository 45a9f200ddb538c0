//! Metric learning with a Siamese encoder: one MLP embeds every digit of a pair or triplet
//! into 8 numbers; the contrastive and the triplet loss shape the embedding so that digits of
//! a class lie close together. Judged by nearest-neighbour classification of held-out digits
//! against the training digits, in the embedding.
//!
//! `cargo run --release -p strata-patterns --example siamese`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use strata_tensor::Rng;
use support::data::digit_datasets;
use support::siamese::{build, embedding_accuracy, train, CONTRASTIVE, EMBEDDING, SEED, TRIPLET};
use support::{Progress, SPLIT_SEED};

fn main() {
    let (train_set, test_set) = digit_datasets(SPLIT_SEED);
    let untrained = embedding_accuracy(&build(&mut Rng::new(SEED)), &train_set, &test_set);
    println!(
        "untrained encoder: nearest-neighbour accuracy {:.2}% in its {EMBEDDING}-d embedding",
        100.0 * untrained
    );
    let contrastive = train(CONTRASTIVE, &train_set, SEED, Progress::Bar);
    println!(
        "contrastive loss: nearest-neighbour accuracy {:.2}%",
        100.0 * embedding_accuracy(&contrastive, &train_set, &test_set)
    );
    let triplet = train(TRIPLET, &train_set, SEED, Progress::Bar);
    println!(
        "triplet loss: held-out nearest-neighbour accuracy {:.2}% in the learned {EMBEDDING}-d embedding",
        100.0 * embedding_accuracy(&triplet, &train_set, &test_set)
    );
}
