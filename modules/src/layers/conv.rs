//! `Conv2d`: the pattern detector of a dense layer slid over image patches, so the same small
//! pattern is found wherever it occurs (NCHW layout, PyTorch's conventions).

use crate::init::Init;
use crate::module::Module;
use crate::Params;
use strata_autograd::Var;
use strata_tensor::{expect_ok, Conv2dSpec, Result, Rng};

/// The shape options of a [`Conv2d`]: kernel, stride, zero-padding, dilation, channel
/// groups, bias.
///
/// ```
/// use strata_modules::Conv2dConfig;
/// let config = Conv2dConfig::new(3).stride(2).padding(1).dilation(2).groups(4).bias(false);
/// assert_eq!(config.kernel, [3, 3]);
/// assert_eq!(config.spec().stride, [2, 2]);
/// assert_eq!(config.spec().dilation, [2, 2]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dConfig {
    /// Window size `[kH, kW]`.
    pub kernel: [usize; 2],
    /// Step between windows `[height, width]` (default 1).
    pub stride: [usize; 2],
    /// Zeros added on each side `[height, width]` (default 0).
    pub padding: [usize; 2],
    /// Step between the input positions a window reads `[height, width]` (default 1).
    pub dilation: [usize; 2],
    /// Channel groups: each group of `out/groups` filters sees only `in/groups` input
    /// channels (default 1; `groups = in` is a depthwise convolution).
    pub groups: usize,
    /// Whether the layer adds a learned bias per output channel (default true).
    pub bias: bool,
}

impl Conv2dConfig {
    /// A square `kernel × kernel` window, stride 1, no padding or dilation, one group, with
    /// bias.
    pub fn new(kernel: usize) -> Self {
        Self {
            kernel: [kernel, kernel],
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
            bias: true,
        }
    }

    /// The same stride on both axes.
    pub fn stride(self, stride: usize) -> Self {
        Self {
            stride: [stride, stride],
            ..self
        }
    }

    /// The same padding on both axes.
    pub fn padding(self, padding: usize) -> Self {
        Self {
            padding: [padding, padding],
            ..self
        }
    }

    /// The same dilation on both axes: the kernel reads every `dilation`-th position, so a
    /// `k × k` kernel spans `dilation·(k − 1) + 1` pixels with `k²` weights (PyTorch's
    /// `dilation`; must be at least 1, checked when the layer runs).
    ///
    /// ```
    /// use strata_modules::{Conv2d, Conv2dConfig, Module, Var};
    /// use strata_tensor::{Rng, Tensor};
    /// // A 3×3 kernel with dilation 2 sees 5×5: padding 2 keeps the size.
    /// let config = Conv2dConfig::new(3).dilation(2).padding(2);
    /// let conv = Conv2d::with_config(1, 4, config, &mut Rng::new(0));
    /// let y = conv.forward(&Var::constant(Tensor::zeros(&[1, 1, 9, 9])));
    /// assert_eq!(y.shape(), &[1, 4, 9, 9]);
    /// ```
    pub fn dilation(self, dilation: usize) -> Self {
        Self {
            dilation: [dilation, dilation],
            ..self
        }
    }

    /// `groups` channel groups.
    pub fn groups(self, groups: usize) -> Self {
        Self { groups, ..self }
    }

    /// With or without bias.
    pub fn bias(self, bias: bool) -> Self {
        Self { bias, ..self }
    }

    /// The tensor kernel's stride, padding, dilation and groups.
    pub fn spec(&self) -> Conv2dSpec {
        Conv2dSpec {
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
            groups: self.groups,
        }
    }
}

