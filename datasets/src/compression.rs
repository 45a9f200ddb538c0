//! Reading files whole, and reading their content as a stream that undoes gzip compression
//! (detected by its magic bytes) as it goes: a reader checks a header before anything more is
//! inflated, and bounds what the header claims by what the compressed bytes can hold.

use crate::error::{DataError, DataResult};
use flate2::read::MultiGzDecoder;
use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

/// The first two bytes of every gzip stream (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The most bytes deflate can produce per compressed byte: its longest copy (258 bytes) takes
/// at least 2 bits, so at most 1,032 bytes come out of one byte in (the limit zlib documents).
const MAX_DEFLATE_RATIO: u64 = 1032;

/// The whole content of `path`.
pub(crate) fn read_file(path: &Path) -> DataResult<Vec<u8>> {
    std::fs::read(path).map_err(|err| DataError::io(path, "reading", err))
}

/// The content of in-memory file bytes: the bytes themselves, or the gzip stream they hold,
/// inflated as it is read. Concatenated gzip members are all read, as `gzip -d` does.
pub(crate) enum Content<'a> {
    /// Uncompressed bytes, not yet read.
    Raw(&'a [u8]),
    /// A gzip stream being inflated.
    Gzip {
        /// The decoder over the compressed bytes.
        decoder: Box<MultiGzDecoder<&'a [u8]>>,
        /// Length of the compressed bytes, which bounds the content.
        compressed_len: usize,
    },
}

impl<'a> Content<'a> {
    /// The content of `bytes`, gzip-compressed or not.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        if bytes.starts_with(&GZIP_MAGIC) {
            Self::Gzip {
                decoder: Box::new(MultiGzDecoder::new(bytes)),
                compressed_len: bytes.len(),
            }
        } else {
            Self::Raw(bytes)
        }
    }

    /// Fills `buf` unless the content ends first; returns the number of bytes read.
    pub(crate) fn read_up_to(&mut self, buf: &mut [u8], source_name: &str) -> DataResult<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(read) => filled += read,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => return Err(damaged(source_name, &err)),
            }
        }
        Ok(filled)
    }

    /// The rest of the content, which must be exactly `len` bytes; `expected` describes
    /// them for the error. Nothing is inflated or allocated beyond `len + 1` bytes (one more
    /// tells a longer content), and a `len` the compressed bytes cannot hold is refused
    /// before reading.
    pub(crate) fn read_exactly(
        self,
        len: usize,
        source_name: &str,
        expected: impl FnOnce() -> String,
    ) -> DataResult<Cow<'a, [u8]>> {
        let wrong_length = |found: String| DataError::format(source_name, expected(), found);
        match self {
            Self::Raw(rest) if rest.len() == len => Ok(Cow::Borrowed(rest)),
            Self::Raw(rest) => Err(wrong_length(format!("{} bytes", rest.len()))),
            Self::Gzip {
                decoder,
                compressed_len,
            } => {
                let most = (compressed_len as u64).saturating_mul(MAX_DEFLATE_RATIO);
                if len as u64 > most {
                    return Err(wrong_length(format!(
                        "a gzip stream of {compressed_len} bytes, which inflates to at most {most}"
                    )));
                }
                let mut data = Vec::new();
                decoder
                    .take(len as u64 + 1)
                    .read_to_end(&mut data)
                    .map_err(|err| damaged(source_name, &err))?;
                match data.len() {
                    found if found == len => Ok(Cow::Owned(data)),
                    found if found > len => Err(wrong_length("more bytes".into())),
                    found => Err(wrong_length(format!("{found} bytes"))),
                }
            }
        }
    }
}

impl Read for Content<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Raw(rest) => rest.read(buf),
            Self::Gzip { decoder, .. } => decoder.read(buf),
        }
    }
}

/// The error for a gzip stream that cannot be inflated.
pub(crate) fn damaged(source_name: &str, err: &std::io::Error) -> DataError {
    DataError::format(
        source_name,
        "a complete gzip stream",
        format!("a damaged one ({err})"),
    )
}
