//! What the training loop costs beside the step itself: one epoch of the MLP 784-512-256-10
//! (batch 128, Adam, one thread) over the same `DataLoader`, written by hand (forward,
//! cross-entropy, backward, update) and run by `Trainer::fit` (metrics, events, the
//! `TrainStep` dispatch), both at one thread. The difference per step is the loop's overhead.
//!
//! Run: `cargo bench -p strata-modules --bench trainer`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use strata_bench_reference as reference;
use strata_datasets::{DataLoader, TensorDataset};
use strata_modules::{
    cross_entropy, Adam, Classification, Module, Optimizer, TrainConfig, Trainer, Var,
};
use strata_tensor::set_num_threads;

/// Examples per batch.
const BATCH: usize = 128;
/// Batches per epoch: enough that the per-epoch work of the loop (validation set-up, epoch
/// metrics) is spread as it is in real runs.
const BATCHES: usize = 16;

fn bench_epoch(c: &mut Criterion) {
    set_num_threads(1);
    let rows = BATCH * BATCHES;
    let data = TensorDataset::new(
        reference::inputs(rows, 784),
        reference::labels(rows, 784, 10),
    )
    .expect("one label per row");
    let loader = DataLoader::new(data, BATCH);
    let mut group = c.benchmark_group("mlp_784_512_256_10_adam_epoch");
    group.throughput(Throughput::Elements(rows as u64));

    let mut model = reference::mlp(&[784, 512, 256, 10]);
    let mut adam = Adam::new(1e-3);
    group.bench_function(BenchmarkId::new("hand_written_loop", BATCH), |b| {
        b.iter(|| {
            for batch in loader.epoch(0) {
                let batch = batch.expect("in-memory data");
                let logits = model.forward(&Var::constant(batch.input().clone()));
                let loss = cross_entropy(&logits, batch.target());
                let grads = loss.backward().expect("the loss depends on the model");
                drop((logits, loss));
                adam.step(&mut model, &grads);
            }
        })
    });

    let mut model = reference::mlp(&[784, 512, 256, 10]);
    let mut adam = Adam::new(1e-3);
    group.bench_function(BenchmarkId::new("trainer_fit", BATCH), |b| {
        b.iter(|| {
            let mut trainer = Trainer::new(TrainConfig {
                epochs: 1,
                ..Default::default()
            });
            let classifier = &mut model.with_objective(Classification::default());
            trainer
                .fit(classifier, &mut adam, &loader, ())
                .expect("training runs");
        })
    });
    group.finish();
}

criterion_group!(benches, bench_epoch);
criterion_main!(benches);
