//! One vocabulary: no public name is defined twice across the library crates, so a name in
//! the facade, in a `use` line or in a search of the docs means one thing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The library crates' source folders, relative to the workspace root.
const LIBRARY_SOURCES: [&str; 9] = [
    "tensor/src",
    "autograd/src",
    "modules/src",
    "modules/derive/src",
    "datasets/src",
    "patterns/src",
    "recipes/src",
    "distributed/src",
    "strata/src",
];

/// The kinds of item that define a name.
const ITEM_KINDS: [&str; 8] = [
    "struct", "enum", "trait", "type", "fn", "const", "static", "union",
];

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The name defined by a file-level `pub <kind> <name>` line, if it is one.
fn public_item(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("pub ")?;
    let rest = rest.strip_prefix("unsafe ").unwrap_or(rest);
    let (kind, rest) = rest.split_once(' ')?;
    if !ITEM_KINDS.contains(&kind) {
        return None;
    }
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    Some(&rest[..end]).filter(|name| !name.is_empty())
}

#[test]
fn no_public_name_is_defined_twice() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut definitions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for source in LIBRARY_SOURCES {
        let mut files = Vec::new();
        rust_files(&root.join(source), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a source file");
            for (number, line) in text.lines().enumerate() {
                if let Some(name) = public_item(line) {
                    let place = file.strip_prefix(&root).unwrap_or(&file).display();
                    definitions
                        .entry(name.to_string())
                        .or_default()
                        .push(format!("{place}:{}", number + 1));
                }
            }
        }
    }
    assert!(
        definitions.len() > 100,
        "the scan found only {} public names: the source layout changed?",
        definitions.len()
    );
    let twice: Vec<String> = definitions
        .iter()
        .filter(|(_, places)| places.len() > 1)
        .map(|(name, places)| format!("{name}: {}", places.join(", ")))
        .collect();
    assert!(
        twice.is_empty(),
        "public names defined more than once:\n{}",
        twice.join("\n")
    );
}

#[test]
fn the_scan_sees_file_level_public_items_only() {
    assert_eq!(public_item("pub struct Dense {"), Some("Dense"));
    assert_eq!(public_item("pub fn cross_entropy("), Some("cross_entropy"));
    assert_eq!(
        public_item("pub type DataResult<T> = …"),
        Some("DataResult")
    );
    assert_eq!(public_item("pub unsafe fn raw()"), Some("raw"));
    assert_eq!(public_item("    pub fn new() -> Self {"), None);
    assert_eq!(public_item("pub(crate) struct PooledVec {"), None);
    assert_eq!(public_item("pub use strata_tensor::Tensor;"), None);
    assert_eq!(public_item("pub mod prelude {"), None);
}
