//! Checkpoints: parameters, buffers, random streams, (optionally) optimizer state, metadata and
//! named sections that the layers above fill (the training loop's state), saved atomically
//! behind a versioned header and loaded with name and shape checks.
//!
//! A checkpoint knows nothing of training: the trainer writes checkpoints (`train` depends on
//! `io`), so its loop state is stored here as an opaque section that `train` encodes and
//! decodes itself ([`crate::TrainingState::save_in`]). The other way round, every change to the
//! training loop's state would reach into the file format's module.

mod encoding;
mod named_tensor;

pub use encoding::FORMAT_VERSION;
pub use named_tensor::NamedTensor;

use crate::optim::{Optimizer, OptimizerState, OptimizerStateError};
use crate::params::{Buffer, Params, RngCell, Visitor};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use strata_autograd::Var;
use strata_tensor::temp_file::{remove_stale_temps, temp_path_for};
use strata_tensor::{Rng, Tensor};

/// Everything needed to restore a model, and optionally to resume its training exactly.
///
/// ```
/// use strata_modules::{Checkpoint, Dense, Module, Params};
/// use strata_tensor::Rng;
/// let model = Dense::new(3, 2, &mut Rng::new(0));
/// let path = std::env::temp_dir().join(format!("strata-doc-{}.ckpt", std::process::id()));
/// Checkpoint::of_model(&model).save(&path).unwrap();
/// let mut restored = Dense::new(3, 2, &mut Rng::new(99));
/// Checkpoint::load(&path).unwrap().apply_to(&mut restored).unwrap();
/// assert_eq!(restored.weight.value(), model.weight.value());
/// # std::fs::remove_file(&path).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Checkpoint {
    /// Trainable parameters.
    pub params: Vec<NamedTensor>,
    /// Buffers (e.g. running statistics).
    pub buffers: Vec<NamedTensor>,
    /// Random streams of modules (e.g. dropout).
    pub rngs: Vec<(String, Rng)>,
    /// Optimizer state, for resuming training.
    pub optimizer: Option<OptimizerState>,
    /// Values saved by the layers above under a name, each encoded on its own (the training
    /// loop keeps its state under [`crate::TrainingState::SECTION`]); see [`Checkpoint::section`].
    pub sections: BTreeMap<String, Vec<u8>>,
    /// Free-form notes (model kind, dataset, …).
    pub metadata: BTreeMap<String, String>,
}

/// Why a checkpoint could not be saved, read or applied.
#[derive(Debug)]
pub enum CheckpointError {
    /// Reading or writing the file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file does not start with the checkpoint magic bytes.
    NotACheckpoint {
        /// The first bytes found.
        found: Vec<u8>,
    },
    /// The file was written by an unknown format version.
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// The file is shorter (or longer) than its header says.
    Truncated {
        /// Bytes the header announces.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The payload does not match its checksum.
    Corrupted {
        /// The checksum in the header.
        expected: u64,
        /// The checksum of the payload present.
        found: u64,
    },
    /// The payload could not be encoded.
    Encode(String),
    /// The payload could not be decoded.
    Decode(String),
    /// The checkpoint does not fit the model (first mismatch named).
    Mismatch(String),
    /// The optimizer state does not fit the optimizer.
    Optimizer(OptimizerStateError),
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "checkpoint {}: {source}", path.display()),
            Self::NotACheckpoint { found } => write!(
                f,
                "not a Strata checkpoint: expected the magic bytes \"STRATAck\", found {found:?}"
            ),
            Self::UnsupportedVersion { found, supported } => write!(
                f,
                "checkpoint format version {found} is not supported (this build reads version {supported})"
            ),
            Self::Truncated { expected, found } => write!(
                f,
                "checkpoint is truncated or padded: expected {expected} bytes, found {found}"
            ),
            Self::Corrupted { expected, found } => write!(
                f,
                "checkpoint payload does not match its checksum (corrupted file): expected \
                 FNV-1a {expected:016x}, found {found:016x}"
            ),
            Self::Encode(msg) => write!(f, "checkpoint could not be encoded: {msg}"),
            Self::Decode(msg) => write!(f, "checkpoint could not be decoded: {msg}"),
            Self::Mismatch(msg) => write!(f, "checkpoint does not fit the model: {msg}"),
            Self::Optimizer(err) => write!(f, "checkpoint: {err}"),
        }
    }
}

