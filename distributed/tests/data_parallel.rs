//! The data-parallel hook with ranks as threads ([`LocalRank`]): equivalence with one
//! process on the whole batch, the broadcast at start, gradient and buffer averaging,
//! bucketing, metrics and the single checkpoint writer. No MPI needed.

#![allow(clippy::print_stderr)]

mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;
use strata_autograd::{Gradients, Var};
use strata_distributed::{Collective, CommTimes, DataParallel, LocalRank};
use strata_modules::{
    Classification, Dense, Module, Params, Sequential, Sgd, StepHook, TrainConfig, Trainer,
};
use strata_tensor::{Rng, Tensor};
use support::{
    max_abs_diff, on_ranks, train_reference, train_replica, Arch, Normalisation, State,
    LOCAL_VS_GLOBAL_MIN_GAP, SMALL_BUCKET_BYTES, TOLERANCE,
};

fn assert_replicas_identical(states: &[State]) {
    for (rank, s) in states.iter().enumerate().skip(1) {
        assert_eq!(
            max_abs_diff(&states[0], s),
            0.0,
            "rank {rank} drifted from rank 0"
        );
    }
}

#[test]
fn mlp_on_two_and_three_ranks_matches_one_process_on_the_joined_batch() {
    for world in [2, 3] {
        let states = on_ranks(world, |rank| {
            train_replica(Arch::Mlp, rank, SMALL_BUCKET_BYTES, true)
        });
        assert_replicas_identical(&states);
        let reference = train_reference(Arch::Mlp, world, Normalisation::WholeBatch);
        let diff = max_abs_diff(&states[0], &reference);
        eprintln!("{world} ranks: max |Δ| to one process = {diff:e}");
        assert!(diff < TOLERANCE, "{world} ranks: max |Δ| = {diff:e}");
    }
}

#[test]
fn batch_norm_statistics_are_local_and_running_statistics_averaged() {
    let states = on_ranks(2, |rank| {
        train_replica(Arch::BatchNorm, rank, SMALL_BUCKET_BYTES, true)
    });
    assert_replicas_identical(&states);
    let per_part = train_reference(Arch::BatchNorm, 2, Normalisation::PerRankPart);
    let diff = max_abs_diff(&states[0], &per_part);
    assert!(diff < TOLERANCE, "max |Δ| = {diff:e}");
    let whole = train_reference(Arch::BatchNorm, 2, Normalisation::WholeBatch);
    let gap = max_abs_diff(&states[0], &whole);
    eprintln!("max |Δ| to one process: {diff:e} per rank part, {gap:e} whole batch");
    assert!(
        gap > LOCAL_VS_GLOBAL_MIN_GAP,
        "local statistics should differ from whole-batch ones, gap {gap:e}"
    );
}

#[test]
fn bucket_size_does_not_change_the_result() {
    let small = on_ranks(2, |rank| train_replica(Arch::BatchNorm, rank, 64, true));
    let large = on_ranks(2, |rank| {
        train_replica(Arch::BatchNorm, rank, 1 << 20, true)
    });
    assert_eq!(max_abs_diff(&small[0], &large[0]), 0.0);
}

#[test]
fn overlapping_the_exchange_with_backward_changes_no_bit() {
    for world in [2, 3] {
        for arch in [Arch::Mlp, Arch::BatchNorm, Arch::SideBranch] {
            let runs = [true, false].map(|overlap| {
                on_ranks(world, |rank| {
                    train_replica(arch, rank, SMALL_BUCKET_BYTES, overlap)
                })
            });
            for states in &runs {
                assert_replicas_identical(states);
            }
            let diff = max_abs_diff(&runs[0][0], &runs[1][0]);
            assert_eq!(
                diff, 0.0,
                "{world} ranks, {arch:?}: overlap changed the result"
            );
        }
    }
}

