//! Recurrent layers: cells that carry a state from step to step ([`RnnCell`], [`LstmCell`],
//! [`GruCell`]) and sequence layers that run them over a batch-first `[N, T, F]` sequence
//! ([`Rnn`], [`Lstm`], [`Gru`]), with PyTorch's parameter names, layouts, gate orders and
//! initialisation, so that weights move between the two.
//!
//! A sequence layer projects the inputs of all steps at once (one matmul), then runs the
//! recurrence as one recorded op (`recurrence.rs`): per step one small matmul and one pass of
//! the cell's rule, whose derivative is written beside it in the cell's file.

mod fast_math;
mod gru;
mod gru_cell;
mod lstm;
mod lstm_cell;
pub(crate) mod recurrence;
mod rnn;
mod rnn_cell;
mod run;
mod weights;

pub use gru::Gru;
pub use gru_cell::GruCell;
pub use lstm::Lstm;
pub use lstm_cell::LstmCell;
pub use rnn::Rnn;
pub use rnn_cell::RnnCell;
pub use weights::{RecurrentConfig, RecurrentWeights};
