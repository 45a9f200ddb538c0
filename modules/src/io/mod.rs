//! Models on disk: Strata's own checkpoints ([`Checkpoint`]: named tensors, random streams,
//! optimizer state and metadata, written atomically) and PyTorch interop ([`interop`]:
//! safetensors files and `state_dict` names).

mod checkpoint;
pub mod interop;

pub use checkpoint::{
    load_model, save_model, write_atomically, Checkpoint, CheckpointError, NamedTensor,
    FORMAT_VERSION,
};
