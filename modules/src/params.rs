//! Walking a module's parameters, buffers and random streams by dotted name.
//!
//! Every building block implements [`Params`]; composite modules get it from
//! `#[derive(Params)]`, which visits every field, so nothing can be left out by hand.

use std::sync::{Mutex, RwLock};
use strata_autograd::Var;
use strata_tensor::{Rng, Tensor};

/// `prefix.name`, or `name` alone at the top level: the dotted names of parameters.
pub fn join_name(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        return name.to_string();
    }
    // Concatenated by hand: optimizers walk the names every step, and `format!` costs
    // several times a plain copy.
    let mut joined = String::with_capacity(prefix.len() + 1 + name.len());
    joined.push_str(prefix);
    joined.push('.');
    joined.push_str(name);
    joined
}

/// Receives what [`Params::visit`] walks over, each under its dotted name.
pub trait Visitor {
    /// A trainable parameter.
    fn param(&mut self, name: &str, param: &Var);
    /// A non-trainable state tensor (e.g. batch-norm running statistics).
    fn buffer(&mut self, name: &str, buffer: &Buffer) {
        let _ = (name, buffer);
    }
    /// A random stream (e.g. dropout's), saved in training checkpoints for exact resumes.
    fn rng(&mut self, name: &str, rng: &RngCell) {
        let _ = (name, rng);
    }
}

/// Receives each parameter mutably (optimizer steps, loading).
pub trait VisitorMut {
    /// A trainable parameter.
    fn param(&mut self, name: &str, param: &mut Var);
}

impl<F: FnMut(&str, &mut Var)> VisitorMut for F {
    fn param(&mut self, name: &str, param: &mut Var) {
        self(name, param)
    }
}

/// Something that holds parameters, buffers or sub-modules: every module.
///
/// Derive it: every field is visited under its name, and a field that is neither a
/// parameter, a buffer, an RNG nor a module must be marked `#[module(skip)]` (a compile error
/// otherwise); a `bool` marked `#[module(training)]` follows [`Params::set_training`].
///
/// ```
/// use strata_modules::{Dense, Module, Params, Var};
/// use strata_tensor::{Rng, Tensor};
///
/// #[derive(Params)]
/// struct TwoLayer {
///     hidden: Dense,
///     out: Dense,
///     #[module(skip)]
///     note: &'static str,
/// }
///
/// impl Module for TwoLayer {
///     fn forward(&self, x: &Var) -> Var {
///         self.out.forward(&self.hidden.forward(x).relu())
///     }
/// }
///
/// let mut rng = Rng::new(0);
/// let net = TwoLayer {
///     hidden: Dense::new(4, 8, &mut rng),
///     out: Dense::new(8, 2, &mut rng),
///     note: "a user-defined module",
/// };
/// assert_eq!(net.parameter_names(), ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]);
/// assert_eq!(net.num_parameters(), 4 * 8 + 8 + 8 * 2 + 2);
/// let y = net.forward(&Var::constant(Tensor::zeros(&[3, 4])));
/// assert_eq!(y.shape(), &[3, 2]);
/// ```
pub trait Params {
    /// Visits parameters, buffers and random streams, naming each `prefix.field…`.
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor);

    /// Visits parameters mutably.
    fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn VisitorMut);

    /// Switches training mode (dropout active, batch statistics) on or off, recursively.
    fn set_training(&mut self, training: bool);

    /// Training mode on.
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Evaluation mode (inference): dropout off, running statistics.
    fn eval(&mut self) {
        self.set_training(false);
    }

    /// Every parameter with its dotted name, in declaration order.
    fn named_parameters(&self) -> Vec<(String, Var)> {
        struct Collect(Vec<(String, Var)>);
        impl Visitor for Collect {
            fn param(&mut self, name: &str, param: &Var) {
                self.0.push((name.to_string(), param.clone()));
            }
        }
        let mut collect = Collect(Vec::new());
        self.visit("", &mut collect);
        collect.0
    }

    /// The dotted name of every parameter, in declaration order.
    fn parameter_names(&self) -> Vec<String> {
        self.named_parameters()
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }

    /// Every parameter, in declaration order.
    fn parameters(&self) -> Vec<Var> {
        self.named_parameters()
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    /// Total number of scalar parameters.
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(Var::numel).sum()
    }

    /// Every buffer's current value with its dotted name.
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        struct Collect(Vec<(String, Tensor)>);
        impl Visitor for Collect {
            fn param(&mut self, _: &str, _: &Var) {}
            fn buffer(&mut self, name: &str, buffer: &Buffer) {
                self.0.push((name.to_string(), buffer.get()));
            }
        }
        let mut collect = Collect(Vec::new());
        self.visit("", &mut collect);
        collect.0
    }
}

