//! Convolution and element-wise kernels, at 1 and 2 threads.
//!
//! - `conv2d/<layer>`: LeNet's two convolutions at batch 64, forward (GFLOP/s as "elem/s",
//!   one element per flop) and the two backward kernels.
//! - `elementwise_1M`: add and a ReLU-like map on 2^20 elements (GB/s: bytes read + written).
//! - `par_threshold/<n>`: add on n elements: Strata at 1 and 2 threads (where 2 starts to win
//!   is where `PAR_MIN_ELEMENTS` belongs), beside a plain slice loop and the same loop split
//!   into 4 blocks by Strata's workers (`for_each_block`) and by rayon, which shows what
//!   starting a parallel region costs on each.
//!
//! Run: `cargo bench -p strata-tensor --bench kernels -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use std::hint::black_box;
use strata_tensor::{for_each_block, set_num_threads, Conv2dSpec, Rng, Tensor};

/// A LeNet convolution: input `[N, C, H, W]`, weight `[O, C, k, k]`.
struct ConvLayer {
    name: &'static str,
    input: [usize; 4],
    weight: [usize; 4],
}

const LENET: [ConvLayer; 2] = [
    ConvLayer {
        name: "lenet1_64x1x28x28_6x5x5",
        input: [64, 1, 28, 28],
        weight: [6, 1, 5, 5],
    },
    ConvLayer {
        name: "lenet2_64x6x12x12_16x5x5",
        input: [64, 6, 12, 12],
        weight: [16, 6, 5, 5],
    },
];

fn conv2d(c: &mut Criterion) {
    let spec = Conv2dSpec::new(1, 0);
    for layer in &LENET {
        let mut rng = Rng::new(2);
        let x = Tensor::rand_uniform(&layer.input, -1.0, 1.0, &mut rng);
        let w = Tensor::rand_uniform(&layer.weight, -0.2, 0.2, &mut rng);
        let b = Tensor::rand_uniform(&[layer.weight[0]], -0.2, 0.2, &mut rng);
        let y = x.conv2d(&w, Some(&b), spec);
        let g = Tensor::rand_uniform(y.shape(), -1.0, 1.0, &mut rng);
        let [_, c_in, kh, kw] = layer.weight;
        let flops = 2 * y.numel() * c_in * kh * kw;

        let mut group = c.benchmark_group(format!("conv2d/{}", layer.name));
        group.throughput(Throughput::Elements(flops as u64));
        for threads in [1, 2] {
            set_num_threads(threads);
            let t = format!("{threads}t");
            group.bench_function(BenchmarkId::new("forward", &t), |bench| {
                bench.iter(|| black_box(x.conv2d(&w, Some(&b), spec)))
            });
            group.bench_function(BenchmarkId::new("backward_input", &t), |bench| {
                bench.iter(|| black_box(Tensor::conv2d_backward_input(&g, &w, x.shape(), spec)))
            });
            group.bench_function(BenchmarkId::new("backward_weight", &t), |bench| {
                bench.iter(|| black_box(Tensor::conv2d_backward_weight(&g, &x, w.shape(), spec)))
            });
        }
        set_num_threads(0);
        group.finish();
    }
}

fn elementwise_1m(c: &mut Criterion) {
    let n = 1 << 20;
    let mut rng = Rng::new(3);
    let a = Tensor::rand_uniform(&[n], -1.0, 1.0, &mut rng);
    let b = Tensor::rand_uniform(&[n], -1.0, 1.0, &mut rng);
    let bytes = (4 * n) as u64;
    let mut group = c.benchmark_group("elementwise_1M");
    for threads in [1, 2] {
        set_num_threads(threads);
        let t = format!("{threads}t");
        // Two streams read, one written.
        group.throughput(Throughput::Bytes(3 * bytes));
        group.bench_function(BenchmarkId::new("add", &t), |bench| {
            bench.iter(|| black_box(&a + &b))
        });
        // One stream read, one written.
        group.throughput(Throughput::Bytes(2 * bytes));
        group.bench_function(BenchmarkId::new("relu_map", &t), |bench| {
            bench.iter(|| black_box(a.map(|x| x.max(0.0))))
        });
        // One stream read.
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function(BenchmarkId::new("sum", &t), |bench| {
            bench.iter(|| black_box(a.sum()))
        });
    }
    set_num_threads(0);
    group.finish();
}

/// `out = a + b` over plain slices.
fn slice_add(out: &mut [f32], a: &[f32], b: &[f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = x + y;
    }
}

fn par_threshold(c: &mut Criterion) {
    for n in [
        16 << 10,
        32 << 10,
        64 << 10,
        128 << 10,
        256 << 10,
        512 << 10,
        1 << 20,
    ] {
        let mut rng = Rng::new(4);
        let a = Tensor::rand_uniform(&[n], -1.0, 1.0, &mut rng);
        let b = Tensor::rand_uniform(&[n], -1.0, 1.0, &mut rng);
        let (av, bv) = (a.to_vec(), b.to_vec());
        let mut out = vec![0.0f32; n];
        let mut group = c.benchmark_group(format!("par_threshold/{}K", n >> 10));
        group.throughput(Throughput::Bytes((12 * n) as u64));
        for threads in [1, 2] {
            set_num_threads(threads);
            group.bench_function(
                BenchmarkId::new("strata_add", format!("{threads}t")),
                |bench| bench.iter(|| black_box(&a + &b)),
            );
        }
        group.bench_function("slice_add_serial", |bench| {
            bench.iter(|| slice_add(black_box(&mut out), &av, &bv))
        });
        let chunk = n.div_ceil(4);
        set_num_threads(2);
        group.bench_function("slice_add_pool_4_blocks", |bench| {
            bench.iter(|| {
                for_each_block(n, chunk, [black_box(&mut out)], |rows, [o]| {
                    slice_add(o, &av[rows.clone()], &bv[rows])
                })
            })
        });
        set_num_threads(0);
        group.bench_function("slice_add_rayon_4_chunks", |bench| {
            bench.iter(|| {
                black_box(&mut out)
                    .par_chunks_mut(chunk)
                    .zip(av.par_chunks(chunk))
                    .zip(bv.par_chunks(chunk))
                    .for_each(|((o, x), y)| slice_add(o, x, y))
            })
        });
        group.finish();
    }
}

criterion_group!(benches, conv2d, elementwise_1m, par_threshold);
criterion_main!(benches);
