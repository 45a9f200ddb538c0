//! The IDX format of the MNIST family (MNIST, Fashion-MNIST, KMNIST, EMNIST), raw or gzip.
//!
//! Layout, all integers big-endian: two zero bytes, a type byte (`0x08` u8, `0x09` i8, `0x0B`
//! i16, `0x0C` i32, `0x0D` f32, `0x0E` f64), a byte with the number of dimensions, one u32 per
//! dimension, then the values, row-major.

use crate::compression::{read_file, Content};
use crate::dataset::{Split, TensorDataset};
use crate::error::{DataError, DataResult};
use std::path::{Path, PathBuf};
use strata_tensor::Tensor;

/// The element type of an IDX file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdxType {
    /// Unsigned byte (`0x08`), the type of every MNIST-family file.
    U8,
    /// Signed byte (`0x09`).
    I8,
    /// Big-endian i16 (`0x0B`).
    I16,
    /// Big-endian i32 (`0x0C`).
    I32,
    /// Big-endian f32 (`0x0D`).
    F32,
    /// Big-endian f64 (`0x0E`).
    F64,
}

impl IdxType {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0x08 => Self::U8,
            0x09 => Self::I8,
            0x0B => Self::I16,
            0x0C => Self::I32,
            0x0D => Self::F32,
            0x0E => Self::F64,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::U8 | Self::I8 => 1,
            Self::I16 => 2,
            Self::I32 | Self::F32 => 4,
            Self::F64 => 8,
        }
    }

    fn decode(self, bytes: &[u8]) -> f32 {
        match self {
            Self::U8 => bytes[0] as f32,
            Self::I8 => bytes[0] as i8 as f32,
            Self::I16 => i16::from_be_bytes([bytes[0], bytes[1]]) as f32,
            Self::I32 => i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as f32,
            Self::F32 => f32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            Self::F64 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(bytes);
                f64::from_be_bytes(b) as f32
            }
        }
    }
}

/// The content of one IDX file: its element type, dimensions and values (as `f32`).
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    /// The element type stored in the file.
    pub kind: IdxType,
    /// The dimensions, e.g. `[60000, 28, 28]`.
    pub dims: Vec<usize>,
    /// The values, row-major.
    pub values: Vec<f32>,
}

/// Parses an IDX file held in memory, raw or gzip-compressed; `source_name` names it in
/// errors. Checks the magic number, the dimensions and that the length is exactly right; a
/// gzip stream is inflated only as far as the header and the data it announces.
///
/// ```
/// // A 1-D IDX array of two unsigned bytes.
/// let bytes = [0, 0, 0x08, 1, 0, 0, 0, 2, 7, 9];
/// let array = strata_datasets::parse_idx(&bytes, "tiny").unwrap();
/// assert_eq!((array.dims, array.values), (vec![2], vec![7.0, 9.0]));
/// ```
pub fn parse_idx(bytes: &[u8], source_name: &str) -> DataResult<IdxArray> {
    let mut content = Content::new(bytes);
    let err = |expected: &str, found: String| DataError::format(source_name, expected, found);
    let mut magic = [0u8; 4];
    let read = content.read_up_to(&mut magic, source_name)?;
    if read < magic.len() {
        return Err(err(
            "an IDX header of at least 4 bytes",
            format!("{read} bytes"),
        ));
    }
    let kind = match (magic[0], magic[1], IdxType::from_code(magic[2])) {
        (0, 0, Some(kind)) => kind,
        _ => {
            return Err(err(
                "an IDX magic number 00 00 TT NN with type TT in {08, 09, 0B, 0C, 0D, 0E}",
                format!(
                    "{:02X} {:02X} {:02X} {:02X}",
                    magic[0], magic[1], magic[2], magic[3]
                ),
            ))
        }
    };
    let ndims = magic[3] as usize;
    let header_len = 4 + 4 * ndims;
    let mut dim_bytes = vec![0u8; 4 * ndims];
    let read = content.read_up_to(&mut dim_bytes, source_name)?;
    if read < dim_bytes.len() {
        return Err(err(
            &format!("a header of {header_len} bytes for {ndims} dimensions"),
            format!("{} bytes in all", 4 + read),
        ));
    }
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize)
        .collect();
    let data_len = dims
        .iter()
        .try_fold(kind.size(), |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| err("dimensions whose size fits in memory", format!("{dims:?}")))?;
    let data = content.read_exactly(data_len, source_name, || {
        format!("{data_len} bytes of {kind:?} data for dimensions {dims:?}")
    })?;
    let values = data
        .chunks_exact(kind.size())
        .map(|b| kind.decode(b))
        .collect();
    Ok(IdxArray { kind, dims, values })
}

/// Reads and parses an IDX file (raw or gzip).
pub fn read_idx(path: &Path) -> DataResult<IdxArray> {
    parse_idx(&read_file(path)?, &path.display().to_string())
}

