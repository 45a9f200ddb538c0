//! The networks the recipes train, described by a few numbers so that a checkpoint can say
//! which network it holds and `cargo xtask eval` can rebuild it.

use strata_modules::{
    BatchNorm1d, BatchNorm2d, Conv2d, Conv2dConfig, Dense, Dropout, Flatten, MaxPool2d,
    NamedTensor, Relu, Sequential,
};
use strata_tensor::{splitmix64, Rng};

/// A kind of network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ModelKind {
    /// A multi-layer perceptron: the input flattened, dense layers with ReLU between them.
    Mlp,
    /// A convolutional network (images only): two stages of convolution, ReLU and 2x2
    /// max-pooling, then a dense hidden layer and the output layer (LeNet's plan), with
    /// batch normalisation and dropout when the spec asks for them.
    Cnn,
}

impl ModelKind {
    /// Every kind of network.
    pub const ALL: [Self; 2] = [Self::Mlp, Self::Cnn];

    /// The name used on the command line and in checkpoints.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mlp => "mlp",
            Self::Cnn => "cnn",
        }
    }

    /// Parses a [`ModelKind::name`].
    pub fn parse(name: &str) -> Result<Self, String> {
        crate::parse_name("network", name, &Self::ALL, Self::name)
    }
}

/// Everything needed to build a network: its kind, the input shape, the number of classes,
/// the widths of its hidden layers, for a CNN its convolution kernel and padding, and its
/// regularisation (batch normalisation, dropout).
#[derive(Clone, Debug, PartialEq)]
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
    /// Batch normalisation between each hidden layer (convolution or dense) and its ReLU;
    /// that layer then has no bias, which the normalisation's mean would cancel.
    pub batch_norm: bool,
    /// Dropout probability after the ReLU of each hidden dense layer, in `[0, 1)` (0: none).
    pub dropout: f32,
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

/// One layer of a demo network, with its sizes: what [`ModelSpec::build`] creates, and
/// what [`ModelSpec::check_weights`] compares a checkpoint with, without building anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layer {
    /// All dimensions after the batch axis merged.
    Flatten,
    /// Element-wise `max(x, 0)`.
    Relu,
    /// 2x2 max-pooling.
    Pool,
    /// A dense layer `inputs → outputs`, with or without bias.
    Dense {
        inputs: usize,
        outputs: usize,
        bias: bool,
    },
    /// A square convolution `channels → filters` (kernel and padding of the spec), with or
    /// without bias.
    Conv {
        channels: usize,
        filters: usize,
        bias: bool,
    },
    /// Batch normalisation of `channels` feature maps `[N, C, H, W]`.
    BatchNorm2d { channels: usize },
    /// Batch normalisation of `features` values `[N, F]`.
    BatchNorm1d { features: usize },
    /// Dropout with the spec's probability.
    Dropout,
}

