//! Element-wise maps with NumPy broadcasting: unary math, binary arithmetic, comparisons,
//! masked select. Large tensors are split across threads; small ones stay on one.

use crate::buffer_pool;
use crate::error::{expect_ok, Result};
use crate::parallel::{chunk_len, for_each_block, parallel_elements, PAR_MIN_ELEMENTS};
use crate::shape::{broadcast_shapes, Dims};
use crate::strided::Plan;
use crate::Tensor;
use smallvec::SmallVec;

/// Fills a fresh contiguous output row by row; `row_fn(out, offsets)` gets a run of output
/// elements that lies within one row and where that run starts in every operand. Large
/// outputs are cut into equal chunks spread over the threads, even when they are a single
/// contiguous row.
fn fill_rows<const K: usize>(
    shape: Dims,
    plan: &Plan<K>,
    row_fn: impl Fn(&mut [f32], [usize; K]) + Sync,
) -> Tensor {
    let total = plan.rows() * plan.inner_len;
    let mut out = buffer_pool::take(total);
    if parallel_elements(total) {
        let chunk = chunk_len(total, PAR_MIN_ELEMENTS / 4);
        for_each_block(total, chunk, [&mut out], |range, [out]| {
            plan.for_segments(range.start, out, &row_fn)
        });
    } else {
        plan.for_segments(0, &mut out, &row_fn);
    }
    Tensor::from_dims(out, shape)
}

/// Strides that read `t` as if it had shape `shape` (stride 0 on broadcast dimensions).
pub(crate) fn broadcast_strides(t: &Tensor, shape: &[usize]) -> SmallVec<[isize; 6]> {
    let lead = shape.len() - t.ndim();
    (0..shape.len())
        .map(|d| {
            if d < lead || t.shape()[d - lead] == 1 {
                0
            } else {
                t.strides()[d - lead]
            }
        })
        .collect()
}

