//! Shared by the in-process tests (ranks as threads) and the MPI rank program: a small
//! data-parallel training run on the digits, and the single-process runs it must match.
#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::sync::atomic::{AtomicUsize, Ordering};
use strata_autograd::Var;
use strata_datasets::{digits, Batch, DataLoader, Fields, TensorDataset};
use strata_distributed::{Collective, DataParallel};
use strata_modules::{
    Adam, BatchNorm1d, BinaryClassification, Buffer, Classification, Dense, EpochMetrics, Module,
    Params, Relu, Sequential, TrainConfig, TrainStep, Trainer, Visitor,
};
use strata_patterns::{Fusion, MultiInput, MultiOutput};
use strata_tensor::{Rng, Tensor};

/// Digits used: 331 is odd, so sharding over 2 ranks leaves one example out per epoch (the
/// remainder rule), and 165 per rank in batches of 16 ends each epoch on a batch of 5.
pub const EXAMPLES: usize = 331;
/// Examples per rank and step (the single-process reference uses `world × B`).
pub const BATCH_PER_RANK: usize = 16;
/// 2 epochs of 11 steps: enough for Adam's moments to carry any disagreement forward.
pub const EPOCHS: usize = 2;
/// Seed of the shuffling and of rank 0's initial weights.
pub const SEED: u64 = 7;
/// Adam's learning rate: large enough that the weights move far from their start.
pub const LEARNING_RATE: f32 = 0.01;
/// Replicas must match the single-process run within this (the bound): the two
/// differ only in the order of floating-point additions.
pub const TOLERANCE: f32 = 1e-5;
/// With local batch-norm statistics a rank normalises with its own part of the batch, so
/// the run must differ from one that normalises the whole batch at once by far more than
/// rounding: the gap measured is 0.18 with 2 ranks, 0.11-0.12 with 3 and 4; a tenth
/// of it still proves the point.
pub const LOCAL_VS_GLOBAL_MIN_GAP: f32 = 1e-2;
/// Small buckets, so the ~2,400 parameters travel in several, some tensors across two.
pub const SMALL_BUCKET_BYTES: usize = 4096;

/// The models of the equivalence tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// 64 → 32 → 10 with ReLU.
    Mlp,
    /// The same with batch normalisation after the hidden layer, which then has no bias:
    /// normalisation removes it, so its true gradient is zero, and Adam would turn the
    /// rounding noise of that zero into full-size steps that differ between any two
    /// orders of summation.
    BatchNorm,
    /// The MLP plus a side branch used in every other step only: its parameters get no
    /// gradient in the other steps.
    SideBranch,
}

impl Arch {
    /// The model with weights drawn from `seed`.
    pub fn build(self, seed: u64) -> Sequential {
        let mut rng = Rng::new(seed);
        let model = match self {
            Arch::Mlp | Arch::SideBranch => Sequential::new().push(Dense::new(64, 32, &mut rng)),
            Arch::BatchNorm => Sequential::new()
                .push(Dense::without_bias(64, 32, &mut rng))
                .push(BatchNorm1d::new(32)),
        };
        let mlp = model.push(Relu).push(Dense::new(32, 10, &mut rng));
        match self {
            Arch::SideBranch => Sequential::new().push(EveryOtherCall {
                main: mlp,
                side: Dense::new(64, 10, &mut rng),
                calls: AtomicUsize::new(0),
            }),
            Arch::Mlp | Arch::BatchNorm => mlp,
        }
    }
}

/// `main(x)` on even forward calls, `main(x) + side(x)` on odd ones: one forward per
/// training step, in the data-parallel runs as in the single-process reference.
#[derive(strata_modules::Params)]
struct EveryOtherCall {
    main: Sequential,
    side: Dense,
    #[module(skip)]
    calls: AtomicUsize,
}

impl Module for EveryOtherCall {
    fn forward(&self, x: &Var) -> Var {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        let main = self.main.forward(x);
        if call % 2 == 1 {
            main.add(&self.side.forward(x))
        } else {
            main
        }
    }
}

/// Parameters and buffers by name.
pub type State = Vec<(String, Tensor)>;

/// The model's parameters and buffers.
pub fn state(model: &dyn Params) -> State {
    let params = model
        .named_parameters()
        .into_iter()
        .map(|(name, p)| (name, p.value().clone()));
    params.chain(model.named_buffers()).collect()
}

