//! The backward pass: one walk over the recorded graph in reverse creation order, and the
//! store of gradients it returns.

use crate::error::AutogradError;
use crate::graph::{anomaly_detection, has_non_finite};
use crate::var::{BackwardArgs, Kind, Var, VarId};
use std::collections::hash_map::Entry;
use strata_tensor::int_hash::{IntMap, IntSet};
use strata_tensor::Tensor;

/// The gradients of one backward pass, keyed by tracked leaf. Each pass returns a fresh
/// store, so there is nothing to zero between training steps.
#[derive(Debug, Clone, Default)]
pub struct Gradients {
    grads: IntMap<VarId, Tensor>,
}

impl Gradients {
    /// The gradient of a tracked leaf, or `None` if it did not take part.
    pub fn get(&self, leaf: &Var) -> Option<&Tensor> {
        self.grads.get(&leaf.id())
    }

    /// The gradient of a tracked leaf, with an error saying why there is none.
    pub fn try_get(&self, leaf: &Var) -> Result<&Tensor, AutogradError> {
        if !leaf.is_leaf() {
            return Err(AutogradError::NotTrackedLeaf);
        }
        self.get(leaf).ok_or(AutogradError::NoGradient)
    }

    /// The gradient stored for a leaf identity.
    pub fn get_by_id(&self, id: VarId) -> Option<&Tensor> {
        self.grads.get(&id)
    }

    /// Mutable access to the gradient stored for a leaf identity (to rescale or all-reduce it).
    pub fn get_mut_by_id(&mut self, id: VarId) -> Option<&mut Tensor> {
        self.grads.get_mut(&id)
    }

    /// Stores (or replaces) the gradient of a leaf identity.
    pub fn insert(&mut self, id: VarId, grad: Tensor) {
        self.grads.insert(id, grad);
    }

    /// Takes the gradient of a leaf out of the store.
    pub fn remove(&mut self, leaf: &Var) -> Option<Tensor> {
        self.grads.remove(&leaf.id())
    }

    /// Number of leaves with a gradient.
    pub fn len(&self) -> usize {
        self.grads.len()
    }

    /// Whether no leaf has a gradient.
    pub fn is_empty(&self) -> bool {
        self.grads.is_empty()
    }

    /// The stored gradients, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (VarId, &Tensor)> {
        self.grads.iter().map(|(&id, g)| (id, g))
    }

    /// The stored gradients, mutably (to rescale, clip or all-reduce them in place).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (VarId, &mut Tensor)> {
        self.grads.iter_mut().map(|(&id, g)| (id, g))
    }

    /// Adds another pass's gradients into this one (gradient accumulation).
    pub fn accumulate(&mut self, other: Gradients) {
        for (id, grad) in other.grads {
            add_into(&mut self.grads, id, grad);
        }
    }
}

/// Adds `grad` to the entry of `id`, storing it as is when it is the first.
fn add_into(grads: &mut IntMap<VarId, Tensor>, id: VarId, grad: Tensor) {
    match grads.entry(id) {
        Entry::Vacant(slot) => {
            slot.insert(grad);
        }
        Entry::Occupied(mut slot) => {
            let sum = slot.get_mut();
            if sum.shape() == grad.shape() {
                let addend = grad.values();
                for (s, &g) in sum.data_mut().iter_mut().zip(addend.iter()) {
                    *s += g;
                }
            } else {
                *sum = sum.add(&grad);
            }
        }
    }
}

impl Var {
    /// Differentiates this scalar with respect to every tracked leaf it depends on, then frees
    /// the graph (a second call errs with [`AutogradError::GraphFreed`]).
    pub fn backward(&self) -> Result<Gradients, AutogradError> {
        self.backward_from(None, false, None)
    }

    /// Like [`Var::backward`], but keeps the graph so it can be differentiated again.
    pub fn backward_retain(&self) -> Result<Gradients, AutogradError> {
        self.backward_from(None, true, None)
    }

    /// Backward from a non-scalar value, given the gradient of the loss with respect to it.
    pub fn backward_with_seed(&self, seed: &Tensor) -> Result<Gradients, AutogradError> {
        self.backward_from(Some(seed), false, None)
    }

    /// Like [`Var::backward`], and calls `ready(leaf, gradient)` once for each tracked leaf
    /// that receives a gradient, as soon as that gradient is final: right after the last op
    /// that uses the leaf has sent its gradient back, while the pass goes on with the ops
    /// recorded before it. Layers thus report their parameters' gradients in reverse order
    /// of use, which lets a data-parallel trainer start exchanging the last layers' gradients
    /// while the first layers' are still being computed. The returned store holds the same
    /// gradients as [`Var::backward`]'s, bit for bit.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    /// let w1 = Var::leaf(Tensor::from_vec(vec![2.0], &[1]));
    /// let w2 = Var::leaf(Tensor::from_vec(vec![3.0], &[1]));
    /// let x = Var::constant(Tensor::from_vec(vec![5.0], &[1]));
    /// let loss = (&(&x * &w1) * &w2).sum(); // w2 is used last, so it is ready first
    /// let mut seen = Vec::new();
    /// let grads = loss.backward_with_ready(&mut |id, g| seen.push((id, g.to_vec()))).unwrap();
    /// assert_eq!(seen, vec![(w2.id(), vec![10.0]), (w1.id(), vec![15.0])]);
    /// assert_eq!(grads.get(&w1).unwrap().to_vec(), vec![15.0]);
    /// ```
    pub fn backward_with_ready(
        &self,
        ready: &mut dyn FnMut(VarId, &Tensor),
    ) -> Result<Gradients, AutogradError> {
        self.backward_from(None, false, Some(ready))
    }