/// An image–label classification set from an IDX image file `[N, H, W]` and an IDX label
/// file `[N]` with labels in `0..classes.len()`. Inputs are `[N, 1, H, W]` with the stored
/// values (0..255 for the MNIST family); targets are class ids `[N]`.
pub fn idx_classification(
    images: &Path,
    labels: &Path,
    classes: Vec<String>,
) -> DataResult<TensorDataset> {
    let image_array = read_idx(images)?;
    let label_array = read_idx(labels)?;
    idx_pair_dataset(
        image_array,
        &images.display().to_string(),
        label_array,
        &labels.display().to_string(),
        classes,
    )
}

/// Checks that an images array and a labels array belong together and builds the dataset.
fn idx_pair_dataset(
    images: IdxArray,
    images_name: &str,
    labels: IdxArray,
    labels_name: &str,
    classes: Vec<String>,
) -> DataResult<TensorDataset> {
    let &[n, h, w] = images.dims.as_slice() else {
        return Err(DataError::format(
            images_name,
            "an IDX image array with 3 dimensions [N, H, W]",
            format!("dimensions {:?}", images.dims),
        ));
    };
    let &[label_count] = labels.dims.as_slice() else {
        return Err(DataError::format(
            labels_name,
            "an IDX label array with 1 dimension [N]",
            format!("dimensions {:?}", labels.dims),
        ));
    };
    if label_count != n {
        return Err(DataError::format(
            labels_name,
            format!("{n} labels, one per image of {images_name}"),
            format!("{label_count} labels"),
        ));
    }
    check_labels(&labels.values, classes.len(), labels_name)?;
    let inputs = Tensor::from_vec(images.values, &[n, 1, h, w]);
    let targets = Tensor::from_vec(labels.values, &[n]);
    Ok(TensorDataset::new(inputs, targets)?.with_classes(classes))
}

/// Checks that every label is a whole number in `0..classes`.
pub(crate) fn check_labels(labels: &[f32], classes: usize, source_name: &str) -> DataResult<()> {
    match labels
        .iter()
        .position(|&l| !(l >= 0.0 && l.fract() == 0.0 && (l as usize) < classes))
    {
        None => Ok(()),
        Some(at) => Err(DataError::format(
            source_name,
            format!("labels in 0..{classes}"),
            format!("label {} at position {at}", labels[at]),
        )),
    }
}

/// Names an IDX file of the MNIST family may have: the canonical `train-images-idx3-ubyte`
/// with a hyphen, or the dotted `train-images.idx3-ubyte`, each raw or with `.gz`.
pub fn idx_file_names(split: Split, labels: bool) -> Vec<String> {
    let prefix = match split {
        Split::Train => "train",
        Split::Test => "t10k",
    };
    let (kind, idx) = if labels {
        ("labels", "idx1")
    } else {
        ("images", "idx3")
    };
    let mut names = Vec::with_capacity(4);
    for separator in ['-', '.'] {
        let name = format!("{prefix}-{kind}{separator}{idx}-ubyte");
        names.push(format!("{name}.gz"));
        names.push(name);
    }
    names
}

/// The first existing file in `dir` among [`idx_file_names`].
fn find_idx_file(dir: &Path, split: Split, labels: bool) -> DataResult<PathBuf> {
    let names = idx_file_names(split, labels);
    names
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            DataError::format(
                dir.display().to_string(),
                format!("one of the files {}", names.join(", ")),
                "none of them",
            )
        })
}

/// Side length of MNIST-family images.
const MNIST_SIDE: usize = 28;

/// An MNIST-family split from a folder holding its IDX files (any of the names
/// [`idx_file_names`] lists), checking 28×28 images.
fn mnist_family(dir: &Path, split: Split, classes: Vec<String>) -> DataResult<TensorDataset> {
    let images = find_idx_file(dir, split, false)?;
    let labels = find_idx_file(dir, split, true)?;
    let dataset = idx_classification(&images, &labels, classes)?;
    if dataset.input_shape() != [1, MNIST_SIDE, MNIST_SIDE] {
        return Err(DataError::format(
            images.display().to_string(),
            format!("{MNIST_SIDE}x{MNIST_SIDE} images"),
            format!("images of shape {:?}", &dataset.input_shape()[1..]),
        ));
    }
    Ok(dataset)
}

/// MNIST read from `dir` at run time (60,000 training or 10,000 test images). Inputs are
/// `[N, 1, 28, 28]` with pixel values 0 (background) ..= 255 (ink); targets are digits 0..9.
///
/// MNIST is by Y. LeCun, C. Cortes and C.J.C. Burges, under CC BY-SA 3.0; it is never
/// embedded in this crate. Get it with [`crate::fetch`]`("mnist", ..)` or place the four files
/// in `dir` by hand.
pub fn mnist(dir: &Path, split: Split) -> DataResult<TensorDataset> {
    let classes = (0..10).map(|d| d.to_string()).collect();
    mnist_family(dir, split, classes)
}

/// Fashion-MNIST (Zalando Research, MIT license) read from `dir`: same layout as
/// [`mnist`], ten clothing classes.
pub fn fashion_mnist(dir: &Path, split: Split) -> DataResult<TensorDataset> {
    let classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ];
    mnist_family(dir, split, classes.map(String::from).to_vec())
}
