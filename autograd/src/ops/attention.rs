//! The softmax of attention scores, in which blocked (`−∞`) keys get exactly zero weight.

use crate::var::Var;
use smallvec::smallvec;
use strata_tensor::Tensor;

impl Var {
    /// Softmax over the last axis in which `−∞` scores get exactly zero weight and a row of
    /// only `−∞` gives all zeros (instead of the NaN of `−∞ − (−∞)`). Zero weights pass back
    /// zero gradient, so a blocked key never influences a query, not even through rounding.
    /// Fused because the plain softmax cannot express the all-blocked row.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    /// let scores = Var::constant(Tensor::from_vec(vec![0.0, f32::NEG_INFINITY], &[1, 2]));
    /// assert_eq!(scores.softmax_skipping_blocked().value().to_vec(), vec![1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn softmax_skipping_blocked(&self) -> Var {
        let s = if self.ndim() == 0 {
            1
        } else {
            self.shape()[self.ndim() - 1]
        };
        let x = self.value().values();
        let mut y = vec![0.0; x.len()];
        for (row, out) in x.chunks(s.max(1)).zip(y.chunks_mut(s.max(1))) {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            if max == f32::NEG_INFINITY {
                continue; // every key blocked: zero weights
            }
            let mut sum = 0.0;
            for (o, &v) in out.iter_mut().zip(row) {
                *o = (v - max).exp();
                sum += *o;
            }
            out.iter_mut().for_each(|o| *o /= sum);
        }
        let value = Tensor::from_vec(y, self.shape());
        Var::from_op("attention_softmax", value, &[self], move |a| {
            // dx = y ⊙ (g − Σ g⊙y), row by row.
            let (g, y) = (a.grad().values(), a.output().values());
            let mut dx = vec![0.0; y.len()];
            for ((d, g), y) in dx
                .chunks_mut(s.max(1))
                .zip(g.chunks(s.max(1)))
                .zip(y.chunks(s.max(1)))
            {
                let dot: f32 = g.iter().zip(y).map(|(g, y)| g * y).sum();
                for ((d, &g), &y) in d.iter_mut().zip(g).zip(y) {
                    *d = y * (g - dot);
                }
            }
            smallvec![Some(Tensor::from_vec(dx, a.input(0).shape()))]
        })
    }
}
