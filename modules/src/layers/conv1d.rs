//! `Conv1d`: convolution along one axis (signals, sequences of feature vectors, text), run as
//! the 2-D convolution of rows of height 1.

use super::conv::{Conv2d, Conv2dConfig};
use crate::init::Init;
use crate::module::Module;
use crate::Params;
use strata_autograd::Var;
use strata_tensor::{expect_ok, Conv2dSpec, ErrorKind, Result, Rng, TensorError};

/// Shape options of a [`Conv1d`]; built from [`Conv1dConfig::new`] and refined with the
/// builder methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv1dConfig {
    /// Window length.
    pub kernel: usize,
    /// Step between windows (default 1).
    pub stride: usize,
    /// Zeros added at each end (default 0).
    pub padding: usize,
    /// Step between the positions a window reads (default 1).
    pub dilation: usize,
    /// Channel groups (default 1; `groups = in` is a depthwise convolution).
    pub groups: usize,
    /// Whether the layer adds a learned bias per output channel (default true).
    pub bias: bool,
}

impl Conv1dConfig {
    /// A window of `kernel` steps, stride 1, no padding or dilation, one group, with bias.
    pub fn new(kernel: usize) -> Self {
        Self {
            kernel,
            stride: 1,
            padding: 0,
            dilation: 1,
            groups: 1,
            bias: true,
        }
    }

    /// With this stride.
    pub fn stride(self, stride: usize) -> Self {
        Self { stride, ..self }
    }

    /// With this much zero padding at each end.
    pub fn padding(self, padding: usize) -> Self {
        Self { padding, ..self }
    }

    /// With this dilation: the window reads every `dilation`-th step, spanning
    /// `dilation·(kernel − 1) + 1` steps (PyTorch's `dilation`; must be at least 1, checked
    /// when the layer runs).
    ///
    /// ```
    /// use strata_modules::{Conv1d, Conv1dConfig, Module, Var};
    /// use strata_tensor::{Rng, Tensor};
    /// let conv = Conv1d::with_config(2, 2, Conv1dConfig::new(3).dilation(4), &mut Rng::new(0));
    /// let y = conv.forward(&Var::constant(Tensor::zeros(&[1, 2, 20])));
    /// assert_eq!(y.shape(), &[1, 2, 20 - 8]);
    /// ```
    pub fn dilation(self, dilation: usize) -> Self {
        Self { dilation, ..self }
    }

    /// With this many channel groups.
    pub fn groups(self, groups: usize) -> Self {
        Self { groups, ..self }
    }

    /// With or without a bias.
    pub fn bias(self, bias: bool) -> Self {
        Self { bias, ..self }
    }

    /// The same convolution over rows of height 1.
    fn as_2d(&self) -> Conv2dConfig {
        Conv2dConfig {
            kernel: [1, self.kernel],
            stride: [1, self.stride],
            padding: [0, self.padding],
            dilation: [1, self.dilation],
            groups: self.groups,
            bias: self.bias,
        }
    }
}

/// 1-D convolution (cross-correlation, as PyTorch's `nn.Conv1d`) of `[N, C_in, L]` batches
/// into `[N, C_out, L']`, `L' = (L + 2·padding − dilation·(kernel − 1) − 1)/stride + 1`,
/// with weight `[C_out, C_in/groups, kernel]` and optional bias `[C_out]` (PyTorch's names
/// and layouts, so state dicts load by name).
///
/// Default initialisation (PyTorch's): weight and bias `U(−1/√fan_in, 1/√fan_in)` with
/// `fan_in = C_in/groups · kernel`.
///
/// ```
/// use strata_modules::{Conv1d, Conv1dConfig, Module, Var};
/// use strata_tensor::{Rng, Tensor};
/// let conv = Conv1d::with_config(4, 6, Conv1dConfig::new(3).padding(1), &mut Rng::new(0));
/// assert_eq!(conv.weight.shape(), &[6, 4, 3]);
/// let y = conv.forward(&Var::constant(Tensor::zeros(&[2, 4, 10])));
/// assert_eq!(y.shape(), &[2, 6, 10]);
/// ```
#[derive(Params)]
pub struct Conv1d {
    /// `[C_out, C_in/groups, kernel]`.
    pub weight: Var,
    /// `[C_out]`, if any.
    pub bias: Option<Var>,
    /// Stride, padding, dilation and groups, as the 2-D kernel takes them.
    #[module(skip)]
    spec: Conv2dSpec,
}

impl Conv1d {
    /// A convolution of windows of `kernel` steps with stride 1, no padding, bias, default
    /// initialisation.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize, rng: &mut Rng) -> Self {
        Self::with_config(in_channels, out_channels, Conv1dConfig::new(kernel), rng)
    }

    /// A convolution with the given shape options and the default initialisation.
    ///
    /// Panics when `groups` does not divide both channel counts (a programming error).
    #[track_caller]
    pub fn with_config(
        in_channels: usize,
        out_channels: usize,
        config: Conv1dConfig,
        rng: &mut Rng,
    ) -> Self {
        let init = Init::PytorchDefault;
        Self::with_init(in_channels, out_channels, config, init, init, rng)
    }

    /// A convolution with chosen initialisers (the bias uses the layer's fan-in).
    #[track_caller]
    pub fn with_init(
        in_channels: usize,
        out_channels: usize,
        config: Conv1dConfig,
        weight_init: Init,
        bias_init: Init,
        rng: &mut Rng,
    ) -> Self {
        let conv = Conv2d::with_init(
            in_channels,
            out_channels,
            config.as_2d(),
            weight_init,
            bias_init,
            rng,
        );
        let [out, per_group, _, kernel] = conv.weight.shape()[..] else {
            unreachable!("a 2-D convolution's weight has four dimensions")
        };
        let weight = conv
            .weight
            .value()
            .reshape(&[out, per_group, kernel].map(|d| d as isize));
        Self {
            weight: Var::leaf(weight),
            bias: conv.bias,
            spec: conv.spec,
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

impl Module for Conv1d {
    /// The convolution of `x` `[N, C, L]`; panics at the caller's line on a shape the layer
    /// cannot take (not 3-D, other channels, a signal shorter than the kernel).
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        let &[n, c, l] = x.shape() else {
            return Err(TensorError::new(
                "Conv1d",
                ErrorKind::ShapeMismatch,
                format!("expected an input [N, C, L], found {:?}", x.shape()),
            ));
        };
        let [out, per_group, kernel] = [0, 1, 2].map(|i| self.weight.shape()[i] as isize);
        let rows = x.try_reshape(&[n, c, 1, l].map(|d| d as isize))?;
        let weight = self.weight.try_reshape(&[out, per_group, 1, kernel])?;
        let y = rows.try_conv2d(&weight, self.bias.as_ref(), self.spec)?;
        let &[n, out, _, length] = y.shape() else {
            unreachable!("a 2-D convolution's output has four dimensions")
        };
        y.try_reshape(&[n, out, length].map(|d| d as isize))
    }
}