/// Largest element-wise difference between two states of the same model.
pub fn max_abs_diff(a: &State, b: &State) -> f32 {
    assert_eq!(a.len(), b.len(), "states of different models");
    a.iter()
        .zip(b)
        .map(|((name_a, a), (name_b, b))| {
            assert_eq!(name_a, name_b, "states of different models");
            a.sub(b).abs().max().item()
        })
        .fold(0.0, f32::max)
}

/// The first [`EXAMPLES`] digits, flattened to 64 features scaled to [0, 1].
pub fn data() -> TensorDataset {
    let all = digits();
    let inputs = all
        .input()
        .narrow(0, 0, EXAMPLES)
        .reshape(&[EXAMPLES as isize, 64])
        .mul_scalar(1.0 / strata_datasets::DIGITS_MAX_VALUE);
    let targets = all.target().narrow(0, 0, EXAMPLES);
    TensorDataset::new(inputs, targets).expect("digits are well-formed")
}

/// Rank `rank`'s loader: its share of every epoch, the same seed on every rank.
pub fn loader(rank: usize, world: usize) -> DataLoader {
    DataLoader::new(data(), BATCH_PER_RANK)
        .shuffle(SEED)
        .shard(rank, world)
}

/// A loader's batches of `epoch` as `(inputs, targets)`.
pub fn batches(loader: &DataLoader, epoch: usize) -> Vec<(Tensor, Tensor)> {
    loader
        .epoch(epoch as u64)
        .map(|batch| {
            let batch = batch.expect("in-memory digits load");
            (batch.input().clone(), batch.target().clone())
        })
        .collect()
}

/// Trains this rank's replica with the data-parallel hook and returns its final state.
///
/// Every rank starts from different weights (seeded by its rank) and, with batch norm,
/// different running statistics: the start-of-training broadcast must replace them by
/// rank 0's.
pub fn train_replica<C: Collective + 'static>(
    arch: Arch,
    collective: C,
    bucket_bytes: usize,
    overlap: bool,
) -> State {
    let (rank, world) = (collective.rank(), collective.world_size());
    let mut model = arch.build(SEED + rank as u64);
    if rank != 0 {
        let scrambled = buffers(&model)
            .iter()
            .map(|b| Tensor::full(b.shape(), 10.0 + rank as f32))
            .collect();
        set_buffers(&model, scrambled);
    }
    let loader = loader(rank, world);
    Trainer::new(TrainConfig {
        epochs: EPOCHS,
        ..TrainConfig::default()
    })
    .with_hook(
        DataParallel::new(collective)
            .with_bucket_bytes(bucket_bytes)
            .with_overlap(overlap),
    )
    .fit(
        &mut model.with_objective(Classification::default()),
        &mut Adam::new(LEARNING_RATE),
        &loader,
        (),
    )
    .expect("training runs");
    state(&model)
}

/// How the single-process reference treats batch normalisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalisation {
    /// Statistics of each rank's part of the batch, running statistics averaged over the
    /// parts: what the data-parallel hook promises.
    PerRankPart,
    /// Statistics of the whole batch (what synchronised batch norm would give).
    WholeBatch,
}

/// One process, no hook: step `k` trains on the concatenation of every rank's batch `k`
/// (`world × B` examples), starting from rank 0's weights.
pub fn train_reference(arch: Arch, world: usize, normalisation: Normalisation) -> State {
    let model = arch.build(SEED);
    let mut model = Ghost {
        inner: model,
        parts: match normalisation {
            Normalisation::PerRankPart => world,
            Normalisation::WholeBatch => 1,
        },
    };
    let loaders: Vec<DataLoader> = (0..world).map(|rank| loader(rank, world)).collect();
    let joined = |epoch: usize| {
        let per_rank: Vec<Vec<(Tensor, Tensor)>> =
            loaders.iter().map(|l| batches(l, epoch)).collect();
        (0..per_rank[0].len())
            .map(|k| {
                let inputs: Vec<&Tensor> = per_rank.iter().map(|b| &b[k].0).collect();
                let targets: Vec<&Tensor> = per_rank.iter().map(|b| &b[k].1).collect();
                (Tensor::concat(&inputs, 0), Tensor::concat(&targets, 0))
            })
            .collect::<Vec<_>>()
    };
    Trainer::new(TrainConfig {
        epochs: EPOCHS,
        ..TrainConfig::default()
    })
    .fit(
        &mut model.with_objective(Classification::default()),
        &mut Adam::new(LEARNING_RATE),
        joined,
        (),
    )
    .expect("training runs");
    state(&model.inner)
}

