//! The byte format of checkpoint files, kept in this one module so the serialisation can
//! move to another format without touching callers.
//!
//! Layout: `magic (8 bytes "STRATAck") | format version (u32 LE) | payload length (u64 LE) |
//! FNV-1a 64 checksum of the payload (u64 LE) | payload (bincode 2, serde)`.

use super::{Checkpoint, CheckpointError};
use bincode::error::DecodeError;
use serde::de::DeserializeOwned;
use serde::Serialize;

const MAGIC: [u8; 8] = *b"STRATAck";
/// Version of the layout and payload written by this build.
/// (3: the training-loop state became an opaque named section.)
pub const FORMAT_VERSION: u32 = 3;
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

/// Bytes the decoder may account for per payload byte. Bincode counts every value it decodes
/// at its size in memory (a `u64` is 8 bytes even when its varint takes 1) and every string
/// at its length, so a well-formed payload never accounts for more than 8 bytes per byte.
const DECODED_BYTES_PER_PAYLOAD_BYTE: usize = 8;

/// Decodes a payload under a byte limit of about `DECODED_BYTES_PER_PAYLOAD_BYTE` times its
/// length, so a length field claiming more than the payload holds is refused before anything
/// is allocated for it (bincode allocates a string's bytes before reading them).
///
/// Bincode's limit is a type parameter; the payload picks the smallest of a few limits, in
/// steps of 4x from 64 KiB, that is at least its bound: at most 4x the bound (or 64 KiB) can
/// ever be allocated for a length field, and only a handful of decoders are compiled.
fn decode_bounded<T: DeserializeOwned>(payload: &[u8]) -> Result<(T, usize), DecodeError> {
    fn with_limit<const LIMIT: usize, T: DeserializeOwned>(
        payload: &[u8],
    ) -> Result<(T, usize), DecodeError> {
        bincode::serde::decode_from_slice(payload, config().with_limit::<LIMIT>())
    }
    /// `2^shift`, saturated to the address space (32-bit targets stop at the last step).
    const fn step(shift: u32) -> usize {
        match 1usize.checked_shl(shift) {
            Some(limit) => limit,
            None => usize::MAX,
        }
    }
    let bound = payload.len().saturating_mul(DECODED_BYTES_PER_PAYLOAD_BYTE);
    macro_rules! smallest_limit_above {
        ($($shift:literal)*) => {
            $(if bound <= step($shift) {
                return with_limit::<{ step($shift) }, T>(payload);
            })*
        };
    }
    smallest_limit_above!(16 18 20 22 24 26 28 30 32 34 36 38 40 42 44 46 48);
    Err(DecodeError::LimitExceeded)
}

/// The file bytes of a checkpoint.
pub(crate) fn encode(checkpoint: &Checkpoint) -> Result<Vec<u8>, CheckpointError> {
    let payload = encode_value(checkpoint)?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&checksum(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    Ok(bytes)
}

/// What a decoding error says, as what was expected and what was found (bincode's own
/// messages are its enum's debug form). `payload_len` is the length of the payload decoded.
fn describe(err: DecodeError, payload_len: usize) -> String {
    match err {
        DecodeError::UnexpectedEnd { additional } => {
            format!("expected {additional} more bytes, found the end of the payload")
        }
        DecodeError::LimitExceeded => format!(
            "expected lengths within the {payload_len}-byte payload, found a length field claiming more"
        ),
        DecodeError::InvalidIntegerType { expected, found } => {
            format!("expected an integer of type {expected:?}, found the marker of a {found:?}")
        }
        DecodeError::UnexpectedVariant {
            type_name, found, ..
        } => format!("expected a valid tag of {type_name}, found tag {found}"),
        DecodeError::Utf8 { inner } => format!(
            "expected UTF-8 text, found an invalid byte after {} valid ones",
            inner.valid_up_to()
        ),
        DecodeError::InvalidBooleanValue(value) => {
            format!("expected a boolean (0 or 1), found {value}")
        }
        DecodeError::OutsideUsizeRange(value) => {
            format!("expected a length that fits in memory, found {value}")
        }
        // Messages of Strata's own types (a refused tensor names itself).
        DecodeError::OtherString(message) => message,
        other => other.to_string(),
    }
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
    let found = checksum(payload);
    if found != sum {
        return Err(CheckpointError::Corrupted {
            expected: sum,
            found,
        });
    }
    decode_value(payload).map_err(CheckpointError::Decode)
}

/// The payload bytes of one value (a checkpoint, or one of its sections).
pub(crate) fn encode_value<T: Serialize>(value: &T) -> Result<Vec<u8>, CheckpointError> {
    bincode::serde::encode_to_vec(value, config())
        .map_err(|err| CheckpointError::Encode(err.to_string()))
}

/// Decodes a payload that must hold exactly one `T`; the error says what was expected and
/// what was found.
pub(crate) fn decode_value<T: DeserializeOwned>(payload: &[u8]) -> Result<T, String> {
    let (value, used) = decode_bounded(payload).map_err(|err| describe(err, payload.len()))?;
    if used != payload.len() {
        return Err(format!(
            "expected the payload to end after {used} bytes, found {} more",
            payload.len() - used
        ));
    }
    Ok(value)
}
