//! The GRU layers: a reset gate chooses how much of the past shapes the candidate state, an
//! update gate how much of the past is kept; the state is `h`.

use super::cell::RecurrentCell;
use super::kind::RecurrentKind;
use super::sequence::RecurrentLayers;
use strata_autograd::{GruRule, Var};

/// One GRU step (PyTorch's `GRUCell`): from an input `[N, in]` and a hidden state `[N, H]`,
/// the next hidden state. Parameters `weight_ih` `[3H, in]`, `weight_hh` `[3H, H]`,
/// `bias_ih`, `bias_hh` `[3H]`, gate blocks in the order reset, update, new; all initialised
/// `U(−1/√H, 1/√H)`.
///
/// ```
/// use strata_modules::{GruCell, Var};
/// use strata_tensor::{Rng, Tensor};
/// let cell = GruCell::new(3, 5, &mut Rng::new(0));
/// let x = Var::constant(Tensor::ones(&[2, 3]));
/// let h = cell.forward_step(&x, None); // the state starts at zeros
/// let h = cell.forward_step(&x, Some(&h));
/// assert_eq!(h.shape(), &[2, 5]);
/// ```
pub type GruCell = RecurrentCell<GruRule>;

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
pub type Gru = RecurrentLayers<GruRule>;

impl RecurrentKind for GruRule {
    type StateRef<'a> = &'a Var;
    type State = Var;
    const CELL_NAME: &'static str = "GruCell";
    const LAYER_NAME: &'static str = "Gru";

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
