//! The first loss of each reference problem, computed by Strata: the loss of the first batch
//! before any update, on the portable data and initialisation of the PyTorch harness
//! (`strata_modules::reference`). Bit-identical inputs and weights must give PyTorch's first
//! loss to about 1e-6, which checks that both sides train the same problem.

use strata_modules::{cross_entropy, reference, Lstm, Module, Reduction, Sequential, Var};
use strata_tensor::Rng;

/// First-batch losses PyTorch reports on the reference problems (published with the
/// harness's specification, `xtask/pytorch/SPEC.md`).
pub const PYTORCH_MLP_FIRST_LOSS: f64 = 2.2982494831085205;
/// PyTorch's first-batch loss of LeNet-5 at batch 64 (same source).
pub const PYTORCH_LENET_FIRST_LOSS: f64 = 2.294001340866089;

/// PyTorch's first loss of the LSTM step (mean squared output of `nn.LSTM(128, 128)` on the
/// reference inputs, `xtask/pytorch/compare.py`).
pub const PYTORCH_LSTM_FIRST_LOSS: f64 = 0.017980987206101418;

/// PyTorch's first loss of the transformer encoder layer benchmark (`compare.py`,
/// `nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True)`, mean squared
/// output on the portable inputs `[32, 64, 128]`).
pub const PYTORCH_TRANSFORMER_FIRST_LOSS: f64 = 0.6209107637405396;

/// Batch size of the MLP problem.
pub const MLP_BATCH: usize = 128;
const MLP_SIZES: [usize; 4] = [784, 512, 256, 10];
/// Batch size of the LeNet-5 problem.
pub const LENET_BATCH: usize = 64;
/// Batch, sequence length, input features and hidden size of the LSTM problem.
const LSTM_SIZES: [usize; 4] = [32, 50, 128, 128];
/// Batch, tokens and width of the transformer benchmark.
const TRANSFORMER_SIZES: [usize; 3] = [32, 64, 128];

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
    vec![
        FirstLoss {
            key: "mlp",
            label: "MLP 784-512-256-10, batch 128",
            strata: mlp_first_loss(),
            published: PYTORCH_MLP_FIRST_LOSS,
        },
        FirstLoss {
            key: "lenet",
            label: "LeNet-5, batch 64",
            strata: lenet_first_loss(),
            published: PYTORCH_LENET_FIRST_LOSS,
        },
        FirstLoss {
            key: "lstm",
            label: "LSTM 128-128, batch 32, 50 steps",
            strata: lstm_first_loss(),
            published: PYTORCH_LSTM_FIRST_LOSS,
        },
        FirstLoss {
            key: "transformer",
            label: "Transformer encoder layer 128, batch 32, 64 tokens",
            strata: transformer_first_loss(),
            published: PYTORCH_TRANSFORMER_FIRST_LOSS,
        },
    ]
}

/// Mean cross-entropy of `model` (built and initialised as the harness does) on the first
/// `batch` reference rows (viewed as `input_shape` each).
fn first_loss(model: Sequential, batch: usize, input_shape: &[isize]) -> f64 {
    let shape: Vec<isize> = std::iter::once(batch as isize)
        .chain(input_shape.iter().copied())
        .collect();
    let inputs = reference::inputs(batch, 784).reshape(&shape);
    let labels = reference::labels(batch, 784, 10);
    let logits = model.forward(&Var::constant(inputs));
    f64::from(cross_entropy(&logits, &labels, 0.0, Reduction::Mean).item())
}

fn lenet_first_loss() -> f64 {
    first_loss(reference::lenet5(), LENET_BATCH, &[1, 28, 28])
}

/// Mean squared output of a one-layer LSTM on the reference inputs viewed as
/// `[batch, steps, features]`, initialised as PyTorch's recurrent layers.
fn lstm_first_loss() -> f64 {
    let [batch, steps, features, hidden] = LSTM_SIZES;
    let mut lstm = Lstm::new(features, hidden, &mut Rng::new(0));
    reference::initialise_recurrent(&mut lstm, hidden);
    let inputs = reference::inputs(batch * steps, features).reshape(&[
        batch as isize,
        steps as isize,
        features as isize,
    ]);
    let (outputs, _) = lstm.forward_seq(&Var::constant(inputs), None);
    f64::from(outputs.square().mean().item())
}

fn transformer_first_loss() -> f64 {
    let [batch, tokens, width] = TRANSFORMER_SIZES;
    let layer = reference::transformer_encoder_layer();
    let inputs = reference::inputs(batch * tokens, width).reshape(&[
        batch as isize,
        tokens as isize,
        width as isize,
    ]);
    f64::from(layer.forward(&Var::constant(inputs)).square().mean().item())
}

fn mlp_first_loss() -> f64 {
    first_loss(reference::mlp(&MLP_SIZES), MLP_BATCH, &[784])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The harness's README promises agreement "to about 1e-6" from bit-identical inputs.
    const AGREEMENT: f64 = 1e-5;

    #[test]
    fn strata_starts_where_pytorch_starts() {
        for loss in first_losses() {
            assert!(
                (loss.strata - loss.published).abs() < AGREEMENT,
                "{}: Strata {} against PyTorch {}",
                loss.label,
                loss.strata,
                loss.published
            );
        }
    }
}
