//! The terms of the Kullback–Leibler divergence, element by element.

use super::check_input_target_shapes;
use crate::var::Var;
use smallvec::smallvec;
use strata_tensor::{expect_ok, Result};

impl Var {
    /// The terms `p·(ln p − ln q)` of `KL(p ‖ q)`, from these log-probabilities `ln q` of a
    /// model and a target distribution `p` (one shape); terms with `p = 0` are 0. Fused so
    /// that `p = 0` gives 0 and gradient 0 (a composed `p·ln p` would give `0·(−∞)`);
    /// gradients reach both inputs.
    #[track_caller]
    pub fn kl_div_terms(&self, p: &Var) -> Var {
        expect_ok(self.try_kl_div_terms(p))
    }

    /// Fallible [`Var::kl_div_terms`].
    #[track_caller]
    pub fn try_kl_div_terms(&self, p: &Var) -> Result<Var> {
        check_input_target_shapes("kl_div", self, p)?;
        let value = p.value().zip_map(
            self.value(),
            |p, lq| if p > 0.0 { p * (p.ln() - lq) } else { 0.0 },
        );
        Ok(Var::from_op("kl_div", value, &[self, p], |a| {
            let (lq, p) = (a.input(0), a.input(1));
            smallvec![
                a.needs(0).then(|| a.grad().mul(p).neg()),
                a.needs(1)
                    .then(|| a.grad().mul(&p.zip_map(lq, |p, lq| if p > 0.0 {
                        p.ln() + 1.0 - lq
                    } else {
                        0.0
                    })))
            ]
        }))
    }
}
