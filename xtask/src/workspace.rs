//! Where things are, whatever folder `cargo xtask` was started from.

use std::path::Path;

/// The workspace root (the parent of this crate's folder).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| Path::new("."))
}

