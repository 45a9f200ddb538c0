//! What a loss accepts as its target: a `Tensor` or a `Var`.

use strata_autograd::Var;
use strata_tensor::Tensor;

/// A loss target: a [`Tensor`] (labels, class indices, fixed values) or a [`Var`] (e.g. the
/// output of another model), which gets gradients where the loss is differentiable in its
/// target. Every loss takes `&impl LossTarget`, so `mse_loss(&pred, &tensor)` and
/// `mse_loss(&pred, &var)` both work.
///
/// ```
/// use strata_modules::{mse_loss, Var};
/// use strata_tensor::Tensor;
/// let pred = Var::leaf(Tensor::from_vec(vec![1.0, 3.0], &[2]));
/// let target = Tensor::from_vec(vec![0.0, 1.0], &[2]);
/// assert_eq!(mse_loss(&pred, &target).item(), 2.5);
/// let tracked = Var::leaf(target);
/// let grads = mse_loss(&pred, &tracked).backward().unwrap();
/// assert_eq!(grads.get(&tracked).unwrap().to_vec(), vec![-1.0, -2.0]);
/// ```
pub trait LossTarget {
    /// The target as a `Var` (a constant for a `Tensor`).
    fn to_var(&self) -> Var;

    /// The target's values.
    fn as_tensor(&self) -> &Tensor;
}

impl LossTarget for Tensor {
    fn to_var(&self) -> Var {
        Var::constant(self.clone())
    }

    fn as_tensor(&self) -> &Tensor {
        self
    }
}

impl LossTarget for Var {
    fn to_var(&self) -> Var {
        self.clone()
    }

    fn as_tensor(&self) -> &Tensor {
        self.value()
    }
}
