//! PyTorch interoperability: parameters and buffers read from and written to
//! [safetensors](https://github.com/huggingface/safetensors) files under PyTorch's
//! `state_dict()` names and layouts.
//!
//! A Strata model whose fields (or [`Sequential`](crate::Sequential) positions) mirror the
//! PyTorch module's attributes (or `nn.Sequential` indices) has the same names:
//! `features.0.weight`, `features.1.running_mean`, `head.3.bias`, … Layers without
//! parameters (ReLU, Dropout, pooling, Flatten) occupy their index in both libraries, so the
//! indices line up when the layers are listed in the same order. Layouts are PyTorch's too:
//! Linear weight `[out, in]`, Conv2d weight `[out, in/groups, kH, kW]`, Embedding
//! `[num, dim]`.
//!
//! On the PyTorch side:
//! ```python
//! from safetensors.torch import save_file, load_file
//! save_file(model.state_dict(), "model.safetensors")        # for load_safetensors
//! model.load_state_dict(load_file("model.safetensors"))      # from save_safetensors
//! ```
//!
//! Element types: `F32` is read as is, `F16` and `BF16` are widened exactly, `F64` is rounded
//! to the nearest `f32` (like PyTorch's `.float()`); integer and other types are refused with
//! an error naming the tensor and its type. Files are always written as `F32`.
//!
//! BatchNorm's `num_batches_tracked` (an `I64` counter that PyTorch uses only with
//! `momentum=None`, which Strata does not offer) is not kept by Strata: when loading, a
//! `<layer>.num_batches_tracked` entry is skipped when the model has `<layer>.running_mean`;
//! when saving, none is written, and PyTorch's `load_state_dict` (strict) fills it with 0
//! because safetensors state dicts carry no version metadata.

mod dtype;

use crate::io::{write_atomically, Checkpoint, NamedTensor};
use crate::params::{Buffer, Params, Visitor};
use safetensors::{Dtype, SafeTensorError, SafeTensors, View};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use strata_autograd::Var;
use strata_tensor::Tensor;

/// PyTorch's BatchNorm counter, which Strata does not keep (see the module documentation).
const NUM_BATCHES_TRACKED: &str = "num_batches_tracked";

/// Why a safetensors file could not be read, written or loaded into a model.
#[derive(Debug)]
pub enum InteropError {
    /// Reading or writing the file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The bytes are not a valid safetensors file (or could not be encoded as one).
    Format {
        /// The file.
        path: PathBuf,
        /// What the safetensors parser reported.
        message: String,
    },
    /// A tensor has an element type that is not read.
    Dtype {
        /// The tensor's name.
        name: String,
        /// The element type found (`I64`, `U8`, …).
        found: String,
    },
    /// The model has a tensor that the state dict (file or tensors) lacks.
    Missing {
        /// The tensor's name.
        name: String,
    },
    /// The state dict has a tensor that the model lacks.
    Unexpected {
        /// The tensor's name.
        name: String,
    },
    /// A tensor's shape differs between the model and the state dict.
    Shape {
        /// The tensor's name.
        name: String,
        /// Shape in the model.
        expected: Vec<usize>,
        /// Shape in the state dict.
        found: Vec<usize>,
    },
}

impl fmt::Display for InteropError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "safetensors file {}: {source}", path.display()),
            Self::Format { path, message } => write!(
                f,
                "{} is not a valid safetensors file: {message}",
                path.display()
            ),
            Self::Dtype { name, found } => write!(
                f,
                "tensor `{name}` has element type {found}; expected F32 (or F16, BF16, F64)"
            ),
            Self::Missing { name } => {
                write!(f, "tensor `{name}` of the model is missing from the state dict")
            }
            Self::Unexpected { name } => {
                write!(f, "the state dict has tensor `{name}`, which the model lacks")
            }
            Self::Shape {
                name,
                expected,
                found,
            } => write!(
                f,
                "tensor `{name}` has shape {expected:?} in the model but {found:?} in the state dict"
            ),
        }
    }
}

