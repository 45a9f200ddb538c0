//! Element-wise functions. Each backward multiplies the incoming gradient by the function's
//! derivative, written in terms of the saved input `x` or output `y`.

use crate::var::Var;
use smallvec::smallvec;
use strata_tensor::{sigmoid, Tensor};

/// √(2/π)·… constants of the exact GELU: 1/√2 and 1/√(2π).
const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;

/// Standard normal cumulative distribution Φ(x).
fn normal_cdf(x: f32) -> f32 {
    0.5 * (1.0 + libm::erff(x * FRAC_1_SQRT_2))
}

impl Var {
    /// An element-wise op whose gradient is `grad · derivative(saved)`.
    #[track_caller]
    fn elementwise(
        &self,
        name: &'static str,
        value: Tensor,
        saved: Tensor,
        derivative: impl Fn(f32) -> f32 + Send + Sync + 'static,
    ) -> Var {
        Var::from_op(name, value, &[self], move |a| {
            smallvec![Some(a.grad.zip_map(&saved, |g, s| g * derivative(s)))]
        })
    }

    /// `eˣ`; derivative `y`.
    #[track_caller]
    pub fn exp(&self) -> Var {
        let y = self.value().exp();
        self.elementwise("exp", y.clone(), y, |y| y)
    }

    /// Natural logarithm; derivative `1/x`.
    #[track_caller]
    pub fn log(&self) -> Var {
        self.elementwise("log", self.value().log(), self.value().clone(), |x| 1.0 / x)
    }

    /// Square root; derivative `1/(2y)`.
    #[track_caller]
    pub fn sqrt(&self) -> Var {
        let y = self.value().sqrt();
        self.elementwise("sqrt", y.clone(), y, |y| 0.5 / y)
    }

    /// `x²`; derivative `2x`.
    #[track_caller]
    pub fn square(&self) -> Var {
        self.elementwise("square", self.value().square(), self.value().clone(), |x| {
            2.0 * x
        })
    }

    /// `xᵖ`; derivative `p·xᵖ⁻¹`.
    #[track_caller]
    pub fn powf(&self, p: f32) -> Var {
        self.elementwise(
            "powf",
            self.value().powf(p),
            self.value().clone(),
            move |x| p * x.powf(p - 1.0),
        )
    }

    /// `|x|`; derivative `sign(x)` (0 at 0).
    #[track_caller]
    pub fn abs(&self) -> Var {
        self.elementwise("abs", self.value().abs(), self.value().clone(), |x| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        })
    }

    /// `x` clamped into `[min, max]`; the gradient passes where `min ≤ x ≤ max`.
    #[track_caller]
    pub fn clamp(&self, min: f32, max: f32) -> Var {
        let value = self.value().clamp(min, max);
        self.elementwise("clamp", value, self.value().clone(), move |x| {
            if (min..=max).contains(&x) {
                1.0
            } else {
                0.0
            }
        })
    }

    /// Logistic sigmoid; derivative `y(1 − y)`.
    #[track_caller]
    pub fn sigmoid(&self) -> Var {
        let y = self.value().sigmoid();
        self.elementwise("sigmoid", y.clone(), y, |y| y * (1.0 - y))
    }

    /// Hyperbolic tangent; derivative `1 − y²`.
    #[track_caller]
    pub fn tanh(&self) -> Var {
        let y = self.value().tanh();
        self.elementwise("tanh", y.clone(), y, |y| 1.0 - y * y)
    }

    /// `max(x, 0)`; derivative 1 where `x > 0`.
    #[track_caller]
    pub fn relu(&self) -> Var {
        let y = self.value().relu();
        self.elementwise("relu", y.clone(), y, |y| if y > 0.0 { 1.0 } else { 0.0 })
    }

    /// `x` where `x > 0`, else `slope·x`.
    #[track_caller]
    pub fn leaky_relu(&self, slope: f32) -> Var {
        let value = self
            .value()
            .map(move |x| if x > 0.0 { x } else { slope * x });
        self.elementwise("leaky_relu", value, self.value().clone(), move |x| {
            if x > 0.0 {
                1.0
            } else {
                slope
            }
        })
    }

    /// GELU, exact form `x·Φ(x)` (PyTorch's default); derivative `Φ(x) + x·φ(x)`.
    #[track_caller]
    pub fn gelu(&self) -> Var {
        let value = self.value().map(|x| x * normal_cdf(x));
        self.elementwise("gelu", value, self.value().clone(), |x| {
            normal_cdf(x) + x * FRAC_1_SQRT_2PI * (-0.5 * x * x).exp()
        })
    }

    /// Softplus `ln(1 + eˣ)`, computed stably; derivative `sigmoid(x)`.
    #[track_caller]
    pub fn softplus(&self) -> Var {
        let value = self.value().map(|x| x.max(0.0) + (-x.abs()).exp().ln_1p());
        self.elementwise("softplus", value, self.value().clone(), sigmoid)
    }
}
