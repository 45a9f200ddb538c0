//! Norms and similarities of vectors along an axis: the `p`-norm of the last axis and the
//! cosine similarity.

use super::Lanes;
use crate::var::Var;
use smallvec::smallvec;
use strata_tensor::{broadcast_shapes, expect_ok, Axis, ErrorKind, Result, Tensor, TensorError};

impl Var {
    /// The `p`-norm along the last axis (PyTorch's `norm(v, p, -1)`), `p > 0`; fused so that
    /// a zero lane or element gets gradient 0, as in PyTorch, rather than `0·∞`.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    /// let v = Var::leaf(Tensor::from_vec(vec![3.0, -4.0], &[1, 2]));
    /// assert_eq!(v.norm_last_axis(2.0).value().to_vec(), vec![5.0]);
    /// ```
    #[track_caller]
    pub fn norm_last_axis(&self, p: f32) -> Var {
        expect_ok(self.try_norm_last_axis(p))
    }

    /// Fallible [`Var::norm_last_axis`].
    #[track_caller]
    pub fn try_norm_last_axis(&self, p: f32) -> Result<Var> {
        const OP: &str = "norm";
        if self.ndim() == 0 {
            return Err(TensorError::new(
                OP,
                ErrorKind::ShapeMismatch,
                "expects at least one axis, found a scalar",
            ));
        }
        if !(p > 0.0 && p.is_finite()) {
            return Err(TensorError::new(
                OP,
                ErrorKind::InvalidArgument,
                format!("the norm degree p must be positive and finite, found {p}"),
            ));
        }
        let len = self.shape()[self.ndim() - 1];
        let x = self.value().values();
        let count = self.shape()[..self.ndim() - 1].iter().product();
        let norms: Vec<f32> = (0..count)
            .map(|r| {
                let lane = &x[r * len..(r + 1) * len];
                lane.iter()
                    .map(|e| e.abs().powf(p))
                    .sum::<f32>()
                    .powf(1.0 / p)
            })
            .collect();
        let value = Tensor::from_vec(norms, &self.shape()[..self.ndim() - 1]);
        Ok(Var::from_op(OP, value, &[self], move |a| {
            // ∂‖v‖/∂v_i = sign(v_i)·(|v_i|/‖v‖)^(p−1), 0 where v_i = 0 or ‖v‖ = 0.
            let (x, norms, upstream) =
                (a.input(0).values(), a.output().values(), a.grad().values());
            let grad = x
                .iter()
                .enumerate()
                .map(|(i, &e)| {
                    let (n, g) = (norms[i / len], upstream[i / len]);
                    if e == 0.0 || n == 0.0 {
                        0.0
                    } else {
                        g * e.signum() * (e.abs() / n).powf(p - 1.0)
                    }
                })
                .collect();
            smallvec![Some(Tensor::from_vec(grad, a.input(0).shape()))]
        }))
    }

    /// Cosine similarity with `other` along `axis`, PyTorch's `F.cosine_similarity`:
    /// `Σ a·b / (max(‖a‖, eps)·max(‖b‖, eps))`, each norm clamped at `eps` separately
    /// (PyTorch's default `eps` is 1e-8). The two broadcast to one shape; the result drops
    /// `axis`. Fused so that the gradient is PyTorch's (its norms are clamped outside the
    /// graph) and one pass over each lane.
    #[track_caller]
    pub fn cosine_similarity(&self, other: &Var, axis: impl Axis, eps: f32) -> Var {
        expect_ok(self.try_cosine_similarity(other, axis, eps))
    }

    /// Fallible [`Var::cosine_similarity`].
    #[track_caller]
    pub fn try_cosine_similarity(&self, other: &Var, axis: impl Axis, eps: f32) -> Result<Var> {
        const OP: &str = "cosine_similarity";
        let shape = broadcast_shapes(self.shape(), other.shape(), OP)?;
        let widen = |v: &Var| {
            if v.shape() == &shape[..] {
                v.clone()
            } else {
                v.broadcast_to(&shape)
            }
        };
        let (a, b) = (widen(self), widen(other));
        let axis = axis.resolve(shape.len(), OP)?;
        let lanes = Lanes::along(&shape, axis);
        let mut out_shape = shape.to_vec();
        out_shape.remove(axis);
        let (xa, xb) = (a.value().values(), b.value().values());
        // Per lane: the two norms (kept for backward) and the cosine.
        let count = out_shape.iter().product();
        let mut norms = Vec::with_capacity(count);
        let mut cos = Vec::with_capacity(count);
        for r in 0..count {
            let (mut ab, mut aa, mut bb) = (0.0f32, 0.0f32, 0.0f32);
            for i in lanes.indices(r) {
                ab += xa[i] * xb[i];
                aa += xa[i] * xa[i];
                bb += xb[i] * xb[i];
            }
            let (na, nb) = (aa.sqrt(), bb.sqrt());
            norms.push((na, nb));
            cos.push(ab / (na.max(eps) * nb.max(eps)));
        }
        let value = Tensor::from_vec(cos, &out_shape);
        Ok(Var::from_op(OP, value, &[&a, &b], move |args| {
            // PyTorch clamps the norms outside the graph, so its gradient is that of
            // cos = Σ a·b / (c_a·c_b), c = max(‖·‖, eps), with ∂c/∂a = a/‖a‖ (0 for a zero
            // vector) even below eps: ∂cos/∂a = b/(c_a·c_b) − cos·a/(c_a·‖a‖), and alike for b.
            let (xa, xb) = (args.input(0).values(), args.input(1).values());
            let (upstream, cos) = (args.grad().values(), args.output().values());
            let (mut ga, mut gb) = (vec![0.0f32; xa.len()], vec![0.0f32; xb.len()]);
            let pull = |norm: f32, clamped: f32, cos: f32| {
                if norm > 0.0 {
                    cos / (clamped * norm)
                } else {
                    0.0
                }
            };
            for (r, &(na, nb)) in norms.iter().enumerate() {
                let (ca, cb) = (na.max(eps), nb.max(eps));
                let (cross, pa, pb) = (1.0 / (ca * cb), pull(na, ca, cos[r]), pull(nb, cb, cos[r]));
                for i in lanes.indices(r) {
                    ga[i] = upstream[r] * (xb[i] * cross - xa[i] * pa);
                    gb[i] = upstream[r] * (xa[i] * cross - xb[i] * pb);
                }
            }
            let shape = args.input(0).shape();
            smallvec![
                args.needs(0).then(|| Tensor::from_vec(ga, shape)),
                args.needs(1).then(|| Tensor::from_vec(gb, shape))
            ]
        }))
    }
}
