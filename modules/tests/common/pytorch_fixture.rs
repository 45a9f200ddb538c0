//! Reading the PyTorch-made fixtures in `tests/fixtures/` (each written by the Python script
//! beside it) and comparing Strata's float32 results with PyTorch's float64 ones.

use std::path::{Path, PathBuf};
use strata_modules::io::interop::read_safetensors;
use strata_modules::NamedTensor;
use strata_tensor::Tensor;

/// The path of `tests/fixtures/<name>`.
pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The tensors of the safetensors fixture `name`.
pub struct Fixture(Vec<NamedTensor>);

impl Fixture {
    /// Reads `tests/fixtures/<name>`.
    pub fn read(name: &str) -> Self {
        let path = fixture_path(name);
        Self(read_safetensors(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
    }

    /// The tensor called `name`.
    #[track_caller]
    pub fn get(&self, name: &str) -> Tensor {
        let found = self.0.iter().find(|t| t.name == name);
        found
            .unwrap_or_else(|| panic!("no tensor {name} in the fixture"))
            .tensor
            .clone()
    }
}

/// Every element within `1e-5` relative (or `1e-6` absolute) of PyTorch's float64 value.
#[track_caller]
pub fn assert_matches_pytorch(what: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for (i, (&g, &w)) in got.to_vec().iter().zip(&want.to_vec()).enumerate() {
        assert!(
            (g - w).abs() <= 1e-6 + 1e-5 * w.abs(),
            "{what}[{i}]: Strata {g}, PyTorch {w}"
        );
    }
}