/// Runs `inner` on `parts` equal consecutive parts of each batch, each part's batch
/// statistics its own, and sets the running statistics to the mean of what each part alone
/// would have made of them: one process doing by hand what `parts` ranks do.
#[derive(strata_modules::Params)]
struct Ghost {
    inner: Sequential,
    #[module(skip)]
    parts: usize,
}

impl Module for Ghost {
    fn forward(&self, x: &Var) -> Var {
        let part = x.shape()[0] / self.parts;
        assert_eq!(part * self.parts, x.shape()[0], "batch splits evenly");
        let start = buffers(&self.inner);
        let mut sums: Vec<Vec<f32>> = start.iter().map(|b| vec![0.0; b.numel()]).collect();
        let outputs: Vec<Var> = (0..self.parts)
            .map(|p| {
                set_buffers(&self.inner, start.clone());
                let output = self.inner.forward(&x.narrow(0, p * part, part));
                for (sum, buffer) in sums.iter_mut().zip(buffers(&self.inner)) {
                    for (s, v) in sum.iter_mut().zip(buffer.values().iter()) {
                        *s += v;
                    }
                }
                output
            })
            .collect();
        let means = sums
            .into_iter()
            .zip(&start)
            .map(|(sum, b)| {
                let mean = sum.iter().map(|s| s / self.parts as f32).collect();
                Tensor::from_vec(mean, b.shape())
            })
            .collect();
        set_buffers(&self.inner, means);
        Var::concat(&outputs.iter().collect::<Vec<_>>(), 0)
    }
}

/// The model's buffers, in visiting order.
pub fn buffers(model: &dyn Params) -> Vec<Tensor> {
    model.named_buffers().into_iter().map(|(_, b)| b).collect()
}

/// Sets the model's buffers, in visiting order.
pub fn set_buffers(model: &dyn Params, values: Vec<Tensor>) {
    struct Assign(std::vec::IntoIter<Tensor>);
    impl Visitor for Assign {
        fn param(&mut self, _: &str, _: &Var) {}
        fn buffer(&mut self, _: &str, buffer: &Buffer) {
            buffer.set(self.0.next().expect("one value per buffer"));
        }
    }
    model.visit("", &mut Assign(values.into_iter()));
}