    fn backward_from(
        &self,
        seed: Option<&Tensor>,
        retain: bool,
        ready: Option<ReadyCallback<'_>>,
    ) -> Result<Gradients, AutogradError> {
        let seed = match seed {
            Some(seed) if seed.shape() != self.shape() => {
                return Err(AutogradError::SeedShape {
                    expected: self.shape().to_vec(),
                    found: seed.shape().to_vec(),
                })
            }
            Some(seed) => seed.clone(),
            None if self.numel() != 1 => {
                return Err(AutogradError::NotScalar {
                    shape: self.shape().to_vec(),
                })
            }
            None => Tensor::ones(self.shape()),
        };
        if !self.is_tracked() {
            return Err(AutogradError::Untracked);
        }
        let order = self.graph_in_reverse_order()?;
        // Only when asked: which leaves become final after each node.
        let mut ready = ready.map(|callback| (callback, last_uses(&order)));
        let mut pending: IntMap<VarId, Tensor> = IntMap::default();
        pending.reserve(order.len() + 1);
        pending.insert(self.id(), seed);
        for (position, node) in order.into_iter().enumerate() {
            propagate(&node, &mut pending, retain)?;
            if let Some((callback, last_uses)) = ready.as_mut() {
                for leaf in &last_uses[position] {
                    if let Some(grad) = pending.get(leaf) {
                        callback(*leaf, grad);
                    }
                }
            }
        }
        if let (Some((callback, _)), true) = (ready, self.is_leaf()) {
            callback(self.id(), &pending[&self.id()]);
        }
        Ok(Gradients { grads: pending })
    }

    /// Every recorded node this value depends on (itself included), latest first. Fails if
    /// part of the graph was freed by an earlier backward.
    fn graph_in_reverse_order(&self) -> Result<Vec<Var>, AutogradError> {
        let mut seen = IntSet::default();
        let mut stack = vec![self.clone()];
        let mut order = Vec::new();
        seen.insert(self.id());
        while let Some(var) = stack.pop() {
            if let Kind::Op { name, grad_fn } = &var.0.kind {
                let slot = grad_fn
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let grad_fn = slot
                    .as_ref()
                    .ok_or(AutogradError::GraphFreed { op: name })?;
                for input in &grad_fn.inputs {
                    if input.is_tracked() && seen.insert(input.id()) {
                        stack.push(input.clone());
                    }
                }
                drop(slot);
                order.push(var);
            }
        }
        // Inputs are always created before the ops that use them.
        order.sort_unstable_by_key(|v| std::cmp::Reverse(v.id()));
        Ok(order)
    }
}

/// What [`Var::backward_with_ready`] calls for each finished leaf gradient.
type ReadyCallback<'a> = &'a mut dyn FnMut(VarId, &Tensor);

/// Sends the gradient pending for op `node` (if any reached it) back to its inputs.
fn propagate(
    node: &Var,
    pending: &mut IntMap<VarId, Tensor>,
    retain: bool,
) -> Result<(), AutogradError> {
    let Kind::Op { name, grad_fn } = &node.0.kind else {
        return Ok(());
    };
    let Some(grad) = pending.remove(&node.id()) else {
        return Ok(());
    };
    let mut slot = grad_fn
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let recorded = if retain { None } else { slot.take() };
    let Some(grad_fn) = recorded.as_ref().or(slot.as_ref()) else {
        return Err(AutogradError::GraphFreed { op: name });
    };
    let args = BackwardArgs {
        grad: &grad,
        inputs: &grad_fn.inputs,
        output: node.value(),
    };
    let input_grads = (grad_fn.backward)(&args);
    for (input, input_grad) in grad_fn.inputs.iter().zip(input_grads) {
        let Some(input_grad) = input_grad.filter(|_| input.is_tracked()) else {
            continue;
        };
        assert_eq!(
            input_grad.shape(),
            input.shape(),
            "internal error: backward of `{name}` returned a gradient of the wrong shape"
        );
        if anomaly_detection() && has_non_finite(&input_grad) {
            return Err(AutogradError::Anomaly {
                op: name,
                input_shapes: grad_fn.inputs.iter().map(|v| v.shape().to_vec()).collect(),
            });
        }
        add_into(pending, input.id(), input_grad);
    }
    Ok(())
}

/// For each position of `order` (latest op first), the tracked leaves whose last use in the
/// backward walk is that op: their gradients are final once it has run.
fn last_uses(order: &[Var]) -> Vec<Vec<VarId>> {
    let mut seen = IntSet::default();
    let mut last = vec![Vec::new(); order.len()];
    for (position, node) in order.iter().enumerate().rev() {
        let Kind::Op { grad_fn, .. } = &node.0.kind else {
            continue;
        };
        let slot = grad_fn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for input in slot.iter().flat_map(|g| g.inputs.iter()) {
            if input.is_leaf() && seen.insert(input.id()) {
                last[position].push(input.id());
            }
        }
    }
    last
}
