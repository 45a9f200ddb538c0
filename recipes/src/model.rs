//! The networks the recipes train, described by a few numbers so that a checkpoint can say
//! which network it holds and `cargo xtask eval` can rebuild it.

use strata_modules::{
    Conv2d, Conv2dConfig, Dense, Flatten, MaxPool2d, NamedTensor, Relu, Sequential,
};
use strata_tensor::Rng;

/// A kind of network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ModelKind {
    /// A multi-layer perceptron: the input flattened, dense layers with ReLU between them.
    Mlp,
    /// A convolutional network (images only): two stages of convolution, ReLU and 2x2
    /// max-pooling, then a dense hidden layer and the output layer (LeNet's plan).
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
    /// A dense layer `inputs → outputs`.
    Dense { inputs: usize, outputs: usize },
    /// A square convolution `channels → filters` (kernel and padding of the spec).
    Conv { channels: usize, filters: usize },
}

impl ModelSpec {
    /// The network's layers in order; an error when the spec does not describe a network
    /// (a CNN on vectors, images too small, sizes whose product overflows).
    fn layers(&self) -> Result<Vec<Layer>, String> {
        match self.kind {
            ModelKind::Mlp => {
                let inputs = checked_product(&self.input_shape)?;
                let mut layers = vec![Layer::Flatten];
                let mut width = inputs;
                for &hidden in &self.widths {
                    layers.push(Layer::Dense {
                        inputs: width,
                        outputs: hidden,
                    });
                    layers.push(Layer::Relu);
                    width = hidden;
                }
                layers.push(Layer::Dense {
                    inputs: width,
                    outputs: self.classes,
                });
                Ok(layers)
            }
            ModelKind::Cnn => self.cnn_layers(),
        }
    }

    fn cnn_layers(&self) -> Result<Vec<Layer>, String> {
        let (&[channels, height, width], &[first, second, hidden]) =
            (self.input_shape.as_slice(), self.widths.as_slice())
        else {
            return Err(format!(
                "a CNN needs images [channels, height, width] and three widths, found inputs {:?} \
                 and widths {:?} (use --model mlp for this dataset)",
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
        Ok(vec![
            Layer::Conv {
                channels,
                filters: first,
            },
            Layer::Relu,
            Layer::Pool,
            Layer::Conv {
                channels: first,
                filters: second,
            },
            Layer::Relu,
            Layer::Pool,
            Layer::Flatten,
            Layer::Dense {
                inputs: checked_product(&[second, out_h, out_w])?,
                outputs: hidden,
            },
            Layer::Relu,
            Layer::Dense {
                inputs: hidden,
                outputs: self.classes,
            },
        ])
    }

    /// The name and shape of each parameter of the network, in order, without building it.
    fn parameter_shapes(&self) -> Result<Vec<(String, Vec<usize>)>, String> {
        let k = self.kernel;
        let mut shapes = Vec::new();
        for (index, layer) in self.layers()?.into_iter().enumerate() {
            let (weight, bias) = match layer {
                Layer::Dense { inputs, outputs } => (vec![outputs, inputs], outputs),
                Layer::Conv { channels, filters } => (vec![filters, channels, k, k], filters),
                Layer::Flatten | Layer::Relu | Layer::Pool => continue,
            };
            shapes.push((format!("{index}.weight"), weight));
            shapes.push((format!("{index}.bias"), vec![bias]));
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
                None => return Err(disagree(format!("there is no parameter `{name}`"))),
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

    /// The network, initialised from `seed` (PyTorch's default initialisation); an error
    /// when the spec does not describe a network (e.g. a CNN on vectors).
    pub fn build(&self, seed: u64) -> Result<Sequential, String> {
        let mut rng = Rng::new(seed);
        let config = Conv2dConfig::new(self.kernel).padding(self.padding);
        let mut model = Sequential::new();
        for layer in self.layers()? {
            model = match layer {
                Layer::Flatten => model.push(Flatten),
                Layer::Relu => model.push(Relu),
                Layer::Pool => model.push(MaxPool2d::new(2)),
                Layer::Dense { inputs, outputs } => {
                    model.push(Dense::new(inputs, outputs, &mut rng))
                }
                Layer::Conv { channels, filters } => {
                    model.push(Conv2d::with_config(channels, filters, config, &mut rng))
                }
            };
        }
        Ok(model)
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
        let inputs = self
            .input_shape
            .iter()
            .fold(1, |n: usize, &d| n.saturating_mul(d));
        let layers: Vec<String> = std::iter::once(inputs)
            .chain(self.widths.iter().copied())
            .chain(std::iter::once(self.classes))
            .map(|w| w.to_string())
            .collect();
        format!("{} {}", self.kind.name(), layers.join("-"))
    }
}

/// The product of `sizes`, or an error when it overflows.
fn checked_product(sizes: &[usize]) -> Result<usize, String> {
    sizes
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("the sizes {sizes:?} multiply past what memory can hold"))
}
