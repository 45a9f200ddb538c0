//! `Lstm`: LSTM layers run over a batch-first sequence.

use super::lstm_cell::LstmRule;
use super::run::sequence;
use super::weights::{recurrent_module, RecurrentConfig, RecurrentWeights};
use strata_autograd::Var;
use strata_tensor::Result;

/// LSTM layers over a batch-first sequence `[N, T, in]` (PyTorch's `LSTM` with
/// `batch_first=True`). Layer `k` has the parameters of an [`LstmCell`](crate::LstmCell),
/// named `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`; layer `k > 0`
/// reads the hidden states of layer `k − 1`.
///
/// ```
/// use strata_modules::{Lstm, Module, Params, RecurrentConfig, Var};
/// use strata_tensor::{Rng, Tensor};
/// let config = RecurrentConfig { num_layers: 2, ..RecurrentConfig::new(3, 8) };
/// let lstm = Lstm::with_config(config, &mut Rng::new(0));
/// let x = Var::constant(Tensor::ones(&[4, 10, 3]));
/// let (outputs, (h, c)) = lstm.forward_seq(&x, None);
/// assert_eq!(outputs.shape(), &[4, 10, 8]); // the last layer's h at every step
/// assert_eq!((h.shape(), c.shape()), (&[2, 4, 8][..], &[2, 4, 8][..])); // [layers, N, H]
/// assert_eq!(lstm.forward(&x).shape(), &[4, 10, 8]);
/// assert_eq!(lstm.named_parameters()[4].0, "weight_ih_l1");
/// ```
#[derive(Debug, Clone)]
pub struct Lstm {
    /// Layer `k`: `weight_ih` `[4H, in or H]`, `weight_hh` `[4H, H]`, biases `[4H]`.
    pub layers: Vec<RecurrentWeights>,
}

recurrent_module!(layers Lstm, LstmRule);

impl Lstm {
    /// Runs the layers over `x` `[N, T, in]` from `initial` `(h₀, c₀)`, each
    /// `[layers, N, H]` (zeros when `None`). Returns the last layer's hidden states
    /// `[N, T, H]` and the final `(h, c)`, each `[layers, N, H]`. Panics on a shape mismatch.
    #[track_caller]
    pub fn forward_seq(&self, x: &Var, initial: Option<(&Var, &Var)>) -> (Var, (Var, Var)) {
        match self.try_forward_seq(x, initial) {
            Ok(result) => result,
            Err(err) => panic!("{err}"),
        }
    }

    /// Fallible [`Lstm::forward_seq`].
    #[track_caller]
    pub fn try_forward_seq(
        &self,
        x: &Var,
        initial: Option<(&Var, &Var)>,
    ) -> Result<(Var, (Var, Var))> {
        let initial = initial.map(|(h, c)| [h, c]);
        let (outputs, mut last) = sequence::<LstmRule>(
            "Lstm",
            &self.layers,
            x,
            initial.as_ref().map(|s| s.as_slice()),
        )?;
        let c = last.pop().expect("the LSTM state is two vectors");
        let h = last.pop().expect("the LSTM state is two vectors");
        Ok((outputs, (h, c)))
    }
}
