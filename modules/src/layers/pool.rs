//! Pooling layers: summarise each window of a feature map by its maximum or its mean, so
//! features survive small shifts and the maps shrink scale by scale.

use crate::module::Module;
use crate::Params;
use strata_autograd::Var;
use strata_tensor::{expect_ok, ErrorKind, Pool2dSpec, Result, TensorError};

/// Max pooling over `[N, C, H, W]`: each output is the largest value of its window.
///
/// ```
/// use strata_modules::{MaxPool2d, Module, Var};
/// use strata_tensor::Tensor;
/// let x = Tensor::arange(0.0, 16.0, 1.0).reshape(&[1, 1, 4, 4]);
/// let y = MaxPool2d::new(2).forward(&Var::constant(x));
/// assert_eq!(y.value().to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
/// ```
#[derive(Debug, Clone, Copy, Params)]
pub struct MaxPool2d {
    /// Window, stride, padding (padded positions never win) and rounding.
    #[module(skip)]
    pub spec: Pool2dSpec,
}

impl MaxPool2d {
    /// A `kernel × kernel` window with stride `kernel` (PyTorch's default) and no padding.
    pub fn new(kernel: usize) -> Self {
        Self::with_spec(Pool2dSpec::new(kernel, kernel, 0))
    }

    /// Any window, stride, padding and rounding.
    pub fn with_spec(spec: Pool2dSpec) -> Self {
        Self { spec }
    }

    /// The same layer with the output size rounded up (PyTorch's `ceil_mode`): see
    /// [`Pool2dSpec::with_ceil_mode`].
    ///
    /// ```
    /// use strata_modules::{MaxPool2d, Module, Var};
    /// use strata_tensor::Tensor;
    /// let x = Var::constant(Tensor::zeros(&[1, 1, 7, 7]));
    /// assert_eq!(MaxPool2d::new(2).forward(&x).shape(), &[1, 1, 3, 3]);
    /// assert_eq!(MaxPool2d::new(2).ceil_mode(true).forward(&x).shape(), &[1, 1, 4, 4]);
    /// ```
    pub fn ceil_mode(self, ceil_mode: bool) -> Self {
        Self::with_spec(self.spec.with_ceil_mode(ceil_mode))
    }
}

impl Module for MaxPool2d {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        x.try_max_pool2d(self.spec)
    }
}

/// Average pooling over `[N, C, H, W]`: each output is the mean of its window (padded
/// positions count as zeros unless [`AvgPool2d::count_include_pad`] is false).
///
/// ```
/// use strata_modules::{AvgPool2d, Module, Var};
/// use strata_tensor::Tensor;
/// let x = Tensor::arange(0.0, 16.0, 1.0).reshape(&[1, 1, 4, 4]);
/// let y = AvgPool2d::new(2).forward(&Var::constant(x));
/// assert_eq!(y.value().to_vec(), vec![2.5, 4.5, 10.5, 12.5]);
/// ```
#[derive(Debug, Clone, Copy, Params)]
pub struct AvgPool2d {
    /// Window, stride, padding, rounding and divisor.
    #[module(skip)]
    pub spec: Pool2dSpec,
}

impl AvgPool2d {
    /// A `kernel × kernel` window with stride `kernel` (PyTorch's default) and no padding.
    pub fn new(kernel: usize) -> Self {
        Self::with_spec(Pool2dSpec::new(kernel, kernel, 0))
    }

    /// Any window, stride, padding, rounding and divisor.
    pub fn with_spec(spec: Pool2dSpec) -> Self {
        Self { spec }
    }

    /// The same layer with the output size rounded up (PyTorch's `ceil_mode`): see
    /// [`Pool2dSpec::with_ceil_mode`].
    pub fn ceil_mode(self, ceil_mode: bool) -> Self {
        Self::with_spec(self.spec.with_ceil_mode(ceil_mode))
    }

    /// The same layer dividing by the padded positions of each window too (`true`, the
    /// default) or only by its input positions (`false`): see
    /// [`Pool2dSpec::with_count_include_pad`].
    ///
    /// ```
    /// use strata_modules::{AvgPool2d, Module, Var};
    /// use strata_tensor::{Pool2dSpec, Tensor};
    /// // Each 2×2 window over the padded 2×2 input covers one input and three zeros.
    /// let x = Var::constant(Tensor::ones(&[1, 1, 2, 2]));
    /// let pool = AvgPool2d::with_spec(Pool2dSpec::new(2, 2, 1));
    /// assert_eq!(pool.forward(&x).value().to_vec(), [0.25; 4]);
    /// let inside_only = pool.count_include_pad(false).forward(&x);
    /// assert_eq!(inside_only.value().to_vec(), [1.0; 4]);
    /// ```
    pub fn count_include_pad(self, count_include_pad: bool) -> Self {
        Self::with_spec(self.spec.with_count_include_pad(count_include_pad))
    }
}

impl Module for AvgPool2d {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        x.try_avg_pool2d(self.spec)
    }
}

/// Global average pooling: the mean of each whole feature map, `[N, C, H, W] → [N, C]`
/// (PyTorch's `AdaptiveAvgPool2d(1)` followed by `Flatten`).
///
/// ```
/// use strata_modules::{GlobalAvgPool2d, Module, Var};
/// use strata_tensor::Tensor;
/// let x = Tensor::arange(0.0, 8.0, 1.0).reshape(&[1, 2, 2, 2]);
/// let y = GlobalAvgPool2d.forward(&Var::constant(x));
/// assert_eq!(y.value().to_vec(), vec![1.5, 5.5]);
/// ```
#[derive(Debug, Clone, Copy, Default, Params)]
pub struct GlobalAvgPool2d;

impl Module for GlobalAvgPool2d {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        if x.ndim() != 4 {
            return Err(TensorError::new(
                "GlobalAvgPool2d",
                ErrorKind::ShapeMismatch,
                format!("expects an [N, C, H, W] input, found {:?}", x.shape()),
            ));
        }
        x.try_mean_axes(&[2, 3], false)
    }
}
