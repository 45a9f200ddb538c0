//! Reading files whole and undoing gzip compression, detected by its magic bytes.

use crate::error::{DataError, Result};
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

/// The first two bytes of every gzip stream (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The whole content of `path`.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|err| DataError::io(path, "reading", err))
}

/// `bytes` decompressed if they start with the gzip magic, else unchanged. Concatenated gzip
/// members are all decompressed, as `gzip -d` does.
pub(crate) fn gunzip_if_compressed<'a>(
    bytes: &'a [u8],
    source_name: &str,
) -> Result<Cow<'a, [u8]>> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|err| {
            DataError::format(
                source_name,
                "a complete gzip stream",
                format!("a damaged one ({err})"),
            )
        })?;
    Ok(Cow::Owned(out))
}
