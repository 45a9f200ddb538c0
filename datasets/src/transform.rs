//! Per-example transforms: normalise, scale to `[0, 1]`, one-hot, flatten, and seeded random
//! crop and horizontal flip for images (random shifts are in `shift.rs`).
//!
//! A transform receives a generator seeded for the example it transforms; deterministic
//! transforms ignore it. Images are `[C, H, W]` (or `[H, W]`), row-major.

use crate::dataset::{Dataset, Example};
use crate::error::{DataError, DataResult};
use strata_tensor::{Rng, Tensor};

/// Turns one example into another. `rng` is seeded for this example (and, inside a
/// [`crate::DataLoader`], for this epoch), so random transforms are reproducible.
///
/// Closures `Fn(Example, &mut Rng) -> DataResult<Example>` are transforms too.
pub trait Transform: Send + Sync {
    /// Transforms `example`.
    fn apply(&self, example: Example, rng: &mut Rng) -> DataResult<Example>;
}

impl<F> Transform for F
where
    F: Fn(Example, &mut Rng) -> DataResult<Example> + Send + Sync,
{
    fn apply(&self, example: Example, rng: &mut Rng) -> DataResult<Example> {
        self(example, rng)
    }
}

/// A shared transform (e.g. the same fitted [`Normalize`] for a training and a test split).
impl<T: Transform + ?Sized> Transform for std::sync::Arc<T> {
    fn apply(&self, example: Example, rng: &mut Rng) -> DataResult<Example> {
        (**self).apply(example, rng)
    }
}

/// Several transforms applied in order, sharing the example's generator.
///
/// ```
/// use strata_datasets::{Compose, Example, FlattenInput, ScaleToUnit, Transform};
/// use strata_tensor::{Rng, Tensor};
/// let t = Compose::new().then(ScaleToUnit::new(16.0)).then(FlattenInput);
/// let example = Example::new(Tensor::full(&[1, 2, 2], 8.0), Tensor::scalar(3.0));
/// let out = t.apply(example, &mut Rng::new(0)).unwrap();
/// assert_eq!(out.input().to_vec(), vec![0.5; 4]);
/// ```
#[derive(Default)]
pub struct Compose {
    steps: Vec<Box<dyn Transform>>,
}

impl Compose {
    /// No transform yet (the identity).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `transform`.
    pub fn then(mut self, transform: impl Transform + 'static) -> Self {
        self.steps.push(Box::new(transform));
        self
    }
}

impl Transform for Compose {
    fn apply(&self, example: Example, rng: &mut Rng) -> DataResult<Example> {
        self.steps
            .iter()
            .try_fold(example, |example, step| step.apply(example, rng))
    }
}

/// `(x − mean) / std` on the input, with one mean and std for all values or one per entry of
/// the first axis (per channel of a `[C, H, W]` image, per feature of a `[F]` vector).
#[derive(Clone, Debug, PartialEq)]
pub struct Normalize {
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl Normalize {
    /// One mean and standard deviation for every value; `std` must be positive.
    pub fn new(mean: f32, std: f32) -> DataResult<Self> {
        Self::per_channel(vec![mean], vec![std])
    }

    /// One mean and standard deviation per entry of the input's first axis.
    pub fn per_channel(mean: Vec<f32>, std: Vec<f32>) -> DataResult<Self> {
        if mean.is_empty() || mean.len() != std.len() {
            return Err(DataError::invalid(
                "Normalize",
                "as many means as standard deviations (at least one)",
                format!("{} means, {} standard deviations", mean.len(), std.len()),
            ));
        }
        if let Some(bad) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(DataError::invalid(
                "Normalize",
                "positive finite standard deviations",
                bad.to_string(),
            ));
        }
        Ok(Self { mean, std })
    }

