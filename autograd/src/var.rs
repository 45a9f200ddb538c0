//! `Var`: a tensor that remembers the op that produced it, so gradients can flow back.

use crate::graph::{self, anomaly_detection, has_non_finite, is_grad_enabled};
use smallvec::SmallVec;
use std::fmt;
use std::sync::{Arc, Mutex};
use strata_tensor::Tensor;

/// The gradients a custom op's backward returns, one per input of the op (`None` where none
/// is needed); not to be confused with [`crate::Gradients`], the store `backward` fills.
pub type InputGrads = SmallVec<[Option<Tensor>; 2]>;

/// What a backward rule receives (see [`Var::from_op`]).
pub struct BackwardArgs<'a> {
    pub(crate) grad: &'a Tensor,
    pub(crate) inputs: &'a [Var],
    pub(crate) output: &'a Tensor,
}

impl BackwardArgs<'_> {
    /// Gradient of the loss with respect to the op's output.
    pub fn grad(&self) -> &Tensor {
        self.grad
    }

    /// The op's output value.
    pub fn output(&self) -> &Tensor {
        self.output
    }

    /// Number of inputs.
    pub fn num_inputs(&self) -> usize {
        self.inputs.len()
    }

    /// Whether input `i` wants a gradient (it leads to a tracked leaf); skip the work otherwise.
    pub fn needs(&self, i: usize) -> bool {
        self.inputs[i].is_tracked()
    }

    /// The value of input `i`.
    pub fn input(&self, i: usize) -> &Tensor {
        self.inputs[i].value()
    }
}