impl Tensor {
    /// Applies `f` to every element.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let t = Tensor::from_vec(vec![1.0, -2.0], &[2]);
    /// assert_eq!(t.map(|x| x * x).to_vec(), vec![1.0, 4.0]);
    /// ```
    pub fn map(&self, f: impl Fn(f32) -> f32 + Sync) -> Tensor {
        let plan = Plan::new(self.shape(), [self.strides()], [self.offset()]);
        let src = self.buffer();
        let stride = plan.inner_strides[0];
        fill_rows(self.shape().into(), &plan, |out, [at]| {
            let len = out.len();
            if stride == 1 {
                for (o, &x) in out.iter_mut().zip(&src[at..at + len]) {
                    *o = f(x);
                }
            } else {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = f(src[(at as isize + i as isize * stride) as usize]);
                }
            }
        })
    }

    /// Combines two tensors element by element after broadcasting them to a common shape.
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let col = Tensor::from_vec(vec![1.0, 2.0], &[2, 1]);
    /// let row = Tensor::from_vec(vec![10.0, 20.0, 30.0], &[3]);
    /// let t = col.zip_map(&row, |a, b| a * b);
    /// assert_eq!(t.shape(), &[2, 3]);
    /// assert_eq!(t.to_vec(), vec![10.0, 20.0, 30.0, 20.0, 40.0, 60.0]);
    /// ```
    #[track_caller]
    pub fn zip_map(&self, other: &Tensor, f: impl Fn(f32, f32) -> f32 + Sync) -> Tensor {
        expect_ok(self.try_zip_map(other, f))
    }

    /// Fallible [`Tensor::zip_map`].
    pub fn try_zip_map(
        &self,
        other: &Tensor,
        f: impl Fn(f32, f32) -> f32 + Sync,
    ) -> Result<Tensor> {
        self.try_zip_with(other, "zip_map", f)
    }

    /// Broadcasting binary map; errors name `op` and both shapes.
    pub(crate) fn try_zip_with(
        &self,
        other: &Tensor,
        op: &'static str,
        f: impl Fn(f32, f32) -> f32 + Sync,
    ) -> Result<Tensor> {
        let shape = if self.shape() == other.shape() {
            self.shape().into()
        } else {
            broadcast_shapes(self.shape(), other.shape(), op)?
        };
        let (sa, sb) = (
            broadcast_strides(self, &shape),
            broadcast_strides(other, &shape),
        );
        let plan = Plan::new(&shape, [&sa, &sb], [self.offset(), other.offset()]);
        let (a, b) = (self.buffer(), other.buffer());
        let [stride_a, stride_b] = plan.inner_strides;
        Ok(fill_rows(shape, &plan, |out, [ia, ib]| {
            let len = out.len();
            match (stride_a, stride_b) {
                (1, 1) => {
                    for ((o, &x), &y) in out.iter_mut().zip(&a[ia..ia + len]).zip(&b[ib..ib + len])
                    {
                        *o = f(x, y);
                    }
                }
                (1, 0) => {
                    let y = b[ib];
                    for (o, &x) in out.iter_mut().zip(&a[ia..ia + len]) {
                        *o = f(x, y);
                    }
                }
                (0, 1) => {
                    let x = a[ia];
                    for (o, &y) in out.iter_mut().zip(&b[ib..ib + len]) {
                        *o = f(x, y);
                    }
                }
                _ => {
                    for (i, o) in out.iter_mut().enumerate() {
                        let i = i as isize;
                        *o = f(
                            a[(ia as isize + i * stride_a) as usize],
                            b[(ib as isize + i * stride_b) as usize],
                        );
                    }
                }
            }
        }))
    }

    /// Picks `on_true` where `mask` is non-zero and `on_false` elsewhere (all three broadcast).
    ///
    /// ```
    /// use strata_tensor::Tensor;
    /// let mask = Tensor::from_vec(vec![1.0, 0.0, 1.0], &[3]);
    /// let t = Tensor::select(&mask, &Tensor::ones(&[3]), &Tensor::scalar(-1.0));
    /// assert_eq!(t.to_vec(), vec![1.0, -1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn select(mask: &Tensor, on_true: &Tensor, on_false: &Tensor) -> Tensor {
        expect_ok(Self::try_select(mask, on_true, on_false))
    }

    /// Fallible [`Tensor::select`].
    pub fn try_select(mask: &Tensor, on_true: &Tensor, on_false: &Tensor) -> Result<Tensor> {
        let shape = broadcast_shapes(mask.shape(), on_true.shape(), "select")?;
        let shape = broadcast_shapes(&shape, on_false.shape(), "select")?;
        let strides = [mask, on_true, on_false].map(|t| broadcast_strides(t, &shape));
        let plan = Plan::new(
            &shape,
            [&strides[0], &strides[1], &strides[2]],
            [mask.offset(), on_true.offset(), on_false.offset()],
        );
        let (m, t, f) = (mask.buffer(), on_true.buffer(), on_false.buffer());
        let [sm, st, sf] = plan.inner_strides;
        Ok(fill_rows(shape, &plan, |out, [im, it, jf]| {
            for (i, o) in out.iter_mut().enumerate() {
                let i = i as isize;
                let at = |base: usize, stride: isize| (base as isize + i * stride) as usize;
                *o = if m[at(im, sm)] != 0.0 {
                    t[at(it, st)]
                } else {
                    f[at(jf, sf)]
                };
            }
        }))
    }
}

/// Declares broadcasting binary methods (`name` panics, `try_name` returns the error).
macro_rules! binary_ops {
    ($($(#[$doc:meta])* $name:ident, $try_name:ident, |$a:ident, $b:ident| $body:expr;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                #[track_caller]
                pub fn $name(&self, other: &Tensor) -> Tensor {
                    expect_ok(self.$try_name(other))
                }

                #[doc = concat!("Fallible [`Tensor::", stringify!($name), "`].")]
                pub fn $try_name(&self, other: &Tensor) -> Result<Tensor> {
                    self.try_zip_with(other, stringify!($name), |$a, $b| $body)
                }
            )*
        }
    };
}

