//! Element-wise functions. Each backward multiplies the incoming gradient by the function's
//! derivative, written in terms of the saved input `x` or output `y`.

use crate::var::Var;
use smallvec::smallvec;
use strata_tensor::{sigmoid, softplus, Tensor};

/// √(2/π)·… constants of the exact GELU: 1/√2 and 1/√(2π).
const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;

/// √(2/π) and the cubic coefficient of GELU's tanh approximation.
const SQRT_2_OVER_PI: f32 = 0.797_884_6;
const GELU_CUBIC: f32 = 0.044_715;

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

    /// GELU, tanh approximation `½x(1 + tanh(√(2/π)(x + 0.044715x³)))` (PyTorch's
    /// `approximate="tanh"`); derivative `½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)`.
    #[track_caller]
    pub fn gelu_tanh(&self) -> Var {
        let inner = |x: f32| (SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)).tanh();
        let value = self.value().map(move |x| 0.5 * x * (1.0 + inner(x)));
        self.elementwise("gelu_tanh", value, self.value().clone(), move |x| {
            let t = inner(x);
            let slope = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * x * x);
            0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * slope
        })
    }

    /// SiLU (swish) `x·σ(x)`; derivative `σ(x)(1 + x(1 − σ(x)))`.
    #[track_caller]
    pub fn silu(&self) -> Var {
        let value = self.value().map(|x| x * sigmoid(x));
        self.elementwise("silu", value, self.value().clone(), |x| {
            let s = sigmoid(x);
            s * (1.0 + x * (1.0 - s))
        })
    }

    /// Mish `x·tanh(softplus(x))`; derivative `t + x(1 − t²)σ(x)` with `t = tanh(softplus(x))`.
    #[track_caller]
    pub fn mish(&self) -> Var {
        let value = self.value().map(|x| x * softplus(x).tanh());
        self.elementwise("mish", value, self.value().clone(), |x| {
            let t = softplus(x).tanh();
            t + x * (1.0 - t * t) * sigmoid(x)
        })
    }

    /// Softplus `ln(1 + eˣ)`, computed stably; derivative `sigmoid(x)`.
    #[track_caller]
    pub fn softplus(&self) -> Var {
        let value = self.value().map(softplus);
        self.elementwise("softplus", value, self.value().clone(), sigmoid)
    }
}
