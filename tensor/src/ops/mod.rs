//! Tensor operations, grouped by kind.

pub mod elementwise;
pub mod index;
pub mod operators;
pub mod reduce;
pub mod shape_ops;
