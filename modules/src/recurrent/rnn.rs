//! `Rnn`: Plain tanh recurrent layers run over a batch-first sequence.

use super::rnn_cell::RnnRule;
use super::weights::{recurrent_module, RecurrentConfig, RecurrentWeights};

/// Plain recurrent layers with tanh over a batch-first sequence `[N, T, in]` (PyTorch's `RNN` (tanh) with
/// `batch_first=True`). Layer `k` has the parameters of a [`RnnCell`](crate::RnnCell), named
/// `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`; layer `k > 0` reads
/// the hidden states of layer `k − 1`.
///
/// ```
/// use strata_modules::{Rnn, Var};
/// use strata_tensor::{Rng, Tensor};
/// let rnn = Rnn::new(3, 8, &mut Rng::new(0));
/// let x = Var::constant(Tensor::ones(&[4, 10, 3]));
/// let (outputs, h) = rnn.forward_seq(&x, None);
/// assert_eq!((outputs.shape(), h.shape()), (&[4, 10, 8][..], &[1, 4, 8][..]));
/// // The final state is the last step's output.
/// assert_eq!(outputs.value().narrow(1, 9, 1).to_vec(), h.value().to_vec());
/// ```
#[derive(Debug, Clone)]
pub struct Rnn {
    /// Layer `k`: `weight_ih` `[H, in or H]`, `weight_hh` `[H, H]`, biases `[H]`.
    pub layers: Vec<RecurrentWeights>,
}

recurrent_module!(hidden_state_layers Rnn, RnnRule);
