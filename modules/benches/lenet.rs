//! LeNet-5 training steps (forward, cross-entropy, backward, Adam update) at batch 64 on
//! 28×28 inputs, with the PyTorch harness's model, portable data and initialisation
//! (`lenet` in `xtask/pytorch/compare.py`), at each thread count of `STRATA_BENCH_THREADS`
//! (default 1 and 2).
//!
//! Run: `cargo bench -p strata-modules --bench lenet`. `cargo xtask bench --compare-pytorch`
//! runs it beside the same model in PyTorch (`xtask/pytorch/compare.py`).

#![allow(clippy::print_stderr)]

#[path = "../tests/support/lenet5.rs"]
mod lenet5;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lenet5::{images_and_labels, PYTORCH_FIRST_LOSS};
use strata_bench_reference::lenet5;
use strata_modules::{cross_entropy, Adam, Module, Optimizer, Sequential, Var};
use strata_tensor::{bench_thread_counts, set_num_threads, Tensor};

/// The harness's batch size.
const BATCH: usize = 64;
/// Rows cycled through: enough distinct batches, few enough to label quickly.
const ROWS: usize = BATCH * 32;

/// Model, optimizer, data and the next step.
struct Run {
    model: Sequential,
    adam: Adam,
    images: Tensor,
    labels: Tensor,
    step: usize,
}

impl Run {
    /// One training step on the harness's batch `step mod (ROWS / BATCH)`; returns the loss.
    fn step(&mut self) -> f32 {
        let start = (self.step % (ROWS / BATCH)) * BATCH;
        self.step += 1;
        let x = Var::constant(self.images.narrow(0, start, BATCH));
        let y = self.labels.narrow(0, start, BATCH);
        let loss = cross_entropy(&self.model.forward(&x), &y);
        let value = loss.item();
        let grads = loss.backward().expect("the loss depends on the parameters");
        self.adam.step(&mut self.model, &grads);
        value
    }
}

fn bench_lenet(c: &mut Criterion) {
    let (images, labels) = images_and_labels(ROWS);
    let images = images.contiguous();
    let mut group = c.benchmark_group("lenet5_batch64_adam");
    group.throughput(Throughput::Elements(BATCH as u64));
    let thread_counts = bench_thread_counts();
    for &threads in &thread_counts {
        set_num_threads(threads);
        let mut run = Run {
            model: lenet5(),
            adam: Adam::new(1e-3),
            images: images.clone(),
            labels: labels.clone(),
            step: 0,
        };
        if threads == thread_counts[0] {
            eprintln!(
                "strata first-batch loss: {:.7} (PyTorch: {PYTORCH_FIRST_LOSS})",
                run.step()
            );
        }
        group.bench_function(BenchmarkId::new("threads", threads), |b| {
            b.iter(|| run.step())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_lenet);
criterion_main!(benches);
