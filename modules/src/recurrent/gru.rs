//! `Gru`: GRU layers run over a batch-first sequence.

use super::gru_cell::GruRule;
use super::weights::{recurrent_module, RecurrentConfig, RecurrentWeights};

/// GRU layers over a batch-first sequence `[N, T, in]` (PyTorch's `GRU` with
/// `batch_first=True`). Layer `k` has the parameters of a [`GruCell`](crate::GruCell), named
/// `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`; layer `k > 0` reads
/// the hidden states of layer `k − 1`.
///
/// ```
/// use strata_modules::{Gru, Var};
/// use strata_tensor::{Rng, Tensor};
/// let gru = Gru::new(3, 8, &mut Rng::new(0));
/// let x = Var::constant(Tensor::ones(&[4, 10, 3]));
/// let (outputs, h) = gru.forward_seq(&x, None);
/// assert_eq!((outputs.shape(), h.shape()), (&[4, 10, 8][..], &[1, 4, 8][..]));
/// // The final state is the last step's output.
/// assert_eq!(outputs.value().narrow(1, 9, 1).to_vec(), h.value().to_vec());
/// ```
#[derive(Debug, Clone)]
pub struct Gru {
    /// Layer `k`: `weight_ih` `[3H, in or H]`, `weight_hh` `[3H, H]`, biases `[3H]`.
    pub layers: Vec<RecurrentWeights>,
}

recurrent_module!(hidden_state_layers Gru, GruRule);