/// Runs `body` on every rank of a `world`-thread group ([`strata_distributed::LocalRank`]);
/// returns the results in rank order (a panic on any rank fails the caller, after the
/// others time out).
pub fn on_ranks<T: Send>(
    world: usize,
    body: impl Fn(strata_distributed::LocalRank) -> T + Sync,
) -> Vec<T> {
    std::thread::scope(|s| {
        let handles: Vec<_> = strata_distributed::LocalRank::group(world)
            .into_iter()
            .map(|rank| s.spawn(|| body(rank)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("rank thread"))
            .collect()
    })
}

/// Width of each flow's code and of the multi-output trunk.
const PATTERN_CODE: usize = 16;

/// The first [`EXAMPLES`] digits as two inputs, `top` and `bottom` (rows 0-3 and 4-7, 32
/// pixels each), with the target `digit`.
pub fn two_view_data() -> TensorDataset {
    let digits = data();
    let images = digits.input();
    TensorDataset::from_fields(
        Fields::new()
            .with("top", images.narrow(1, 0, 32))
            .with("bottom", images.narrow(1, 32, 32)),
        Fields::new().with("digit", digits.target().clone()),
    )
    .expect("digits are well-formed")
}

/// A multi-input pattern: an encoder (32 → 16, ReLU) per half, a learned gate fusing them,
/// and a classifier head, with weights drawn from `seed`.
pub fn two_view_model(seed: u64) -> MultiInput<Sequential> {
    let mut rng = Rng::new(seed);
    let mut encoder = || {
        Sequential::new()
            .push(Dense::new(32, PATTERN_CODE, &mut rng))
            .push(Relu)
    };
    let encoders = vec![encoder(), encoder()];
    let fusion = Fusion::gated(2, PATTERN_CODE, &mut rng);
    MultiInput::new(encoders, fusion)
        .reading(&["top", "bottom"])
        .with_head(
            "digit",
            Dense::new(PATTERN_CODE, 10, &mut rng),
            Classification::default(),
        )
}

/// The first [`EXAMPLES`] digits with two targets: `digit`, and `odd` (0/1, `[N, 1]`).
pub fn two_task_data() -> TensorDataset {
    let digits = data();
    let labels = digits.target();
    let odd = labels.unsqueeze(1).map(|d| d % 2.0);
    TensorDataset::from_fields(
        Fields::new().with("image", digits.input().clone()),
        Fields::new().with("digit", labels.clone()).with("odd", odd),
    )
    .expect("digits are well-formed")
}

/// A multi-output pattern: a shared trunk (64 → 16, ReLU), a 10-way head and a yes/no head at
/// half weight, with weights drawn from `seed`.
pub fn two_task_model(seed: u64) -> MultiOutput<Sequential, Dense> {
    let mut rng = Rng::new(seed);
    let trunk = Sequential::new()
        .push(Dense::new(64, PATTERN_CODE, &mut rng))
        .push(Relu);
    MultiOutput::new(trunk)
        .with_head(
            "digit",
            Dense::new(PATTERN_CODE, 10, &mut rng),
            Classification::default(),
            1.0,
        )
        .with_head(
            "odd",
            Dense::new(PATTERN_CODE, 1, &mut rng),
            BinaryClassification,
            0.5,
        )
}

/// A trainer for [`EPOCHS`] epochs.
fn trainer() -> Trainer {
    Trainer::new(TrainConfig {
        epochs: EPOCHS,
        ..TrainConfig::default()
    })
}

/// Trains this rank's replica of `model` on its shard of `data` with the data-parallel hook;
/// returns its final state and the last epoch's metrics (summed over the ranks).
pub fn train_pattern_replica<M: TrainStep, C: Collective + 'static>(
    mut model: M,
    data: TensorDataset,
    collective: C,
) -> (State, EpochMetrics) {
    let (rank, world) = (collective.rank(), collective.world_size());
    let loader = DataLoader::new(data, BATCH_PER_RANK)
        .shuffle(SEED)
        .shard(rank, world);
    let mut trainer = trainer().with_hook(DataParallel::new(collective));
    let history = trainer
        .fit(&mut model, &mut Adam::new(LEARNING_RATE), &loader, ())
        .expect("training runs");
    let last = history.last().expect("an epoch ran").clone();
    (state(&model), last)
}

/// One process, no hook: step `k` trains `model` on the rows of every rank's batch `k`
/// joined into one batch (`world × B` examples), field by field.
pub fn train_pattern_reference<M: TrainStep>(
    mut model: M,
    data: TensorDataset,
    world: usize,
) -> State {
    let loaders: Vec<DataLoader> = (0..world)
        .map(|rank| {
            DataLoader::new(data.clone(), BATCH_PER_RANK)
                .shuffle(SEED)
                .shard(rank, world)
        })
        .collect();
    let joined = |epoch: usize| {
        let per_rank: Vec<Vec<Batch>> = loaders
            .iter()
            .map(|l| {
                l.epoch(epoch as u64)
                    .map(|b| b.expect("in-memory digits load"))
                    .collect()
            })
            .collect();
        (0..per_rank[0].len())
            .map(|k| join_batches(&per_rank.iter().map(|b| &b[k]).collect::<Vec<_>>()))
            .collect::<Vec<_>>()
    };
    trainer()
        .fit(&mut model, &mut Adam::new(LEARNING_RATE), joined, ())
        .expect("training runs");
    state(&model)
}

/// Batches of the same fields as one: each field's rows one batch after the other.
fn join_batches(batches: &[&Batch]) -> Batch {
    let join = |fields_of: fn(&Batch) -> &Fields| {
        let first = fields_of(batches[0]);
        first.names().fold(Fields::new(), |joined, name| {
            let parts: Vec<&Tensor> = batches.iter().map(|b| &fields_of(b)[name]).collect();
            joined.with(name, Tensor::concat(&parts, 0))
        })
    };
    let indices = batches.iter().flat_map(|b| b.indices.clone()).collect();
    Batch::from_fields(join(|b| &b.inputs), join(|b| &b.targets), indices)
}
