//! Recurrent layers: cells that carry a state from step to step ([`RnnCell`], [`LstmCell`],
//! [`GruCell`]) and sequence layers that run them over a batch-first `[N, T, F]` sequence
//! ([`Rnn`], [`Lstm`], [`Gru`]), with PyTorch's parameter names, layouts, gate orders and
//! initialisation, so that weights move between the two.
//!
//! A sequence layer projects the inputs of all steps at once (one matmul), then runs the
//! recurrence as one recorded op of strata-autograd ([`strata_autograd::recurrence`]): per
//! step one small matmul and one pass of the cell's rule ([`strata_autograd::LstmRule`], …),
//! whose derivative is written beside it there.

//!
//! One generic cell ([`RecurrentCell`]) and one generic stack of layers ([`RecurrentLayers`]) serve
//! the three kinds ([`RecurrentKind`]); the names users write are their aliases.

mod cell;
mod gru;
mod kind;
mod lstm;
mod rnn;
mod run;
mod sequence;
mod weights;

pub use cell::RecurrentCell;
pub use gru::{Gru, GruCell};
pub use kind::RecurrentKind;
pub use lstm::{Lstm, LstmCell};
pub use rnn::{Rnn, RnnCell};
pub use sequence::RecurrentLayers;
pub use weights::{RecurrentConfig, RecurrentWeights};
