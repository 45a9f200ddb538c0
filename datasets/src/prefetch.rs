//! Building an epoch's batches ahead on a worker thread, without ever making the caller
//! wait longer than building them itself would.
//!
//! The worker builds batches in order, up to `depth` ahead of the caller. When the caller
//! asks for a batch that nobody has started, it builds it itself; when the worker is still
//! building it, the caller builds a later batch meanwhile (within the same window) instead of
//! waiting. So a caller that trains between batches finds them ready, and a caller that only
//! loads (a data pipeline's own benchmark) gets two threads building batches, not one thread
//! building and another waiting for a hand-off per batch (a futex wake-up each: as long as a
//! batch takes to build, on the machine where the previous hand-off design made prefetch
//! slower than building inline).

use crate::dataset::Batch;
use crate::error::DataResult;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Builds batch number `b` of an epoch.
pub(crate) type BuildBatch = dyn Fn(usize) -> DataResult<Batch> + Send + Sync;

/// A built batch, or the panic that building it raised (resumed when it is asked for).
type Built = std::thread::Result<DataResult<Batch>>;

/// An epoch's batches, built ahead by a worker thread and by the caller.
pub(crate) struct Prefetch {
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

struct Shared {
    build: Arc<BuildBatch>,
    batches: usize,
    depth: usize,
    state: Mutex<State>,
    /// Signalled when a batch is built, the caller takes one, or the epoch stops.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Batches `0..claimed` have been started by the worker or the caller.
    claimed: usize,
    /// Batches `0..taken` have been handed to the caller.
    taken: usize,
    /// Built batches not yet taken.
    built: BTreeMap<usize, Built>,
    /// The epoch was dropped: the worker stops.
    stopped: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Builds batch `b`, catching a panic so that it reaches the caller when it asks for `b`.
    fn build(&self, b: usize) -> Built {
        catch_unwind(AssertUnwindSafe(|| (self.build)(b)))
    }
}

impl Prefetch {
    /// Starts the worker for an epoch of `batches` batches, `depth` of them built ahead.
    /// Returns `None` when the thread cannot be started (the caller then builds inline).
    pub(crate) fn spawn(build: Arc<BuildBatch>, batches: usize, depth: usize) -> Option<Self> {
        let shared = Arc::new(Shared {
            build,
            batches,
            depth: depth.max(1),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let worker_shared = Arc::clone(&shared);
        let worker = std::thread::Builder::new()
            .name("strata-data-prefetch".into())
            .spawn(move || work(&worker_shared));
        match worker {
            Ok(handle) => Some(Self {
                shared,
                worker: Some(handle),
            }),
            Err(err) => {
                tracing::warn!("could not start the prefetch thread ({err}); loading inline");
                None
            }
        }
    }

    /// Batch `b`, the next one the caller needs (batches are asked for in order).
    pub(crate) fn take(&mut self, b: usize) -> DataResult<Batch> {
        let shared = &*self.shared;
        let mut state = shared.lock();
        loop {
            if let Some(built) = state.built.remove(&b) {
                state.taken = b + 1;
                drop(state);
                shared.changed.notify_all();
                return built.unwrap_or_else(|payload| resume_unwind(payload));
            }
            if state.claimed <= b {
                // Nobody has started it: build it here, now.
                state.claimed = b + 1;
                state.taken = b + 1;
                drop(state);
                shared.changed.notify_all();
                return (shared.build)(b);
            }
            // The worker is building it: build a later batch meanwhile, if one is due.
            let next = state.claimed;
            if next < shared.batches && next < b + 1 + shared.depth {
                state.claimed = next + 1;
                drop(state);
                let built = shared.build(next);
                state = shared.lock();
                state.built.insert(next, built);
                continue;
            }
            state = shared
                .changed
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The worker: claims the next batch while it is at most `depth` ahead of the caller,
/// builds it, and stores it.
fn work(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if state.stopped || state.claimed >= shared.batches {
            return;
        }
        if state.claimed >= state.taken + shared.depth {
            state = shared
                .changed
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
            continue;
        }
        let b = state.claimed;
        state.claimed += 1;
        drop(state);
        let built = shared.build(b);
        state = shared.lock();
        state.built.insert(b, built);
        shared.changed.notify_all();
    }
}

impl Drop for Prefetch {
    /// Stops the worker (after the batch it is building, if any) and waits for it.
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.changed.notify_all();
        if let Some(handle) = self.worker.take() {
            // The worker's own panics were caught and stored with their batch.
            let _ = handle.join();
        }
    }
}