impl std::error::Error for InteropError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A tensor handed to the safetensors writer as little-endian `F32`.
struct F32View<'a>(&'a Tensor);

impl View for F32View<'_> {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        self.0.shape()
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Owned(
            self.0
                .values()
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        )
    }
    fn data_len(&self) -> usize {
        self.0.numel() * 4
    }
}

/// Writes named tensors to a safetensors file as `F32` (atomically: a temporary file renamed
/// over `path`).
///
/// ```
/// use strata_modules::io::interop::{read_safetensors, write_safetensors};
/// use strata_modules::NamedTensor;
/// use strata_tensor::Tensor;
/// let path = std::env::temp_dir().join(format!("strata-doc-{}.safetensors", std::process::id()));
/// let x = NamedTensor { name: "x".into(), tensor: Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]) };
/// write_safetensors(&[x.clone()], &path).unwrap();
/// assert_eq!(read_safetensors(&path).unwrap(), vec![x]);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn write_safetensors(
    tensors: &[NamedTensor],
    path: impl AsRef<Path>,
) -> Result<(), InteropError> {
    let path = path.as_ref();
    let views = tensors
        .iter()
        .map(|t| (t.name.as_str(), F32View(&t.tensor)));
    let bytes = safetensors::serialize(views, None).map_err(|err| InteropError::Format {
        path: path.to_path_buf(),
        message: err.to_string(),
    })?;
    write_atomically(path, &bytes).map_err(|source| InteropError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Every tensor of a safetensors file, sorted by name, as `f32` (see the module
/// documentation for the element types read).
pub fn read_safetensors(path: impl AsRef<Path>) -> Result<Vec<NamedTensor>, InteropError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let file = parse(path, &bytes)?;
    let mut names = file.names();
    names.sort_unstable();
    names
        .into_iter()
        .map(|name| decode(path, &file, name))
        .collect()
}

/// Saves a model's parameters and buffers under their dotted names (PyTorch's state-dict
/// names when the model mirrors the PyTorch module), as `F32`.
///
/// ```
/// use strata_modules::io::interop::{load_safetensors, save_safetensors};
/// use strata_modules::{BatchNorm1d, Dense, Params, Relu, Sequential};
/// use strata_tensor::Rng;
/// let model = |seed| {
///     let mut rng = Rng::new(seed);
///     Sequential::new().push(Dense::new(3, 4, &mut rng)).push(Relu).push(BatchNorm1d::new(4))
/// };
/// let path = std::env::temp_dir().join(format!("strata-doc-model-{}.safetensors", std::process::id()));
/// save_safetensors(&model(0), &path).unwrap(); // 0.weight, 0.bias, 2.weight, 2.bias, 2.running_mean, …
/// let mut copy = model(1);
/// load_safetensors(&mut copy, &path).unwrap();
/// let weights = |m: &Sequential| m.parameters()[0].value().clone();
/// assert_eq!(weights(&copy), weights(&model(0)));
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn save_safetensors(model: &dyn Params, path: impl AsRef<Path>) -> Result<(), InteropError> {
    write_safetensors(&state_dict(model), path)
}

/// Loads parameters and buffers from a safetensors file (e.g. a PyTorch `state_dict()` saved
/// with `safetensors.torch.save_file`) into a model of the same architecture.
///
/// Every tensor is checked before anything is written, so on an error the model is left
/// untouched; the error names the first tensor of the model (in declaration order) that is
/// missing or mis-shaped, else the first tensor of the file (by name) that the model lacks,
/// or the first tensor whose element type is not read.
pub fn load_safetensors(
    model: &mut dyn Params,
    path: impl AsRef<Path>,
) -> Result<(), InteropError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let file = parse(path, &bytes)?;
    let mut names = file.names();
    names.sort_unstable();
    load_checked(model, &names, |wanted| {
        let view = file
            .tensor(&wanted.name)
            .map_err(|_| InteropError::Missing {
                name: wanted.name.clone(),
            })?;
        check_shape(wanted, view.shape())?;
        Ok(decode(path, &file, &wanted.name)?.tensor)
    })
}

/// Loads parameters and buffers given as named tensors (PyTorch's state-dict names and
/// layouts) into a model, as strictly as [`load_safetensors`]: every tensor of the model
/// present with its shape, none left over, and nothing written unless all fit. The one way to
/// build any layer, or a whole model, from given weights.
///
/// ```
/// use strata_modules::io::interop::load_state_dict;
/// use strata_modules::{Conv2d, NamedTensor};
/// use strata_tensor::{Rng, Tensor};
/// let mut conv = Conv2d::new(1, 2, 3, &mut Rng::new(0));
/// let weights = vec![
///     NamedTensor::new("weight", Tensor::ones(&[2, 1, 3, 3])),
///     NamedTensor::new("bias", Tensor::zeros(&[2])),
/// ];
/// load_state_dict(&mut conv, &weights).unwrap();
/// assert_eq!(conv.weight.value().to_vec(), vec![1.0; 18]);
/// let wrong = vec![NamedTensor::new("weight", Tensor::ones(&[2, 1, 5, 5]))];
/// let err = load_state_dict(&mut conv, &wrong).unwrap_err();
/// assert!(err.to_string().contains("has shape [2, 1, 3, 3] in the model but [2, 1, 5, 5]"));
/// ```
pub fn load_state_dict(
    model: &mut dyn Params,
    tensors: &[NamedTensor],
) -> Result<(), InteropError> {
    let by_name: HashMap<&str, &Tensor> = tensors
        .iter()
        .map(|t| (t.name.as_str(), &t.tensor))
        .collect();
    let mut names: Vec<&str> = by_name.keys().copied().collect();
    names.sort_unstable();
    load_checked(model, &names, |wanted| {
        let tensor = by_name
            .get(wanted.name.as_str())
            .ok_or_else(|| InteropError::Missing {
                name: wanted.name.clone(),
            })?;
        check_shape(wanted, tensor.shape())?;
        Ok((*tensor).clone())
    })
}

/// Fetches every tensor of the model's state dict with `fetch` (which fails on a missing or
/// mis-shaped one), refuses a name in `offered` (sorted) that the model lacks, and only then
/// writes the values into the model's parameters and buffers.
fn load_checked(
    model: &mut dyn Params,
    offered: &[&str],
    mut fetch: impl FnMut(&NamedTensor) -> Result<Tensor, InteropError>,
) -> Result<(), InteropError> {
    let wanted = state_dict(&*model);
    let mut values: HashMap<String, Tensor> = HashMap::with_capacity(wanted.len());
    for w in &wanted {
        values.insert(w.name.clone(), fetch(w)?);
    }
    if let Some(extra) = offered
        .iter()
        .find(|name| !values.contains_key(**name) && !is_untracked_counter(name, &values))
    {
        return Err(InteropError::Unexpected {
            name: extra.to_string(),
        });
    }
    model.visit_mut("", &mut |name: &str, param: &mut Var| {
        if let Some(value) = values.get(name) {
            param.set_value(value.clone());
        }
    });
    model.visit("", &mut SetBuffers(&values));
    Ok(())
}

/// An error unless `found` is the shape the model's tensor `wanted` has.
fn check_shape(wanted: &NamedTensor, found: &[usize]) -> Result<(), InteropError> {
    if found == wanted.tensor.shape() {
        return Ok(());
    }
    Err(InteropError::Shape {
        name: wanted.name.clone(),
        expected: wanted.tensor.shape().to_vec(),
        found: found.to_vec(),
    })
}

/// Whether `name` is BatchNorm's `num_batches_tracked` for a layer the model has.
fn is_untracked_counter(name: &str, model: &HashMap<String, Tensor>) -> bool {
    match name.rsplit_once('.') {
        Some((layer, NUM_BATCHES_TRACKED)) => model.contains_key(&format!("{layer}.running_mean")),
        None if name == NUM_BATCHES_TRACKED => model.contains_key("running_mean"),
        _ => false,
    }
}

/// Parameters then buffers of a model, each in declaration order.
fn state_dict(model: &dyn Params) -> Vec<NamedTensor> {
    let Checkpoint {
        mut params,
        buffers,
        ..
    } = Checkpoint::of_model(model);
    params.extend(buffers);
    params
}

/// Writes the loaded values into the model's buffers.
struct SetBuffers<'a>(&'a HashMap<String, Tensor>);

