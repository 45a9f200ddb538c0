//! LeNet-5 exactly as the PyTorch harness builds it (`shared/bench/pytorch/bench_cnn.py`),
//! with its portable data and initialisation; shared by tests/lenet_reference.rs and
//! benches/lenet.rs.

use strata_modules::{reference, Conv2d, Dense, Flatten, MaxPool2d, Relu, Sequential};
use strata_tensor::{Rng, Tensor};

/// The harness's first-batch loss (batch 64, before any update), computed by PyTorch.
pub const PYTORCH_FIRST_LOSS: f64 = 2.294001340866089;

/// conv 1→6 5×5 → ReLU → max-pool 2 → conv 6→16 5×5 → ReLU → max-pool 2 → flatten (256) →
/// dense 120 → ReLU → dense 84 → ReLU → dense 10, at the harness's `nn.Sequential` indices
/// and initialised as the harness does.
pub fn lenet5() -> Sequential {
    let mut rng = Rng::new(0);
    let mut model = Sequential::new()
        .push(Conv2d::new(1, 6, 5, &mut rng))
        .push(Relu)
        .push(MaxPool2d::new(2))
        .push(Conv2d::new(6, 16, 5, &mut rng))
        .push(Relu)
        .push(MaxPool2d::new(2))
        .push(Flatten)
        .push(Dense::new(256, 120, &mut rng))
        .push(Relu)
        .push(Dense::new(120, 84, &mut rng))
        .push(Relu)
        .push(Dense::new(84, 10, &mut rng));
    reference::initialise(&mut model);
    model
}

/// The harness's first `rows` images `[rows, 1, 28, 28]` and their labels `[rows]`.
pub fn images_and_labels(rows: usize) -> (Tensor, Tensor) {
    let images = reference::inputs(rows, 784).reshape(&[rows as isize, 1, 28, 28]);
    (images, reference::labels(rows, 784, 10))
}
