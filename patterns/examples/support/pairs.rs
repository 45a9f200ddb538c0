//! Pairs and triplets of digits for the metric-learning and relation recipes, as datasets:
//! tuple `i` is drawn by its own seeded generator, so it is the same whenever it is loaded.

use super::data::{rows_by_class, CLASSES, PIXELS};
use std::sync::Arc;
use strata_datasets::{DataResult, Dataset, Example, Fields, TensorDataset};
use strata_tensor::{splitmix64, Rng, Tensor};

/// Digits with the rows of each class, to draw tuples from.
struct ByClass {
    images: Tensor,
    labels: Vec<usize>,
    rows: Vec<Vec<usize>>,
}

impl ByClass {
    fn new(digits: &TensorDataset) -> Arc<Self> {
        let labels: Vec<usize> = digits
            .target()
            .values()
            .iter()
            .map(|&l| l as usize)
            .collect();
        Arc::new(Self {
            images: digits.input().clone(),
            rows: rows_by_class(&labels),
            labels,
        })
    }

    /// A row drawn from all digits, and its class.
    fn any(&self, rng: &mut Rng) -> (usize, usize) {
        let row = rng.below(self.labels.len());
        (row, self.labels[row])
    }

    /// A row of class `class`.
    fn of_class(&self, class: usize, rng: &mut Rng) -> usize {
        let rows = &self.rows[class];
        rows[rng.below(rows.len())]
    }

    /// A row of a class other than `class`.
    fn not_of_class(&self, class: usize, rng: &mut Rng) -> usize {
        self.of_class((class + 1 + rng.below(CLASSES - 1)) % CLASSES, rng)
    }

    /// The image of `row`, `[64]`.
    fn image(&self, row: usize) -> Tensor {
        self.images.narrow(0, row, 1).reshape(&[PIXELS as isize])
    }
}

/// Pairs of digits: inputs `a` and `b`, target `same` (1 when both show the same digit).
/// Even pairs are of one class, odd pairs of two, so always answering one way scores 50%.
pub struct Pairs {
    digits: Arc<ByClass>,
    len: usize,
    seed: u64,
}

impl Pairs {
    /// `len` pairs of `digits` drawn from `seed`.
    pub fn new(digits: &TensorDataset, len: usize, seed: u64) -> Self {
        Self {
            digits: ByClass::new(digits),
            len,
            seed,
        }
    }
}

impl Dataset for Pairs {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize) -> DataResult<Example> {
        let mut rng = Rng::new(splitmix64(self.seed, index as u64));
        let (a, class) = self.digits.any(&mut rng);
        let same = index % 2 == 0;
        let b = if same {
            self.digits.of_class(class, &mut rng)
        } else {
            self.digits.not_of_class(class, &mut rng)
        };
        Ok(Example::from_fields(
            Fields::new()
                .with("a", self.digits.image(a))
                .with("b", self.digits.image(b)),
            Fields::new().with("same", Tensor::scalar(f32::from(u8::from(same)))),
        ))
    }
}

/// Triplets of digits: inputs `anchor`, `positive` (the anchor's class) and `negative`
/// (another class); no target.
pub struct Triplets {
    digits: Arc<ByClass>,
    len: usize,
    seed: u64,
}

impl Triplets {
    /// `len` triplets of `digits` drawn from `seed`.
    pub fn new(digits: &TensorDataset, len: usize, seed: u64) -> Self {
        Self {
            digits: ByClass::new(digits),
            len,
            seed,
        }
    }
}

impl Dataset for Triplets {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize) -> DataResult<Example> {
        let mut rng = Rng::new(splitmix64(self.seed, index as u64));
        let (anchor, class) = self.digits.any(&mut rng);
        let positive = self.digits.of_class(class, &mut rng);
        let negative = self.digits.not_of_class(class, &mut rng);
        let image = |row| self.digits.image(row);
        Ok(Example::from_fields(
            Fields::new()
                .with("anchor", image(anchor))
                .with("positive", image(positive))
                .with("negative", image(negative)),
            Fields::new(),
        ))
    }
}
