//! Where the downloadable datasets live and their published sizes and SHA-256 sums
//! (TensorFlow Datasets' `url_checksums`, recomputed on the canonical MNIST files).

use crate::cifar::{
    cifar10_file_names, CIFAR10_FOLDER, CIFAR10_RECORDS_PER_FILE, CIFAR10_RECORD_BYTES,
};
use crate::dataset::Split;
use crate::error::{DataError, DataResult};

/// One file to download: its name under each mirror, size in bytes and SHA-256 (hex).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteFile {
    /// File name, appended to each mirror's base address and used in the cache folder.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
}

impl RemoteFile {
    /// A file entry.
    pub fn new(name: &str, size: u64, sha256: &str) -> Self {
        Self {
            name: name.to_string(),
            size,
            sha256: sha256.to_string(),
        }
    }
}

/// A gzip tarball to unpack after download: the members to extract from its `folder` and
/// their exact sizes (no per-member checksums are published for CIFAR-10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Archive {
    /// The folder inside the tarball (and in the cache) that holds the members.
    pub folder: String,
    /// `(file name inside folder, size in bytes)` of each member to extract.
    pub members: Vec<(String, u64)>,
}

/// A downloadable dataset: its cache folder, mirrors (base addresses tried in order), files
/// and, for a tarball, how to unpack it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteDataset {
    /// Name given to [`crate::fetch`], e.g. `"mnist"`; also the cache sub-folder.
    pub name: String,
    /// Base addresses; a file's address is the base followed by its name.
    pub mirrors: Vec<String>,
    /// The files to download.
    pub files: Vec<RemoteFile>,
    /// Set when the single downloaded file is a tarball to unpack.
    pub archive: Option<Archive>,
}

/// The names [`crate::fetch`] knows.
pub(crate) const KNOWN: [&str; 3] = ["mnist", "fashion-mnist", "cifar10"];

impl RemoteDataset {
    /// MNIST: four gzip IDX files. The last mirror is the original site, which often refuses
    /// automated downloads.
    pub fn mnist() -> Self {
        Self {
            name: "mnist".into(),
            mirrors: vec![
                "https://ossci-datasets.s3.amazonaws.com/mnist/".into(),
                "https://storage.googleapis.com/cvdf-datasets/mnist/".into(),
                "http://yann.lecun.com/exdb/mnist/".into(),
            ],
            files: vec![
                RemoteFile::new(
                    "train-images-idx3-ubyte.gz",
                    9_912_422,
                    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                ),
                RemoteFile::new(
                    "train-labels-idx1-ubyte.gz",
                    28_881,
                    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                ),
                RemoteFile::new(
                    "t10k-images-idx3-ubyte.gz",
                    1_648_877,
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                ),
                RemoteFile::new(
                    "t10k-labels-idx1-ubyte.gz",
                    4_542,
                    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                ),
            ],
            archive: None,
        }
    }

    /// Fashion-MNIST: four gzip IDX files with MNIST's names. The S3 website endpoint
    /// serves plain HTTP only; the checksums protect the content.
    pub fn fashion_mnist() -> Self {
        Self {
            name: "fashion-mnist".into(),
            mirrors: vec![
                "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/".into(),
                "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
                    .into(),
            ],
            files: vec![
                RemoteFile::new(
                    "train-images-idx3-ubyte.gz",
                    26_421_880,
                    "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                ),
                RemoteFile::new(
                    "train-labels-idx1-ubyte.gz",
                    29_515,
                    "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                ),
                RemoteFile::new(
                    "t10k-images-idx3-ubyte.gz",
                    4_422_102,
                    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                ),
                RemoteFile::new(
                    "t10k-labels-idx1-ubyte.gz",
                    5_148,
                    "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                ),
            ],
            archive: None,
        }
    }

    /// CIFAR-10, binary version: one gzip tarball unpacked to `cifar-10-batches-bin/`
    /// (six batch files of 30,730,000 bytes).
    pub fn cifar10() -> Self {
        let batch_bytes = (CIFAR10_RECORDS_PER_FILE * CIFAR10_RECORD_BYTES) as u64;
        let members = [Split::Train, Split::Test]
            .into_iter()
            .flat_map(cifar10_file_names)
            .map(|name| (name, batch_bytes))
            .collect();
        Self {
            name: "cifar10".into(),
            mirrors: vec!["https://www.cs.toronto.edu/~kriz/".into()],
            files: vec![RemoteFile::new(
                "cifar-10-binary.tar.gz",
                170_052_171,
                "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
            )],
            archive: Some(Archive {
                folder: CIFAR10_FOLDER.into(),
                members,
            }),
        }
    }

    /// The dataset called `name`: `"mnist"`, `"fashion-mnist"` or `"cifar10"`.
    pub fn by_name(name: &str) -> DataResult<Self> {
        match name {
            "mnist" => Ok(Self::mnist()),
            "fashion-mnist" => Ok(Self::fashion_mnist()),
            "cifar10" => Ok(Self::cifar10()),
            _ => Err(DataError::UnknownDataset {
                name: name.to_string(),
                known: KNOWN.to_vec(),
            }),
        }
    }
}