    /// Mean and (population) standard deviation per entry of the first axis, measured over
    /// every example of `dataset`. A constant entry gets std 1, so it maps to 0.
    pub fn fit(dataset: &dyn Dataset) -> DataResult<Self> {
        let mut sums: Vec<(f64, f64)> = Vec::new();
        let mut per_entry_count = 0usize;
        for index in 0..dataset.len() {
            let example = dataset.get(index)?;
            let input = example.input();
            let channels = input.shape().first().copied().unwrap_or(1);
            if sums.is_empty() {
                sums = vec![(0.0, 0.0); channels];
            } else if channels != sums.len() {
                return Err(DataError::invalid(
                    "Normalize::fit",
                    format!("inputs with {} entries on the first axis", sums.len()),
                    format!("example {index} with shape {:?}", input.shape()),
                ));
            }
            let values = input.values();
            let inner = values.len() / channels.max(1);
            for (channel, chunk) in values.chunks(inner.max(1)).enumerate() {
                for &x in chunk {
                    sums[channel].0 += x as f64;
                    sums[channel].1 += (x as f64) * (x as f64);
                }
            }
            per_entry_count += inner;
        }
        if per_entry_count == 0 {
            return Err(DataError::invalid(
                "Normalize::fit",
                "a dataset with at least one value",
                "an empty dataset",
            ));
        }
        let n = per_entry_count as f64;
        let (mean, std) = sums
            .iter()
            .map(|&(sum, sum_sq)| {
                let mean = sum / n;
                let std = (sum_sq / n - mean * mean).max(0.0).sqrt();
                (mean as f32, if std > 0.0 { std as f32 } else { 1.0 })
            })
            .unzip();
        Ok(Self { mean, std })
    }

    /// The means (one, or one per channel).
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// The standard deviations (one, or one per channel).
    pub fn std(&self) -> &[f32] {
        &self.std
    }
}

impl Transform for Normalize {
    fn apply(&self, example: Example, _rng: &mut Rng) -> DataResult<Example> {
        let shape = example.input().shape().to_vec();
        let channels = self.mean.len();
        if channels > 1 && shape.first() != Some(&channels) {
            return Err(DataError::invalid(
                "Normalize",
                format!("an input with {channels} entries on its first axis"),
                format!("shape {shape:?}"),
            ));
        }
        let mut values = example.input().to_vec();
        let inner = (values.len() / channels).max(1);
        for (channel, chunk) in values.chunks_mut(inner).enumerate() {
            let (mean, inv_std) = (self.mean[channel], 1.0 / self.std[channel]);
            chunk.iter_mut().for_each(|x| *x = (*x - mean) * inv_std);
        }
        Ok(example.with_input(Tensor::from_vec(values, &shape)))
    }
}

/// Divides the input by `max`, mapping `0..=max` to `[0, 1]` (e.g. `255` for MNIST pixels,
/// `16` for the 8×8 digits).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleToUnit {
    max: f32,
}

impl ScaleToUnit {
    /// Scales `0..=max` to `[0, 1]`; panics unless `max` is positive and finite.
    #[track_caller]
    pub fn new(max: f32) -> Self {
        assert!(
            max.is_finite() && max > 0.0,
            "ScaleToUnit: expected a positive finite maximum, found {max}"
        );
        Self { max }
    }
}

impl Transform for ScaleToUnit {
    fn apply(&self, example: Example, _rng: &mut Rng) -> DataResult<Example> {
        let scaled = example.input().mul_scalar(1.0 / self.max);
        Ok(example.with_input(scaled))
    }
}

/// One-hot vectors `[N, classes]` from class ids `[N]` (whole numbers in `0..classes`).
///
/// ```
/// use strata_tensor::Tensor;
/// let labels = Tensor::from_vec(vec![2.0, 0.0], &[2]);
/// let hot = strata_datasets::one_hot(&labels, 3).unwrap();
/// assert_eq!(hot.to_vec(), vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
/// ```
pub fn one_hot(labels: &Tensor, classes: usize) -> DataResult<Tensor> {
    let ids = labels.values();
    let mut out = vec![0.0; ids.len() * classes];
    for (row, &id) in ids.iter().enumerate() {
        if !(id >= 0.0 && id.fract() == 0.0 && (id as usize) < classes) {
            return Err(DataError::invalid(
                "one_hot",
                format!("class ids that are whole numbers in 0..{classes}"),
                format!("{id} at position {row}"),
            ));
        }
        out[row * classes + id as usize] = 1.0;
    }
    Ok(Tensor::from_vec(
        out,
        &[labels.shape(), &[classes]].concat(),
    ))
}

