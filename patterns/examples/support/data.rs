//! The embedded 8×8 digits as flat vectors in [0, 1], split into training and held-out rows,
//! and the seeded mini-batch orders the recipes train with.

use strata_datasets::{digits, DataLoader, Dataset, TensorDataset, DIGITS_MAX_VALUE};
use strata_tensor::{Rng, Tensor};

/// Side of a digit image.
pub const SIDE: usize = 8;
/// Pixels of a digit image.
pub const PIXELS: usize = SIDE * SIDE;
/// Number of classes.
pub const CLASSES: usize = 10;
/// Fraction of the digits held out for evaluation.
const TEST_FRACTION: f64 = 0.2;

/// Images `[N, 64]` with values in [0, 1] and their digits `[N]`.
#[derive(Clone)]
pub struct Digits {
    /// One flattened image per row.
    pub images: Tensor,
    /// The digit (0..9) of each row.
    pub labels: Tensor,
}

impl Digits {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.numel()
    }

    /// The rows at `indices`.
    pub fn rows(&self, indices: &[usize]) -> Digits {
        Digits {
            images: self.images.index_select(0, indices),
            labels: self.labels.index_select(0, indices),
        }
    }

    /// The digit of each row as a whole number.
    pub fn label_ids(&self) -> Vec<usize> {
        self.labels.values().iter().map(|&l| l as usize).collect()
    }
}

/// The embedded digits split into `(train, test)` with a seeded 80/20 split.
pub fn digits_split(seed: u64) -> (Digits, Digits) {
    let (train, test) = digits()
        .split(TEST_FRACTION, seed)
        .expect("the embedded digits split");
    (flatten(&train), flatten(&test))
}

fn flatten(part: &impl Dataset) -> Digits {
    let indices: Vec<usize> = (0..part.len()).collect();
    let batch = part
        .get_batch(&indices)
        .expect("the embedded digits are in memory");
    Digits {
        images: batch
            .input()
            .reshape(&[-1, PIXELS as isize])
            .mul_scalar(1.0 / DIGITS_MAX_VALUE),
        labels: batch.target().clone(),
    }
}

/// The embedded digits as in-memory datasets, images flattened to 64 values in [0, 1] and
/// their digits: `(train, test)` from the seeded 80/20 split of [`digits_split`]. Build
/// multi-field datasets from their tensors with `TensorDataset::from_fields`.
pub fn digit_datasets(seed: u64) -> (TensorDataset, TensorDataset) {
    let (train, test) = digits_split(seed);
    let dataset = |part: Digits| {
        TensorDataset::new(part.images, part.labels).expect("the digits have one label per image")
    };
    (dataset(train), dataset(test))
}

/// The rows `0..n` shuffled and cut into batches of `size` (the last may be smaller).
pub fn shuffled_batches(n: usize, size: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    order.chunks(size).map(<[usize]>::to_vec).collect()
}

/// The rows of each class: `by_class[c]` lists the indices of digit `c`.
pub fn rows_by_class(labels: &[usize]) -> Vec<Vec<usize>> {
    let mut by_class = vec![Vec::new(); CLASSES];
    for (row, &label) in labels.iter().enumerate() {
        by_class[label].push(row);
    }
    by_class
}

/// Fraction of equal entries of two label tensors.
pub fn accuracy(predicted: &Tensor, labels: &Tensor) -> f32 {
    let equal = predicted.eq_mask(labels).sum().item();
    equal / labels.numel().max(1) as f32
}

/// A loader of all of `data` in one batch: a held-out set, validated in one pass.
pub fn in_one_batch(data: impl Dataset + 'static) -> DataLoader {
    let examples = data.len();
    DataLoader::new(data, examples)
}
