//! An in-process group: ranks are threads that meet in shared memory. It runs the
//! data-parallel logic without MPI (unit tests, debugging), and a rank that never arrives
//! makes the others panic after a timeout instead of hanging.

use crate::collective::{Collective, DetachedAllReduce};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a rank of a [`LocalRank::group`] waits for the others in one call before it
/// panics: far above any step of the small models tests train (well under a second), short
/// enough that a failing test ends promptly.
pub const LOCAL_TIMEOUT: Duration = Duration::from_secs(60);

/// One rank of an in-process group; move each into its own thread.
///
/// ```
/// use strata_distributed::{Collective, LocalRank};
/// let sums: Vec<Vec<f32>> = std::thread::scope(|s| {
///     let handles: Vec<_> = LocalRank::group(3)
///         .into_iter()
///         .map(|rank| s.spawn(move || {
///             let mine = [rank.rank() as f32, 1.0];
///             let mut sum = [0.0; 2];
///             rank.all_reduce_sum(&mine, &mut sum);
///             sum.to_vec()
///         }))
///         .collect();
///     handles.into_iter().map(|h| h.join().unwrap()).collect()
/// });
/// assert!(sums.iter().all(|s| s == &[0.0 + 1.0 + 2.0, 3.0]));
/// ```
#[derive(Debug)]
pub struct LocalRank {
    rank: usize,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    world_size: usize,
    timeout: Duration,
    state: Mutex<Round>,
    changed: Condvar,
}

/// The exchange in progress: each rank deposits its values, the last one to arrive publishes
/// them all, and the next round starts once every rank has read the published values.
#[derive(Debug, Default)]
struct Round {
    deposits: Vec<Option<Vec<f64>>>,
    arrived: usize,
    generation: u64,
    published: Option<Arc<Vec<Vec<f64>>>>,
    readers_left: usize,
}

impl LocalRank {
    /// The `world_size` ranks of a new group, waiting at most [`LOCAL_TIMEOUT`] per call.
    pub fn group(world_size: usize) -> Vec<LocalRank> {
        Self::group_with_timeout(world_size, LOCAL_TIMEOUT)
    }

    /// The ranks of a new group whose calls panic after waiting `timeout` for the others.
    /// Panics if `world_size` is 0.
    #[track_caller]
    pub fn group_with_timeout(world_size: usize, timeout: Duration) -> Vec<LocalRank> {
        assert!(
            world_size > 0,
            "LocalRank::group: world size must be positive"
        );
        let shared = Arc::new(Shared {
            world_size,
            timeout,
            state: Mutex::new(Round {
                deposits: vec![None; world_size],
                ..Round::default()
            }),
            changed: Condvar::new(),
        });
        (0..world_size)
            .map(|rank| LocalRank {
                rank,
                shared: Arc::clone(&shared),
            })
            .collect()
    }

    /// Deposits `mine` and returns every rank's deposit, in rank order.
    #[track_caller]
    fn exchange(&self, what: &str, mine: Vec<f64>) -> Arc<Vec<Vec<f64>>> {
        let shared = &*self.shared;
        let deadline = Instant::now() + shared.timeout;
        // The previous round's values must be read by everyone before new ones go in.
        let mut round = self.wait(shared.lock(), deadline, what, |r| r.readers_left > 0);
        round.deposits[self.rank] = Some(mine);
        round.arrived += 1;
        let generation = round.generation;
        if round.arrived == shared.world_size {
            let all: Vec<Vec<f64>> = round.deposits.iter_mut().flat_map(Option::take).collect();
            if let Some(other) = all.iter().find(|d| d.len() != all[0].len()) {
                panic!(
                    "LocalRank {what}: every rank must pass the same length, found {} and {}",
                    all[0].len(),
                    other.len()
                );
            }
            round.published = Some(Arc::new(all));
            round.arrived = 0;
            round.readers_left = shared.world_size;
            round.generation += 1;
            shared.changed.notify_all();
        }
        let mut round = self.wait(round, deadline, what, |r| r.generation == generation);
        let all = round
            .published
            .clone()
            .expect("published before the generation moved");
        round.readers_left -= 1;
        if round.readers_left == 0 {
            round.published = None;
            shared.changed.notify_all();
        }
        all
    }

    /// Waits while `blocked(round)`, panicking at `deadline`.
    #[track_caller]
    fn wait<'a>(
        &self,
        mut round: MutexGuard<'a, Round>,
        deadline: Instant,
        what: &str,
        blocked: impl Fn(&Round) -> bool,
    ) -> MutexGuard<'a, Round> {
        while blocked(&round) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "LocalRank {what}: rank {} waited {:?} for the other ranks (did a rank fail or \
                 skip a call?)",
                self.rank,
                self.shared.timeout
            );
            round = self
                .shared
                .changed
                .wait_timeout(round, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        round
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Round> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Collective for LocalRank {
    fn rank(&self) -> usize {
        self.rank
    }

    fn world_size(&self) -> usize {
        self.shared.world_size
    }

    #[track_caller]
    fn broadcast(&self, root: usize, data: &mut [f32]) {
        let mine = data.iter().map(|&v| v as f64).collect();
        let all = self.exchange("broadcast", mine);
        for (d, &v) in data.iter_mut().zip(&all[root]) {
            *d = v as f32;
        }
    }

    #[track_caller]
    fn all_reduce_sum(&self, send: &[f32], sum: &mut [f32]) {
        let all = self.exchange("all_reduce_sum", send.iter().map(|&v| v as f64).collect());
        // Summed in f32, in rank order, as an MPI implementation sums f32 buffers.
        for (i, s) in sum.iter_mut().enumerate() {
            *s = all
                .iter()
                .fold(0.0f32, |acc, values| acc + values[i] as f32);
        }
    }

    /// Another handle on the same group: the data-parallel hook makes no call of its own
    /// while its detached sums are in flight, so the two never interleave.
    fn detached_all_reduce(&self) -> Option<DetachedAllReduce> {
        let rank = LocalRank {
            rank: self.rank,
            shared: Arc::clone(&self.shared),
        };
        Some(Box::new(move |send, sum| rank.all_reduce_sum(send, sum)))
    }

    #[track_caller]
    fn all_reduce_sum_f64(&self, send: &[f64], sum: &mut [f64]) {
        let all = self.exchange("all_reduce_sum_f64", send.to_vec());
        for (i, s) in sum.iter_mut().enumerate() {
            *s = all.iter().map(|values| values[i]).sum();
        }
    }
}