/// Replaces a class-id target (shape `[]`) by its one-hot vector `[classes]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OneHot {
    /// Number of classes.
    pub classes: usize,
}

impl Transform for OneHot {
    fn apply(&self, example: Example, _rng: &mut Rng) -> DataResult<Example> {
        let hot = one_hot(example.target(), self.classes)?;
        Ok(example.with_target(hot))
    }
}

/// Reshapes the input to one axis, `[C, H, W]` → `[C·H·W]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlattenInput;

impl Transform for FlattenInput {
    fn apply(&self, example: Example, _rng: &mut Rng) -> DataResult<Example> {
        let flat = example.input().flatten_all();
        Ok(example.with_input(flat))
    }
}

/// `(channels, height, width)` of a `[C, H, W]` or `[H, W]` image input.
pub(crate) fn image_dims(what: &'static str, input: &Tensor) -> DataResult<(usize, usize, usize)> {
    match *input.shape() {
        [h, w] => Ok((1, h, w)),
        [c, h, w] => Ok((c, h, w)),
        ref other => Err(DataError::invalid(
            what,
            "an image input [C, H, W] or [H, W]",
            format!("shape {other:?}"),
        )),
    }
}

/// A random `height × width` window of the image after zero-padding `padding` pixels on each
/// side (the usual CIFAR augmentation is 32×32 with padding 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomCrop {
    /// Output height.
    pub height: usize,
    /// Output width.
    pub width: usize,
    /// Zero pixels added on every side before cropping.
    pub padding: usize,
}

impl Transform for RandomCrop {
    fn apply(&self, example: Example, rng: &mut Rng) -> DataResult<Example> {
        let (channels, h, w) = image_dims("RandomCrop", example.input())?;
        let (padded_h, padded_w) = (h + 2 * self.padding, w + 2 * self.padding);
        if self.height > padded_h || self.width > padded_w || self.height * self.width == 0 {
            return Err(DataError::invalid(
                "RandomCrop",
                format!(
                    "a non-empty {}x{} window inside the padded {padded_h}x{padded_w} image",
                    self.height, self.width
                ),
                format!("input shape {:?}", example.input().shape()),
            ));
        }
        let top = rng.below(padded_h - self.height + 1);
        let left = rng.below(padded_w - self.width + 1);
        let src = example.input().values();
        let mut out = vec![0.0; channels * self.height * self.width];
        for c in 0..channels {
            for y in 0..self.height {
                // Row `y` of the window is row `top + y - padding` of the image, if inside it.
                let Some(src_y) = (top + y).checked_sub(self.padding).filter(|&r| r < h) else {
                    continue;
                };
                for x in 0..self.width {
                    if let Some(src_x) = (left + x).checked_sub(self.padding).filter(|&s| s < w) {
                        out[(c * self.height + y) * self.width + x] =
                            src[(c * h + src_y) * w + src_x];
                    }
                }
            }
        }
        let mut shape = example.input().shape().to_vec();
        let rank = shape.len();
        shape[rank - 2..].copy_from_slice(&[self.height, self.width]);
        Ok(example.with_input(Tensor::from_vec(out, &shape)))
    }
}

/// Mirrors the image left-to-right with probability `probability`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RandomHorizontalFlip {
    /// Chance of flipping, in `[0, 1]`.
    pub probability: f32,
}

impl Transform for RandomHorizontalFlip {
    fn apply(&self, example: Example, rng: &mut Rng) -> DataResult<Example> {
        let (_, _, w) = image_dims("RandomHorizontalFlip", example.input())?;
        if rng.next_f32() >= self.probability {
            return Ok(example);
        }
        let mut values = example.input().to_vec();
        values.chunks_mut(w.max(1)).for_each(<[f32]>::reverse);
        let flipped = Tensor::from_vec(values, example.input().shape());
        Ok(example.with_input(flipped))
    }
}
