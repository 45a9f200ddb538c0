//! Bottom-up, top-down attention: the combinator against a hand computation, and the
//! quadrant-query recipe's held-out accuracy and attention.

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // the tests use some of the shared recipes
#[path = "../examples/support/mod.rs"]
mod support;

use strata_modules::{Dense, Params};
use strata_patterns::BottomUpTopDown;
use strata_tensor::{Rng, Tensor};
use support::bottom_up::{evaluate, test_grids, train, SEED};
use support::data::digits_split;
use support::SPLIT_SEED;

/// `x·Wᵀ + b` of one row by loops.
fn dense_row(layer: &Dense, x: &[f32]) -> Vec<f32> {
    let w = layer.weight.value().to_vec();
    let b = layer.bias.as_ref().unwrap().value().to_vec();
    (0..b.len())
        .map(|o| {
            b[o] + x
                .iter()
                .enumerate()
                .map(|(i, v)| v * w[o * x.len() + i])
                .sum::<f32>()
        })
        .collect()
}

#[test]
fn the_query_weights_the_region_features_and_the_head_reads_their_mixture() {
    let mut rng = Rng::new(1);
    let model = BottomUpTopDown::new(
        Dense::new(3, 2, &mut rng),
        2,
        2,
        Dense::new(2, 4, &mut rng),
        &mut rng,
    );
    let regions = Tensor::rand_normal(&[1, 3, 3], 0.0, 1.0, &mut rng);
    let query = Tensor::rand_normal(&[1, 2], 0.0, 1.0, &mut rng);
    let features: Vec<Vec<f32>> = regions
        .to_vec()
        .chunks(3)
        .map(|r| dense_row(&model.encoder, r))
        .collect();
    let q = dense_row(&model.query, &query.to_vec());
    let scores: Vec<f32> = features
        .iter()
        .map(|f| (f[0] * q[0] + f[1] * q[1]) / 2f32.sqrt())
        .collect();
    let total: f32 = scores.iter().map(|s| s.exp()).sum();
    let weights: Vec<f32> = scores.iter().map(|s| s.exp() / total).collect();
    let attended: Vec<f32> = (0..2)
        .map(|d| features.iter().zip(&weights).map(|(f, w)| w * f[d]).sum())
        .collect();
    let want = dense_row(&model.head, &attended);
    let (output, got_weights) = model.answer(&regions, &query);
    for (got, want) in [
        (got_weights.value().to_vec(), weights),
        (output.value().to_vec(), want),
    ] {
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
        }
    }
    // Queries for another number of inputs are an error naming both shapes.
    let Err(err) = model.try_answer(&regions, &Tensor::zeros(&[2, 2])) else {
        panic!("two queries for one input should be an error");
    };
    assert!(err.to_string().contains("[1, 3, 3]") && err.to_string().contains("[2, 2]"));
    let names: Vec<String> = model.parameter_names();
    assert_eq!(
        names,
        [
            "encoder.weight",
            "encoder.bias",
            "query.weight",
            "query.bias",
            "head.weight",
            "head.bias"
        ]
    );
}

/// The bars: held-out accuracy of the queried digit, and mean attention weight on
/// the queried quadrant.
const MIN_ACCURACY: f32 = 0.90;
const MIN_WEIGHT_ON_QUERIED: f32 = 0.8;

#[test]
fn top_down_attention_finds_the_queried_quadrant_and_names_its_digit() {
    let (train_set, test_set) = digits_split(SPLIT_SEED);
    let model = train(&train_set, SEED);
    let metrics = evaluate(&model, &test_grids(&test_set));
    println!("{metrics:?}");
    assert!(metrics.accuracy >= MIN_ACCURACY);
    assert!(metrics.weight_on_queried >= MIN_WEIGHT_ON_QUERIED);
}