#[test]
fn a_parameter_without_gradient_in_some_steps_matches_one_process() {
    for world in [2, 3] {
        let states = on_ranks(world, |rank| {
            train_replica(Arch::SideBranch, rank, SMALL_BUCKET_BYTES, true)
        });
        assert_replicas_identical(&states);
        let reference = train_reference(Arch::SideBranch, world, Normalisation::WholeBatch);
        let diff = max_abs_diff(&states[0], &reference);
        assert!(diff < TOLERANCE, "{world} ranks: max |Δ| = {diff:e}");
    }
}

/// The output layer of [`Arch::Mlp`], `Dense(32, 10)`, in bytes.
const OUTPUT_LAYER_BYTES: usize = (32 * 10 + 10) * 4;

/// One training step of the MLP on 2 ranks; the hook's communication times.
fn one_step_times(overlap: bool) -> Vec<CommTimes> {
    on_ranks(2, |rank| {
        let r = rank.rank();
        let hook = DataParallel::new(rank)
            .with_bucket_bytes(OUTPUT_LAYER_BYTES)
            .with_overlap(overlap);
        let meter = hook.meter();
        let mut model = Arch::Mlp.build(r as u64);
        let data = support::data();
        let (x, y) = (
            data.input().narrow(0, 0, 16),
            data.target().narrow(0, 0, 16),
        );
        Trainer::new(TrainConfig {
            epochs: 1,
            ..TrainConfig::default()
        })
        .with_hook(hook)
        .fit(
            &mut model.with_objective(Classification::default()),
            &mut Sgd::new(0.1),
            |_| [(x.clone(), y.clone())],
            (),
        )
        .unwrap();
        meter.take()
    })
}

#[test]
fn with_overlap_buckets_start_during_the_backward_pass() {
    // 2,410 parameters and 4 flags in buckets of 330 floats: the output layer's (exactly
    // one bucket, ready before the hidden layer's), the hidden bias, then the hidden weight
    // (2,048) in 7 with the flags in the last: 9 calls.
    for times in one_step_times(true) {
        assert_eq!(times.calls, 9);
        assert!(times.started_in_backward >= 1, "{times:?}");
    }
    for times in one_step_times(false) {
        assert_eq!(times.calls, 9);
        assert_eq!(times.started_in_backward, 0);
        assert_eq!(
            times.all_reduce, times.waiting,
            "without overlap nothing is hidden"
        );
    }
}

/// Counts the allreduce calls made through it.
struct Counting<C> {
    inner: C,
    all_reduces: Rc<Cell<usize>>,
}

impl<C: Collective> Collective for Counting<C> {
    fn rank(&self) -> usize {
        self.inner.rank()
    }
    fn world_size(&self) -> usize {
        self.inner.world_size()
    }
    fn broadcast(&self, root: usize, data: &mut [f32]) {
        self.inner.broadcast(root, data)
    }
    fn all_reduce_sum(&self, send: &[f32], sum: &mut [f32]) {
        self.all_reduces.set(self.all_reduces.get() + 1);
        self.inner.all_reduce_sum(send, sum)
    }
    fn all_reduce_sum_f64(&self, send: &[f64], sum: &mut [f64]) {
        self.inner.all_reduce_sum_f64(send, sum)
    }
}

#[test]
fn a_step_makes_one_allreduce_per_bucket_not_per_tensor() {
    // Dense(100, 30) + Dense(30, 10): 3,000 + 30 + 300 + 10 = 3,340 values and 4 presence
    // flags. Buckets of 2,000 floats end at parameter boundaries: the last layer and the
    // first bias (340), the first weight in two (2,000 and 1,000 with the flags): 3 calls;
    // buckets of 1 MB hold everything: 1 call.
    for (bucket_bytes, expected) in [(8000, 3), (1 << 20, 1)] {
        let calls = on_ranks(2, |rank| {
            let all_reduces = Rc::new(Cell::new(0));
            let counting = Counting {
                inner: rank,
                all_reduces: Rc::clone(&all_reduces),
            };
            let mut rng = Rng::new(0);
            let model = Sequential::new()
                .push(Dense::new(100, 30, &mut rng))
                .push(Dense::new(30, 10, &mut rng));
            let mut hook = DataParallel::new(counting).with_bucket_bytes(bucket_bytes);
            let mut grads = Gradients::default();
            for p in model.parameters() {
                grads.insert(p.id(), Tensor::ones(p.shape()));
            }
            hook.reduce_gradients(&mut grads, &model);
            all_reduces.get()
        });
        assert_eq!(calls, vec![expected; 2], "buckets of {bucket_bytes} bytes");
    }
}

