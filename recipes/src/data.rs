//! The datasets the recipes train on: where each comes from, its held-out test split, and
//! the standardisation of its inputs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use strata_datasets::{
    cifar10, default_cache_dir, digits, fashion_mnist, iris, mnist, spirals, two_moons, DataError,
    Dataset, Mapped, Normalize, Split, TensorDataset,
};
use strata_tensor::splitmix64;

/// Share of the examples held out for testing when a dataset has no fixed test split: the
/// usual 80/20 division (360 of the 1,797 digits).
pub const TEST_FRACTION: f64 = 0.2;

/// Points generated for the synthetic sets: enough for a smooth boundary, still instant.
const SYNTHETIC_POINTS: usize = 1500;
/// Noise of the two moons: the half circles overlap a little, as in the usual demo.
const MOONS_NOISE: f32 = 0.1;
/// Arms of the spirals: three classes, a boundary no linear model can draw.
const SPIRAL_ARMS: usize = 3;
/// Noise of the spirals: small against the gap between arms (about 0.2 at the rim).
const SPIRAL_NOISE: f32 = 0.02;

/// Stream tags mixed into the demo seed so data generation and splitting use independent
/// random streams.
const GENERATE_STREAM: u64 = 1;
const SPLIT_STREAM: u64 = 2;

/// A dataset the recipes know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum DatasetName {
    /// The 8×8 handwritten digits embedded in strata-datasets (1,797 images, 10 classes).
    Digits,
    /// Fisher's iris, embedded (150 flowers, 4 measurements, 3 species).
    Iris,
    /// MNIST, read from --data-dir (70,000 images 28×28, 10 digits).
    Mnist,
    /// Fashion-MNIST, read from --data-dir (70,000 images 28×28, 10 kinds of clothing).
    FashionMnist,
    /// CIFAR-10, read from --data-dir (60,000 colour images 32×32, 10 classes).
    Cifar10,
    /// Two interleaving half circles, generated (2 classes).
    Moons,
    /// Three interleaved spirals, generated (3 classes).
    Spirals,
}

impl DatasetName {
    /// Every dataset, in the order of the command line's help.
    pub const ALL: [Self; 7] = [
        Self::Digits,
        Self::Iris,
        Self::Mnist,
        Self::FashionMnist,
        Self::Cifar10,
        Self::Moons,
        Self::Spirals,
    ];

    /// The name used on the command line and in checkpoints.
    pub fn name(self) -> &'static str {
        match self {
            Self::Digits => "digits",
            Self::Iris => "iris",
            Self::Mnist => "mnist",
            Self::FashionMnist => "fashion-mnist",
            Self::Cifar10 => "cifar10",
            Self::Moons => "moons",
            Self::Spirals => "spirals",
        }
    }

    /// Parses a [`DatasetName::name`].
    pub fn parse(name: &str) -> Result<Self, String> {
        crate::parse_name("dataset", name, &Self::ALL, Self::name)
    }

    /// Whether the dataset is read from disk (downloaded with `cargo xtask fetch NAME`, under
    /// the same name) rather than embedded or generated.
    pub fn is_downloaded(self) -> bool {
        match self {
            Self::Mnist | Self::FashionMnist | Self::Cifar10 => true,
            Self::Digits | Self::Iris | Self::Moons | Self::Spirals => false,
        }
    }

    /// Where `cargo xtask fetch` puts the dataset by default (for those read from disk).
    pub fn default_data_dir(self) -> Option<PathBuf> {
        if !self.is_downloaded() {
            return None;
        }
        default_cache_dir()
            .ok()
            .map(|cache| cache.join(self.name()))
    }
}

/// Which data to train and test on.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSpec {
    /// The dataset.
    pub dataset: DatasetName,
    /// The folder holding its files (datasets read from disk only).
    pub data_dir: Option<PathBuf>,
    /// Seed of generation (synthetic sets) and of the train/test split.
    pub seed: u64,
}

/// A dataset's training and test examples, standardised, in memory.
pub struct Splits {
    /// Training examples.
    pub train: TensorDataset,
    /// Held-out test examples.
    pub test: TensorDataset,
    /// Class names (class id `k` is `classes[k]`).
    pub classes: Vec<String>,
    /// The standardisation applied to both (measured on the training examples).
    pub normalize: Normalize,
}

impl Splits {
    /// Shape of one input, e.g. `[1, 8, 8]`.
    pub fn input_shape(&self) -> &[usize] {
        self.train.input_shape()
    }
}

