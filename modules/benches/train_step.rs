//! Full training steps (forward, cross-entropy, backward, Adam update) on the PyTorch
//! harness's portable data and initialisation (`bench-reference/src/lib.rs`, mirrored by `xtask/pytorch/compare.py`):
//! MLP 784-512-256-10 at batch 32, 128 and 256 (samples/s) at each thread count of
//! `STRATA_BENCH_THREADS` (default 1 and 2), and the tiny MLP 2-64-64-2 at batch 32 on one
//! thread, whose step is almost all per-op overhead (µs per step).
//!
//! Run: `cargo bench -p strata-modules --bench train_step`. `cargo xtask bench
//! --compare-pytorch` runs it beside the same models in PyTorch (`xtask/pytorch/compare.py`).

#![allow(clippy::print_stderr)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use strata_bench_reference as reference;
use strata_modules::{cross_entropy, Adam, Module, Optimizer, Sequential, Var};
use strata_tensor::{bench_thread_counts, set_num_threads, Rng, Tensor};

/// Rows of the benchmark dataset: enough batches to cycle through, small enough to label fast.
const ROWS: usize = 256 * 24;

/// A training loop state: model, optimizer, data and the next batch index.
struct Run {
    model: Sequential,
    adam: Adam,
    x: Tensor,
    y: Tensor,
    batch: usize,
    step: usize,
}

impl Run {
    fn step(&mut self) -> f32 {
        let batches = self.x.shape()[0] / self.batch;
        let start = (self.step % batches) * self.batch;
        self.step += 1;
        let xb = Var::constant(self.x.narrow(0, start, self.batch));
        let yb = self.y.narrow(0, start, self.batch);
        let loss = cross_entropy(&self.model.forward(&xb), &yb);
        let value = loss.item();
        let grads = loss.backward().expect("loss depends on the parameters");
        self.adam.step(&mut self.model, &grads);
        value
    }
}

fn bench_mlp(c: &mut Criterion) {
    let x = reference::inputs(ROWS, 784);
    let y = reference::labels(ROWS, 784, 10);
    let mut group = c.benchmark_group("mlp_784_512_256_10_adam");
    let thread_counts = bench_thread_counts();
    for &threads in &thread_counts {
        set_num_threads(threads);
        for batch in [32, 128, 256] {
            let mut run = Run {
                model: reference::mlp(&[784, 512, 256, 10]),
                adam: Adam::new(1e-3),
                x: x.clone(),
                y: y.clone(),
                batch,
                step: 0,
            };
            if threads == thread_counts[0] && batch == 128 {
                eprintln!(
                    "strata first-batch loss: {:.7} (PyTorch: 2.2982494831085205)",
                    run.step()
                );
            }
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_function(BenchmarkId::new(format!("threads{threads}"), batch), |b| {
                b.iter(|| run.step())
            });
        }
    }
    group.finish();
}

fn bench_tiny(c: &mut Criterion) {
    set_num_threads(1);
    let mut rng = Rng::new(1);
    let x = Tensor::rand_normal(&[32 * 16, 2], 0.0, 1.0, &mut rng);
    let y = x
        .narrow(1, 0, 1)
        .gt(&Tensor::scalar(0.0))
        .squeeze(1)
        .contiguous();
    let mut run = Run {
        model: reference::mlp(&[2, 64, 64, 2]),
        adam: Adam::new(1e-3),
        x,
        y,
        batch: 32,
        step: 0,
    };
    c.bench_function("tiny_mlp_2_64_64_2_batch32_step", |b| b.iter(|| run.step()));
}

criterion_group!(benches, bench_mlp, bench_tiny);
criterion_main!(benches);
