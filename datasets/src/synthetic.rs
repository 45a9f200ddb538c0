//! Seeded synthetic datasets: two moons, concentric circles, spirals, XOR, Gaussian blobs
//! (2-D classification, inputs `[2]` or `[D]`, class-id targets) and noisy sine sequences
//! (next-value prediction, `[T, 1]` → `[T, 1]`).
//!
//! Classes alternate (example `i` has class `i % classes`), so every class has `n / classes`
//! examples (±1) and any prefix is balanced. "Noise" is Gaussian with the given standard
//! deviation, added to each coordinate. The same seed gives the same data on every machine.

use crate::dataset::TensorDataset;
use std::f64::consts::{PI, TAU};
use strata_tensor::{Rng, Tensor};

/// Turns of each spiral arm from the centre to radius 1: 1.5 turns keeps neighbouring arms
/// apart at every radius for up to 5 arms while still needing a non-linear boundary.
const SPIRAL_TURNS: f64 = 1.5;

/// Range of the angular frequency of [`noisy_sine`], in radians per step: periods between
/// about 10 and 30 steps, so a window of 50 steps sees at least one and a half periods.
const SINE_FREQUENCY: (f64, f64) = (TAU / 30.0, TAU / 10.0);

/// A 2-D classification set from a point generator `(class, rng) -> (x, y)` plus noise.
fn points_2d(
    n: usize,
    classes: usize,
    noise: f32,
    seed: u64,
    mut point: impl FnMut(usize, &mut Rng) -> (f64, f64),
) -> TensorDataset {
    let mut rng = Rng::new(seed);
    let mut inputs = Vec::with_capacity(2 * n);
    let mut targets = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % classes;
        let (x, y) = point(class, &mut rng);
        inputs.push((x + noise as f64 * rng.next_normal()) as f32);
        inputs.push((y + noise as f64 * rng.next_normal()) as f32);
        targets.push(class as f32);
    }
    labelled(inputs, &[n, 2], targets, classes)
}

/// A dataset with class names `"0"`, `"1"`, … .
fn labelled(inputs: Vec<f32>, shape: &[usize], targets: Vec<f32>, classes: usize) -> TensorDataset {
    let n = targets.len();
    match TensorDataset::new(
        Tensor::from_vec(inputs, shape),
        Tensor::from_vec(targets, &[n]),
    ) {
        Ok(data) => data.with_classes((0..classes).map(|c| c.to_string()).collect()),
        Err(err) => unreachable!("inputs and targets are built with {n} rows: {err}"),
    }
}

/// Two interleaving half circles: class 0 is `(cos t, sin t)`, class 1 is
/// `(1 − cos t, 0.5 − sin t)`, with `t` uniform in `[0, π]`. Not linearly separable.
///
/// ```
/// use strata_datasets::{two_moons, Dataset};
/// let data = two_moons(200, 0.1, 0);
/// assert_eq!(data.len(), 200);
/// assert_eq!(data.input_shape(), &[2]);
/// ```
pub fn two_moons(n: usize, noise: f32, seed: u64) -> TensorDataset {
    points_2d(n, 2, noise, seed, |class, rng| {
        let t = PI * rng.next_f64();
        if class == 0 {
            (t.cos(), t.sin())
        } else {
            (1.0 - t.cos(), 0.5 - t.sin())
        }
    })
}

/// Two concentric circles: class 0 on radius 1, class 1 on radius `factor` (in `(0, 1)`),
/// angles uniform.
pub fn circles(n: usize, noise: f32, factor: f32, seed: u64) -> TensorDataset {
    points_2d(n, 2, noise, seed, |class, rng| {
        let angle = TAU * rng.next_f64();
        let radius = if class == 0 { 1.0 } else { factor as f64 };
        (radius * angle.cos(), radius * angle.sin())
    })
}

/// `arms` interleaved spirals, one class each: arm `k` at radius `r` (uniform in `[0, 1]`)
/// has angle `2πk/arms + 2π·1.5·r`. Panics if `arms` is 0.
#[track_caller]
pub fn spirals(n: usize, arms: usize, noise: f32, seed: u64) -> TensorDataset {
    assert!(arms > 0, "spirals: expected at least one arm, found 0");
    points_2d(n, arms, noise, seed, |class, rng| {
        let radius = rng.next_f64();
        let angle = TAU * class as f64 / arms as f64 + TAU * SPIRAL_TURNS * radius;
        (radius * angle.cos(), radius * angle.sin())
    })
}

