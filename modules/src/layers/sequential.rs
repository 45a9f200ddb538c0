//! `Sequential`: a chain of modules, each one's output the next one's input.

use crate::layers::Dense;
use crate::module::Module;
use crate::params::{Params, Visitor, VisitorMut};
use strata_autograd::Var;
use strata_tensor::{expect_ok, Result, Rng, TensorError};

/// Modules applied in order. Parameters are named by position: `0.weight`, `2.bias`, …
///
/// ```
/// use strata_modules::{Dense, Module, Params, Relu, Sequential, Var};
/// use strata_tensor::{Rng, Tensor};
/// let mut rng = Rng::new(0);
/// let mlp = Sequential::new()
///     .push(Dense::new(2, 16, &mut rng))
///     .push(Relu)
///     .push(Dense::new(16, 1, &mut rng));
/// assert_eq!(mlp.named_parameters()[2].0, "2.weight");
/// let y = mlp.forward(&Var::constant(Tensor::zeros(&[5, 2])));
/// assert_eq!(y.shape(), &[5, 1]);
/// ```
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl Sequential {
    /// An empty chain (the identity).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a module (builder style).
    pub fn push(mut self, module: impl Module + 'static) -> Self {
        self.layers.push(Box::new(module));
        self
    }

    /// Appends a boxed module.
    pub fn push_boxed(&mut self, module: Box<dyn Module>) {
        self.layers.push(module);
    }

    /// Number of modules.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether the chain is empty.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The module at `index`.
    pub fn get(&self, index: usize) -> Option<&dyn Module> {
        self.layers.get(index).map(|m| m.as_ref())
    }

    /// A multi-layer perceptron: dense layers `widths[0] → widths[1] → …` (input width, hidden
    /// widths, output width) with `activation` between them and none after the last,
    /// initialised from `rng` (PyTorch's default). Panics with fewer than two widths.
    ///
    /// ```
    /// use strata_modules::{Module, Params, Relu, Sequential, Var};
    /// use strata_tensor::{Rng, Tensor};
    /// let mlp = Sequential::mlp(&[784, 512, 256, 10], Relu, &mut Rng::new(0));
    /// assert_eq!(mlp.len(), 5); // dense, ReLU, dense, ReLU, dense
    /// assert_eq!(mlp.num_parameters(), 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10);
    /// assert_eq!(mlp.forward(&Var::constant(Tensor::zeros(&[3, 784]))).shape(), &[3, 10]);
    /// ```
    #[track_caller]
    pub fn mlp(widths: &[usize], activation: impl Module + Clone + 'static, rng: &mut Rng) -> Self {
        Self::new().push_mlp(widths, activation, rng)
    }

    /// Appends the layers of [`Sequential::mlp`] (e.g. after a `Flatten`).
    #[track_caller]
    pub fn push_mlp(
        mut self,
        widths: &[usize],
        activation: impl Module + Clone + 'static,
        rng: &mut Rng,
    ) -> Self {
        assert!(
            widths.len() >= 2,
            "Sequential::mlp: expected at least an input and an output width, found {widths:?}"
        );
        for (i, pair) in widths.windows(2).enumerate() {
            self = self.push(Dense::new(pair[0], pair[1], rng));
            if i + 2 < widths.len() {
                self = self.push(activation.clone());
            }
        }
        self
    }
}

impl Params for Sequential {
    fn visit(&self, prefix: &str, visitor: &mut dyn Visitor) {
        self.layers.visit(prefix, visitor);
    }
    fn visit_mut(&mut self, prefix: &str, visitor: &mut dyn VisitorMut) {
        self.layers.visit_mut(prefix, visitor);
    }
    fn set_training(&mut self, training: bool) {
        self.layers.set_training(training);
    }
}

impl Module for Sequential {
    /// Applies the modules in order; panics at the caller's line when one refuses its input,
    /// naming it (see [`Sequential::try_forward`]).
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        expect_ok(self.try_forward(x))
    }

    /// Applies the modules in order through their `try_forward`; an error names the module
    /// by position and type, e.g. `Sequential: layer 2 (Dense): linear: …`.
    #[track_caller]
    fn try_forward(&self, x: &Var) -> Result<Var> {
        self.layers
            .iter()
            .enumerate()
            .try_fold(x.clone(), |h, (index, layer)| {
                layer.try_forward(&h).map_err(|err| {
                    TensorError::new(
                        "Sequential",
                        err.kind(),
                        format!("layer {index} ({}): {err}", layer.type_name()),
                    )
                })
            })
    }
}