/// Loads the dataset, splits it and standardises the inputs per channel (per feature for
/// vectors) with `normalize`, or with the training split's mean and standard deviation.
pub fn load(spec: &DataSpec, normalize: Option<Normalize>) -> Result<Splits, String> {
    let (train, test, classes) = raw_splits(spec)?;
    let normalize = match normalize {
        Some(normalize) => normalize,
        None => Normalize::fit(train.as_ref()).map_err(|err| err.to_string())?,
    };
    let standardised = |part: Arc<dyn Dataset>| {
        materialize(&Mapped::new(part, Arc::new(normalize.clone())))
            .map_err(|err| format!("{}: {err}", spec.dataset.name()))
    };
    Ok(Splits {
        train: standardised(train)?,
        test: standardised(test)?,
        classes,
        normalize,
    })
}

type Parts = (Arc<dyn Dataset>, Arc<dyn Dataset>, Vec<String>);

/// The training and test parts before standardisation, and the class names.
fn raw_splits(spec: &DataSpec) -> Result<Parts, String> {
    let seed = |stream| splitmix64(spec.seed, stream);
    let whole = match spec.dataset {
        DatasetName::Digits => digits(),
        DatasetName::Iris => iris(),
        DatasetName::Moons => two_moons(SYNTHETIC_POINTS, MOONS_NOISE, seed(GENERATE_STREAM)),
        DatasetName::Spirals => spirals(
            SYNTHETIC_POINTS,
            SPIRAL_ARMS,
            SPIRAL_NOISE,
            seed(GENERATE_STREAM),
        ),
        DatasetName::Mnist | DatasetName::FashionMnist | DatasetName::Cifar10 => {
            return read_from_disk(spec)
        }
    };
    let classes = class_names(&whole);
    let (train, test) = whole
        .split(TEST_FRACTION, seed(SPLIT_STREAM))
        .map_err(|err| err.to_string())?;
    Ok((Arc::new(train), Arc::new(test), classes))
}

/// The fixed train and test splits of a dataset read from `--data-dir` (or the fetch cache).
fn read_from_disk(spec: &DataSpec) -> Result<Parts, String> {
    let dataset = spec.dataset;
    let dir = spec
        .data_dir
        .clone()
        .or_else(|| dataset.default_data_dir())
        .ok_or_else(|| {
            format!(
                "{}: no --data-dir given and no cache folder found (set STRATA_DATA or HOME)",
                dataset.name()
            )
        })?;
    let reader = match dataset {
        DatasetName::Mnist => mnist,
        DatasetName::FashionMnist => fashion_mnist,
        _ => cifar10,
    };
    let read =
        |split| reader(&dir, split).map_err(|err| missing_files_message(dataset, &dir, &err));
    let train = read(Split::Train)?;
    let test = read(Split::Test)?;
    let classes = class_names(&train);
    Ok((Arc::new(train), Arc::new(test), classes))
}

/// What to do when a dataset's files cannot be read: the fetch command and the folder to pass.
pub fn missing_files_message(dataset: DatasetName, dir: &Path, err: &DataError) -> String {
    let fetch_name = dataset.name();
    let cache = default_cache_dir()
        .map(|dir| dir.display().to_string())
        .unwrap_or_else(|_| "the cache folder".into());
    format!(
        "could not read {name} from {dir}: {err}\n\
         Get it with `cargo xtask fetch {fetch_name}` (it downloads into {cache}/{fetch_name}, \
         which train-demo reads when --data-dir is not given), or with \
         `cargo xtask fetch {fetch_name} --dir DIR` and then `--data-dir DIR/{fetch_name}`; \
         or place the files in {dir} by hand.",
        name = dataset.name(),
        dir = dir.display(),
    )
}

/// The dataset's class names, or `"0"`, `"1"`, … when it has none.
fn class_names(data: &TensorDataset) -> Vec<String> {
    if !data.classes().is_empty() {
        return data.classes().to_vec();
    }
    let max_label = data.target().values().iter().fold(0.0f32, |m, &v| m.max(v));
    (0..=max_label as usize).map(|c| c.to_string()).collect()
}

/// Every example of `data` gathered into one in-memory dataset (transforms applied once).
fn materialize(data: &dyn Dataset) -> Result<TensorDataset, DataError> {
    let all: Vec<usize> = (0..data.len()).collect();
    let batch = data.get_batch(&all)?;
    TensorDataset::new(batch.input().clone(), batch.target().clone())
}
