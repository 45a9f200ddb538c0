//! The byte format of checkpoint files, kept in this one module so the serialisation can
//! move to another format without touching callers.
//!
//! Layout: `magic (8 bytes "STRATAck") | format version (u32 LE) | payload length (u64 LE) |
//! FNV-1a 64 checksum of the payload (u64 LE) | payload (bincode 2, serde)`.

use super::{Checkpoint, CheckpointError};

const MAGIC: [u8; 8] = *b"STRATAck";
/// Version of the layout and payload written by this build.
pub const FORMAT_VERSION: u32 = 2;
const HEADER_LEN: usize = 8 + 4 + 8 + 8;

/// FNV-1a, 64 bits: detects truncation and bit flips in the payload.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// The file bytes of a checkpoint.
pub(crate) fn encode(checkpoint: &Checkpoint) -> Result<Vec<u8>, CheckpointError> {
    let payload = bincode::serde::encode_to_vec(checkpoint, config())
        .map_err(|err| CheckpointError::Encode(err.to_string()))?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&checksum(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    Ok(bytes)
}

/// Parses file bytes, checking magic, version, length and checksum before decoding.
pub(crate) fn decode(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        let found = bytes[..bytes.len().min(MAGIC.len())].to_vec();
        return Err(CheckpointError::NotACheckpoint { found });
    }
    if bytes.len() < HEADER_LEN {
        return Err(CheckpointError::Truncated {
            expected: HEADER_LEN as u64,
            found: bytes.len() as u64,
        });
    }
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(CheckpointError::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let (length, sum) = (word(12), word(20));
    let payload = &bytes[HEADER_LEN..];
    if payload.len() as u64 != length {
        return Err(CheckpointError::Truncated {
            expected: HEADER_LEN as u64 + length,
            found: bytes.len() as u64,
        });
    }
    if checksum(payload) != sum {
        return Err(CheckpointError::Corrupted);
    }
    let (checkpoint, used) = bincode::serde::decode_from_slice(payload, config())
        .map_err(|err| CheckpointError::Decode(err.to_string()))?;
    if used != payload.len() {
        return Err(CheckpointError::Decode(format!(
            "{} bytes left over after the payload",
            payload.len() - used
        )));
    }
    Ok(checkpoint)
}