/// 2-D convolution (cross-correlation, as PyTorch) of `[N, C_in, H, W]` batches into
/// `[N, C_out, H', W']`, `H' = (H + 2·padding − dilation·(kH − 1) − 1)/stride + 1` (and
/// likewise `W'`), with weight `[C_out, C_in/groups, kH, kW]` and optional bias `[C_out]`.
///
/// Default initialisation (PyTorch's): weight and bias `U(−1/√fan_in, 1/√fan_in)` with
/// `fan_in = C_in/groups · kH · kW`.
///
/// ```
/// use strata_modules::{Conv2d, Conv2dConfig, Module, Var};
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let conv = Conv2d::with_config(3, 8, Conv2dConfig::new(3).padding(1).stride(2), &mut rng);
/// assert_eq!(conv.weight.shape(), &[8, 3, 3, 3]);
/// let y = conv.forward(&Var::constant(Tensor::zeros(&[2, 3, 16, 16])));
/// assert_eq!(y.shape(), &[2, 8, 8, 8]);
/// ```
#[derive(Params)]
pub struct Conv2d {
    /// `[C_out, C_in/groups, kH, kW]`.
    pub weight: Var,
    /// `[C_out]`, if any.
    pub bias: Option<Var>,
    /// Stride, padding, dilation and groups.
    #[module(skip)]
    pub spec: Conv2dSpec,
}

impl Conv2d {
    /// A `kernel × kernel` convolution with stride 1, no padding, bias, default initialisation.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize, rng: &mut Rng) -> Self {
        Self::with_config(in_channels, out_channels, Conv2dConfig::new(kernel), rng)
    }

    /// A convolution with the given shape options and the default initialisation.
    ///
    /// Panics when `groups` does not divide both channel counts (a programming error).
    #[track_caller]
    pub fn with_config(
        in_channels: usize,
        out_channels: usize,
        config: Conv2dConfig,
        rng: &mut Rng,
    ) -> Self {
        Self::with_init(
            in_channels,
            out_channels,
            config,
            Init::PytorchDefault,
            Init::PytorchDefault,
            rng,
        )
    }

    /// A convolution with chosen initialisers (the bias uses the layer's fan-in).
    #[track_caller]
    pub fn with_init(
        in_channels: usize,
        out_channels: usize,
        config: Conv2dConfig,
        weight_init: Init,
        bias_init: Init,
        rng: &mut Rng,
    ) -> Self {
        let (weight, bias) = kernel_parameters(
            "Conv2d",
            [in_channels, out_channels],
            &config,
            false,
            [weight_init, bias_init],
            rng,
        );
        Self {
            weight,
            bias,
            spec: config.spec(),
        }
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.weight.shape()[1] * self.spec.groups
    }

    /// Output channels (filters).
    pub fn out_channels(&self) -> usize {
        self.weight.shape()[0]
    }
}

impl Module for Conv2d {
    /// The convolution of `x` `[N, C, H, W]`; panics at the caller's line on a shape the
    /// layer cannot take (other channels, an image smaller than the kernel).
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        x.try_conv2d(&self.weight, self.bias.as_ref(), self.spec)
    }
}

/// The weight and optional bias `[out]` of a convolution (`[out, in/groups, kH, kW]`) or,
/// `transposed`, of a transposed convolution (`[in, out/groups, kH, kW]`), drawn by the two
/// initialisers; the bias uses the weight's fan-in (its dimensions after the first, as in
/// PyTorch). Panics at the caller's line when the groups do not divide both channel counts.
#[track_caller]
pub(crate) fn kernel_parameters(
    layer: &str,
    [in_channels, out_channels]: [usize; 2],
    config: &Conv2dConfig,
    transposed: bool,
    [weight_init, bias_init]: [Init; 2],
    rng: &mut Rng,
) -> (Var, Option<Var>) {
    let groups = config.groups;
    assert!(
        groups > 0 && in_channels % groups == 0 && out_channels % groups == 0,
        "{layer}: {groups} groups must divide in_channels {in_channels} and out_channels {out_channels}"
    );
    let [kh, kw] = config.kernel;
    let shape = if transposed {
        [in_channels, out_channels / groups, kh, kw]
    } else {
        [out_channels, in_channels / groups, kh, kw]
    };
    let weight = weight_init.tensor(&shape, rng);
    let fan_in = shape[1..].iter().product();
    let bias = config
        .bias
        .then(|| bias_init.tensor_with_fan_in(&[out_channels], fan_in, rng));
    (Var::leaf(weight), bias.map(Var::leaf))
}
