//! Running recurrent weights over inputs: one step (the cells) or whole sequences through a
//! stack of layers (the sequence layers). Checks shapes, packs the state vectors of a kind
//! side by side (`[h | c]` for the LSTM) for the fused [`recurrence`] op, and unpacks them.

use super::weights::RecurrentWeights;
use strata_autograd::{recurrence, CellRule, Var};
use strata_tensor::{ErrorKind, Result, Tensor, TensorError};

fn shape_error(op: &'static str, message: String) -> TensorError {
    TensorError::new(op, ErrorKind::ShapeMismatch, message)
}

/// The state vectors `[N, H]` side by side: `[N, STATES·H]`.
#[track_caller]
fn pack(parts: &[Var]) -> Var {
    match parts {
        [only] => only.clone(),
        _ => Var::concat(&parts.iter().collect::<Vec<_>>(), -1),
    }
}

/// The `STATES` vectors of a packed `[…, STATES·H]` state.
#[track_caller]
fn unpack(packed: &Var, states: usize) -> Vec<Var> {
    if states == 1 {
        return vec![packed.clone()];
    }
    let h = packed.shape()[packed.ndim() - 1] / states;
    (0..states).map(|s| packed.narrow(-1, s * h, h)).collect()
}

/// The biases of the input projection and of each step's hidden product. When `b_hh` only
/// adds to the gates, both biases go into the input projection (`b_ih + b_hh`, recorded, so
/// each still gets its gradient): one addition per sequence instead of one per step, and
/// one bias gradient summed over the steps instead of two.
fn biases<K: CellRule>(weights: &RecurrentWeights) -> (Option<Var>, Option<Var>) {
    match (&weights.bias_ih, &weights.bias_hh) {
        (Some(ih), Some(hh)) if K::HIDDEN_BIAS_ADDS => (Some(ih.add(hh)), None),
        (None, Some(hh)) if K::HIDDEN_BIAS_ADDS => (Some(hh.clone()), None),
        (ih, hh) => (ih.clone(), hh.clone()),
    }
}

/// Checks that a caller's state holds `K::STATES` tensors of `shape`.
fn check_state<K: CellRule>(op: &'static str, state: &[&Var], shape: &[usize]) -> Result<()> {
    if state.len() == K::STATES && state.iter().all(|s| s.shape() == shape) {
        return Ok(());
    }
    let found: Vec<&[usize]> = state.iter().map(|s| s.shape()).collect();
    Err(shape_error(
        op,
        format!(
            "the state should be {} tensor(s) of shape {shape:?}, found {found:?}",
            K::STATES
        ),
    ))
}

/// One step of a cell: `x` `[N, in]` and the state (`K::STATES` tensors `[N, H]`, zeros when
/// `None`) give the new state.
#[track_caller]
pub(crate) fn cell_step<K: CellRule>(
    op: &'static str,
    weights: &RecurrentWeights,
    x: &Var,
    state: Option<&[&Var]>,
) -> Result<Vec<Var>> {
    weights.check(K::GATES, op)?;
    let (input, hidden) = (weights.input_size(), weights.hidden_size());
    if x.ndim() != 2 || x.shape()[1] != input {
        return Err(shape_error(
            op,
            format!("input should be [N, {input}], found {:?}", x.shape()),
        ));
    }
    let n = x.shape()[0];
    let initial = match state {
        Some(state) => {
            check_state::<K>(op, state, &[n, hidden])?;
            pack(&state.iter().map(|&s| s.clone()).collect::<Vec<_>>())
        }
        None => Var::constant(Tensor::zeros(&[n, K::STATES * hidden])),
    };
    let (projection_bias, step_bias) = biases::<K>(weights);
    let projections = x
        .linear(&weights.weight_ih, projection_bias.as_ref())
        .unsqueeze(1);
    let next = recurrence::<K>(
        &projections,
        &initial,
        &weights.weight_hh,
        step_bias.as_ref(),
    );
    Ok(unpack(&next.squeeze(1), K::STATES))
}

/// A stack of layers over a batch-first sequence `x` `[N, T, F]`, starting from `initial`
/// (`K::STATES` tensors `[L, N, H]`, zeros when `None`). Returns the last layer's hidden
/// states `[N, T, H]` and the final state (`K::STATES` tensors `[L, N, H]`).
#[track_caller]
pub(crate) fn sequence<K: CellRule>(
    op: &'static str,
    layers: &[RecurrentWeights],
    x: &Var,
    initial: Option<&[&Var]>,
) -> Result<(Var, Vec<Var>)> {
    let Some(first) = layers.first() else {
        return Err(TensorError::new(
            op,
            ErrorKind::InvalidArgument,
            "a sequence layer needs at least one layer".to_string(),
        ));
    };
    let (input, hidden) = (first.input_size(), first.hidden_size());
    for (k, layer) in layers.iter().enumerate() {
        layer.check(K::GATES, op)?;
        let expected_input = if k == 0 { input } else { hidden };
        if layer.hidden_size() != hidden || layer.input_size() != expected_input {
            return Err(shape_error(
                op,
                format!(
                    "layer {k} should map {expected_input} inputs to {hidden} hidden units, \
                     found weight_ih {:?} and weight_hh {:?}",
                    layer.weight_ih.shape(),
                    layer.weight_hh.shape()
                ),
            ));
        }
    }
    if x.ndim() != 3 || x.shape()[2] != input || x.shape()[1] == 0 {
        return Err(shape_error(
            op,
            format!(
                "input should be batch-first [N, T, {input}] with T > 0, found {:?}",
                x.shape()
            ),
        ));
    }
    let (n, steps) = (x.shape()[0], x.shape()[1]);
    if let Some(initial) = initial {
        check_state::<K>(op, initial, &[layers.len(), n, hidden])?;
    }

    let mut finals: Vec<Vec<Var>> = vec![Vec::with_capacity(layers.len()); K::STATES];
    let mut layer_input = x.clone();
    for (k, layer) in layers.iter().enumerate() {
        let start = match initial {
            Some(initial) => pack(
                &initial
                    .iter()
                    .map(|s| s.narrow(0, k, 1).squeeze(0))
                    .collect::<Vec<_>>(),
            ),
            None => Var::constant(Tensor::zeros(&[n, K::STATES * hidden])),
        };
        // The input projections of all steps in one product.
        let (projection_bias, step_bias) = biases::<K>(layer);
        let projections = layer_input.linear(&layer.weight_ih, projection_bias.as_ref());
        let states = recurrence::<K>(&projections, &start, &layer.weight_hh, step_bias.as_ref());
        let last = states.narrow(1, steps - 1, 1).squeeze(1);
        for (s, part) in unpack(&last, K::STATES).into_iter().enumerate() {
            finals[s].push(part);
        }
        layer_input = if K::STATES == 1 {
            states
        } else {
            states.narrow(2, 0, hidden)
        };
    }
    let finals = finals
        .iter()
        .map(|parts| Var::stack(&parts.iter().collect::<Vec<_>>(), 0))
        .collect();
    Ok((layer_input, finals))
}