impl ModelSpec {
    /// The network's layers in order; an error when the spec does not describe a network
    /// (a CNN on vectors, images too small, sizes whose product overflows, a dropout
    /// probability outside `[0, 1)`).
    fn layers(&self) -> Result<Vec<Layer>, String> {
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!(
                "the dropout probability must be in [0, 1), found {}",
                self.dropout
            ));
        }
        let (mut layers, mut width, hidden) = match self.kind {
            ModelKind::Mlp => (
                vec![Layer::Flatten],
                checked_product(&self.input_shape)?,
                self.widths.as_slice(),
            ),
            ModelKind::Cnn => self.conv_stages()?,
        };
        for &outputs in hidden {
            layers.push(Layer::Dense {
                inputs: width,
                outputs,
                bias: !self.batch_norm,
            });
            self.activate(&mut layers, Layer::BatchNorm1d { features: outputs });
            if self.dropout > 0.0 {
                layers.push(Layer::Dropout);
            }
            width = outputs;
        }
        layers.push(Layer::Dense {
            inputs: width,
            outputs: self.classes,
            bias: true,
        });
        Ok(layers)
    }

    /// The CNN's two convolution stages and the flattening after them, the number of values
    /// they leave per image, and the width of the dense hidden layer that follows.
    fn conv_stages(&self) -> Result<(Vec<Layer>, usize, &[usize]), String> {
        let (&[channels, height, width], [first, second, hidden]) =
            (self.input_shape.as_slice(), self.widths.as_slice())
        else {
            return Err(format!(
                "a CNN needs images [channels, height, width] and three widths, found \
                 inputs {:?} and widths {:?} (use --model mlp for this dataset)",
                self.input_shape, self.widths
            ));
        };
        // Each stage: the convolution's output side, then halved by the pooling.
        let stage = |side: usize| {
            side.saturating_add(2 * self.padding + 1)
                .saturating_sub(self.kernel)
                / 2
        };
        let (out_h, out_w) = (stage(stage(height)), stage(stage(width)));
        if out_h == 0 || out_w == 0 || self.kernel == 0 {
            return Err(format!(
                "images of {height}x{width} are too small for two stages of {k}x{k} convolutions \
                 and 2x2 pooling",
                k = self.kernel
            ));
        }
        let mut layers = Vec::new();
        for (channels, filters) in [(channels, *first), (*first, *second)] {
            layers.push(Layer::Conv {
                channels,
                filters,
                bias: !self.batch_norm,
            });
            self.activate(&mut layers, Layer::BatchNorm2d { channels: filters });
            layers.push(Layer::Pool);
        }
        layers.push(Layer::Flatten);
        let features = checked_product(&[*second, out_h, out_w])?;
        Ok((layers, features, std::slice::from_ref(hidden)))
    }

    /// What follows a hidden layer: the batch normalisation `norm` if the spec asks for it,
    /// then ReLU.
    fn activate(&self, layers: &mut Vec<Layer>, norm: Layer) {
        if self.batch_norm {
            layers.push(norm);
        }
        layers.push(Layer::Relu);
    }

    /// The name and shape of each parameter of the network, in order, without building it.
    fn parameter_shapes(&self) -> Result<Vec<(String, Vec<usize>)>, String> {
        let k = self.kernel;
        let mut shapes = Vec::new();
        for (index, layer) in self.layers()?.into_iter().enumerate() {
            let (weight, bias) = match layer {
                Layer::Dense {
                    inputs,
                    outputs,
                    bias,
                } => (vec![outputs, inputs], bias.then_some(outputs)),
                Layer::Conv {
                    channels,
                    filters,
                    bias,
                } => (vec![filters, channels, k, k], bias.then_some(filters)),
                Layer::BatchNorm2d { channels: c } | Layer::BatchNorm1d { features: c } => {
                    (vec![c], Some(c))
                }
                Layer::Flatten | Layer::Relu | Layer::Pool | Layer::Dropout => continue,
            };
            shapes.push((format!("{index}.weight"), weight));
            if let Some(bias) = bias {
                shapes.push((format!("{index}.bias"), vec![bias]));
            }
        }
        Ok(shapes)
    }

    /// Checks that `params` (a checkpoint's) are exactly the parameters of this network, by
    /// name and shape, before anything is built: metadata edited to disagree with the weights
    /// (another width, other classes, an absurd size) is an error naming the first
    /// difference, and every size the network will allocate is one the file holds.
    pub fn check_weights(&self, params: &[NamedTensor]) -> Result<(), String> {
        let expected = self.parameter_shapes()?;
        let disagree = |detail: String| {
            format!(
                "the metadata describes {} but the weights disagree: {detail}",
                self.describe()
            )
        };
        for (name, shape) in &expected {
            match params.iter().find(|p| &p.name == name) {
                None => {
                    let found: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                    return Err(disagree(format!(
                        "there is no parameter `{name}` {shape:?} (found {})",
                        found.join(", ")
                    )));
                }
                Some(found) if found.tensor.shape() != shape.as_slice() => {
                    return Err(disagree(format!(
                        "`{name}` should be {shape:?}, found {:?}",
                        found.tensor.shape()
                    )))
                }
                Some(_) => {}
            }
        }
        if let Some(extra) = params
            .iter()
            .find(|p| !expected.iter().any(|(name, _)| name == &p.name))
        {
            return Err(disagree(format!(
                "the network has no parameter `{}`",
                extra.name
            )));
        }
        Ok(())
    }

    /// The network, initialised from `seed` (PyTorch's default initialisation; each dropout
    /// layer draws its masks from its own stream of `seed`); an error when the spec does not
    /// describe a network (e.g. a CNN on vectors).
    pub fn build(&self, seed: u64) -> Result<Sequential, String> {
        let mut rng = Rng::new(seed);
        let config = Conv2dConfig::new(self.kernel).padding(self.padding);
        let mut model = Sequential::new();
        for (index, layer) in self.layers()?.into_iter().enumerate() {
            model = match layer {
                Layer::Flatten => model.push(Flatten),
                Layer::Relu => model.push(Relu),
                Layer::Pool => model.push(MaxPool2d::new(2)),
                Layer::Dense {
                    inputs,
                    outputs,
                    bias: true,
                } => model.push(Dense::new(inputs, outputs, &mut rng)),
                Layer::Dense {
                    inputs,
                    outputs,
                    bias: false,
                } => model.push(Dense::without_bias(inputs, outputs, &mut rng)),
                Layer::Conv {
                    channels,
                    filters,
                    bias,
                } => model.push(Conv2d::with_config(
                    channels,
                    filters,
                    config.bias(bias),
                    &mut rng,
                )),
                Layer::BatchNorm2d { channels } => model.push(BatchNorm2d::new(channels)),
                Layer::BatchNorm1d { features } => model.push(BatchNorm1d::new(features)),
                Layer::Dropout => {
                    model.push(Dropout::new(self.dropout, splitmix64(seed, index as u64)))
                }
            };
        }
        Ok(model)
    }

    /// A short description, e.g. `mlp 784-512-256-10`,
    /// `cnn conv5x5(16)-pool-conv5x5(32)-pool-128-10` or
    /// `cnn conv5x5(32)-pool-conv5x5(64)-pool-128-10, batch norm, dropout 0.25`.
    pub fn describe(&self) -> String {
        let layers = if self.kind == ModelKind::Cnn {
            let conv = |channels: usize| format!("conv{k}x{k}({channels})-pool", k = self.kernel);
            let convs = self.widths.iter().take(2).map(|&c| conv(c));
            let dense = self.widths.iter().skip(2).map(|w| w.to_string());
            convs.chain(dense).collect::<Vec<_>>()
        } else {
            let inputs = self
                .input_shape
                .iter()
                .fold(1, |n: usize, &d| n.saturating_mul(d));
            std::iter::once(inputs)
                .chain(self.widths.iter().copied())
                .map(|w| w.to_string())
                .collect()
        };
        let mut text = format!("{} {}-{}", self.kind.name(), layers.join("-"), self.classes);
        if self.batch_norm {
            text.push_str(", batch norm");
        }
        if self.dropout > 0.0 {
            text.push_str(&format!(", dropout {}", self.dropout));
        }
        text
    }
}

/// The product of `sizes`, or an error when it overflows.
fn checked_product(sizes: &[usize]) -> Result<usize, String> {
    sizes
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("the sizes {sizes:?} multiply past what memory can hold"))
}
