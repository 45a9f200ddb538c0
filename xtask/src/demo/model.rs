//! The networks the demo trains, described by a few numbers so that a checkpoint can say
//! which network it holds and `eval` can rebuild it.

use clap::ValueEnum;
use strata_modules::{Dense, Flatten, Relu, Sequential};
use strata_tensor::Rng;

/// A kind of network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelKind {
    /// A multi-layer perceptron: the input flattened, dense layers with ReLU between them.
    Mlp,
}

impl ModelKind {
    /// The name used on the command line and in checkpoints.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mlp => "mlp",
        }
    }

    /// Parses a [`ModelKind::name`].
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::from_str(name, false)
    }
}

/// Everything needed to build a network: its kind, the input shape, the number of classes
/// and the widths of its hidden layers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSpec {
    /// The kind of network.
    pub kind: ModelKind,
    /// Shape of one input, e.g. `[1, 28, 28]`.
    pub input_shape: Vec<usize>,
    /// Number of classes (the width of the output layer).
    pub classes: usize,
    /// Widths of the hidden dense layers.
    pub widths: Vec<usize>,
}

impl ModelSpec {
    /// The network, initialised from `seed` (PyTorch's default initialisation).
    pub fn build(&self, seed: u64) -> Sequential {
        let mut rng = Rng::new(seed);
        match self.kind {
            ModelKind::Mlp => {
                let inputs = self.input_shape.iter().product();
                let mut model = Sequential::new().push(Flatten);
                let mut width = inputs;
                for &hidden in &self.widths {
                    model = model.push(Dense::new(width, hidden, &mut rng)).push(Relu);
                    width = hidden;
                }
                model.push(Dense::new(width, self.classes, &mut rng))
            }
        }
    }

    /// A short description, e.g. `mlp 784-512-256-10`.
    pub fn describe(&self) -> String {
        let inputs: usize = self.input_shape.iter().product();
        let layers: Vec<String> = std::iter::once(inputs)
            .chain(self.widths.iter().copied())
            .chain(std::iter::once(self.classes))
            .map(|w| w.to_string())
            .collect();
        format!("{} {}", self.kind.name(), layers.join("-"))
    }
}
