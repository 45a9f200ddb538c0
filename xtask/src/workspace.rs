//! Where things are, whatever folder `cargo xtask` was started from.

use std::path::{Path, PathBuf};

/// The workspace root (the parent of this crate's folder).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| Path::new("."))
}

/// The folder Cargo builds into: `$CARGO_TARGET_DIR` when set (relative to the current
/// folder, as Cargo reads it), else `target/` at the workspace root. Criterion writes its
/// results under it and `bench` writes its report there.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => std::path::absolute(&dir).unwrap_or_else(|_| PathBuf::from(dir)),
        None => root().join("target"),
    }
}