fn mask(condition: bool) -> f32 {
    if condition {
        1.0
    } else {
        0.0
    }
}

binary_ops! {
    /// `self + other`, broadcasting.
    add, try_add, |a, b| a + b;
    /// `self - other`, broadcasting.
    sub, try_sub, |a, b| a - b;
    /// `self * other`, broadcasting.
    mul, try_mul, |a, b| a * b;
    /// `self / other`, broadcasting.
    div, try_div, |a, b| a / b;
    /// The larger of the two elements (NaN if either is NaN), broadcasting.
    maximum, try_maximum, |a, b| if a >= b || a.is_nan() { a } else { b };
    /// The smaller of the two elements (NaN if either is NaN), broadcasting.
    minimum, try_minimum, |a, b| if a <= b || a.is_nan() { a } else { b };
    /// `self` raised to the power `other`, broadcasting.
    pow, try_pow, |a, b| a.powf(b);
    /// 1 where `self == other`, else 0.
    eq, try_eq, |a, b| mask(a == b);
    /// 1 where `self != other`, else 0.
    ne, try_ne, |a, b| mask(a != b);
    /// 1 where `self < other`, else 0.
    lt, try_lt, |a, b| mask(a < b);
    /// 1 where `self <= other`, else 0.
    le, try_le, |a, b| mask(a <= b);
    /// 1 where `self > other`, else 0.
    gt, try_gt, |a, b| mask(a > b);
    /// 1 where `self >= other`, else 0.
    ge, try_ge, |a, b| mask(a >= b);
}

impl Tensor {
    /// `-x`.
    pub fn neg(&self) -> Tensor {
        self.map(|x| -x)
    }

    /// `eˣ`.
    pub fn exp(&self) -> Tensor {
        self.map(f32::exp)
    }

    /// Natural logarithm.
    pub fn log(&self) -> Tensor {
        self.map(f32::ln)
    }

    /// Square root.
    pub fn sqrt(&self) -> Tensor {
        self.map(f32::sqrt)
    }

    /// `x²`.
    pub fn square(&self) -> Tensor {
        self.map(|x| x * x)
    }

    /// `1 / x`.
    pub fn recip(&self) -> Tensor {
        self.map(f32::recip)
    }

    /// `xᵖ` for a scalar exponent.
    pub fn powf(&self, p: f32) -> Tensor {
        self.map(|x| x.powf(p))
    }

    /// `|x|`.
    pub fn abs(&self) -> Tensor {
        self.map(f32::abs)
    }

    /// The sign of `x`: -1, 0 or 1.
    pub fn sign(&self) -> Tensor {
        self.map(|x| if x == 0.0 { 0.0 } else { x.signum() })
    }

    /// Each element clamped into `[min, max]`.
    pub fn clamp(&self, min: f32, max: f32) -> Tensor {
        self.map(|x| x.max(min).min(max))
    }

    /// `max(x, 0)`.
    pub fn relu(&self) -> Tensor {
        self.map(|x| x.max(0.0))
    }

    /// `1 / (1 + e⁻ˣ)`, computed without overflow for large |x|.
    pub fn sigmoid(&self) -> Tensor {
        self.map(sigmoid)
    }

    /// Hyperbolic tangent.
    pub fn tanh(&self) -> Tensor {
        self.map(f32::tanh)
    }

    /// `x + c`.
    pub fn add_scalar(&self, c: f32) -> Tensor {
        self.map(|x| x + c)
    }

    /// `x · c`.
    pub fn mul_scalar(&self, c: f32) -> Tensor {
        self.map(|x| x * c)
    }
}

/// The logistic function, stable for large |x|.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Softplus `ln(1 + eˣ)`, without overflow for large `x` or loss of precision for very
/// negative `x`.
pub fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}
