//! `ConvTranspose2d`: the learned upsampling of decoders and GAN generators — each input
//! pixel stamps a weighted copy of the kernel into a larger output.

use super::conv::{kernel_parameters, Conv2dConfig};
use crate::init::Init;
use crate::module::Module;
use crate::Params;
use strata_autograd::Var;
use strata_tensor::{expect_ok, Conv2dSpec, Result, Rng};

/// 2-D transposed convolution of `[N, C_in, H, W]` batches into `[N, C_out, H', W']` with
/// `H' = (H − 1)·stride − 2·padding + dilation·(kH − 1) + 1 + output_padding` (and likewise
/// `W'`), as PyTorch's `nn.ConvTranspose2d`: weight `[C_in, C_out/groups, kH, kW]` and
/// optional bias `[C_out]`, PyTorch's names and layouts, so state dicts load by name. The
/// options are a [`Conv2dConfig`]'s (kernel, stride, padding, dilation, groups, bias) plus
/// [`ConvTranspose2d::output_padding`].
///
/// Default initialisation (PyTorch's): weight and bias `U(−1/√fan_in, 1/√fan_in)` with
/// `fan_in = C_out/groups · kH · kW` (PyTorch reads the fan-in from the weight's second
/// dimension).
///
/// ```
/// use strata_modules::{Conv2dConfig, ConvTranspose2d, Module, Var};
/// use strata_tensor::{Rng, Tensor};
/// let config = Conv2dConfig::new(4).stride(2).padding(1);
/// let up = ConvTranspose2d::with_config(8, 3, config, &mut Rng::new(0));
/// assert_eq!(up.weight.shape(), &[8, 3, 4, 4]);
/// let y = up.forward(&Var::constant(Tensor::zeros(&[2, 8, 7, 7])));
/// assert_eq!(y.shape(), &[2, 3, 14, 14]); // doubled, as in a DCGAN generator
/// ```
#[derive(Params)]
pub struct ConvTranspose2d {
    /// `[C_in, C_out/groups, kH, kW]`.
    pub weight: Var,
    /// `[C_out]`, if any.
    pub bias: Option<Var>,
    /// Stride, padding, dilation and groups (of the convolution this one transposes).
    #[module(skip)]
    pub spec: Conv2dSpec,
    /// Rows and columns added at the far edge of the output, below the stride.
    #[module(skip)]
    output_padding: [usize; 2],
}

impl ConvTranspose2d {
    /// A `kernel × kernel` transposed convolution with stride 1, no padding, bias, default
    /// initialisation.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize, rng: &mut Rng) -> Self {
        Self::with_config(in_channels, out_channels, Conv2dConfig::new(kernel), rng)
    }

    /// A transposed convolution with the given shape options and the default initialisation.
    ///
    /// Panics when `groups` does not divide both channel counts (a programming error).
    #[track_caller]
    pub fn with_config(
        in_channels: usize,
        out_channels: usize,
        config: Conv2dConfig,
        rng: &mut Rng,
    ) -> Self {
        let init = Init::PytorchDefault;
        Self::with_init(in_channels, out_channels, config, init, init, rng)
    }

    /// A transposed convolution with chosen initialisers (the bias uses the layer's fan-in).
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
            "ConvTranspose2d",
            [in_channels, out_channels],
            &config,
            true,
            [weight_init, bias_init],
            rng,
        );
        Self {
            weight,
            bias,
            spec: config.spec(),
            output_padding: [0, 0],
        }
    }

    /// The same layer with `output_padding` extra rows and columns at the far edge (each
    /// below the stride): the output size a strided convolution's input had, where several
    /// sizes map to one.
    ///
    /// Panics (at the caller's line) if it is not below the stride.
    #[track_caller]
    pub fn output_padding(mut self, output_padding: usize) -> Self {
        assert!(
            self.spec.stride.iter().all(|&s| output_padding < s),
            "ConvTranspose2d: output_padding {output_padding} must be below the stride {:?}",
            self.spec.stride
        );
        self.output_padding = [output_padding; 2];
        self
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.weight.shape()[0]
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.weight.shape()[1] * self.spec.groups
    }
}

impl Module for ConvTranspose2d {
    /// The transposed convolution of `x` `[N, C_in, H, W]`; panics at the caller's line on a
    /// shape the layer cannot take.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        x.try_conv_transpose2d(
            &self.weight,
            self.bias.as_ref(),
            self.spec,
            self.output_padding,
        )
    }
}
