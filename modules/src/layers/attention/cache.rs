//! `AttentionCache`: the keys and values of the tokens an attention layer has already seen,
//! for generating one token at a time without recomputing the prefix.

use strata_autograd::Var;
use strata_tensor::Tensor;

/// The per-head keys and values `[N, heads, S, E/heads]` of the `S` tokens seen so far by one
/// self-attention layer (see [`MultiHeadAttention::forward_incremental`]). Empty at first;
/// [`AttentionCache::clear`] starts new sequences.
///
/// [`MultiHeadAttention::forward_incremental`]: crate::MultiHeadAttention::forward_incremental
#[derive(Debug, Clone, Default)]
pub struct AttentionCache {
    keys: Option<Tensor>,
    values: Option<Tensor>,
}

impl AttentionCache {
    /// Tokens cached.
    pub fn len(&self) -> usize {
        self.keys.as_ref().map_or(0, |k| k.shape()[2])
    }

    /// Whether no token is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every token.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// The shape of the cached keys, if any.
    pub(crate) fn shape(&self) -> Option<&[usize]> {
        self.keys.as_ref().map(Tensor::shape)
    }

    /// Whether keys of `batch` sequences in `heads` heads of width `head_dim` can be appended.
    pub(crate) fn fits(&self, batch: usize, heads: usize, head_dim: usize) -> bool {
        self.shape()
            .is_none_or(|s| s[0] == batch && s[1] == heads && s[3] == head_dim)
    }

    /// Appends the new tokens' keys `[N, heads, t, d]`; returns every key so far.
    pub(crate) fn extend_keys(&mut self, keys: &Var) -> Var {
        extend(&mut self.keys, keys)
    }

    /// Appends the new tokens' values; returns every value so far.
    pub(crate) fn extend_values(&mut self, values: &Var) -> Var {
        extend(&mut self.values, values)
    }
}

/// `cached ++ new` along the token axis, stored back into `cached` as plain values.
fn extend(cached: &mut Option<Tensor>, new: &Var) -> Var {
    let all = match cached.take() {
        Some(old) => Var::concat(&[&Var::constant(old), new], 2),
        None => new.clone(),
    };
    *cached = Some(all.value().clone());
    all
}
