//! Data-parallel training of the design patterns with ranks as threads: a multi-input model
//! (two encoders, a learned gate, a head) and a multi-output model (a trunk and two heads with
//! their own losses) trained by `Trainer::fit` on 2 ranks end with the parameters of one
//! process trained on the joined batches, as the MLP does (tests/data_parallel.rs).

#![allow(clippy::print_stderr)]

mod support;

use strata_distributed::Collective;
use support::{
    max_abs_diff, on_ranks, train_pattern_reference, train_pattern_replica, two_task_data,
    two_task_model, two_view_data, two_view_model, SEED, TOLERANCE,
};

/// Ranks of the equivalence tests.
const WORLD: usize = 2;

#[test]
fn a_multi_input_pattern_on_two_ranks_matches_one_process_on_the_joined_batch() {
    // Every rank starts from its own weights: the start-of-training broadcast must replace
    // them by rank 0's.
    let replicas = on_ranks(WORLD, |rank| {
        let model = two_view_model(SEED + rank.rank() as u64);
        train_pattern_replica(model, two_view_data(), rank)
    });
    assert_eq!(
        max_abs_diff(&replicas[0].0, &replicas[1].0),
        0.0,
        "rank 1 drifted"
    );
    let reference = train_pattern_reference(two_view_model(SEED), two_view_data(), WORLD);
    let diff = max_abs_diff(&replicas[0].0, &reference);
    eprintln!("multi-input, {WORLD} ranks: max |Δ| to one process = {diff:e}");
    assert!(diff < TOLERANCE, "max |Δ| = {diff:e}");
}

#[test]
fn a_multi_output_pattern_on_two_ranks_matches_one_process_on_the_joined_batch() {
    let replicas = on_ranks(WORLD, |rank| {
        let model = two_task_model(SEED + rank.rank() as u64);
        train_pattern_replica(model, two_task_data(), rank)
    });
    assert_eq!(
        max_abs_diff(&replicas[0].0, &replicas[1].0),
        0.0,
        "rank 1 drifted"
    );
    let reference = train_pattern_reference(two_task_model(SEED), two_task_data(), WORLD);
    let diff = max_abs_diff(&replicas[0].0, &reference);
    eprintln!("multi-output, {WORLD} ranks: max |Δ| to one process = {diff:e}");
    assert!(diff < TOLERANCE, "max |Δ| = {diff:e}");
    // Each head's metrics are reported, summed over the ranks: every rank sees the same.
    let (first, second) = (&replicas[0].1, &replicas[1].1);
    for name in [
        "loss",
        "digit.loss",
        "digit.accuracy",
        "odd.loss",
        "odd.accuracy",
    ] {
        assert!(
            first.train.contains_key(name),
            "no `{name}` in {:?}",
            first.train
        );
        assert_eq!(first.train[name], second.train[name], "{name}");
    }
}