#[test]
fn gradients_are_averaged_and_missing_ones_count_as_zero() {
    // Rank r has gradient (r + 1)·[1, 2, 3] for `both`, rank 0 alone one for `first_only`,
    // and nobody one for `unused`.
    let results = on_ranks(2, |rank| {
        let r = rank.rank() as f32;
        let mut rng = Rng::new(0);
        let model = Sequential::new()
            .push(Dense::new(3, 1, &mut rng))
            .push(Dense::new(1, 1, &mut rng));
        let params = model.parameters(); // weight and bias of each layer
        let (both, first_only, unused) = (&params[0], &params[2], &params[3]);
        let mut grads = Gradients::default();
        grads.insert(
            both.id(),
            Tensor::from_vec(vec![r + 1.0, 2.0 * (r + 1.0), 3.0 * (r + 1.0)], &[1, 3]),
        );
        if rank.rank() == 0 {
            grads.insert(first_only.id(), Tensor::from_vec(vec![4.0], &[1, 1]));
        }
        DataParallel::new(rank).reduce_gradients(&mut grads, &model);
        let get = |v: &Var| grads.get(v).map(Tensor::to_vec);
        (get(both), get(first_only), get(unused))
    });
    for (both, first_only, unused) in results {
        assert_eq!(both, Some(vec![1.5, 3.0, 4.5])); // ((1 + 2)/2)·[1, 2, 3]
        assert_eq!(first_only, Some(vec![2.0])); // (4 + 0)/2
        assert_eq!(unused, None);
    }
}

#[test]
fn start_broadcasts_rank_zero_parameters_to_every_rank() {
    let weights = on_ranks(3, |rank| {
        let mut model = Dense::new(4, 3, &mut Rng::new(100 + rank.rank() as u64));
        DataParallel::new(rank)
            .with_bucket_bytes(8)
            .on_start(&mut model);
        (
            model.weight.value().to_vec(),
            model.bias.as_ref().map(|b| b.value().to_vec()),
        )
    });
    let rank_zero = Dense::new(4, 3, &mut Rng::new(100));
    for w in &weights {
        assert_eq!(w.0, rank_zero.weight.value().to_vec());
        assert_eq!(w.1, rank_zero.bias.as_ref().map(|b| b.value().to_vec()));
    }
}

#[test]
fn ranks_with_different_models_stop_with_a_clear_message() {
    std::thread::scope(|s| {
        let handles: Vec<_> = LocalRank::group_with_timeout(2, Duration::from_secs(5))
            .into_iter()
            .map(|rank| {
                s.spawn(move || {
                    let outputs = 2 + rank.rank(); // Dense(3, 2) against Dense(3, 3)
                    let mut model = Dense::new(3, outputs, &mut Rng::new(0));
                    DataParallel::new(rank).on_start(&mut model);
                })
            })
            .collect();
        for handle in handles {
            let payload = handle.join().expect_err("a mismatched rank must panic");
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default();
            assert!(message.contains("unlike the other ranks"), "{message}");
        }
    });
}

#[test]
fn metric_sums_are_summed_over_ranks() {
    let sums = on_ranks(2, |rank| {
        let r = rank.rank() as f64;
        let mut sums = [1.0 + r, 10.0 * (r + 1.0), 0.5];
        DataParallel::new(rank).reduce_metrics(&mut sums);
        sums
    });
    assert_eq!(sums, vec![[3.0, 30.0, 1.0]; 2]);
}

