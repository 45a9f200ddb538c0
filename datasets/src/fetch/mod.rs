//! Checksum-verified downloads of MNIST, Fashion-MNIST and CIFAR-10 into a cache folder.
//!
//! Each file goes to a temporary file in the cache (one per download, so concurrent fetches
//! never mix; those of a killed download are removed by the next one), is checked against the
//! size and SHA-256 written in this crate, and only then renamed into place; a failing mirror (connection,
//! HTTP error, interrupted transfer, wrong checksum) is followed by the next one. A file
//! already present and valid is not downloaded again.

mod download;
mod table;
mod unpack;

pub use table::{Archive, RemoteDataset, RemoteFile};

use crate::error::{DataError, DataResult};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What [`fetch`] is doing, for a progress display.
#[derive(Debug)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// The file is already in the cache with the right checksum; it is not downloaded.
    AlreadyPresent {
        /// File name.
        file: &'a str,
    },
    /// Bytes received so far (reported at the start and after each chunk).
    Downloading {
        /// File name.
        file: &'a str,
        /// Address being read.
        url: &'a str,
        /// Bytes received so far.
        received: u64,
        /// Expected size.
        total: u64,
    },
    /// A mirror failed; the next one is tried.
    MirrorFailed {
        /// File name.
        file: &'a str,
        /// Address that failed.
        url: &'a str,
        /// Why.
        error: &'a DataError,
    },
    /// The file was downloaded and its checksum verified.
    Verified {
        /// File name.
        file: &'a str,
    },
    /// A tarball is being unpacked.
    Unpacking {
        /// Tarball name.
        file: &'a str,
    },
}

/// How [`fetch_with`] connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchOptions {
    /// Base addresses to use instead of the dataset's own mirrors (e.g. a local server).
    pub mirrors: Option<Vec<String>>,
    /// Longest wait to connect to a mirror.
    pub connect_timeout: Duration,
    /// Longest silence while receiving; a stalled transfer fails and the next mirror is tried.
    pub read_timeout: Duration,
}

impl Default for FetchOptions {
    /// The dataset's mirrors; 30 s to connect and 60 s of silence at most, generous for slow
    /// links while still moving on from a dead mirror within a minute.
    fn default() -> Self {
        Self {
            mirrors: None,
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
        }
    }
}

/// The cache folder: `$STRATA_DATA` if set, else `$XDG_CACHE_HOME/strata`, else
/// `~/.cache/strata` (`%USERPROFILE%\.cache\strata` on Windows).
pub fn default_cache_dir() -> DataResult<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("STRATA_DATA") {
        return Ok(dir);
    }
    if let Some(dir) = var("XDG_CACHE_HOME").filter(|d| d.is_absolute()) {
        return Ok(dir.join("strata"));
    }
    var("HOME")
        .or_else(|| var("USERPROFILE"))
        .map(|home| home.join(".cache").join("strata"))
        .ok_or_else(|| {
            DataError::invalid(
                "default_cache_dir",
                "STRATA_DATA, XDG_CACHE_HOME or HOME to locate the cache folder",
                "none of them set",
            )
        })
}

/// Downloads the dataset `name` (`"mnist"`, `"fashion-mnist"` or `"cifar10"`) into
/// `cache_dir/name/` unless it is already there and valid, and returns the folder to give to
/// the reader ([`crate::mnist`], [`crate::fashion_mnist`], [`crate::cifar10`]).
///
/// `progress` is called with what happens (files skipped, bytes received, mirror failures).
/// When every mirror fails, the error lists each failure and the folder where the files can
/// be placed by hand.
pub fn fetch(
    name: &str,
    cache_dir: &Path,
    progress: &mut dyn FnMut(Progress<'_>),
) -> DataResult<PathBuf> {
    fetch_with(
        &RemoteDataset::by_name(name)?,
        cache_dir,
        &FetchOptions::default(),
        progress,
    )
}

/// [`fetch`] for any [`RemoteDataset`] description, with connection options.
pub fn fetch_with(
    dataset: &RemoteDataset,
    cache_dir: &Path,
    options: &FetchOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> DataResult<PathBuf> {
    let dataset_dir = cache_dir.join(&dataset.name);
    if let Some(archive) = &dataset.archive {
        let unpacked = dataset_dir.join(&archive.folder);
        if unpack::is_unpacked(&unpacked, archive) {
            return Ok(unpacked);
        }
    }
    let mirrors = options.mirrors.as_ref().unwrap_or(&dataset.mirrors);
    let agent = ureq::Agent::config_builder()
        .timeout_connect(Some(options.connect_timeout))
        .timeout_recv_response(Some(options.read_timeout))
        .timeout_recv_body(None)
        .timeout_per_read(Some(options.read_timeout))
        .build()
        .new_agent();
    for file in &dataset.files {
        let dest = dataset_dir.join(&file.name);
        if download::is_valid(&dest, file)? {
            progress(Progress::AlreadyPresent { file: &file.name });
            continue;
        }
        std::fs::create_dir_all(&dataset_dir)
            .map_err(|err| DataError::io(&dataset_dir, "creating", err))?;
        fetch_file(&agent, mirrors, file, &dest, progress)?;
    }
    match &dataset.archive {
        None => Ok(dataset_dir),
        Some(archive) => {
            let tarball = &dataset.files[0];
            progress(Progress::Unpacking {
                file: &tarball.name,
            });
            unpack::unpack(&dataset_dir.join(&tarball.name), archive, &dataset_dir)
        }
    }
}

/// Removes temporaries of `target` left by a download or unpacking that was killed (see
/// [`strata_tensor::temp_file::remove_stale_temps`]); a failure only means they stay.
fn remove_stale_temps(target: &Path) {
    match strata_tensor::temp_file::remove_stale_temps(target) {
        Ok(removed) if !removed.is_empty() => {
            tracing::info!(
                ?removed,
                "removed temporaries left by interrupted downloads"
            );
        }
        Ok(_) => {}
        Err(err) => tracing::debug!(target = %target.display(), %err, "no clean-up of temporaries"),
    }
}

/// Tries each mirror in turn for one file.
fn fetch_file(
    agent: &ureq::Agent,
    mirrors: &[String],
    file: &RemoteFile,
    dest: &Path,
    progress: &mut dyn FnMut(Progress<'_>),
) -> DataResult<()> {
    let mut attempts = Vec::new();
    for mirror in mirrors {
        let url = format!("{}/{}", mirror.trim_end_matches('/'), file.name);
        match download::download(agent, &url, file, dest, progress) {
            Ok(()) => {
                progress(Progress::Verified { file: &file.name });
                return Ok(());
            }
            Err(error) => {
                tracing::warn!("{error}");
                progress(Progress::MirrorFailed {
                    file: &file.name,
                    url: &url,
                    error: &error,
                });
                attempts.push((url, error));
            }
        }
    }
    Err(DataError::Unavailable {
        file: file.name.clone(),
        attempts,
        manual_dir: dest.parent().map(Path::to_path_buf).unwrap_or_default(),
    })
}
