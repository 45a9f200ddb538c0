//! Helpers shared by the integration tests: the shared data folder and scratch folders.
#![allow(dead_code, clippy::print_stderr)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// Overrides the shared data folder (`shared/data` beside the workspace by default).
pub const SHARED_DATA_VAR: &str = "STRATA_SHARED_DATA";

/// `shared/data/<sub>` beside the workspace (or under `$STRATA_SHARED_DATA`). When it is
/// absent the test cannot check anything: it is skipped with a SKIPPED line naming the
/// folder, except under `CI=true`, where it fails instead of passing without a check.
pub fn shared_data(sub: &str, test: &str) -> Option<PathBuf> {
    let base = std::env::var_os(SHARED_DATA_VAR).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
        PathBuf::from,
    );
    let dir = base.join(sub);
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!(
            "{test}: {} not found; under CI=true a test that cannot check anything fails",
            dir.display()
        );
    }
    eprintln!("SKIPPED: {test}: {} not found", dir.display());
    None
}

/// A fresh, empty scratch folder for one test, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "strata-datasets-test-{test}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch folder");
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).expect("write scratch file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Gzip-compresses `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("compress in memory");
    encoder.finish().expect("compress in memory")
}

/// An IDX u8 file with the given dimensions and data.
pub fn idx_u8(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}
