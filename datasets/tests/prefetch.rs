//! The prefetch worker never makes the caller wait for a batch nobody is building: while the
//! worker builds one, the caller builds the next ones itself, so prefetching cannot be
//! slower than building every batch on the caller's thread.

use std::sync::Mutex;
use std::time::Duration;
use strata_datasets::{DataLoader, DataResult, Dataset, Example};
use strata_tensor::Tensor;

/// How long the prefetch thread takes for each example (the caller's thread takes no time).
const WORKER_DELAY: Duration = Duration::from_millis(30);

/// Scalar examples `0..len` that are slow to read on the prefetch thread only, recording
/// which thread read each one.
struct SlowOnTheWorker {
    len: usize,
    read_by_worker: Mutex<Vec<usize>>,
}

impl Dataset for SlowOnTheWorker {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize) -> DataResult<Example> {
        if std::thread::current().name() == Some("strata-data-prefetch") {
            std::thread::sleep(WORKER_DELAY);
            self.read_by_worker
                .lock()
                .expect("no reader panics")
                .push(index);
        }
        Ok(Example::new(
            Tensor::scalar(index as f32),
            Tensor::scalar(0.0),
        ))
    }
}

#[test]
fn the_caller_builds_batches_while_a_slow_worker_is_busy() {
    let batches = 20;
    let data = std::sync::Arc::new(SlowOnTheWorker {
        len: batches,
        read_by_worker: Mutex::new(Vec::new()),
    });
    let loader = DataLoader::new(SharedData(std::sync::Arc::clone(&data)), 1).prefetch(2);
    // Every batch arrives, in order, whoever built it.
    let order: Vec<f32> = loader
        .epoch(0)
        .map(|batch| batch.expect("in-memory examples load").input().item())
        .collect();
    assert_eq!(order, (0..batches).map(|i| i as f32).collect::<Vec<_>>());
    // While the worker spends 30 ms on a batch, the caller builds the next two itself
    // (depth 2) instead of waiting: the worker built at most about a third of them.
    let by_worker = data.read_by_worker.lock().expect("no reader panics").len();
    assert!(
        by_worker <= batches / 2,
        "the worker built {by_worker} of {batches} batches: the caller waited instead"
    );
}

/// A dataset shared with the test, so it can read what was recorded.
struct SharedData(std::sync::Arc<SlowOnTheWorker>);

impl Dataset for SharedData {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn get(&self, index: usize) -> DataResult<Example> {
        self.0.get(index)
    }
}
