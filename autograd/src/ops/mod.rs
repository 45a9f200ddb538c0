//! Differentiable operations. Each op computes its value with strata-tensor and, right
//! beside it, states how the gradient flows back to its inputs.

mod arith;
mod attention;
mod batch_norm;
mod conv;
mod distance;
mod dropout;
mod join;
pub(crate) mod loss;
mod matmul;
mod operators;
pub(crate) mod recurrent;
mod reduce;
mod shape;
mod softmax;
mod unary;

pub use batch_norm::{BatchStatistics, NormStatistics};

pub(crate) use strata_tensor::expect_ok;
use strata_tensor::Tensor;

/// Sums `grad` down to `shape`: the gradient of broadcasting `shape` up to `grad.shape()`.
pub(crate) fn sum_to_shape(grad: &Tensor, shape: &[usize]) -> Tensor {
    if grad.shape() == shape {
        return grad.clone();
    }
    let lead = grad.ndim() - shape.len();
    let axes: Vec<usize> = (0..grad.ndim())
        .filter(|&d| d < lead || (shape[d - lead] == 1 && grad.shape()[d] != 1))
        .collect();
    let summed = grad.sum_axes(&axes, true);
    summed.reshape(&as_isize(shape))
}

/// A shape as the `isize` list `reshape` takes.
pub(crate) fn as_isize(shape: &[usize]) -> Vec<isize> {
    shape.iter().map(|&d| d as isize).collect()
}

/// The lanes of a tensor along one axis: lane `r`, the `r`-th position (row-major) of the
/// shape without that axis, holds `len` elements `stride` apart.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lanes {
    pub(crate) len: usize,
    pub(crate) stride: usize,
}

impl Lanes {
    pub(crate) fn along(shape: &[usize], axis: usize) -> Self {
        Self {
            len: shape[axis],
            stride: shape[axis + 1..].iter().product(),
        }
    }

    /// The flat index of the first element of lane `r`.
    pub(crate) fn start(self, r: usize) -> usize {
        (r / self.stride) * self.len * self.stride + r % self.stride
    }

    /// The flat indices of the elements of lane `r`.
    pub(crate) fn indices(self, r: usize) -> impl Iterator<Item = usize> {
        let start = self.start(r);
        (0..self.len).map(move |k| start + k * self.stride)
    }
}
