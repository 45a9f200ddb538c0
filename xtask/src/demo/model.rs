//! The networks the demo trains, described by a few numbers so that a checkpoint can say
//! which network it holds and `eval` can rebuild it.

use clap::ValueEnum;
use strata_modules::{Conv2d, Conv2dConfig, Dense, Flatten, MaxPool2d, Relu, Sequential};
use strata_tensor::Rng;

/// A kind of network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelKind {
    /// A multi-layer perceptron: the input flattened, dense layers with ReLU between them.
    Mlp,
    /// A convolutional network (images only): two stages of convolution, ReLU and 2x2
    /// max-pooling, then a dense hidden layer and the output layer (LeNet's plan).
    Cnn,
}

impl ModelKind {
    /// The name used on the command line and in checkpoints.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mlp => "mlp",
            Self::Cnn => "cnn",
        }
    }

    /// Parses a [`ModelKind::name`].
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::from_str(name, false)
    }
}

/// Everything needed to build a network: its kind, the input shape, the number of classes,
/// the widths of its hidden layers and, for a CNN, its convolution kernel and padding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSpec {
    /// The kind of network.
    pub kind: ModelKind,
    /// Shape of one input, e.g. `[1, 28, 28]`.
    pub input_shape: Vec<usize>,
    /// Number of classes (the width of the output layer).
    pub classes: usize,
    /// MLP: widths of the hidden dense layers. CNN: channels of the two convolutions, then
    /// the width of the hidden dense layer.
    pub widths: Vec<usize>,
    /// CNN: side of the square convolution kernels (0 for an MLP).
    pub kernel: usize,
    /// CNN: zero padding on each side of the convolutions.
    pub padding: usize,
}

/// Images at least this large get 5x5 kernels without padding (LeNet's: 28 -> 24 -> 12 -> 8
/// -> 4); smaller ones (the 8x8 digits) 3x3 kernels padded to keep their size.
const LARGE_IMAGE_SIDE: usize = 16;

impl ModelSpec {
    /// The convolution kernel and padding for inputs of `input_shape` (`[C, H, W]`).
    pub fn conv_geometry(input_shape: &[usize]) -> (usize, usize) {
        let side = input_shape.iter().skip(1).copied().min().unwrap_or(0);
        if side >= LARGE_IMAGE_SIDE {
            (5, 0)
        } else {
            (3, 1)
        }
    }
}

impl ModelSpec {
    /// The network, initialised from `seed` (PyTorch's default initialisation); an error
    /// when the spec does not describe a network (e.g. a CNN on vectors).
    pub fn build(&self, seed: u64) -> Result<Sequential, String> {
        let mut rng = Rng::new(seed);
        match self.kind {
            ModelKind::Mlp => {
                let inputs = self.input_shape.iter().product();
                let widths = [&[inputs], self.widths.as_slice(), &[self.classes]].concat();
                Ok(Sequential::new()
                    .push(Flatten)
                    .push_mlp(&widths, Relu, &mut rng))
            }
            ModelKind::Cnn => self.build_cnn(&mut rng),
        }
    }

    fn build_cnn(&self, rng: &mut Rng) -> Result<Sequential, String> {
        let (&[channels, height, width], &[first, second, hidden]) =
            (self.input_shape.as_slice(), self.widths.as_slice())
        else {
            return Err(format!(
                "a CNN needs images [channels, height, width] and three widths, found inputs {:?} \
                 and widths {:?} (use --model mlp for this dataset)",
                self.input_shape, self.widths
            ));
        };
        let config = || Conv2dConfig::new(self.kernel).padding(self.padding);
        // Each stage: the convolution's output side, then halved by the pooling.
        let stage = |side: usize| (side + 2 * self.padding + 1).saturating_sub(self.kernel) / 2;
        let (out_h, out_w) = (stage(stage(height)), stage(stage(width)));
        if out_h == 0 || out_w == 0 {
            return Err(format!(
                "images of {height}x{width} are too small for two stages of {k}x{k} convolutions \
                 and 2x2 pooling",
                k = self.kernel
            ));
        }
        Ok(Sequential::new()
            .push(Conv2d::with_config(channels, first, config(), rng))
            .push(Relu)
            .push(MaxPool2d::new(2))
            .push(Conv2d::with_config(first, second, config(), rng))
            .push(Relu)
            .push(MaxPool2d::new(2))
            .push(Flatten)
            .push(Dense::new(second * out_h * out_w, hidden, rng))
            .push(Relu)
            .push(Dense::new(hidden, self.classes, rng)))
    }

    /// A short description, e.g. `mlp 784-512-256-10` or
    /// `cnn conv5x5(16)-pool-conv5x5(32)-pool-128-10`.
    pub fn describe(&self) -> String {
        if self.kind == ModelKind::Cnn {
            let conv = |channels: usize| format!("conv{k}x{k}({channels})-pool", k = self.kernel);
            let convs: Vec<String> = self.widths.iter().take(2).map(|&c| conv(c)).collect();
            let dense: Vec<String> = self.widths.iter().skip(2).map(|w| w.to_string()).collect();
            return format!(
                "cnn {}-{}-{}",
                convs.join("-"),
                dense.join("-"),
                self.classes
            );
        }
        let inputs: usize = self.input_shape.iter().product();
        let layers: Vec<String> = std::iter::once(inputs)
            .chain(self.widths.iter().copied())
            .chain(std::iter::once(self.classes))
            .map(|w| w.to_string())
            .collect();
        format!("{} {}", self.kind.name(), layers.join("-"))
    }
}
