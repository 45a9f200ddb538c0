//! LSTM forward + backward: `Lstm` (input 128, hidden 128, batch-first) on `[32, 50, 128]`,
//! loss = mean of the squared outputs, gradients of every parameter (no optimizer step), at
//! each thread count of `STRATA_BENCH_THREADS` (default 1 and 2). Beside it, the same LSTM composed from ~12 small autograd ops per step (the
//! way a user would write it with `Var` ops), to show what the fused recurrence buys.
//!
//! Inputs and weights follow the portable SplitMix64 spec (`strata_bench_reference`), so
//! the first loss printed here equals PyTorch's: `cargo xtask bench --compare-pytorch` runs
//! this bench and `xtask/pytorch/compare.py` (which measures `nn.LSTM` on the same problem)
//! in the same sitting.
//!
//! ```text
//! cargo bench -p strata-modules --bench lstm
//! ```

#![allow(clippy::print_stderr)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use strata_bench_reference::{initialise_recurrent, inputs};
use strata_modules::{Lstm, Var};
use strata_tensor::{bench_thread_counts, set_num_threads, Tensor};

const BATCH: usize = 32;
const STEPS: usize = 50;
const FEATURES: usize = 128;
const HIDDEN: usize = 128;

/// An LSTM initialised as the PyTorch script does (`reference::initialise_recurrent`).
fn portable_lstm() -> Lstm {
    let mut lstm = Lstm::new(FEATURES, HIDDEN, &mut strata_tensor::Rng::new(0));
    initialise_recurrent(&mut lstm, HIDDEN);
    lstm
}

fn batch() -> Tensor {
    inputs(BATCH * STEPS, FEATURES).reshape(&[BATCH as isize, STEPS as isize, FEATURES as isize])
}

/// One forward + backward step through the fused `Lstm`; returns the loss.
fn fused_step(lstm: &Lstm, x: &Var) -> f32 {
    let (outputs, _) = lstm.forward_seq(x, None);
    let loss = outputs.square().mean();
    let value = loss.item();
    std::hint::black_box(loss.backward().expect("the loss depends on the weights"));
    value
}

/// The same step with the recurrence written as small autograd ops, step by step.
fn composed_step(lstm: &Lstm, x: &Var) -> f32 {
    let w = &lstm.layers[0];
    let h_size = HIDDEN;
    let mut h = Var::constant(Tensor::zeros(&[BATCH, h_size]));
    let mut c = h.clone();
    let mut outputs = Vec::with_capacity(STEPS);
    for t in 0..STEPS {
        let x_t = x.narrow(1, t, 1).squeeze(1);
        let gates = x_t
            .linear(&w.weight_ih, w.bias_ih.as_ref())
            .add(&h.linear(&w.weight_hh, w.bias_hh.as_ref()));
        let gate = |k: usize| gates.narrow(1, k * h_size, h_size);
        let (i, f, g, o) = (
            gate(0).sigmoid(),
            gate(1).sigmoid(),
            gate(2).tanh(),
            gate(3).sigmoid(),
        );
        c = f.mul(&c).add(&i.mul(&g));
        h = o.mul(&c.tanh());
        outputs.push(h.clone());
    }
    let outputs = Var::stack(&outputs.iter().collect::<Vec<_>>(), 1);
    let loss = outputs.square().mean();
    let value = loss.item();
    std::hint::black_box(loss.backward().expect("the loss depends on the weights"));
    value
}

fn bench_lstm(c: &mut Criterion) {
    let lstm = portable_lstm();
    let x = Var::constant(batch());
    let fused = fused_step(&lstm, &x);
    let composed = composed_step(&lstm, &x);
    eprintln!("first loss: fused {fused:.9}, composed {composed:.9} (PyTorch: 0.017980987)");
    let mut group = c.benchmark_group("lstm_b32_t50_i128_h128_fwd_bwd");
    group.sample_size(20);
    group.throughput(Throughput::Elements(BATCH as u64));
    for threads in bench_thread_counts() {
        set_num_threads(threads);
        group.bench_with_input(BenchmarkId::new("fused", threads), &threads, |b, _| {
            b.iter(|| fused_step(&lstm, &x))
        });
        group.bench_with_input(BenchmarkId::new("composed", threads), &threads, |b, _| {
            b.iter(|| composed_step(&lstm, &x))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_lstm);
criterion_main!(benches);
