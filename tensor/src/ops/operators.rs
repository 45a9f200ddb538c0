//! Arithmetic operators on tensors (`&a + &b`, `&a * 2.0`, `-&a`), each a thin call to the
//! broadcasting method of the same name; shape mismatches panic at the caller's line.

use crate::Tensor;
use std::ops::{Add, Div, Mul, Neg, Sub};

macro_rules! tensor_operator {
    ($trait:ident, $method:ident, $scalar:expr) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$method(self, rhs)
            }
        }

        impl $trait<Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                Tensor::$method(&self, &rhs)
            }
        }

        impl $trait<&Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$method(&self, rhs)
            }
        }

        impl $trait<f32> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f32) -> Tensor {
                let f: fn(f32, f32) -> f32 = $scalar;
                self.map(|x| f(x, rhs))
            }
        }

        impl $trait<f32> for Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f32) -> Tensor {
                <&Tensor as $trait<f32>>::$method(&self, rhs)
            }
        }
    };
}

tensor_operator!(Add, add, |x, c| x + c);
tensor_operator!(Sub, sub, |x, c| x - c);
tensor_operator!(Mul, mul, |x, c| x * c);
tensor_operator!(Div, div, |x, c| x / c);

impl Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}

impl Neg for Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(&self)
    }
}
