//! CIFAR-10 binary batches: records of one label byte (0..9) and 3,072 pixel bytes
//! (1,024 red, then green, then blue, each a 32×32 row-major plane).

use crate::compression::read_file;
use crate::dataset::{Split, TensorDataset};
use crate::error::{DataError, DataResult};
use std::path::{Path, PathBuf};
use strata_tensor::Tensor;

/// Side length of a CIFAR image.
const SIDE: usize = 32;
/// Colour channels.
const CHANNELS: usize = 3;
/// Bytes per image.
const PIXELS: usize = CHANNELS * SIDE * SIDE;
/// Bytes per record: the label, then the pixels.
pub const CIFAR10_RECORD_BYTES: usize = 1 + PIXELS;
/// Records in each of the six batch files.
pub const CIFAR10_RECORDS_PER_FILE: usize = 10_000;
/// The classes, in label order (from `batches.meta.txt`).
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];
/// The folder the binary tarball unpacks to.
pub const CIFAR10_FOLDER: &str = "cifar-10-batches-bin";

/// Parses CIFAR-10 binary records held in memory: `(pixels, labels)` with pixels as f32
/// 0..255 in `[N, 3, 32, 32]` order and labels as class ids. `source_name` names the data in
/// errors.
pub fn parse_cifar10(bytes: &[u8], source_name: &str) -> DataResult<(Vec<f32>, Vec<f32>)> {
    if bytes.is_empty() || bytes.len() % CIFAR10_RECORD_BYTES != 0 {
        return Err(DataError::format(
            source_name,
            format!("a whole number of {CIFAR10_RECORD_BYTES}-byte CIFAR-10 records (30,730,000 bytes for a batch file)"),
            format!("{} bytes", bytes.len()),
        ));
    }
    let records = bytes.len() / CIFAR10_RECORD_BYTES;
    let mut pixels = Vec::with_capacity(records * PIXELS);
    let mut labels = Vec::with_capacity(records);
    for (at, record) in bytes.chunks_exact(CIFAR10_RECORD_BYTES).enumerate() {
        if record[0] as usize >= CIFAR10_CLASSES.len() {
            return Err(DataError::format(
                source_name,
                format!(
                    "a label 0..{} at the start of each record",
                    CIFAR10_CLASSES.len()
                ),
                format!("label {} in record {at}", record[0]),
            ));
        }
        labels.push(record[0] as f32);
        pixels.extend(record[1..].iter().map(|&p| p as f32));
    }
    Ok((pixels, labels))
}

/// The batch file names of a split.
pub fn cifar10_file_names(split: Split) -> Vec<String> {
    match split {
        Split::Train => (1..=5).map(|k| format!("data_batch_{k}.bin")).collect(),
        Split::Test => vec!["test_batch.bin".to_string()],
    }
}

/// The folder holding the batch files: `dir` itself or its `cifar-10-batches-bin` child.
fn batches_dir(dir: &Path) -> PathBuf {
    let child = dir.join(CIFAR10_FOLDER);
    if child.is_dir() {
        child
    } else {
        dir.to_path_buf()
    }
}

/// CIFAR-10 (A. Krizhevsky, 2009) read from `dir` (the unpacked binary version, or its parent
/// folder): 50,000 training or 10,000 test images. Inputs are `[N, 3, 32, 32]` with values
/// 0..=255; targets are class ids 0..9 ([`CIFAR10_CLASSES`]).
pub fn cifar10(dir: &Path, split: Split) -> DataResult<TensorDataset> {
    let dir = batches_dir(dir);
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for name in cifar10_file_names(split) {
        let path = dir.join(&name);
        // The size is checked before reading, so a huge file in its place is not read whole.
        let size = std::fs::metadata(&path)
            .map_err(|err| DataError::io(&path, "reading", err))?
            .len();
        let expected = CIFAR10_RECORDS_PER_FILE * CIFAR10_RECORD_BYTES;
        if size != expected as u64 {
            return Err(DataError::format(
                path.display().to_string(),
                format!("{expected} bytes (10,000 records)"),
                format!("{size} bytes"),
            ));
        }
        let (p, l) = parse_cifar10(&read_file(&path)?, &path.display().to_string())?;
        pixels.extend(p);
        labels.extend(l);
    }
    let n = labels.len();
    let inputs = Tensor::from_vec(pixels, &[n, CHANNELS, SIDE, SIDE]);
    let classes = CIFAR10_CLASSES.map(String::from).to_vec();
    Ok(TensorDataset::new(inputs, Tensor::from_vec(labels, &[n]))?.with_classes(classes))
}
