//! The first loss of each reference problem, computed by Strata: the loss of the first batch
//! before any update, on the portable data and initialisation of the PyTorch harness
//! (`strata_modules::reference`). Bit-identical inputs and weights must give PyTorch's first
//! loss to about 1e-6, which checks that both sides train the same problem.

use strata_modules::{cross_entropy, reference, Dense, Module, Reduction, Relu, Sequential, Var};
use strata_tensor::Rng;

/// First-batch losses PyTorch reports on the reference problems (published with the
/// harness's specification, `shared/bench/pytorch/README.md`).
pub const PYTORCH_MLP_FIRST_LOSS: f64 = 2.2982494831085205;

/// Batch size of the MLP problem.
pub const MLP_BATCH: usize = 128;
const MLP_SIZES: [usize; 4] = [784, 512, 256, 10];

/// One model's first loss, beside PyTorch's published value.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FirstLoss {
    /// Key shared with the PyTorch script's output.
    pub key: &'static str,
    /// The model.
    pub label: &'static str,
    /// Strata's first-batch loss.
    pub strata: f64,
    /// PyTorch's first-batch loss as published with the specification.
    pub published: f64,
}

/// The first losses of the reference problems.
pub fn first_losses() -> Vec<FirstLoss> {
    vec![FirstLoss {
        key: "mlp",
        label: "MLP 784-512-256-10, batch 128",
        strata: mlp_first_loss(),
        published: PYTORCH_MLP_FIRST_LOSS,
    }]
}

fn mlp_first_loss() -> f64 {
    let mut rng = Rng::new(0);
    let mut model = Sequential::new();
    for (i, pair) in MLP_SIZES.windows(2).enumerate() {
        model = model.push(Dense::new(pair[0], pair[1], &mut rng));
        if i + 2 < MLP_SIZES.len() {
            model = model.push(Relu);
        }
    }
    reference::initialise(&mut model);
    let inputs = reference::inputs(MLP_BATCH, MLP_SIZES[0]);
    let labels = reference::labels(MLP_BATCH, MLP_SIZES[0], MLP_SIZES[3]);
    let logits = model.forward(&Var::constant(inputs));
    f64::from(cross_entropy(&logits, &labels, 0.0, Reduction::Mean).item())
}
