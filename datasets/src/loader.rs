//! The `DataLoader`: seeded shuffling per epoch, batching, sharding across ranks, per-epoch
//! augmentation and a bounded prefetch on a worker thread.

use crate::collate::stack_examples;
use crate::dataset::{Batch, Dataset};
use crate::error::DataResult;
use crate::prefetch::Prefetch;
use crate::transform::Transform;
use std::sync::Arc;
use strata_tensor::{splitmix64, Rng};

/// Stream tags mixed into the loader seed, so the shuffling and augmentation generators of
/// one epoch are independent of each other.
const SHUFFLE_STREAM: u64 = 0x0073_6875_6666_6c65; // "shuffle" in ASCII
const AUGMENT_STREAM: u64 = 0x0061_7567_6d65_6e74; // "augment" in ASCII

/// Cuts a dataset into batches, epoch after epoch.
///
/// * Order: sequential, or shuffled with [`DataLoader::shuffle`]; epoch `e` uses a
///   permutation derived from `(seed, e)`, so every epoch differs and any epoch can be
///   replayed.
/// * Batches: `batch_size` examples stacked into `inputs [B, ...]` and `targets [B, ...]`;
///   the last batch is smaller unless [`DataLoader::drop_last`] is set.
/// * Prefetch: with [`DataLoader::prefetch`], a worker thread prepares up to `depth` batches
///   ahead while the caller trains on the current one. Batches are identical with and
///   without prefetch.
/// * Iterating `&mut loader` runs the next epoch (0, 1, 2, …); [`DataLoader::epoch`] runs any
///   given one.
///
/// ```
/// use strata_datasets::{DataLoader, TensorDataset};
/// use strata_tensor::Tensor;
/// let inputs = Tensor::arange(0.0, 10.0, 1.0).reshape(&[10, 1]);
/// let data = TensorDataset::new(inputs.clone(), inputs.reshape(&[10])).unwrap();
/// let mut loader = DataLoader::new(data, 4).shuffle(42).prefetch(2);
/// let sizes: Vec<usize> = loader.iter().map(|b| b.unwrap().len()).collect();
/// assert_eq!(sizes, vec![4, 4, 2]);
/// let first_epoch: Vec<usize> = loader.epoch(0).flat_map(|b| b.unwrap().indices).collect();
/// let second_epoch: Vec<usize> = loader.epoch(1).flat_map(|b| b.unwrap().indices).collect();
/// assert_ne!(first_epoch, second_epoch);
/// ```
#[derive(Clone)]
pub struct DataLoader {
    dataset: Arc<dyn Dataset>,
    batch_size: usize,
    shuffle_seed: Option<u64>,
    drop_last: bool,
    prefetch: usize,
    shard: Shard,
    transform: Option<(Arc<dyn Transform>, u64)>,
    next_epoch: u64,
}

/// Which share of each epoch this loader takes: rank `rank` of `world_size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shard {
    rank: usize,
    world_size: usize,
}

impl DataLoader {
    /// Batches of `batch_size` examples of `dataset`, in order, without prefetch. Panics if
    /// `batch_size` is 0.
    #[track_caller]
    pub fn new(dataset: impl Dataset + 'static, batch_size: usize) -> Self {
        assert!(batch_size > 0, "DataLoader: batch size must be positive");
        Self {
            dataset: Arc::new(dataset),
            batch_size,
            shuffle_seed: None,
            drop_last: false,
            prefetch: 0,
            shard: Shard {
                rank: 0,
                world_size: 1,
            },
            transform: None,
            next_epoch: 0,
        }
    }

