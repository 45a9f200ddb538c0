//! The PyTorch side of the comparison: runs `xtask/pytorch/compare.py` (same models, same
//! portable data and initialisation) and reads the one JSON line it prints.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What the script reports.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
pub struct PytorchResults {
    /// `torch.__version__`.
    pub torch: String,
    /// Figure key → thread count (as text) → value, in the unit of the Strata figure.
    pub figures: BTreeMap<String, BTreeMap<String, f64>>,
    /// Model key → first-batch loss.
    pub first_loss: BTreeMap<String, f64>,
}

impl PytorchResults {
    /// The value of a figure at a thread count.
    pub fn figure(&self, key: &str, threads: usize) -> Option<f64> {
        self.figures.get(key)?.get(&threads.to_string()).copied()
    }
}

/// The script, kept in the repository so anyone can rerun the comparison.
pub fn script() -> PathBuf {
    crate::workspace::root()
        .join("xtask")
        .join("pytorch")
        .join("compare.py")
}

/// Checks that `python` can import torch and numpy; the error says how to get them.
pub fn check(python: &Path) -> Result<(), String> {
    let status = Command::new(python)
        .args(["-c", "import torch, numpy"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(status) if status.success() => Ok(()),
        _ => Err(format!(
            "--compare-pytorch needs a Python with torch and numpy, and `{}` cannot import them.\n\
             Get one (about 3 GB) and pass it with --python:\n    \
             python3 -m venv /tmp/torch-venv\n    \
             /tmp/torch-venv/bin/pip install torch numpy\n    \
             cargo xtask bench --compare-pytorch --python /tmp/torch-venv/bin/python",
            python.display()
        )),
    }
}

/// Runs the script at each of `threads` (`quick`: fewer timed steps) and parses its output.
pub fn run(python: &Path, quick: bool, threads: &[usize]) -> Result<PytorchResults, String> {
    let list: Vec<String> = threads.iter().map(usize::to_string).collect();
    let mut command = Command::new(python);
    command.arg(script()).args(["--threads", &list.join(",")]);
    if quick {
        command.arg("--quick");
    }
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|err| format!("running {}: {err}", python.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} {} failed ({})",
            python.display(),
            script().display(),
            output.status
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with('{'))
        .ok_or_else(|| {
            format!(
                "{}: expected a JSON line on stdout, found none",
                script().display()
            )
        })?;
    serde_json::from_str(line).map_err(|err| {
        format!(
            "{}: expected its JSON report, found {err} in {line:?}",
            script().display()
        )
    })
}
