//! `Upsample`: images enlarged by a whole factor, by repeating pixels or interpolating
//! between them (decoders, U-Nets, convolutional autoencoders).

use crate::module::Module;
use crate::Params;
use strata_autograd::Var;
use strata_tensor::{expect_ok, ErrorKind, Result, Tensor, TensorError};

/// How [`Upsample`] fills the new pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsampleMode {
    /// Each output pixel copies the input pixel it falls in (PyTorch's `"nearest"`).
    Nearest,
    /// Each output pixel mixes the four nearest input pixels by distance (PyTorch's
    /// `"bilinear"`). With `align_corners` the corner pixels of input and output coincide;
    /// without (PyTorch's default) pixels are areas and their centres are aligned.
    Bilinear {
        /// PyTorch's `align_corners`.
        align_corners: bool,
    },
}

/// Enlarges `[N, C, H, W]` images to `[N, C, s·H, s·W]`, as PyTorch's
/// `nn.Upsample(scale_factor=s, mode=…)` for a whole factor `s`.
///
/// Both modes are linear maps along each axis, so the layer applies an interpolation matrix
/// to the rows and one to the columns (`A_h · x · A_wᵀ`); its gradient is that of the two
/// products.
///
/// ```
/// use strata_modules::{Module, Upsample, UpsampleMode, Var};
/// use strata_tensor::Tensor;
/// let x = Var::constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2]));
/// let y = Upsample::new(2, UpsampleMode::Nearest).forward(&x);
/// assert_eq!(y.shape(), &[1, 1, 4, 4]);
/// assert_eq!(&y.value().to_vec()[..4], &[1.0, 1.0, 2.0, 2.0]);
/// ```
#[derive(Debug, Clone, Copy, Params)]
pub struct Upsample {
    /// The whole factor each spatial axis grows by.
    #[module(skip)]
    pub scale: usize,
    /// How new pixels are filled.
    #[module(skip)]
    pub mode: UpsampleMode,
}

impl Upsample {
    /// Enlarges by `scale` (at least 1) with `mode`.
    ///
    /// Panics (at the caller's line) if `scale` is 0.
    #[track_caller]
    pub fn new(scale: usize, mode: UpsampleMode) -> Self {
        assert!(scale > 0, "Upsample: the scale factor must be at least 1");
        Self { scale, mode }
    }

    /// The `[size·scale, size]` matrix mapping one axis of `size` input pixels to the output.
    fn interpolation(&self, size: usize) -> Tensor {
        let out = size * self.scale;
        let mut matrix = vec![0.0f32; out * size];
        for (dst, row) in matrix.chunks_mut(size).enumerate() {
            match self.mode {
                UpsampleMode::Nearest => row[dst / self.scale] = 1.0,
                UpsampleMode::Bilinear { align_corners } => {
                    let src = if align_corners {
                        if out > 1 {
                            dst as f32 * (size - 1) as f32 / (out - 1) as f32
                        } else {
                            0.0
                        }
                    } else {
                        ((dst as f32 + 0.5) / self.scale as f32 - 0.5).max(0.0)
                    };
                    let low = (src as usize).min(size - 1);
                    let high = (low + 1).min(size - 1);
                    let weight = src - low as f32;
                    row[low] += 1.0 - weight;
                    row[high] += weight;
                }
            }
        }
        Tensor::from_vec(matrix, &[out, size])
    }
}

impl Module for Upsample {
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        let &[_, _, height, width] = x.shape() else {
            return Err(TensorError::new(
                "Upsample",
                ErrorKind::ShapeMismatch,
                format!("expected images [N, C, H, W], found {:?}", x.shape()),
            ));
        };
        if height == 0 || width == 0 {
            return Err(TensorError::new(
                "Upsample",
                ErrorKind::ShapeMismatch,
                format!("expected non-empty images, found {:?}", x.shape()),
            ));
        }
        let columns = Var::constant(self.interpolation(width).t().contiguous());
        let rows = Var::constant(self.interpolation(height));
        rows.try_matmul(&x.try_matmul(&columns)?)
    }
}
