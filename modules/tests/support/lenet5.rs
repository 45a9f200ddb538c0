//! The data of the PyTorch harness's LeNet-5 problem (`lenet` in `xtask/pytorch/compare.py`;
//! the model is `strata_bench_reference::lenet5`) and its first loss; shared by
//! tests/lenet_reference.rs and benches/lenet.rs.

use strata_bench_reference as reference;
use strata_tensor::Tensor;

/// The harness's first-batch loss (batch 64, before any update), computed by PyTorch.
pub const PYTORCH_FIRST_LOSS: f64 = 2.294001340866089;

/// The harness's first `rows` images `[rows, 1, 28, 28]` and their labels `[rows]`.
pub fn images_and_labels(rows: usize) -> (Tensor, Tensor) {
    let images = reference::inputs(rows, 784).reshape(&[rows as isize, 1, 28, 28]);
    (images, reference::labels(rows, 784, 10))
}