impl Visitor for SetBuffers<'_> {
    fn param(&mut self, _: &str, _: &Var) {}
    fn buffer(&mut self, name: &str, buffer: &Buffer) {
        if let Some(value) = self.0.get(name) {
            buffer.set(value.clone());
        }
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, InteropError> {
    std::fs::read(path).map_err(|source| InteropError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<SafeTensors<'a>, InteropError> {
    SafeTensors::deserialize(bytes).map_err(|err| InteropError::Format {
        path: path.to_path_buf(),
        message: describe(&err, bytes),
    })
}

/// What a safetensors parsing error says, as what was expected and what was found (the
/// crate's own messages name only the problem) for the errors of the file's layout:
/// `header length (u64 LE) | JSON header | data`.
fn describe(err: &SafeTensorError, bytes: &[u8]) -> String {
    let header_len = bytes
        .get(..8)
        .map(|word| u64::from_le_bytes(word.try_into().expect("8 bytes")));
    match (err, header_len) {
        (SafeTensorError::HeaderTooSmall, None) => format!(
            "expected an 8-byte header length, found a file of {} bytes",
            bytes.len()
        ),
        (SafeTensorError::HeaderTooLarge, Some(len)) => {
            format!("expected a header of at most 100,000,000 bytes, found a length of {len}")
        }
        (SafeTensorError::InvalidHeaderLength | SafeTensorError::HeaderTooSmall, Some(len)) => {
            format!(
                "expected a header length within the {} bytes after it, found {len}",
                bytes.len() - 8
            )
        }
        (SafeTensorError::InvalidHeader(utf8), _) => format!(
            "expected a UTF-8 JSON header, found an invalid byte after {} valid ones",
            utf8.valid_up_to()
        ),
        (SafeTensorError::InvalidHeaderDeserialization(json), _) => {
            format!("expected a JSON header of tensor descriptions, found {json}")
        }
        (SafeTensorError::MetadataIncompleteBuffer, _) => format!(
            "expected the data the header describes, found {} bytes that do not fit it",
            bytes.len()
        ),
        (SafeTensorError::InvalidOffset(name), _) => format!(
            "expected the data of tensor `{name}` to follow its predecessor's with the size of \
             its shape, found other offsets"
        ),
        (SafeTensorError::TensorInvalidInfo, _) => "expected each tensor's shape, element type \
            and data offsets to agree, found a tensor whose do not"
            .into(),
        (SafeTensorError::ValidationOverflow, _) => {
            "expected tensor sizes that fit in memory, found sizes that overflow".into()
        }
        (SafeTensorError::MisalignedSlice, _) => {
            "expected data aligned to its element type, found misaligned data".into()
        }
        (other, _) => other.to_string(),
    }
}

/// The tensor `name` of a parsed file, as `f32`.
fn decode(path: &Path, file: &SafeTensors<'_>, name: &str) -> Result<NamedTensor, InteropError> {
    let view = file.tensor(name).map_err(|err| InteropError::Format {
        path: path.to_path_buf(),
        message: err.to_string(),
    })?;
    let dtype_error = || InteropError::Dtype {
        name: name.to_string(),
        found: view.dtype().to_string(),
    };
    let values = dtype::decode(view.dtype(), view.data()).ok_or_else(dtype_error)?;
    let tensor =
        Tensor::try_from_vec(values, view.shape()).map_err(|err| InteropError::Format {
            path: path.to_path_buf(),
            message: format!("tensor `{name}`: {err}"),
        })?;
    Ok(NamedTensor {
        name: name.to_string(),
        tensor,
    })
}
