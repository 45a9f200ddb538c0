//! DataLoader throughput on MNIST-sized data held in memory: 60,000 examples of 784 values,
//! batches of 128, shuffled, with and without prefetch. Criterion reports examples per
//! second ("elem/s"); an MLP training step (~8 ms at batch 128) consumes ~16,000 per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use strata_datasets::{DataLoader, TensorDataset};
use strata_tensor::{Rng, Tensor};

const EXAMPLES: usize = 60_000;
const FEATURES: usize = 784;
const BATCH: usize = 128;

fn mnist_sized() -> TensorDataset {
    let mut rng = Rng::new(0);
    let inputs = Tensor::rand_uniform(&[EXAMPLES, FEATURES], 0.0, 1.0, &mut rng);
    let labels: Vec<f32> = (0..EXAMPLES).map(|i| (i % 10) as f32).collect();
    TensorDataset::new(inputs, Tensor::from_vec(labels, &[EXAMPLES])).expect("same N")
}

fn loader_throughput(c: &mut Criterion) {
    let data = mnist_sized();
    let mut group = c.benchmark_group("loader_epoch_60000x784_b128_shuffled");
    group.throughput(Throughput::Elements(EXAMPLES as u64));
    group.sample_size(10);
    for (label, depth) in [("no_prefetch", 0), ("prefetch_2", 2)] {
        let mut loader = DataLoader::new(data.clone(), BATCH)
            .shuffle(1)
            .prefetch(depth);
        group.bench_function(label, |b| {
            b.iter(|| {
                let mut checksum = 0.0f32;
                for batch in &mut loader {
                    let batch = batch.expect("in-memory batches do not fail");
                    checksum += batch.target().as_slice().map_or(0.0, |t| t[0]);
                }
                checksum
            })
        });
    }
    group.finish();
}

criterion_group!(benches, loader_throughput);
criterion_main!(benches);
