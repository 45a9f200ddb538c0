//! Differentiable operations. Each op computes its value with strata-tensor and, right
//! beside it, states how the gradient flows back to its inputs.

mod arith;
mod conv;
mod dropout;
mod join;
mod matmul;
mod operators;
mod reduce;
mod shape;
mod softmax;
mod unary;

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
