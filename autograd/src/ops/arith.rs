//! Broadcasting arithmetic: add, sub, mul, div, pow, maximum, minimum, select by mask, and the
//! scalar forms. The gradient of a broadcast operand is summed back to its shape.

use super::{expect_ok, sum_to_shape};
use crate::var::{BackwardArgs, Var};
use smallvec::smallvec;
use strata_tensor::{Result, Tensor};

/// The gradient for input `i` of a broadcasting op, `local` being ∂out/∂input · grad at full size.
fn reduced(a: &BackwardArgs<'_>, i: usize, local: impl FnOnce() -> Tensor) -> Option<Tensor> {
    a.needs(i)
        .then(|| sum_to_shape(&local(), a.input(i).shape()))
}

impl Var {
    /// `self + other`, broadcasting.
    #[track_caller]
    pub fn add(&self, other: &Var) -> Var {
        expect_ok(self.try_add(other))
    }

    /// Fallible [`Var::add`].
    #[track_caller]
    pub fn try_add(&self, other: &Var) -> Result<Var> {
        let value = self.value().try_add(other.value())?;
        Ok(Var::from_op("add", value, &[self, other], |a| {
            smallvec![
                reduced(a, 0, || a.grad.clone()),
                reduced(a, 1, || a.grad.clone())
            ]
        }))
    }

    /// `self - other`, broadcasting.
    #[track_caller]
    pub fn sub(&self, other: &Var) -> Var {
        expect_ok(self.try_sub(other))
    }

    /// Fallible [`Var::sub`].
    #[track_caller]
    pub fn try_sub(&self, other: &Var) -> Result<Var> {
        let value = self.value().try_sub(other.value())?;
        Ok(Var::from_op("sub", value, &[self, other], |a| {
            smallvec![
                reduced(a, 0, || a.grad.clone()),
                reduced(a, 1, || a.grad.neg())
            ]
        }))
    }

    /// `self * other` element-wise, broadcasting.
    #[track_caller]
    pub fn mul(&self, other: &Var) -> Var {
        expect_ok(self.try_mul(other))
    }

    /// Fallible [`Var::mul`].
    #[track_caller]
    pub fn try_mul(&self, other: &Var) -> Result<Var> {
        let value = self.value().try_mul(other.value())?;
        Ok(Var::from_op("mul", value, &[self, other], |a| {
            smallvec![
                reduced(a, 0, || a.grad.mul(a.input(1))),
                reduced(a, 1, || a.grad.mul(a.input(0)))
            ]
        }))
    }

    /// `self / other` element-wise, broadcasting.
    #[track_caller]
    pub fn div(&self, other: &Var) -> Var {
        expect_ok(self.try_div(other))
    }

    /// Fallible [`Var::div`].
    #[track_caller]
    pub fn try_div(&self, other: &Var) -> Result<Var> {
        let value = self.value().try_div(other.value())?;
        Ok(Var::from_op("div", value, &[self, other], |a| {
            // d(x/y)/dx = 1/y, d(x/y)/dy = −(x/y)/y.
            smallvec![
                reduced(a, 0, || a.grad.div(a.input(1))),
                reduced(a, 1, || a.grad.mul(a.output).div(a.input(1)).neg())
            ]
        }))
    }

    /// `self` raised to the power `exponent` element-wise, broadcasting (`torch.pow` of two
    /// tensors). As in PyTorch, the base's gradient `y·xʸ⁻¹` is 0 where `y = 0`, and the
    /// exponent's gradient `xʸ·ln x` is 0 where `x = 0` and `y ≥ 0`.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    /// let x = Var::leaf(Tensor::from_vec(vec![2.0, 3.0], &[2]));
    /// let y = Var::leaf(Tensor::from_vec(vec![3.0, 2.0], &[2]));
    /// let grads = x.pow(&y).sum().backward().unwrap();
    /// assert_eq!(grads.get(&x).unwrap().to_vec(), vec![12.0, 6.0]); // y·x^(y−1)
    /// ```
    #[track_caller]
    pub fn pow(&self, exponent: &Var) -> Var {
        expect_ok(self.try_pow(exponent))
    }

