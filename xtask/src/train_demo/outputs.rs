//! What a demo run leaves in its output folder: the checkpoint, a JSON metrics log, the
//! training curves (SVG) and the first layer's patterns (PNG).

use crate::evaluation::confusion::ConfusionMatrix;
use crate::plot::training_curves;
use crate::weight_pictures::{draw_first_layer_weights, WeightGrid};
use serde_json::json;
use std::fmt;
use std::path::{Path, PathBuf};
use strata_modules::{Checkpoint, EpochMetrics, Params};
use strata_recipes::RunSpec;

/// File names inside the output folder.
pub const CHECKPOINT_FILE: &str = "model.ckpt";
pub const METRICS_FILE: &str = "metrics.json";
pub const CURVES_FILE: &str = "curves.svg";
pub const WEIGHTS_PICTURE_FILE: &str = "first-layer-weights.png";

/// The facts of a finished run that go into the metrics log.
pub struct Run<'a> {
    pub spec: &'a RunSpec,
    pub optimizer: &'a str,
    pub learning_rate: f32,
    pub warmup: usize,
    pub shift: usize,
    pub batch_size: usize,
    pub threads: usize,
    pub seconds: f64,
    pub history: &'a [EpochMetrics],
    pub confusion: &'a ConfusionMatrix,
    pub classes: &'a [String],
}

/// The files written, for the closing message.
pub struct Outputs {
    dir: PathBuf,
    patterns: WeightGrid,
}

impl Outputs {
    /// Writes every output file into `dir` (created if needed).
    pub fn write(
        dir: &Path,
        run: &Run<'_>,
        checkpoint: &Checkpoint,
        model: &dyn Params,
    ) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|err| format!("creating {}: {err}", dir.display()))?;
        checkpoint
            .save(dir.join(CHECKPOINT_FILE))
            .map_err(|err| err.to_string())?;
        let metrics = metrics_json(run);
        let text = serde_json::to_string_pretty(&metrics).map_err(|err| err.to_string())?;
        let metrics_path = dir.join(METRICS_FILE);
        std::fs::write(&metrics_path, text + "\n")
            .map_err(|err| format!("writing {}: {err}", metrics_path.display()))?;
        training_curves(run.history, &dir.join(CURVES_FILE))?;
        let patterns = draw_first_layer_weights(
            model,
            &run.spec.model.input_shape,
            &dir.join(WEIGHTS_PICTURE_FILE),
        )?;
        Ok(Self {
            dir: dir.to_path_buf(),
            patterns,
        })
    }
}

impl fmt::Display for Outputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = |name: &str| self.dir.join(name).display().to_string();
        writeln!(f, "wrote:")?;
        writeln!(
            f,
            "  {}  (reload with `cargo xtask eval --checkpoint {}`)",
            path(CHECKPOINT_FILE),
            path(CHECKPOINT_FILE)
        )?;
        writeln!(f, "  {}  (loss and accuracy per epoch)", path(METRICS_FILE))?;
        writeln!(f, "  {}  (training curves)", path(CURVES_FILE))?;
        let (rows, cols) = self.patterns.tile_shape;
        write!(
            f,
            "  {}  ({} first-layer patterns of {rows}x{cols})",
            path(WEIGHTS_PICTURE_FILE),
            self.patterns.tiles
        )
    }
}

/// The metrics log: the settings, the per-epoch history and the final test results.
fn metrics_json(run: &Run<'_>) -> serde_json::Value {
    let spec = run.spec;
    json!({
        "dataset": spec.data.dataset.name(),
        "data_dir": spec.data.data_dir,
        "model": spec.model.describe(),
        "seed": spec.data.seed,
        "optimizer": run.optimizer,
        "learning_rate": run.learning_rate,
        "warmup_epochs": run.warmup,
        "max_shift_pixels": run.shift,
        "batch_size": run.batch_size,
        "epochs": run.history.len(),
        "threads": run.threads,
        "seconds": run.seconds,
        "note": "val_loss and val_accuracy are measured on the test split after each epoch; \
                 nothing is selected on them",
        "history": run.history,
        "test": {
            "accuracy": run.confusion.accuracy(),
            "correct": run.confusion.correct(),
            "total": run.confusion.total(),
            "classes": run.classes,
            "confusion": run.confusion.counts(),
        },
    })
}
