//! DataLoader: shuffling per epoch, batching, drop-last, determinism, prefetch equivalence,
//! per-epoch augmentation, sharding, and how errors and panics reach the caller.

use std::collections::HashSet;
use strata_datasets::{
    Batch, DataError, DataLoader, DataResult, Dataset, Example, RandomHorizontalFlip, TensorDataset,
};
use strata_tensor::Tensor;

/// `n` examples: input `[2, 3]` filled with `index + k/10`, target the index.
fn numbered(n: usize) -> TensorDataset {
    let inputs: Vec<f32> = (0..n)
        .flat_map(|i| (0..6).map(move |k| i as f32 + k as f32 / 10.0))
        .collect();
    let targets: Vec<f32> = (0..n).map(|i| i as f32).collect();
    TensorDataset::new(
        Tensor::from_vec(inputs, &[n, 2, 3]),
        Tensor::from_vec(targets, &[n]),
    )
    .unwrap()
}

fn collect(epoch: impl IntoIterator<Item = DataResult<Batch>>) -> Vec<Batch> {
    epoch.into_iter().map(|b| b.unwrap()).collect()
}

#[test]
fn each_epoch_is_a_different_seeded_permutation() {
    let loader = DataLoader::new(numbered(100), 10).shuffle(7);
    let (e0, e1) = (loader.order(0), loader.order(1));
    let mut sorted = e0.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..100).collect::<Vec<_>>());
    assert_ne!(e0, e1);
    assert_ne!(e0, sorted, "shuffled");
    assert_eq!(DataLoader::new(numbered(100), 10).shuffle(7).order(1), e1);
    assert_ne!(DataLoader::new(numbered(100), 10).shuffle(8).order(1), e1);
    assert_eq!(
        DataLoader::new(numbered(100), 10).order(3),
        sorted,
        "no shuffle keeps the order"
    );
}

#[test]
fn batches_stack_the_examples_in_epoch_order() {
    let data = numbered(23);
    let loader = DataLoader::new(data.clone(), 5).shuffle(3);
    let batches = collect(loader.epoch(2));
    assert_eq!(
        batches.iter().map(Batch::len).collect::<Vec<_>>(),
        vec![5, 5, 5, 5, 3]
    );
    let order: Vec<usize> = batches.iter().flat_map(|b| b.indices.clone()).collect();
    assert_eq!(order, loader.order(2));
    for batch in &batches {
        assert_eq!(batch.input().shape(), &[batch.len(), 2, 3]);
        assert_eq!(batch.target().shape(), &[batch.len()]);
        for (row, &index) in batch.indices.iter().enumerate() {
            let expected = data.get(index).unwrap();
            assert_eq!(
                batch.input().narrow(0, row, 1).squeeze(0),
                *expected.input()
            );
            assert_eq!(batch.target().get(&[row]), index as f32);
        }
    }
}

#[test]
fn drop_last_removes_the_short_batch() {
    let loader = DataLoader::new(numbered(23), 5).drop_last(true);
    assert_eq!(loader.num_batches(), 4);
    assert!(collect(loader.epoch(0)).iter().all(|b| b.len() == 5));
    assert_eq!(DataLoader::new(numbered(23), 5).num_batches(), 5);
}

#[test]
fn iterating_the_loader_twice_runs_epochs_zero_and_one() {
    let mut loader = DataLoader::new(numbered(30), 8).shuffle(11);
    let first: Vec<Batch> = collect(&mut loader);
    let second: Vec<Batch> = collect(&mut loader);
    assert_eq!(first, collect(loader.epoch(0)));
    assert_eq!(second, collect(loader.epoch(1)));
    assert_ne!(first, second);
    assert_eq!(loader.next_epoch(), 2);
    loader.set_epoch(0);
    assert_eq!(
        collect(&mut loader),
        first,
        "resuming replays an epoch exactly"
    );
}

#[test]
fn prefetch_does_not_change_any_batch() {
    let flip = RandomHorizontalFlip { probability: 0.5 };
    let plain = DataLoader::new(numbered(57), 6)
        .shuffle(5)
        .transform(flip, 9);
    for depth in [1, 3] {
        let prefetching = plain.clone().prefetch(depth);
        for epoch in 0..3 {
            assert_eq!(
                collect(plain.epoch(epoch)),
                collect(prefetching.epoch(epoch)),
                "depth {depth}, epoch {epoch}"
            );
        }
    }
}

