//! Transformer encoder layer forward + backward: `TransformerEncoderLayer` (width 128, 4
//! heads, feed-forward 512, no dropout) on `[32, 64, 128]`, loss = mean of the squared
//! outputs, gradients of every parameter (no optimizer step), at each thread count of
//! `STRATA_BENCH_THREADS` (default 1 and 2).
//!
//! Inputs and weights follow the portable SplitMix64 spec (`strata_bench_reference`), so
//! the first loss printed here equals PyTorch's: `cargo xtask bench --compare-pytorch` runs
//! this bench and `xtask/pytorch/compare.py` (which measures `nn.TransformerEncoderLayer` on
//! the same problem) in the same sitting.
//!
//! ```text
//! cargo bench -p strata-modules --bench transformer
//! ```

#![allow(clippy::print_stderr)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use strata_bench_reference::{inputs, transformer_encoder_layer};
use strata_modules::{Module, TransformerEncoderLayer, Var};
use strata_tensor::{bench_thread_counts, set_num_threads};

const BATCH: usize = 32;
const TOKENS: usize = 64;
const WIDTH: usize = 128;

/// One forward + backward step; returns the loss.
fn step(layer: &TransformerEncoderLayer, x: &Var) -> f32 {
    let loss = layer.forward(x).square().mean();
    let value = loss.item();
    std::hint::black_box(loss.backward().expect("the loss depends on the weights"));
    value
}

fn bench_transformer(c: &mut Criterion) {
    let layer = transformer_encoder_layer();
    let x =
        inputs(BATCH * TOKENS, WIDTH).reshape(&[BATCH as isize, TOKENS as isize, WIDTH as isize]);
    let x = Var::constant(x);
    eprintln!("strata first loss: {:.7}", step(&layer, &x));
    let mut group = c.benchmark_group("transformer_encoder_d128_h4_ff512_t64_b32_fwd_bwd");
    group.sample_size(20);
    group.throughput(Throughput::Elements(BATCH as u64));
    for threads in bench_thread_counts() {
        set_num_threads(threads);
        group.bench_function(BenchmarkId::from_parameter(threads), |b| {
            b.iter(|| step(&layer, &x))
        });
    }
    set_num_threads(0);
    group.finish();
}

criterion_group!(benches, bench_transformer);
criterion_main!(benches);