type BackwardFn = dyn Fn(&BackwardArgs<'_>) -> InputGrads + Send + Sync;

/// The recorded part of an op node: its inputs (the graph's edges) and its backward rule.
pub(crate) struct GradFn {
    pub(crate) inputs: SmallVec<[Var; 2]>,
    pub(crate) backward: Box<BackwardFn>,
}

pub(crate) enum Kind {
    /// An input or constant: no gradient.
    Constant,
    /// A tracked leaf (a parameter): gradients are collected for it.
    Leaf,
    /// The output of a recorded op; `grad_fn` is taken (freed) by `backward`.
    Op {
        name: &'static str,
        grad_fn: Mutex<Option<GradFn>>,
    },
}

pub(crate) struct Node {
    pub(crate) id: u64,
    pub(crate) value: Tensor,
    pub(crate) kind: Kind,
}

impl Drop for Node {
    /// Frees the graph behind this node iteratively, so dropping a long chain (an unrolled
    /// recurrent network) cannot overflow the stack.
    fn drop(&mut self) {
        let Kind::Op { grad_fn, .. } = &mut self.kind else {
            return;
        };
        graph::node_dropped();
        let mut stack: Vec<Var> = match take_grad_fn(grad_fn) {
            Some(g) => g.inputs.into_vec(),
            None => return,
        };
        while let Some(var) = stack.pop() {
            if let Ok(mut node) = Arc::try_unwrap(var.0) {
                if let Kind::Op { grad_fn, .. } = &mut node.kind {
                    if let Some(g) = take_grad_fn(grad_fn) {
                        stack.extend(g.inputs);
                    }
                }
            }
        }
    }
}

fn take_grad_fn(grad_fn: &mut Mutex<Option<GradFn>>) -> Option<GradFn> {
    grad_fn
        .get_mut()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take()
}

/// Identity of a `Var`, stable for a leaf across [`Var::update`]; keys the gradient store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(pub(crate) u64);

/// A tensor in a differentiable computation. Cheap to clone (a shared handle).
///
/// Leaves are either tracked ([`Var::leaf`], for parameters: gradients are collected for
/// them) or constants ([`Var::constant`], for inputs). Every op on a `Var` computes its value
/// at once and, when some input is tracked, records how to send gradients back; `backward`
/// then walks that record once.
///
/// ```
/// use strata_autograd::Var;
/// use strata_tensor::Tensor;
/// let w = Var::leaf(Tensor::from_vec(vec![2.0, -1.0], &[2]));
/// let x = Var::constant(Tensor::from_vec(vec![3.0, 4.0], &[2]));
/// let loss = (&w * &x).sum(); // 2·3 − 1·4 = 2
/// assert_eq!(loss.item(), 2.0);
/// let grads = loss.backward().unwrap();
/// assert_eq!(grads.get(&w).unwrap().to_vec(), vec![3.0, 4.0]);
/// ```
#[derive(Clone)]
pub struct Var(pub(crate) Arc<Node>);

impl Var {
    fn from_node(value: Tensor, kind: Kind) -> Self {
        Var(Arc::new(Node {
            id: graph::next_id(),
            value,
            kind,
        }))
    }

    /// A tracked leaf: a parameter whose gradient `backward` will report.
    pub fn leaf(value: Tensor) -> Self {
        Self::from_node(value, Kind::Leaf)
    }

    /// An untracked value (an input or a constant): no gradient flows into it.
    pub fn constant(value: Tensor) -> Self {
        Self::from_node(value, Kind::Constant)
    }

    /// Records the output of a custom op: `value` computed from `inputs`, and `backward`, which
    /// returns one gradient per input (`None` where [`BackwardArgs::needs`] is false). When
    /// recording is off or no input is tracked, the result is a constant and nothing is kept.
    /// Check a custom op with [`crate::gradcheck`].
    ///
    /// ```
    /// use strata_autograd::{gradcheck, Var};
    /// use strata_tensor::Tensor;
    /// use strata_autograd::smallvec;
    /// // cube(x) = x³, with its derivative 3x² written by hand.
    /// fn cube(x: &Var) -> Var {
    ///     let value = x.value().powf(3.0);
    ///     Var::from_op("cube", value, &[x], |a| {
    ///         smallvec![Some(a.grad().mul(&a.input(0).square().mul_scalar(3.0)))]
    ///     })
    /// }
    /// let x = Tensor::from_vec(vec![0.5, -1.5], &[2]);
    /// gradcheck(|v| cube(&v[0]), &[x]).unwrap().assert_within(1e-2);
    /// ```
    ///
    /// In anomaly mode ([`crate::set_anomaly_detection`]) a value holding a NaN or an infinity
    /// panics here; mark the op `#[track_caller]`, as Strata's own ops are, so that the panic
    /// points at the line that called it.
    #[track_caller]
    pub fn from_op(
        name: &'static str,
        value: Tensor,
        inputs: &[&Var],
        backward: impl Fn(&BackwardArgs<'_>) -> InputGrads + Send + Sync + 'static,
    ) -> Var {
        if anomaly_detection() && has_non_finite(&value) {
            let shapes: Vec<&[usize]> = inputs.iter().map(|v| v.shape()).collect();
            panic!("anomaly: the forward of `{name}` (inputs {shapes:?}) produced NaN or infinity");
        }
        if !is_grad_enabled() || !inputs.iter().any(|v| v.is_tracked()) {
            return Var::constant(value);
        }
        graph::node_created();
        let grad_fn = GradFn {
            inputs: inputs.iter().map(|&v| v.clone()).collect(),
            backward: Box::new(backward),
        };
        Self::from_node(
            value,
            Kind::Op {
                name,
                grad_fn: Mutex::new(Some(grad_fn)),
            },
        )
    }

    /// The value.
    pub fn value(&self) -> &Tensor {
        &self.0.value
    }

    /// The shape of the value.
    pub fn shape(&self) -> &[usize] {
        self.0.value.shape()
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.0.value.ndim()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.0.value.numel()
    }

    /// The single value of a one-element `Var`; panics otherwise.
    #[track_caller]
    pub fn item(&self) -> f32 {
        self.0.value.item()
    }

    /// This value's identity.
    pub fn id(&self) -> VarId {
        VarId(self.0.id)
    }

    /// Whether gradients flow through this value (a tracked leaf or the output of an op on one).
    pub fn is_tracked(&self) -> bool {
        !matches!(self.0.kind, Kind::Constant)
    }

    /// Whether this is a tracked leaf (a parameter).
    pub fn is_leaf(&self) -> bool {
        matches!(self.0.kind, Kind::Leaf)
    }

    /// The name of the op that produced this value (`"leaf"` or `"constant"` for leaves).
    pub fn op_name(&self) -> &'static str {
        match &self.0.kind {
            Kind::Constant => "constant",
            Kind::Leaf => "leaf",
            Kind::Op { name, .. } => name,
        }
    }

    /// The same value, cut from the graph: no gradient flows through the result.
    pub fn detach(&self) -> Var {
        Var::constant(self.0.value.clone())
    }

    /// Changes the value of a leaf in place (an optimizer step), keeping its identity so
    /// gradients stored for it stay readable. The buffer is written directly when no graph
    /// or other handle still holds it; otherwise it is copied first, so recorded graphs keep
    /// the value they saw.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    /// let mut w = Var::leaf(Tensor::ones(&[2]));
    /// let id = w.id();
    /// w.update(|t| t.data_mut().iter_mut().for_each(|x| *x -= 0.5));
    /// assert_eq!((w.id(), w.value().to_vec()), (id, vec![0.5, 0.5]));
    /// ```
    pub fn update(&mut self, f: impl FnOnce(&mut Tensor)) {
        // The common case (an optimizer step on a parameter no graph holds): in place.
        if let Some(node) = Arc::get_mut(&mut self.0) {
            if !matches!(node.kind, Kind::Op { .. }) {
                return f(&mut node.value);
            }
        }
        let (id, kind) = (self.0.id, self.leaf_kind());
        let mut value = match Arc::get_mut(&mut self.0) {
            Some(node) => std::mem::take(&mut node.value),
            None => self.0.value.clone(),
        };
        f(&mut value);
        self.0 = Arc::new(Node { id, value, kind });
    }

    /// Replaces the value of a leaf, keeping its identity.
    pub fn set_value(&mut self, value: Tensor) {
        self.update(|t| *t = value);
    }

    fn leaf_kind(&self) -> Kind {
        match self.0.kind {
            Kind::Constant => Kind::Constant,
            // An updated op output becomes a leaf: its graph no longer describes its value.
            Kind::Leaf | Kind::Op { .. } => Kind::Leaf,
        }
    }
}

impl From<Tensor> for Var {
    /// An untracked value.
    fn from(value: Tensor) -> Self {
        Var::constant(value)
    }
}

impl fmt::Debug for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Var({}, {:?})", self.op_name(), self.0.value)
    }
}

impl fmt::Display for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.value)
    }
}
