//! # strata-autograd
//!
//! Reverse-mode automatic differentiation over [`strata_tensor`]. A [`Var`] wraps a tensor and
//! records the op that produced it; [`Var::backward`] walks that record once, latest op
//! first, and returns a [`Gradients`] store from which each tracked leaf's gradient is read.
//!
//! ```
//! use strata_autograd::Var;
//! use strata_tensor::{Rng, Tensor};
//! let mut rng = Rng::new(0);
//! let w = Var::leaf(Tensor::rand_normal(&[3, 2], 0.0, 0.5, &mut rng));
//! let x = Var::constant(Tensor::rand_normal(&[4, 2], 0.0, 1.0, &mut rng));
//! let loss = x.linear(&w, None).relu().square().mean();
//! let grads = loss.backward().unwrap();
//! assert_eq!(grads.get(&w).unwrap().shape(), &[3, 2]);
//! ```
//!
//! Design points:
//! - Nothing is recorded when no input is tracked, or inside [`no_grad`].
//! - The graph lives as long as some `Var` of it does: dropping the loss of a step frees the
//!   step's graph (see [`live_nodes`]). `backward` also frees it as it goes.
//! - Backward only computes gradients for inputs that lead to a tracked leaf, and stores a
//!   node's first gradient as is (no zero-fill).
//! - Every op's gradient is checked against finite differences; [`gradcheck`] is public so
//!   users can check their own compositions.

mod backward;
mod error;
mod gradcheck;
mod graph;
mod ops;
mod var;

pub use backward::Gradients;
pub use error::AutogradError;
pub use gradcheck::{gradcheck, gradcheck_with, GradcheckOptions, GradcheckReport};
pub use graph::{
    anomaly_detection, is_grad_enabled, live_nodes, no_grad, set_anomaly_detection, NoGradGuard,
};
pub use ops::loss::{check_input_target_shapes, ClassLossOptions, Reduction};
pub use ops::recurrent::{
    recurrence, try_recurrence, CellRule, CellStep, GruRule, LstmRule, RnnRule,
};
pub use ops::{BatchStatistics, NormStatistics};
pub use var::{BackwardArgs, InputGrads, Var, VarId};

/// Builds the [`InputGrads`] a custom op's backward returns: `smallvec![Some(dx), None]`.
pub use smallvec::smallvec;
