//! The error type of everything that reads data: files, archives, the network, arguments.

use std::fmt;
use std::path::PathBuf;

/// What went wrong while reading, parsing, downloading or indexing data. Each message names
/// what was expected and what was found.
#[derive(Debug)]
#[non_exhaustive]
pub enum DataError {
    /// A file could not be read or written.
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// What was being done, e.g. "reading".
        action: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file's content does not have the expected format.
    Format {
        /// The file or stream, e.g. `train-labels-idx1-ubyte.gz`.
        source_name: String,
        /// What the format requires.
        expected: String,
        /// What the data held instead.
        found: String,
    },
    /// An example index past the end of a dataset.
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The dataset length.
        len: usize,
    },
    /// An argument (or an example handed to a transform) that cannot be used.
    InvalidArgument {
        /// The function or transform that refused it.
        what: &'static str,
        /// What it accepts.
        expected: String,
        /// What it was given.
        found: String,
    },
    /// A downloaded or cached file whose SHA-256 differs from the published one.
    Checksum {
        /// The file that was checked.
        file: PathBuf,
        /// The published SHA-256 (hex).
        expected: String,
        /// The SHA-256 of the bytes received (hex).
        found: String,
    },
    /// A transfer from one mirror failed (connection, HTTP status, early end of the body).
    Network {
        /// The address tried.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A file could not be obtained from any mirror; the message says where to put it by hand.
    Unavailable {
        /// The file that is missing.
        file: String,
        /// Each mirror tried, with the error it gave.
        attempts: Vec<(String, DataError)>,
        /// The folder where the file can be placed by hand.
        manual_dir: PathBuf,
    },
    /// A dataset name that `fetch` does not know.
    UnknownDataset {
        /// The name given.
        name: String,
        /// The names `fetch` knows.
        known: Vec<&'static str>,
    },
}

impl DataError {
    /// A [`DataError::Format`] error for `source_name`.
    pub fn format(
        source_name: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self::Format {
            source_name: source_name.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// A [`DataError::InvalidArgument`] error raised by `what`.
    pub fn invalid(
        what: &'static str,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self::InvalidArgument {
            what,
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// A [`DataError::Io`] error for `path`.
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            action,
            source,
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io {
                path,
                action,
                source,
            } => write!(f, "{action} {}: {source}", path.display()),
            Self::Format {
                source_name,
                expected,
                found,
            } => write!(f, "{source_name}: expected {expected}, found {found}"),
            Self::IndexOutOfRange { index, len } => {
                write!(
                    f,
                    "index {index} is out of range for a dataset of {len} examples"
                )
            }
            Self::InvalidArgument {
                what,
                expected,
                found,
            } => write!(f, "{what}: expected {expected}, found {found}"),
            Self::Checksum {
                file,
                expected,
                found,
            } => write!(
                f,
                "checksum mismatch for {}: expected SHA-256 {expected}, found {found}",
                file.display()
            ),
            Self::Network { url, message } => write!(f, "download of {url} failed: {message}"),
            Self::Unavailable {
                file,
                attempts,
                manual_dir,
            } => {
                write!(f, "could not obtain {file} from any mirror")?;
                for (url, error) in attempts {
                    write!(f, "\n  - {url}: {error}")?;
                }
                write!(
                    f,
                    "\nDownload {file} by hand (from one of the addresses above) and place it in {}",
                    manual_dir.display()
                )
            }
            Self::UnknownDataset { name, known } => write!(
                f,
                "unknown dataset {name:?}: expected one of {}",
                known.join(", ")
            ),
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Result of a fallible data operation.
pub type DataResult<T> = std::result::Result<T, DataError>;