    /// Shuffles every epoch with a permutation derived from `seed` and the epoch number.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.shuffle_seed = Some(seed);
        self
    }

    /// Drops the last batch of an epoch when it is smaller than the batch size.
    pub fn drop_last(mut self, drop: bool) -> Self {
        self.drop_last = drop;
        self
    }

    /// Prepares up to `depth` batches ahead on a worker thread (0 turns prefetch off).
    pub fn prefetch(mut self, depth: usize) -> Self {
        self.prefetch = depth;
        self
    }

    /// Applies `transform` to every example as it is loaded, with a generator seeded by
    /// `(seed, epoch, example index)`: augmentation differs every epoch and is reproducible.
    pub fn transform(mut self, transform: impl Transform + 'static, seed: u64) -> Self {
        self.transform = Some((Arc::new(transform), seed));
        self
    }

    /// Takes rank `rank`'s share of every epoch out of `world_size` ranks, for data-parallel
    /// training. All ranks must use the same dataset and seed.
    ///
    /// The epoch's order (shuffled or not) is cut to a multiple of `world_size` by leaving out
    /// its last `len % world_size` examples — different examples each epoch when shuffling —
    /// and rank `r` takes the `r`-th of `world_size` equal contiguous blocks. The shares are
    /// disjoint and equal, so every rank runs the same number of batches.
    ///
    /// Panics unless `rank < world_size`.
    #[track_caller]
    pub fn shard(mut self, rank: usize, world_size: usize) -> Self {
        assert!(
            rank < world_size,
            "DataLoader::shard: expected rank < world_size, found rank {rank} of {world_size}"
        );
        self.shard = Shard { rank, world_size };
        self
    }

    /// Starts counting epochs at `epoch` for the next `&mut loader` iteration (e.g. when
    /// resuming training).
    pub fn set_epoch(&mut self, epoch: u64) {
        self.next_epoch = epoch;
    }

    /// The epoch the next `&mut loader` iteration will run.
    pub fn next_epoch(&self) -> u64 {
        self.next_epoch
    }

    /// Examples per batch (the last batch of an epoch may hold fewer).
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The dataset.
    pub fn dataset(&self) -> &Arc<dyn Dataset> {
        &self.dataset
    }

    /// Examples this loader visits per epoch (its shard's share, before dropping the last
    /// batch).
    pub fn examples_per_epoch(&self) -> usize {
        self.dataset.len() / self.shard.world_size
    }

    /// Batches per epoch.
    pub fn num_batches(&self) -> usize {
        let examples = self.examples_per_epoch();
        if self.drop_last {
            examples / self.batch_size
        } else {
            examples.div_ceil(self.batch_size)
        }
    }

    /// The dataset indices this loader visits in `epoch`, in order (this shard's share).
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if let Some(seed) = self.shuffle_seed {
            let epoch_seed = splitmix64(splitmix64(seed ^ SHUFFLE_STREAM, 0), epoch);
            Rng::new(epoch_seed).shuffle(&mut order);
        }
        let share = self.examples_per_epoch();
        let start = self.shard.rank * share;
        order.truncate(start + share);
        order.drain(..start);
        order
    }

    /// The batches of `epoch`.
    pub fn epoch(&self, epoch: u64) -> Epoch {
        let plan = Arc::new(EpochPlan {
            dataset: Arc::clone(&self.dataset),
            order: self.order(epoch),
            batch_size: self.batch_size,
            num_batches: self.num_batches(),
            transform: self.transform.clone(),
            epoch,
        });
        let source = if self.prefetch == 0 {
            Source::Inline
        } else {
            Source::spawn(Arc::clone(&plan), self.prefetch)
        };
        Epoch {
            plan,
            source,
            next: 0,
            failed: false,
        }
    }

    /// The batches of the next epoch (0, 1, 2, … on successive calls).
    pub fn iter(&mut self) -> Epoch {
        let epoch = self.epoch(self.next_epoch);
        self.next_epoch += 1;
        epoch
    }
}

impl IntoIterator for &mut DataLoader {
    type Item = DataResult<Batch>;
    type IntoIter = Epoch;

    /// Runs the next epoch.
    fn into_iter(self) -> Epoch {
        self.iter()
    }
}

/// Everything needed to build any batch of one epoch.
struct EpochPlan {
    dataset: Arc<dyn Dataset>,
    order: Vec<usize>,
    batch_size: usize,
    num_batches: usize,
    transform: Option<(Arc<dyn Transform>, u64)>,
    epoch: u64,
}

impl EpochPlan {
    /// Batch number `b` of the epoch.
    fn batch(&self, b: usize) -> DataResult<Batch> {
        let start = b * self.batch_size;
        let indices = &self.order[start..(start + self.batch_size).min(self.order.len())];
        match &self.transform {
            None => self.dataset.get_batch(indices),
            Some((transform, seed)) => {
                let epoch_seed = splitmix64(splitmix64(seed ^ AUGMENT_STREAM, 0), self.epoch);
                stack_examples(indices, |index| {
                    let mut rng = Rng::new(splitmix64(epoch_seed, index as u64));
                    transform.apply(self.dataset.get(index)?, &mut rng)
                })
            }
        }
    }
}

/// Where an epoch's batches come from.
enum Source {
    /// Built on the caller's thread when asked for.
    Inline,
    /// Built ahead by a worker thread (and by the caller while it waits).
    Prefetch(Prefetch),
}

impl Source {
    fn spawn(plan: Arc<EpochPlan>, depth: usize) -> Self {
        let batches = plan.num_batches;
        let build = Arc::new(move |b: usize| plan.batch(b));
        Prefetch::spawn(build, batches, depth).map_or(Self::Inline, Self::Prefetch)
    }
}

/// The batches of one epoch, in order (an iterator of `DataResult<Batch>`; it stops after the
/// first error).
pub struct Epoch {
    plan: Arc<EpochPlan>,
    source: Source,
    next: usize,
    failed: bool,
}

impl Epoch {
    /// The epoch number.
    pub fn number(&self) -> u64 {
        self.plan.epoch
    }
}

impl Iterator for Epoch {
    type Item = DataResult<Batch>;

    fn next(&mut self) -> Option<DataResult<Batch>> {
        if self.failed || self.next >= self.plan.num_batches {
            return None;
        }
        let batch = match &mut self.source {
            Source::Inline => self.plan.batch(self.next),
            Source::Prefetch(prefetch) => prefetch.take(self.next),
        };
        self.next += 1;
        self.failed = batch.is_err();
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.plan.num_batches.saturating_sub(self.next);
        (0, Some(left))
    }
}