impl std::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Optimizer(err) => Some(err),
            _ => None,
        }
    }
}

/// Collects a model's parameters, buffers and random streams.
#[derive(Default)]
struct Snapshot {
    params: Vec<NamedTensor>,
    buffers: Vec<NamedTensor>,
    rngs: Vec<(String, Rng)>,
}

impl Visitor for Snapshot {
    fn param(&mut self, name: &str, param: &Var) {
        self.params.push(NamedTensor {
            name: name.to_string(),
            tensor: param.value().clone(),
        });
    }
    fn buffer(&mut self, name: &str, buffer: &Buffer) {
        self.buffers.push(NamedTensor {
            name: name.to_string(),
            tensor: buffer.get(),
        });
    }
    fn rng(&mut self, name: &str, rng: &RngCell) {
        self.rngs.push((name.to_string(), rng.get()));
    }
}

fn snapshot(model: &dyn Params) -> Snapshot {
    let mut snapshot = Snapshot::default();
    model.visit("", &mut snapshot);
    snapshot
}

/// Checks that `saved` has exactly the names and shapes of `wanted`; names the first mismatch.
fn check_names(
    kind: &str,
    wanted: &[NamedTensor],
    saved: &[NamedTensor],
) -> Result<(), CheckpointError> {
    let saved_by_name: HashMap<&str, &Tensor> =
        saved.iter().map(|n| (n.name.as_str(), &n.tensor)).collect();
    for w in wanted {
        match saved_by_name.get(w.name.as_str()) {
            None => {
                return Err(CheckpointError::Mismatch(format!(
                    "{kind} `{}` is missing from the checkpoint",
                    w.name
                )))
            }
            Some(t) if t.shape() != w.tensor.shape() => {
                return Err(CheckpointError::Mismatch(format!(
                    "{kind} `{}` has shape {:?} in the model but {:?} in the checkpoint",
                    w.name,
                    w.tensor.shape(),
                    t.shape()
                )))
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = saved
        .iter()
        .find(|s| !wanted.iter().any(|w| w.name == s.name))
    {
        return Err(CheckpointError::Mismatch(format!(
            "the checkpoint has {kind} `{}`, which the model lacks",
            extra.name
        )));
    }
    Ok(())
}

/// Writes the saved values into the model (after every check has passed).
struct Restore<'a> {
    buffers: HashMap<&'a str, &'a Tensor>,
    rngs: HashMap<&'a str, &'a Rng>,
}

impl Visitor for Restore<'_> {
    fn param(&mut self, _: &str, _: &Var) {}
    fn buffer(&mut self, name: &str, buffer: &Buffer) {
        if let Some(&t) = self.buffers.get(name) {
            buffer.set(t.clone());
        }
    }
    fn rng(&mut self, name: &str, rng: &RngCell) {
        if let Some(&state) = self.rngs.get(name) {
            rng.set(state.clone());
        }
    }
}

impl Checkpoint {
    /// The parameters, buffers and random streams of a model.
    pub fn of_model(model: &dyn Params) -> Self {
        let Snapshot {
            params,
            buffers,
            rngs,
        } = snapshot(model);
        Self {
            params,
            buffers,
            rngs,
            ..Self::default()
        }
    }

    /// Adds an optimizer's state.
    pub fn with_optimizer<O: Optimizer + ?Sized>(mut self, optimizer: &O) -> Self {
        self.optimizer = Some(optimizer.state());
        self
    }

    /// Adds a note.
    pub fn with_metadata(mut self, key: &str, value: &str) -> Self {
        self.metadata.insert(key.to_string(), value.to_string());
        self
    }

    /// Stores `value` as section `name`, replacing any section of that name.
    pub fn set_section<T: Serialize>(
        &mut self,
        name: &str,
        value: &T,
    ) -> Result<(), CheckpointError> {
        let bytes = encoding::encode_value(value)?;
        self.sections.insert(name.to_string(), bytes);
        Ok(())
    }

    /// The value stored as section `name`, `None` without one; an error names the section
    /// when its bytes do not decode as a `T`.
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, CheckpointError> {
        let Some(bytes) = self.sections.get(name) else {
            return Ok(None);
        };
        encoding::decode_value(bytes)
            .map(Some)
            .map_err(|err| CheckpointError::Decode(format!("section `{name}`: {err}")))
    }

    /// Loads this checkpoint into a model. Every name and shape is checked first, so on an
    /// error the model is left untouched.
    pub fn apply_to(&self, model: &mut dyn Params) -> Result<(), CheckpointError> {
        let current = snapshot(model);
        check_names("parameter", &current.params, &self.params)?;
        check_names("buffer", &current.buffers, &self.buffers)?;
        if let Some((name, _)) = current
            .rngs
            .iter()
            .find(|(n, _)| !self.rngs.iter().any(|(s, _)| s == n))
        {
            return Err(CheckpointError::Mismatch(format!(
                "random stream `{name}` is missing from the checkpoint"
            )));
        }
        let params: HashMap<&str, &Tensor> = self
            .params
            .iter()
            .map(|n| (n.name.as_str(), &n.tensor))
            .collect();
        model.visit_mut("", &mut |name: &str, param: &mut Var| {
            param.set_value(params[name].clone());
        });
        model.visit(
            "",
            &mut Restore {
                buffers: self
                    .buffers
                    .iter()
                    .map(|n| (n.name.as_str(), &n.tensor))
                    .collect(),
                rngs: self.rngs.iter().map(|(n, r)| (n.as_str(), r)).collect(),
            },
        );
        Ok(())
    }

    /// Loads the optimizer state saved in this checkpoint into `optimizer`, for the
    /// parameters of `model`. The state is checked first, against the parameters (every slot
    /// names one and has its number of values: [`OptimizerState::check_fits`]) and against the
    /// optimizer (its kind and slot count), so on an error the optimizer is left untouched.
    pub fn apply_to_optimizer<M: Params + ?Sized>(
        &self,
        optimizer: &mut dyn Optimizer,
        model: &M,
    ) -> Result<(), CheckpointError> {
        let state = self.optimizer.as_ref().ok_or_else(|| {
            CheckpointError::Mismatch("expected an optimizer state, found none".into())
        })?;
        state
            .check_fits(model)
            .and_then(|()| optimizer.load_state(state))
            .map_err(CheckpointError::Optimizer)
    }

    /// Writes the checkpoint atomically: to a temporary file in the same folder, flushed to
    /// disk, then renamed over `path`, so an interrupted save never destroys the previous file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
        let path = path.as_ref();
        let bytes = encoding::encode(self)?;
        write_atomically(path, &bytes).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        tracing::debug!(path = %path.display(), bytes = bytes.len(), "checkpoint saved");
        Ok(())
    }

    /// Reads a checkpoint, checking its header, length and checksum.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CheckpointError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes)
    }

    /// The file bytes of this checkpoint.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CheckpointError> {
        encoding::encode(self)
    }

    /// Parses file bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CheckpointError> {
        encoding::decode(bytes)
    }
}

