//! The scaling analysis: how much of each training step is serial today, and the speed-up
//! that leaves on more threads.
//!
//! Each workload runs at one thread (step time `T₁`) and at `p` threads, where strata-tensor
//! reports the time spent inside parallel regions (`time_in_parallel_regions`): what is left,
//! `S`, ran on one thread while the others waited. Amdahl's law then bounds the speed-up on
//! `n` threads by `T₁ / (S + (T₁ − S)/n)`, a projection that assumes the split work scales
//! perfectly; the measured speed-up of the split work itself at `p` threads,
//! `(T₁ − S) / P`, says how far from perfect it is today.

use serde::Serialize;
use std::time::{Duration, Instant};
use strata_bench_reference as reference;
use strata_modules::{cross_entropy, Adam, Lstm, Module, Optimizer, Sequential, Var};
use strata_tensor::{set_num_threads, time_in_parallel_regions, Rng, Tensor};

/// Wall time each workload is run for at each thread count (after its warm-up steps).
const BUDGET: Duration = Duration::from_millis(600);
/// Untimed steps first (buffer pools fill, workers start).
const WARM_UP_STEPS: usize = 3;
/// Rows of the MLP and LeNet data cycled through.
const ROWS: usize = 512;

/// Thread counts the projection is given for.
pub const PROJECTED_THREADS: [usize; 4] = [2, 4, 8, 16];

/// One workload's serial share and projected speed-ups.
#[derive(Clone, Debug, Serialize)]
pub struct Scaling {
    /// Figure key of the workload.
    pub key: &'static str,
    /// What it is.
    pub label: &'static str,
    /// Median step time at one thread, ms.
    pub step_ms_1: f64,
    /// Threads of the parallel run.
    pub threads: usize,
    /// Median step time at `threads`, ms.
    pub step_ms_p: f64,
    /// Median time per step outside parallel regions at `threads` (the serial part), ms.
    pub serial_ms: f64,
    /// `serial_ms / step_ms_1`.
    pub serial_share: f64,
    /// Speed-up of the split work alone at `threads`: its time at one thread over its time
    /// inside the regions.
    pub region_speedup: f64,
    /// Amdahl's bound `T₁ / (S + (T₁ − S)/n)` for each of [`PROJECTED_THREADS`].
    pub projected_speedup: Vec<(usize, f64)>,
}

/// A training (or forward + backward) step to time.
struct Workload {
    key: &'static str,
    label: &'static str,
    step: Box<dyn FnMut()>,
}

/// Measures every workload at one thread and at `threads` (at least 2).
pub fn measure(threads: usize) -> Vec<Scaling> {
    workloads()
        .into_iter()
        .map(|mut w| {
            let (step_1, _) = timed_steps(&mut w.step, 1);
            let (step_p, serial) = timed_steps(&mut w.step, threads);
            set_num_threads(0);
            let in_regions = (step_1 - serial).max(0.0);
            let parallel_part = (step_p - serial).max(f64::MIN_POSITIVE);
            Scaling {
                key: w.key,
                label: w.label,
                step_ms_1: step_1,
                threads,
                step_ms_p: step_p,
                serial_ms: serial,
                serial_share: serial / step_1,
                region_speedup: in_regions / parallel_part,
                projected_speedup: PROJECTED_THREADS
                    .iter()
                    .map(|&n| (n, amdahl(step_1, serial, n)))
                    .collect(),
            }
        })
        .collect()
}

/// The Amdahl bound on the speed-up at `threads` of a step of `total` with a `serial` part.
pub fn amdahl(total: f64, serial: f64, threads: usize) -> f64 {
    total / (serial + (total - serial) / threads as f64)
}

/// Median step time and median time outside parallel regions per step, in ms, at `threads`.
fn timed_steps(step: &mut dyn FnMut(), threads: usize) -> (f64, f64) {
    set_num_threads(threads);
    for _ in 0..WARM_UP_STEPS {
        step();
    }
    let (mut totals, mut serials) = (Vec::new(), Vec::new());
    let started = Instant::now();
    while started.elapsed() < BUDGET || totals.len() < 5 {
        let regions = time_in_parallel_regions();
        let began = Instant::now();
        step();
        let total = began.elapsed();
        let serial = total.saturating_sub(time_in_parallel_regions() - regions);
        totals.push(total.as_secs_f64() * 1e3);
        serials.push(serial.as_secs_f64() * 1e3);
    }
    (median(totals), median(serials))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A classifier training step (forward, cross-entropy, backward, Adam) over `inputs`.
fn classifier_step(
    mut model: Sequential,
    inputs: Tensor,
    labels: Tensor,
    batch: usize,
) -> Box<dyn FnMut()> {
    let mut adam = Adam::new(1e-3);
    let mut next = 0;
    Box::new(move || {
        let start = (next % (inputs.shape()[0] / batch)) * batch;
        next += 1;
        let x = Var::constant(inputs.narrow(0, start, batch));
        let loss = cross_entropy(&model.forward(&x), &labels.narrow(0, start, batch));
        let grads = loss.backward().expect("the loss depends on the parameters");
        adam.step(&mut model, &grads);
    })
}

/// The workloads of the headline figures.
fn workloads() -> Vec<Workload> {
    let inputs = reference::inputs(ROWS, 784);
    let labels = reference::labels(ROWS, 784, 10);
    let mlp = |key, label, batch| Workload {
        key,
        label,
        step: classifier_step(
            reference::mlp(&[784, 512, 256, 10]),
            inputs.clone(),
            labels.clone(),
            batch,
        ),
    };
    let images = inputs.reshape(&[ROWS as isize, 1, 28, 28]).contiguous();
    let mut lstm = Lstm::new(128, 128, &mut Rng::new(0));
    reference::initialise_recurrent(&mut lstm, 128);
    let sequences = Var::constant(reference::inputs(32 * 50, 128).reshape(&[32, 50, 128]));
    vec![
        mlp("mlp_train_b32", "MLP, batch 32", 32),
        mlp("mlp_train", "MLP, batch 128", 128),
        mlp("mlp_train_b256", "MLP, batch 256", 256),
        Workload {
            key: "lenet_train",
            label: "LeNet-5, batch 64",
            step: classifier_step(reference::lenet5(), images, labels.clone(), 64),
        },
        Workload {
            key: "lstm_step",
            label: "LSTM, batch 32, 50 steps",
            step: Box::new(move || {
                let (outputs, _) = lstm.forward_seq(&sequences, None);
                let grads = outputs.square().mean().backward();
                std::hint::black_box(grads.expect("the loss depends on the weights"));
            }),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::amdahl;

    #[test]
    fn amdahl_bounds_the_speed_up_by_the_serial_part() {
        // 10 ms with 1 ms serial: 16 threads give 10 / (1 + 9/16) = 6.4.
        assert!((amdahl(10.0, 1.0, 16) - 6.4).abs() < 1e-12);
        assert_eq!(amdahl(10.0, 0.0, 4), 4.0);
        assert_eq!(amdahl(10.0, 10.0, 4), 1.0);
    }
}
