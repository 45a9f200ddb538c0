//! f32 matrix products: Strata's `Tensor::matmul` beside raw faer on the same shapes and
//! thread counts, reported in GFLOP/s (criterion's "elem/s" with one element per flop).
//!
//! - `matmul/<m>x<k>x<n>`, at each thread count of `STRATA_BENCH_THREADS` (default 1 and 2):
//!   `strata/1t` and `faer/1t` (faer `Par::Seq`), `strata/2t` (Strata
//!   splits the product into single-threaded tiles on its workers above
//!   `MATMUL_PAR_MIN_FLOPS` multiply-adds) and `faer/2t` (faer's own parallel product,
//!   `Par::rayon(2)`, on rayon's pool). Where Strata stays sequential at 2 threads, compare
//!   it with `faer/1t`.
//! - `matmul_threshold/<m>x<k>x<n>`: Strata at 1 and 2 threads around the threshold, the
//!   evidence for `MATMUL_PAR_MIN_FLOPS`, beside faer's `Par::rayon(2)`.
//!
//! Run: `cargo bench -p strata-tensor --bench matmul -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use std::hint::black_box;
use strata_tensor::{bench_thread_counts, set_num_threads, Rng, Tensor, MATMUL_PAR_MIN_FLOPS};

/// `(m, k, n)`: square sizes, then the forward products of a 784-512-256-10 MLP at batch 128.
const SHAPES: [(usize, usize, usize); 7] = [
    (128, 128, 128),
    (256, 256, 256),
    (512, 512, 512),
    (1024, 1024, 1024),
    (128, 784, 512),
    (128, 512, 256),
    (128, 256, 10),
];

/// Shapes around the parallel threshold: small squares and the thin products of an MLP's
/// 10-wide output layer (forward, weight gradient, input gradient) and its middle layer.
const THRESHOLD_SHAPES: [(usize, usize, usize); 12] = [
    (64, 64, 64),
    (96, 96, 96),
    (112, 112, 112),
    (128, 128, 128),
    (32, 128, 512),
    (160, 160, 160),
    (192, 192, 192),
    (128, 256, 10),
    (256, 128, 10),
    (128, 10, 256),
    (128, 512, 256),
    (512, 128, 256),
];

struct Operands {
    a: Tensor,
    b: Tensor,
    a_raw: Vec<f32>,
    b_raw: Vec<f32>,
    c_raw: Vec<f32>,
}

fn operands(m: usize, k: usize, n: usize) -> Operands {
    let mut rng = Rng::new(1);
    let a = Tensor::rand_uniform(&[m, k], -1.0, 1.0, &mut rng);
    let b = Tensor::rand_uniform(&[k, n], -1.0, 1.0, &mut rng);
    Operands {
        a_raw: a.to_vec(),
        b_raw: b.to_vec(),
        c_raw: vec![0.0; m * n],
        a,
        b,
    }
}

/// `c = a · b` straight through faer on row-major views of plain vectors.
fn faer_matmul(ops: &mut Operands, m: usize, k: usize, n: usize, par: Par) {
    let a = MatRef::from_row_major_slice(&ops.a_raw, m, k);
    let b = MatRef::from_row_major_slice(&ops.b_raw, k, n);
    let c = MatMut::from_row_major_slice_mut(&mut ops.c_raw, m, n);
    matmul(c, Accum::Replace, a, b, 1.0f32, par);
}

fn label(m: usize, k: usize, n: usize) -> String {
    format!("{m}x{k}x{n}")
}

fn flops(m: usize, k: usize, n: usize) -> u64 {
    2 * (m * k * n) as u64
}

fn strata_vs_faer(c: &mut Criterion) {
    for (m, k, n) in SHAPES {
        let mut group = c.benchmark_group(format!("matmul/{}", label(m, k, n)));
        group.throughput(Throughput::Elements(flops(m, k, n)));
        if flops(m, k, n) > 1 << 30 {
            group.sample_size(20);
        }
        let mut ops = operands(m, k, n);
        for threads in bench_thread_counts() {
            set_num_threads(threads);
            let par = if threads == 1 {
                Par::Seq
            } else {
                Par::rayon(threads)
            };
            group.bench_function(BenchmarkId::new("strata", format!("{threads}t")), |bench| {
                bench.iter(|| black_box(ops.a.matmul(&ops.b)))
            });
            group.bench_function(BenchmarkId::new("faer", format!("{threads}t")), |bench| {
                bench.iter(|| faer_matmul(&mut ops, m, k, n, par))
            });
        }
        set_num_threads(0);
        group.finish();
    }
}

fn threshold(c: &mut Criterion) {
    for (m, k, n) in THRESHOLD_SHAPES {
        let mut group = c.benchmark_group(format!("matmul_threshold/{}", label(m, k, n)));
        group.throughput(Throughput::Elements(flops(m, k, n)));
        let mut ops = operands(m, k, n);
        let strata_par = m * n * k >= MATMUL_PAR_MIN_FLOPS;
        let note = if strata_par {
            "strata: parallel"
        } else {
            "strata: seq"
        };
        for threads in [1, 2] {
            set_num_threads(threads);
            group.bench_function(
                BenchmarkId::new(format!("strata_{threads}t"), note),
                |bench| bench.iter(|| black_box(ops.a.matmul(&ops.b))),
            );
        }
        set_num_threads(0);
        group.bench_function(BenchmarkId::new("faer_rayon2", note), |bench| {
            bench.iter(|| faer_matmul(&mut ops, m, k, n, Par::rayon(2)))
        });
        group.finish();
    }
}

criterion_group!(benches, strata_vs_faer, threshold);
criterion_main!(benches);
