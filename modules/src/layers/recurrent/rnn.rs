//! The plain (Elman) recurrent layers with tanh: the next hidden state is a tanh of the input
//! and the previous hidden state; the state is `h`.

use super::cell::RecurrentCell;
use super::kind::RecurrentKind;
use super::sequence::RecurrentLayers;
use strata_autograd::{RnnRule, Var};

/// One step of a plain recurrent network with tanh (PyTorch's `RNNCell`): from an input
/// `[N, in]` and a hidden state `[N, H]`, the next hidden state
/// `tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)`. Parameters `weight_ih` `[H, in]`, `weight_hh`
/// `[H, H]`, `bias_ih`, `bias_hh` `[H]`, all initialised `U(−1/√H, 1/√H)`.
///
/// ```
/// use strata_modules::{RnnCell, Var};
/// use strata_tensor::{Rng, Tensor};
/// let cell = RnnCell::new(3, 5, &mut Rng::new(0));
/// let x = Var::constant(Tensor::ones(&[2, 3]));
/// let h = cell.forward_step(&x, None); // the state starts at zeros
/// let h = cell.forward_step(&x, Some(&h));
/// assert!(h.value().to_vec().iter().all(|v| v.abs() < 1.0));
/// ```
pub type RnnCell = RecurrentCell<RnnRule>;

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
pub type Rnn = RecurrentLayers<RnnRule>;

impl RecurrentKind for RnnRule {
    type StateRef<'a> = &'a Var;
    type State = Var;
    const CELL_NAME: &'static str = "RnnCell";
    const LAYER_NAME: &'static str = "Rnn";

    fn parts<'a>(h: Self::StateRef<'a>) -> Vec<&'a Var> {
        vec![h]
    }

    fn from_parts(mut parts: Vec<Var>) -> Var {
        parts.remove(0)
    }

    fn hidden(h: Var) -> Var {
        h
    }
}
