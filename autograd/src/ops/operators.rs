//! Arithmetic operators on `Var` (`&a + &b`, `&a * 2.0`, `-&a`), each calling the method of
//! the same name; shape mismatches panic at the caller's line.

use crate::var::Var;
use std::ops::{Add, Div, Mul, Neg, Sub};

macro_rules! var_operator {
    ($trait:ident, $method:ident, |$v:ident, $c:ident| $scalar:expr) => {
        impl $trait<&Var> for &Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, rhs: &Var) -> Var {
                Var::$method(self, rhs)
            }
        }

        impl $trait<Var> for Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, rhs: Var) -> Var {
                Var::$method(&self, &rhs)
            }
        }

        impl $trait<f32> for &Var {
            type Output = Var;
            fn $method(self, $c: f32) -> Var {
                let $v = self;
                $scalar
            }
        }

        impl $trait<f32> for Var {
            type Output = Var;
            fn $method(self, $c: f32) -> Var {
                let $v = &self;
                $scalar
            }
        }
    };
}

var_operator!(Add, add, |v, c| v.add_scalar(c));
var_operator!(Sub, sub, |v, c| v.add_scalar(-c));
var_operator!(Mul, mul, |v, c| v.mul_scalar(c));
var_operator!(Div, div, |v, c| v.mul_scalar(1.0 / c));

impl Neg for &Var {
    type Output = Var;
    #[track_caller]
    fn neg(self) -> Var {
        Var::neg(self)
    }
}

impl Neg for Var {
    type Output = Var;
    #[track_caller]
    fn neg(self) -> Var {
        Var::neg(&self)
    }
}