/// Writes `bytes` to a temporary file in the folder of `path`, flushes it to disk, then renames
/// it over `path`, so an interrupted write never destroys the previous file and a reader never
/// sees a half-written one. Checkpoints are saved this way; logs and metrics files can be too.
///
/// Each write has its own temporary ([`strata_tensor::temp_file::temp_path_for`]), so
/// concurrent writes to one path never mix: the last rename wins, and every write that
/// returned `Ok` put its complete bytes there. Temporaries of `path` left by a writer that was
/// killed are removed first ([`strata_tensor::temp_file::remove_stale_temps`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match remove_stale_temps(path) {
        Ok(removed) if !removed.is_empty() => {
            tracing::info!(?removed, "removed temporaries left by interrupted writes");
        }
        Ok(_) => {}
        // The write below reports a folder that cannot be read or written.
        Err(err) => tracing::debug!(path = %path.display(), %err, "no clean-up of temporaries"),
    }
    let temp = temp_path_for(path)?;
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

/// Saves a model's parameters, buffers and random streams to `path` (atomically).
pub fn save_model(model: &dyn Params, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
    Checkpoint::of_model(model).save(path)
}

/// Loads parameters saved by [`save_model`] into a model of the same architecture.
pub fn load_model(model: &mut dyn Params, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
    Checkpoint::load(path)?.apply_to(model)
}
