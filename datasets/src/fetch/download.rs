//! Downloading one file from one address into a temporary file, hashing it on the way, and
//! renaming it into place only when its size and SHA-256 are right.

use super::table::RemoteFile;
use super::Progress;
use crate::error::{DataError, DataResult};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use strata_tensor::temp_file::temp_path_for;

/// Bytes read from the network between two progress reports.
const CHUNK_BYTES: usize = 64 * 1024;

/// Lowercase hex of a digest.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 (hex) of everything `reader` yields, and its length.
fn sha256_of(mut reader: impl Read, path: &Path) -> DataResult<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; CHUNK_BYTES];
    let mut total = 0u64;
    loop {
        let read = reader
            .read(&mut buffer)
            .map_err(|err| DataError::io(path, "reading", err))?;
        if read == 0 {
            return Ok((hex(&hasher.finalize()), total));
        }
        hasher.update(&buffer[..read]);
        total += read as u64;
    }
}

/// Whether `path` exists with exactly the size and SHA-256 of `file`.
pub(super) fn is_valid(path: &Path, file: &RemoteFile) -> DataResult<bool> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() && meta.len() == file.size => {}
        _ => return Ok(false),
    }
    let opened = File::open(path).map_err(|err| DataError::io(path, "opening", err))?;
    let (sha, _) = sha256_of(opened, path)?;
    Ok(sha == file.sha256)
}

/// A temporary file that is deleted when dropped unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    kept: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            // Nothing more can be done if removal fails; the name marks it as a leftover.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Downloads `url` to `dest` through a temporary file in the same folder, checking the size
/// and SHA-256 of `file` before renaming it into place.
pub(super) fn download(
    agent: &ureq::Agent,
    url: &str,
    file: &RemoteFile,
    dest: &Path,
    progress: &mut dyn FnMut(Progress<'_>),
) -> DataResult<()> {
    let network = |message: String| DataError::Network {
        url: url.to_string(),
        message,
    };
    let mut response = agent
        .get(url)
        .call()
        .map_err(|err| network(err.to_string()))?;
    super::remove_stale_temps(dest);
    let temp = TempFile {
        path: temp_path_for(dest)
            .map_err(|err| DataError::io(dest, "naming a temporary for", err))?,
        kept: false,
    };
    let mut out =
        File::create(&temp.path).map_err(|err| DataError::io(&temp.path, "creating", err))?;
    let mut body = response.body_mut().as_reader();
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; CHUNK_BYTES];
    let mut received = 0u64;
    progress(Progress::Downloading {
        file: &file.name,
        url,
        received,
        total: file.size,
    });
    loop {
        let read = body.read(&mut buffer).map_err(|err| {
            network(format!(
                "transfer interrupted after {received} of {} bytes ({err})",
                file.size
            ))
        })?;
        if read == 0 {
            break;
        }
        received += read as u64;
        if received > file.size {
            return Err(network(format!(
                "expected {} bytes, received more",
                file.size
            )));
        }
        hasher.update(&buffer[..read]);
        out.write_all(&buffer[..read])
            .map_err(|err| DataError::io(&temp.path, "writing", err))?;
        progress(Progress::Downloading {
            file: &file.name,
            url,
            received,
            total: file.size,
        });
    }
    if received != file.size {
        return Err(network(format!(
            "expected {} bytes, received {received}",
            file.size
        )));
    }
    let found = hex(&hasher.finalize());
    if found != file.sha256 {
        return Err(DataError::Checksum {
            file: dest.to_path_buf(),
            expected: file.sha256.clone(),
            found,
        });
    }
    out.sync_all()
        .map_err(|err| DataError::io(&temp.path, "flushing", err))?;
    drop(out);
    std::fs::rename(&temp.path, dest).map_err(|err| DataError::io(dest, "renaming into", err))?;
    let mut temp = temp;
    temp.kept = true;
    Ok(())
}