#[test]
fn augmentation_is_reproducible_and_changes_between_epochs() {
    let make = || {
        DataLoader::new(numbered(40), 40).transform(RandomHorizontalFlip { probability: 0.5 }, 21)
    };
    let (a, b) = (make(), make());
    let epoch0 = collect(a.epoch(0)).remove(0);
    assert_eq!(epoch0, collect(b.epoch(0)).remove(0));
    let epoch1 = collect(a.epoch(1)).remove(0);
    assert_ne!(epoch0.input(), epoch1.input());
    // Each row is the example or its mirror image.
    let data = numbered(40);
    for row in 0..40 {
        let got = epoch0.input().narrow(0, row, 1).squeeze(0).to_vec();
        let original = data.get(row).unwrap().input().to_vec();
        let mirrored: Vec<f32> = original
            .chunks(3)
            .flat_map(|r| r.iter().rev().copied())
            .collect();
        assert!(got == original || got == mirrored, "row {row}: {got:?}");
    }
}

#[test]
fn shards_are_disjoint_equal_and_leave_out_only_the_remainder() {
    let (n, world) = (103, 4);
    let loaders: Vec<DataLoader> = (0..world)
        .map(|rank| {
            DataLoader::new(numbered(n), 8)
                .shuffle(2)
                .shard(rank, world)
        })
        .collect();
    for epoch in 0..2 {
        let mut seen = HashSet::new();
        for loader in &loaders {
            let order = loader.order(epoch);
            assert_eq!(order.len(), n / world);
            assert_eq!(loader.num_batches(), (n / world).div_ceil(8));
            assert_eq!(collect(loader.epoch(epoch)).len(), loader.num_batches());
            for index in order {
                assert!(seen.insert(index), "index {index} in two shards");
            }
        }
        // The shards together are the whole epoch order minus its last n % world entries.
        let full = DataLoader::new(numbered(n), 8).shuffle(2).order(epoch);
        let expected: HashSet<usize> = full[..n - n % world].iter().copied().collect();
        assert_eq!(seen, expected);
    }
}

/// 20 scalar examples; reading `fail_at` gives an error and reading `panic_at` panics.
struct Faulty {
    fail_at: usize,
    panic_at: usize,
}

impl Dataset for Faulty {
    fn len(&self) -> usize {
        20
    }

    fn get(&self, index: usize) -> DataResult<Example> {
        if index == self.fail_at {
            return Err(DataError::invalid(
                "Faulty",
                "a readable example",
                format!("example {index}"),
            ));
        }
        assert!(index != self.panic_at, "example {index} panics");
        Ok(Example::new(
            Tensor::scalar(index as f32),
            Tensor::scalar(0.0),
        ))
    }
}

#[test]
fn an_error_is_returned_once_and_ends_the_epoch() {
    for depth in [0, 2] {
        let loader = DataLoader::new(
            Faulty {
                fail_at: 13,
                panic_at: 99,
            },
            4,
        )
        .prefetch(depth);
        let results: Vec<DataResult<Batch>> = loader.epoch(0).collect();
        assert_eq!(
            results.len(),
            4,
            "batches 0..=2 succeed, batch 3 (indices 12..16) fails"
        );
        assert!(results[..3].iter().all(|r| r.is_ok()));
        let err = results[3].as_ref().unwrap_err();
        assert!(err.to_string().contains("example 13"), "{err}");
    }
}

#[test]
fn a_panic_on_the_prefetch_thread_reaches_the_caller() {
    let loader = DataLoader::new(
        Faulty {
            fail_at: 99,
            panic_at: 17,
        },
        1,
    )
    .prefetch(2);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        loader.epoch(0).skip(14).take(5).for_each(drop);
    }));
    let payload = outcome.expect_err("the worker's panic is resumed on the caller");
    let message = payload.downcast_ref::<String>().map(String::as_str);
    assert_eq!(message, Some("example 17 panics"));
}

#[test]
fn abandoning_a_prefetching_epoch_stops_its_worker() {
    let loader = DataLoader::new(numbered(1000), 1).prefetch(2);
    for epoch in 0..20 {
        let mut batches = loader.epoch(epoch);
        assert!(batches.next().unwrap().is_ok());
        // Dropping here must join the worker without waiting for the other 999 batches.
    }
}

#[test]
#[should_panic(expected = "rank < world_size")]
fn shard_rank_must_be_below_world_size() {
    let _ = DataLoader::new(numbered(4), 2).shard(2, 2);
}
