//! Joining and indexing: concat, stack, index_select, gather. Gradients slice the joined
//! gradient apart or scatter-add it back to the picked positions.

use super::expect_ok;
use crate::var::Var;
use strata_tensor::{Axis, Result, Tensor};

impl Var {
    /// Joins values along an existing axis.
    #[track_caller]
    pub fn concat<A: Axis>(vars: &[&Var], axis: A) -> Var {
        expect_ok(Self::try_concat(vars, axis))
    }

    /// Fallible [`Var::concat`].
    #[track_caller]
    pub fn try_concat<A: Axis>(vars: &[&Var], axis: A) -> Result<Var> {
        let values: Vec<&Tensor> = vars.iter().map(|v| v.value()).collect();
        let value = Tensor::try_concat(&values, axis)?;
        let axis = axis.resolve(value.ndim(), "concat")?;
        Ok(Var::from_op("concat", value, vars, move |a| {
            let mut start = 0;
            a.inputs
                .iter()
                .map(|input| {
                    let len = input.shape()[axis];
                    let part = a.grad.narrow(axis, start, len);
                    start += len;
                    input.is_tracked().then_some(part)
                })
                .collect()
        }))
    }

    /// Joins values of one shape along a new axis.
    #[track_caller]
    pub fn stack<A: Axis>(vars: &[&Var], axis: A) -> Var {
        expect_ok(Self::try_stack(vars, axis))
    }

    /// Fallible [`Var::stack`].
    #[track_caller]
    pub fn try_stack<A: Axis>(vars: &[&Var], axis: A) -> Result<Var> {
        let values: Vec<&Tensor> = vars.iter().map(|v| v.value()).collect();
        // Validates shapes and the axis with the tensor op's messages.
        let axis = axis.resolve(Tensor::try_stack(&values, axis)?.ndim(), "stack")?;
        let expanded = vars
            .iter()
            .map(|v| v.try_unsqueeze(axis))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&Var> = expanded.iter().collect();
        Self::try_concat(&refs, axis)
    }

    /// The slices at `indices` along `axis` (an embedding lookup on axis 0). Only the rows
    /// picked receive gradient.
    #[track_caller]
    pub fn index_select<A: Axis>(&self, axis: A, indices: &[usize]) -> Var {
        expect_ok(self.try_index_select(axis, indices))
    }

    /// Fallible [`Var::index_select`].
    #[track_caller]
    pub fn try_index_select<A: Axis>(&self, axis: A, indices: &[usize]) -> Result<Var> {
        let axis = axis.resolve(self.ndim(), "index_select")?;
        let value = self.value().try_index_select(axis, indices)?;
        let indices = indices.to_vec();
        Ok(Var::from_op("index_select", value, &[self], move |a| {
            let zeros = Tensor::zeros(a.input(0).shape());
            smallvec::smallvec![Some(zeros.index_add(axis, &indices, a.grad))]
        }))
    }

    /// Picks along `axis` the elements whose positions `index` holds (see `Tensor::gather`).
    #[track_caller]
    pub fn gather<A: Axis>(&self, axis: A, index: &Tensor) -> Var {
        expect_ok(self.try_gather(axis, index))
    }

    /// Fallible [`Var::gather`].
    #[track_caller]
    pub fn try_gather<A: Axis>(&self, axis: A, index: &Tensor) -> Result<Var> {
        let axis = axis.resolve(self.ndim(), "gather")?;
        let value = self.value().try_gather(axis, index)?;
        let index = index.clone();
        Ok(Var::from_op("gather", value, &[self], move |a| {
            let zeros = Tensor::zeros(a.input(0).shape());
            smallvec::smallvec![Some(zeros.scatter_add(axis, &index, a.grad))]
        }))
    }
}