    /// Fallible [`Var::pow`].
    #[track_caller]
    pub fn try_pow(&self, exponent: &Var) -> Result<Var> {
        let value = self.value().try_pow(exponent.value())?;
        Ok(Var::from_op("pow", value, &[self, exponent], |a| {
            let (x, y) = (a.input(0), a.input(1));
            let zero = Tensor::scalar(0.0);
            smallvec![
                reduced(a, 0, || {
                    let local = y.mul(&x.pow(&y.add_scalar(-1.0)));
                    a.grad.mul(&Tensor::select(&y.eq(&zero), &zero, &local))
                }),
                reduced(a, 1, || {
                    let local = a.output.mul(&x.log());
                    let zero_base = x.eq(&zero).mul(&y.ge(&zero));
                    a.grad.mul(&Tensor::select(&zero_base, &zero, &local))
                })
            ]
        }))
    }

    /// The larger element of `self` and `other`, broadcasting; on ties the gradient is split.
    #[track_caller]
    pub fn maximum(&self, other: &Var) -> Var {
        expect_ok(self.try_extremum(other, "maximum", Tensor::try_maximum, Tensor::gt))
    }

    /// Fallible [`Var::maximum`].
    #[track_caller]
    pub fn try_maximum(&self, other: &Var) -> Result<Var> {
        self.try_extremum(other, "maximum", Tensor::try_maximum, Tensor::gt)
    }

    /// The smaller element of `self` and `other`, broadcasting; on ties the gradient is split.
    #[track_caller]
    pub fn minimum(&self, other: &Var) -> Var {
        expect_ok(self.try_extremum(other, "minimum", Tensor::try_minimum, Tensor::lt))
    }

    /// Fallible [`Var::minimum`].
    #[track_caller]
    pub fn try_minimum(&self, other: &Var) -> Result<Var> {
        self.try_extremum(other, "minimum", Tensor::try_minimum, Tensor::lt)
    }

    /// Shared body of maximum/minimum: `wins(a, b)` is 1 where `a` is picked strictly.
    #[track_caller]
    fn try_extremum(
        &self,
        other: &Var,
        name: &'static str,
        pick: fn(&Tensor, &Tensor) -> Result<Tensor>,
        wins: fn(&Tensor, &Tensor) -> Tensor,
    ) -> Result<Var> {
        let value = pick(self.value(), other.value())?;
        Ok(Var::from_op(name, value, &[self, other], move |a| {
            // Share of the gradient each side gets: 1 if it wins, 1/2 on a tie, 0 if it loses.
            let share = |x: &Tensor, y: &Tensor| wins(x, y).add(&x.eq(y).mul_scalar(0.5));
            smallvec![
                reduced(a, 0, || a.grad.mul(&share(a.input(0), a.input(1)))),
                reduced(a, 1, || a.grad.mul(&share(a.input(1), a.input(0))))
            ]
        }))
    }

    /// `on_true` where `mask` is non-zero, `on_false` elsewhere (all three broadcast).
    #[track_caller]
    pub fn select(mask: &Tensor, on_true: &Var, on_false: &Var) -> Var {
        expect_ok(Self::try_select(mask, on_true, on_false))
    }

    /// Fallible [`Var::select`].
    #[track_caller]
    pub fn try_select(mask: &Tensor, on_true: &Var, on_false: &Var) -> Result<Var> {
        let value = Tensor::try_select(mask, on_true.value(), on_false.value())?;
        let mask = mask.clone();
        Ok(Var::from_op(
            "select",
            value,
            &[on_true, on_false],
            move |a| {
                let zero = Tensor::scalar(0.0);
                smallvec![
                    reduced(a, 0, || Tensor::select(&mask, a.grad, &zero)),
                    reduced(a, 1, || Tensor::select(&mask, &zero, a.grad))
                ]
            },
        ))
    }

    /// `self + c`.
    #[track_caller]
    pub fn add_scalar(&self, c: f32) -> Var {
        Var::from_op("add_scalar", self.value().add_scalar(c), &[self], |a| {
            smallvec![Some(a.grad.clone())]
        })
    }

    /// `self · c`.
    #[track_caller]
    pub fn mul_scalar(&self, c: f32) -> Var {
        Var::from_op(
            "mul_scalar",
            self.value().mul_scalar(c),
            &[self],
            move |a| smallvec![Some(a.grad.mul_scalar(c))],
        )
    }

    /// `−self`.
    #[track_caller]
    pub fn neg(&self) -> Var {
        Var::from_op("neg", self.value().neg(), &[self], |a| {
            smallvec![Some(a.grad.neg())]
        })
    }
}