#[test]
fn trainer_reports_global_metrics_and_only_rank_zero_writes_checkpoints() {
    let dir = std::env::temp_dir().join(format!("strata-dp-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = support::data();
    let inputs = data.input().narrow(0, 0, 40);
    let targets = data.target().narrow(0, 0, 40);
    let histories = on_ranks(2, |rank| {
        let r = rank.rank();
        let mut model = Arch::Mlp.build(r as u64);
        // Each rank trains on its own 20 examples and validates on them.
        let (x, y) = (inputs.narrow(0, 20 * r, 20), targets.narrow(0, 20 * r, 20));
        let history = Trainer::new(TrainConfig {
            epochs: 2,
            checkpoint_every: Some(1),
            checkpoint_path: Some(dir.join(format!("rank{r}.ckpt"))),
            ..TrainConfig::default()
        })
        .with_hook(DataParallel::new(rank))
        .fit(
            &mut model.with_objective(Classification::default()),
            &mut Sgd::new(0.1),
            |_| [(x.clone(), y.clone())],
            |_| [(x.clone(), y.clone())],
        )
        .unwrap()
        .to_vec();
        // This rank's own validation loss, for comparison with the reported global one.
        model.eval();
        let own =
            strata_modules::loss::cross_entropy(&model.forward(&Var::constant(x.clone())), &y)
                .item();
        (history, own)
    });
    assert!(dir.join("rank0.ckpt").exists());
    assert!(!dir.join("rank1.ckpt").exists(), "rank 1 must not write");
    let global = (histories[0].1 + histories[1].1) / 2.0; // equal shares
    for (history, _) in &histories {
        let last = history.last().unwrap();
        assert!((last.val_loss().unwrap() - global).abs() < 1e-5);
        assert_eq!(last.val_loss(), histories[0].0.last().unwrap().val_loss());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_single_rank_leaves_gradients_untouched_and_calls_nothing() {
    let all_reduces = Rc::new(Cell::new(0));
    let counting = Counting {
        inner: LocalRank::group(1).remove(0),
        all_reduces: Rc::clone(&all_reduces),
    };
    let model = Dense::new(2, 2, &mut Rng::new(0));
    let mut grads = Gradients::default();
    grads.insert(
        model.weight.id(),
        Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]),
    );
    let mut hook = DataParallel::new(counting);
    hook.reduce_gradients(&mut grads, &model);
    assert_eq!(
        grads.get(&model.weight).unwrap().to_vec(),
        vec![1.0, 2.0, 3.0, 4.0]
    );
    assert_eq!(all_reduces.get(), 0);
    assert!(hook.is_primary());
}

#[test]
fn a_rank_that_never_arrives_makes_the_others_panic_after_the_timeout() {
    let mut ranks = LocalRank::group_with_timeout(2, Duration::from_millis(200));
    let _absent = ranks.pop();
    let waiting = ranks.pop().unwrap();
    let outcome = std::thread::spawn(move || {
        let mut sum = [0.0];
        waiting.all_reduce_sum(&[1.0], &mut sum);
    })
    .join();
    let payload = outcome.expect_err("must time out");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("waited"), "{message}");
}

#[test]
fn local_ranks_sum_and_broadcast_like_mpi() {
    let results = on_ranks(3, |rank| {
        let r = rank.rank() as f32;
        let mut sum = [0.0f32; 2];
        rank.all_reduce_sum(&[r, 0.5], &mut sum);
        let mut data = [r * 10.0, r];
        rank.broadcast(2, &mut data);
        let mut sum64 = [0.0f64];
        rank.all_reduce_sum_f64(&[1e-3 * (r as f64 + 1.0)], &mut sum64);
        (sum, data, sum64)
    });
    for (sum, data, sum64) in results {
        assert_eq!(sum, [3.0, 1.5]);
        assert_eq!(data, [20.0, 2.0]);
        assert!((sum64[0] - 6e-3).abs() < 1e-15);
    }
}
