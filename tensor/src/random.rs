//! Seeded, portable random numbers: SplitMix64, so the same seed gives the same tensor on
//! every machine (uniform values are exact; normal values use f64 Box–Muller rounded to f32).

use crate::Tensor;

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// Output `i` (0-based) of the SplitMix64 stream started at state `seed` — counter-based, so
/// any element can be computed on its own.
///
/// ```
/// assert_eq!(strata_tensor::splitmix64(0, 0), 0xe220a8397b1dcdaf);
/// ```
pub fn splitmix64(seed: u64, i: u64) -> u64 {
    mix(seed.wrapping_add(i.wrapping_add(1).wrapping_mul(GOLDEN)))
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seeded random number generator (SplitMix64). Cheap to create and to clone; cloning
/// forks an identical stream.
///
/// ```
/// use strata_tensor::{Rng, Tensor};
/// let a = Tensor::rand_uniform(&[2, 3], -1.0, 1.0, &mut Rng::new(7));
/// let b = Tensor::rand_uniform(&[2, 3], -1.0, 1.0, &mut Rng::new(7));
/// assert_eq!(a, b);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    /// A uniform `f32` in `[0, 1)` with 24 random bits (every value exact).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// A uniform `f64` in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `0..n` (unbiased); `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below needs a positive bound");
        let n = n as u64;
        let zone = u64::MAX - (u64::MAX - n + 1) % n;
        loop {
            let x = self.next_u64();
            if x <= zone {
                return (x % n) as usize;
            }
        }
    }

    /// A standard normal sample (Box–Muller in f64).
    pub fn next_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // in (0, 1], so ln is finite
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Shuffles a slice in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }

    /// A new generator seeded from this one, for an independent stream.
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }
}

impl Tensor {
    /// Uniform values in `[low, high)`.
    #[track_caller]
    pub fn rand_uniform(shape: &[usize], low: f32, high: f32, rng: &mut Rng) -> Tensor {
        let n = crate::shape::numel(shape);
        let data = (0..n)
            .map(|_| low + (high - low) * rng.next_f32())
            .collect();
        Tensor::from_dims(data, shape.into())
    }

    /// Normal values with the given mean and standard deviation.
    #[track_caller]
    pub fn rand_normal(shape: &[usize], mean: f32, std: f32, rng: &mut Rng) -> Tensor {
        let n = crate::shape::numel(shape);
        let data = (0..n)
            .map(|_| (mean as f64 + std as f64 * rng.next_normal()) as f32)
            .collect();
        Tensor::from_dims(data, shape.into())
    }

    /// 1 with probability `p`, else 0 (e.g. a dropout keep-mask).
    #[track_caller]
    pub fn rand_bernoulli(shape: &[usize], p: f32, rng: &mut Rng) -> Tensor {
        let n = crate::shape::numel(shape);
        let data = (0..n)
            .map(|_| if rng.next_f32() < p { 1.0 } else { 0.0 })
            .collect();
        Tensor::from_dims(data, shape.into())
    }
}
