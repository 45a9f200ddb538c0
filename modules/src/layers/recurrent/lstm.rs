//! The LSTM layers: gates decide what the cell state forgets, what it takes in and what it
//! shows, so information can be carried over many steps; the state is `(h, c)`.

use super::cell::RecurrentCell;
use super::kind::RecurrentKind;
use super::sequence::RecurrentLayers;
use strata_autograd::{LstmRule, Var};

/// One LSTM step (PyTorch's `LSTMCell`): from an input `[N, in]` and a state `(h, c)`, each
/// `[N, H]`, the next state. Parameters `weight_ih` `[4H, in]`, `weight_hh` `[4H, H]`,
/// `bias_ih`, `bias_hh` `[4H]`, gate blocks in the order input, forget, cell, output; all
/// initialised `U(−1/√H, 1/√H)`.
///
/// ```
/// use strata_modules::{LstmCell, Var};
/// use strata_tensor::{Rng, Tensor};
/// let cell = LstmCell::new(3, 5, &mut Rng::new(0));
/// let x = Var::constant(Tensor::ones(&[2, 3]));
/// let (h, c) = cell.forward_step(&x, None); // the state starts at zeros
/// let (h, c) = cell.forward_step(&x, Some((&h, &c)));
/// assert_eq!((h.shape(), c.shape()), (&[2, 5][..], &[2, 5][..]));
/// ```
pub type LstmCell = RecurrentCell<LstmRule>;

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
pub type Lstm = RecurrentLayers<LstmRule>;

impl RecurrentKind for LstmRule {
    type StateRef<'a> = (&'a Var, &'a Var);
    type State = (Var, Var);
    const CELL_NAME: &'static str = "LstmCell";
    const LAYER_NAME: &'static str = "Lstm";

    fn parts<'a>((h, c): Self::StateRef<'a>) -> Vec<&'a Var> {
        vec![h, c]
    }

    fn from_parts(mut parts: Vec<Var>) -> (Var, Var) {
        let c = parts.pop().expect("the LSTM state is two vectors");
        let h = parts.pop().expect("the LSTM state is two vectors");
        (h, c)
    }

    fn hidden((h, _): (Var, Var)) -> Var {
        h
    }
}
