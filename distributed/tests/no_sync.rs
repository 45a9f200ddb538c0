//! Gradient accumulation over micro-batches with the data-parallel hook (PyTorch's
//! `no_sync`): no communication before the last micro-batch, and the result of one process
//! on the joined batch. Ranks are threads; no MPI needed.

mod support;

use strata_autograd::Var;
use strata_distributed::{Collective, DataParallel};
use strata_modules::loss::cross_entropy;
use strata_modules::{Adam, Module, Optimizer, StepHook};
use strata_tensor::Tensor;
use support::{max_abs_diff, on_ranks, state, Arch, State, SEED, SMALL_BUCKET_BYTES, TOLERANCE};

/// Examples per micro-batch.
const MICRO_BATCH: usize = 8;
/// Micro-batches per optimizer step.
const MICRO_BATCHES: usize = 3;
/// Optimizer steps.
const STEPS: usize = 4;
/// Adam's learning rate.
const LEARNING_RATE: f32 = 0.01;

/// Rows `start..start + len` of the digits.
fn rows(start: usize, len: usize) -> (Tensor, Tensor) {
    let data = support::data();
    (
        data.input().narrow(0, start, len),
        data.target().narrow(0, start, len),
    )
}

/// The mean cross-entropy of `model` on `rows`, scaled by `weight`.
fn loss(model: &dyn Module, (x, y): &(Tensor, Tensor), weight: f32) -> Var {
    let logits = model.forward(&Var::constant(x.clone()));
    cross_entropy(&logits, y).mul_scalar(weight)
}

/// This rank's training: per step, `MICRO_BATCHES` micro-batches, all but the last through
/// `backward_no_sync`. Returns the final state and the allreduce calls made by the
/// micro-batches before the last (must be none).
fn accumulate<C: Collective + 'static>(collective: C, overlap: bool) -> (State, usize) {
    let (rank, world) = (collective.rank(), collective.world_size());
    let mut model = Arch::Mlp.build(SEED + rank as u64);
    let mut hook = DataParallel::new(collective)
        .with_bucket_bytes(SMALL_BUCKET_BYTES)
        .with_overlap(overlap);
    let meter = hook.meter();
    hook.on_start(&mut model);
    let mut optimizer = Adam::new(LEARNING_RATE);
    let mut early_calls = 0;
    let weight = 1.0 / MICRO_BATCHES as f32;
    for step in 0..STEPS {
        meter.take();
        for micro in 0..MICRO_BATCHES {
            let start = ((step * world + rank) * MICRO_BATCHES + micro) * MICRO_BATCH;
            let loss = loss(&model, &rows(start, MICRO_BATCH), weight);
            if micro + 1 < MICRO_BATCHES {
                hook.backward_no_sync(&loss).unwrap();
                continue;
            }
            early_calls += meter.take().calls;
            let mut grads = hook.backward(&loss, &model).unwrap();
            drop(loss);
            hook.reduce_gradients(&mut grads, &model);
            optimizer.step(&mut model, &grads);
        }
    }
    (state(&model), early_calls)
}

/// One process: each step on the `world × MICRO_BATCHES` micro-batches joined.
fn reference(world: usize) -> State {
    let mut model = Arch::Mlp.build(SEED);
    let mut optimizer = Adam::new(LEARNING_RATE);
    let joined = world * MICRO_BATCHES * MICRO_BATCH;
    for step in 0..STEPS {
        let loss = loss(&model, &rows(step * joined, joined), 1.0);
        let grads = loss.backward().unwrap();
        drop(loss);
        optimizer.step(&mut model, &grads);
    }
    state(&model)
}

#[test]
fn accumulated_micro_batches_match_one_process_and_communicate_once() {
    for world in [2, 3] {
        let runs = [true, false].map(|overlap| on_ranks(world, |rank| accumulate(rank, overlap)));
        for ranks in &runs {
            for (rank, (replica, early_calls)) in ranks.iter().enumerate() {
                assert_eq!(*early_calls, 0, "rank {rank} communicated before the last");
                assert_eq!(
                    max_abs_diff(replica, &ranks[0].0),
                    0.0,
                    "rank {rank} drifted"
                );
            }
        }
        assert_eq!(
            max_abs_diff(&runs[0][0].0, &runs[1][0].0),
            0.0,
            "{world} ranks: overlap changed the accumulated result"
        );
        let diff = max_abs_diff(&runs[0][0].0, &reference(world));
        assert!(diff < TOLERANCE, "{world} ranks: max |Δ| = {diff:e}");
    }
}
