//! What distinguishes the kinds of recurrent layer beyond their cell rule: the state a step
//! carries (`h`, or `(h, c)` for the LSTM) and the names that errors use.

use strata_autograd::{CellRule, Var};

/// A kind of recurrent cell (implemented by strata-autograd's [`strata_autograd::RnnRule`],
/// [`strata_autograd::LstmRule`] and [`strata_autograd::GruRule`]): its rule, plus the state
/// a caller passes in and gets back.
pub trait RecurrentKind: CellRule {
    /// The state a caller passes in: `&Var` (`h`), or `(&Var, &Var)` (`(h, c)`).
    type StateRef<'a>: Copy;
    /// The state a caller gets back: `Var`, or `(Var, Var)`.
    type State;
    /// The cell type's name, for errors (`"LstmCell"`).
    const CELL_NAME: &'static str;
    /// The sequence layer type's name, for errors (`"Lstm"`).
    const LAYER_NAME: &'static str;

    /// The `STATES` tensors of a state, in the packed order (`h` first).
    fn parts<'a>(state: Self::StateRef<'a>) -> Vec<&'a Var>;

    /// A state from its `STATES` tensors.
    fn from_parts(parts: Vec<Var>) -> Self::State;

    /// The hidden state `h` of a state (what a module's `forward` returns).
    fn hidden(state: Self::State) -> Var;
}
