//! Binary cross-entropy terms, on probabilities and on logits, element by element (weights
//! and the reduction are applied by the caller).

use super::check_input_target_shapes;
use crate::var::Var;
use smallvec::smallvec;
use strata_tensor::{expect_ok, sigmoid, softplus, ErrorKind, Result, Tensor, TensorError};

/// PyTorch clamps the logarithms of BCE at −100 so that a probability of exactly 0 or 1
/// gives a large finite loss instead of infinity; so does Strata.
const LOG_FLOOR: f32 = -100.0;

/// `f(x, y, pw)` element-wise over logits, targets and positive weights (1 without them).
fn zip_logits(
    x: &Tensor,
    y: &Tensor,
    pos_weight: Option<&[f32]>,
    f: impl Fn(f32, f32, f32) -> f32,
) -> Tensor {
    let (xs, ys) = (x.values(), y.values());
    let values = (0..xs.len())
        .map(|i| f(xs[i], ys[i], pos_weight.map_or(1.0, |pw| pw[i])))
        .collect();
    Tensor::from_vec(values, x.shape())
}

impl Var {
    /// Binary cross-entropy of these probabilities `p ∈ [0, 1]` against `target` (one shape),
    /// per element: `−[y·ln p + (1 − y)·ln(1 − p)]`, the logarithms floored at −100 as
    /// PyTorch does. Fused so that the floor holds in the gradient too (a composed `ln p`
    /// would send back `1/0`); gradients reach both inputs.
    #[track_caller]
    pub fn bce_terms(&self, target: &Var) -> Var {
        expect_ok(self.try_bce_terms(target))
    }

    /// Fallible [`Var::bce_terms`].
    #[track_caller]
    pub fn try_bce_terms(&self, target: &Var) -> Result<Var> {
        check_input_target_shapes("bce_loss", self, target)?;
        let value = self.value().zip_map(target.value(), |p, y| {
            -(y * p.ln().max(LOG_FLOOR) + (1.0 - y) * (1.0 - p).ln().max(LOG_FLOOR))
        });
        Ok(Var::from_op("bce", value, &[self, target], |a| {
            let (p, y) = (a.input(0), a.input(1));
            smallvec![
                a.needs(0).then(|| {
                    // (p − y) / (p(1 − p)), the denominator kept away from 0 as PyTorch does.
                    let slope = p.zip_map(y, |p, y| (p - y) / (p * (1.0 - p)).max(1e-12));
                    a.grad().mul(&slope)
                }),
                a.needs(1).then(|| {
                    let slope = p.map(|p| (1.0 - p).ln().max(LOG_FLOOR) - p.ln().max(LOG_FLOOR));
                    a.grad().mul(&slope)
                })
            ]
        }))
    }

    /// Binary cross-entropy of these logits against `target` (one shape), per element:
    /// `pw·y·softplus(−x) + (1 − y)·softplus(x)`, with `pos_weight` `pw` broadcast to the
    /// logits (1 without). Fused so that it stays finite for any finite logit (no `log(0)`,
    /// no `sigmoid` rounded to 0 or 1); gradients reach both inputs.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    /// let x = Var::leaf(Tensor::from_vec(vec![100.0, -100.0], &[2]));
    /// let y = Var::constant(Tensor::from_vec(vec![0.0, 0.0], &[2]));
    /// assert!((x.bce_with_logits_terms(&y, None).sum().item() - 100.0).abs() < 1e-3);
    /// ```
    #[track_caller]
    pub fn bce_with_logits_terms(&self, target: &Var, pos_weight: Option<&Tensor>) -> Var {
        expect_ok(self.try_bce_with_logits_terms(target, pos_weight))
    }

    /// Fallible [`Var::bce_with_logits_terms`].
    #[track_caller]
    pub fn try_bce_with_logits_terms(
        &self,
        target: &Var,
        pos_weight: Option<&Tensor>,
    ) -> Result<Var> {
        const OP: &str = "bce_with_logits";
        check_input_target_shapes(OP, self, target)?;
        let pos_weight = match pos_weight {
            Some(pw) => Some(
                pw.try_broadcast_to(self.shape())
                    .map_err(|_| {
                        TensorError::new(
                            OP,
                            ErrorKind::ShapeMismatch,
                            format!(
                                "pos_weight {:?} does not broadcast to the input {:?}",
                                pw.shape(),
                                self.shape()
                            ),
                        )
                    })?
                    .to_vec(),
            ),
            None => None,
        };
        let value = zip_logits(
            self.value(),
            target.value(),
            pos_weight.as_deref(),
            |x, y, pw| pw * y * softplus(-x) + (1.0 - y) * softplus(x),
        );
        Ok(Var::from_op(OP, value, &[self, target], move |a| {
            let (x, y, pw) = (a.input(0), a.input(1), pos_weight.as_deref());
            smallvec![
                a.needs(0).then(|| {
                    let slope = |x, y, pw| (1.0 - y) * sigmoid(x) - pw * y * sigmoid(-x);
                    a.grad().mul(&zip_logits(x, y, pw, slope))
                }),
                a.needs(1).then(|| {
                    let slope = |x: f32, _, pw| pw * softplus(-x) - softplus(x);
                    a.grad().mul(&zip_logits(x, y, pw, slope))
                })
            ]
        }))
    }
}
