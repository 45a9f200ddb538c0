//! Batch normalisation composed from recorded ops, the independent reference that the fused
//! `BatchNorm` op is tested against (tests/norm_layers.rs) and timed against
//! (benches/batch_norm.rs).

use strata_modules::Var;

/// Training-mode batch norm of `[N, C, …]` with batch statistics over every axis but 1:
/// `(x − mean)/√(var + eps)·γ + β`, the variance biased.
pub fn composed_batch_norm(x: &Var, gamma: &Var, beta: &Var, eps: f32) -> Var {
    let axes: Vec<usize> = (0..x.ndim()).filter(|&a| a != 1).collect();
    let mut channel_shape = vec![1isize; x.ndim()];
    channel_shape[1] = -1;
    let centred = x.sub(&x.mean_axes(&axes, true));
    let var = centred.square().mean_axes(&axes, true);
    centred
        .div(&var.add_scalar(eps).sqrt())
        .mul(&gamma.reshape(&channel_shape))
        .add(&beta.reshape(&channel_shape))
}