/// A non-trainable tensor kept with the model and saved with it (e.g. running statistics),
/// updatable through a shared reference because forward passes update it.
#[derive(Debug)]
pub struct Buffer(RwLock<Tensor>);

impl Buffer {
    /// A buffer holding `value`.
    pub fn new(value: Tensor) -> Self {
        Self(RwLock::new(value))
    }

    /// The current value (a cheap shared handle).
    pub fn get(&self) -> Tensor {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replaces the value.
    pub fn set(&self, value: Tensor) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = value;
    }
}

impl Clone for Buffer {
    fn clone(&self) -> Self {
        Self::new(self.get())
    }
}

/// A random stream owned by a module (e.g. dropout masks), visited so that checkpoints can
/// save and restore its state.
#[derive(Debug)]
pub struct RngCell(Mutex<Rng>);

impl RngCell {
    /// A stream started at `seed`.
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(Rng::new(seed)))
    }

    /// Runs `f` with the stream.
    pub fn with<T>(&self, f: impl FnOnce(&mut Rng) -> T) -> T {
        f(&mut self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// A copy of the current state.
    pub fn get(&self) -> Rng {
        self.with(|rng| rng.clone())
    }

    /// Restores a saved state.
    pub fn set(&self, state: Rng) {
        self.with(|rng| *rng = state);
    }
}

impl Clone for RngCell {
    fn clone(&self) -> Self {
        Self(Mutex::new(self.get()))
    }
}

impl Params for Var {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        visitor.param(prefix, self);
    }
    fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn VisitorMut) {
        visitor.param(prefix, self);
    }
    fn set_training(&mut self, _: bool) {}
}

impl Params for Buffer {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        visitor.buffer(prefix, self);
    }
    fn visit_mut(&mut self, _: &str, _: &mut dyn VisitorMut) {}
    fn set_training(&mut self, _: bool) {}
}

impl Params for RngCell {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        visitor.rng(prefix, self);
    }
    fn visit_mut(&mut self, _: &str, _: &mut dyn VisitorMut) {}
    fn set_training(&mut self, _: bool) {}
}

impl<T: Params> Params for Option<T> {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        if let Some(inner) = self {
            inner.visit(prefix, visitor);
        }
    }
    fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn VisitorMut) {
        if let Some(inner) = self {
            inner.visit_mut(prefix, visitor);
        }
    }
    fn set_training(&mut self, training: bool) {
        if let Some(inner) = self {
            inner.set_training(training);
        }
    }
}

/// Items are named by position: `prefix.0`, `prefix.1`, …
impl<T: Params> Params for Vec<T> {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        for (i, item) in self.iter().enumerate() {
            item.visit(&join_name(prefix, &i.to_string()), visitor);
        }
    }
    fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn VisitorMut) {
        for (i, item) in self.iter_mut().enumerate() {
            item.visit_mut(&join_name(prefix, &i.to_string()), visitor);
        }
    }
    fn set_training(&mut self, training: bool) {
        self.iter_mut().for_each(|item| item.set_training(training));
    }
}

impl<T: Params + ?Sized> Params for Box<T> {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        (**self).visit(prefix, visitor);
    }
    fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn VisitorMut) {
        (**self).visit_mut(prefix, visitor);
    }
    fn set_training(&mut self, training: bool) {
        (**self).set_training(training);
    }
}
