//! Forward-only versus forward + backward for an MLP 784-512-256-10 at batch 128 (ReLU,
//! softmax cross-entropy written with autograd ops), and the same step's GEMMs alone, so the
//! share of time spent outside GEMM can be read off: (step − GEMMs) / step.
//!
//! Run: `cargo bench -p strata-autograd --bench mlp_step`; threads follow `STRATA_NUM_THREADS`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use strata_autograd::{no_grad, Var};
use strata_tensor::{Rng, Tensor};

const BATCH: usize = 128;
const SIZES: [usize; 4] = [784, 512, 256, 10];

struct Mlp {
    layers: Vec<(Var, Var)>,
}

impl Mlp {
    fn new(rng: &mut Rng) -> Self {
        let layers = SIZES
            .windows(2)
            .map(|w| {
                let bound = 1.0 / (w[0] as f32).sqrt();
                (
                    Var::leaf(Tensor::rand_uniform(&[w[1], w[0]], -bound, bound, rng)),
                    Var::leaf(Tensor::rand_uniform(&[w[1]], -bound, bound, rng)),
                )
            })
            .collect();
        Self { layers }
    }

    fn loss(&self, x: &Var, labels: &Tensor) -> Var {
        let mut h = x.clone();
        for (i, (w, b)) in self.layers.iter().enumerate() {
            h = h.linear(w, Some(b));
            if i + 1 < self.layers.len() {
                h = h.relu();
            }
        }
        h.log_softmax(1).gather(1, labels).mean().neg()
    }
}

fn bench_mlp(c: &mut Criterion) {
    let mut rng = Rng::new(1);
    let mlp = Mlp::new(&mut rng);
    let x = Var::constant(Tensor::rand_uniform(&[BATCH, SIZES[0]], 0.0, 1.0, &mut rng));
    let labels = Tensor::from_vec(
        (0..BATCH).map(|_| rng.below(10) as f32).collect(),
        &[BATCH, 1],
    );
    let mut group = c.benchmark_group(format!("mlp_784_512_256_10_batch{BATCH}"));
    group.bench_function("forward", |b| {
        b.iter(|| no_grad(|| black_box(mlp.loss(&x, &labels).item())))
    });
    group.bench_function("forward_backward", |b| {
        b.iter(|| black_box(mlp.loss(&x, &labels).backward().unwrap()))
    });

    // The GEMMs of that step: three forward products, then for each layer the weight
    // gradient and (except the first) the input gradient.
    let acts: Vec<Tensor> = SIZES[..3]
        .iter()
        .map(|&n| Tensor::rand_uniform(&[BATCH, n], 0.0, 1.0, &mut rng))
        .collect();
    let grads: Vec<Tensor> = SIZES[1..]
        .iter()
        .map(|&n| Tensor::rand_uniform(&[BATCH, n], -1.0, 1.0, &mut rng))
        .collect();
    group.bench_function("gemm_only", |b| {
        b.iter(|| {
            for (i, (w, _)) in mlp.layers.iter().enumerate() {
                black_box(acts[i].matmul(&w.value().t()));
                black_box(grads[i].t().matmul(&acts[i]));
                if i > 0 {
                    black_box(grads[i].matmul(w.value()));
                }
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_mlp);
criterion_main!(benches);