/// XOR: points uniform in `[−1, 1]²` with class 1 when exactly one coordinate is positive
/// (the classes are the four quadrants, diagonally paired). The label comes from the point
/// before noise is added.
pub fn xor(n: usize, noise: f32, seed: u64) -> TensorDataset {
    let mut rng = Rng::new(seed);
    let mut inputs = Vec::with_capacity(2 * n);
    let mut targets = Vec::with_capacity(n);
    for _ in 0..n {
        let x = 2.0 * rng.next_f64() - 1.0;
        let y = 2.0 * rng.next_f64() - 1.0;
        targets.push(if (x > 0.0) != (y > 0.0) { 1.0 } else { 0.0 });
        inputs.push((x + noise as f64 * rng.next_normal()) as f32);
        inputs.push((y + noise as f64 * rng.next_normal()) as f32);
    }
    labelled(inputs, &[n, 2], targets, 2)
}

/// Gaussian blobs: class `k` is drawn around `centers[k]` with standard deviation `std` in
/// every dimension; inputs are `[D]` for centers of dimension `D`. Panics if `centers` is
/// empty or of mixed dimensions.
///
/// ```
/// use strata_datasets::{gaussian_blobs, Dataset};
/// let data = gaussian_blobs(90, &[vec![0.0, 0.0, 0.0], vec![5.0, 5.0, 5.0], vec![-5.0, 5.0, 0.0]], 1.0, 3);
/// assert_eq!(data.input_shape(), &[3]);
/// assert_eq!(data.classes().len(), 3);
/// ```
#[track_caller]
pub fn gaussian_blobs(n: usize, centers: &[Vec<f32>], std: f32, seed: u64) -> TensorDataset {
    let dim = centers.first().map_or(0, Vec::len);
    assert!(
        dim > 0 && centers.iter().all(|c| c.len() == dim),
        "gaussian_blobs: expected centers of one positive dimension, found dimensions {:?}",
        centers.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let mut rng = Rng::new(seed);
    let mut inputs = Vec::with_capacity(dim * n);
    let mut targets = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % centers.len();
        for &c in &centers[class] {
            inputs.push((c as f64 + std as f64 * rng.next_normal()) as f32);
        }
        targets.push(class as f32);
    }
    labelled(inputs, &[n, dim], targets, centers.len())
}

/// Noisy sine sequences for sequence models: `sequences` series
/// `y_t = sin(ω t + φ) + noise·ε_t`, `t = 0..=length`, with `ω` uniform between 2π/30 and
/// 2π/10 per step and `φ` uniform in `[0, 2π)` for each series. Input `[length, 1]` is
/// `y_0 .. y_{length−1}`; target `[length, 1]` is the next value at each step,
/// `y_1 .. y_length`.
///
/// ```
/// use strata_datasets::{noisy_sine, Dataset};
/// let data = noisy_sine(8, 50, 0.05, 1);
/// let example = data.get(0).unwrap();
/// assert_eq!(example.input().shape(), &[50, 1]);
/// // The target is the input shifted by one step.
/// assert_eq!(example.input().to_vec()[1..], example.target().to_vec()[..49]);
/// ```
pub fn noisy_sine(sequences: usize, length: usize, noise: f32, seed: u64) -> TensorDataset {
    let mut rng = Rng::new(seed);
    let mut inputs = Vec::with_capacity(sequences * length);
    let mut targets = Vec::with_capacity(sequences * length);
    for _ in 0..sequences {
        let (low, high) = SINE_FREQUENCY;
        let omega = low + (high - low) * rng.next_f64();
        let phase = TAU * rng.next_f64();
        let series: Vec<f32> = (0..=length)
            .map(|t| ((omega * t as f64 + phase).sin() + noise as f64 * rng.next_normal()) as f32)
            .collect();
        inputs.extend_from_slice(&series[..length]);
        targets.extend_from_slice(&series[1..]);
    }
    let shape = [sequences, length, 1];
    match TensorDataset::new(
        Tensor::from_vec(inputs, &shape),
        Tensor::from_vec(targets, &shape),
    ) {
        Ok(data) => data,
        Err(err) => unreachable!("inputs and targets are both {shape:?}: {err}"),
    }
}
