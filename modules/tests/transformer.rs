//! Transformer pieces beyond PyTorch parity (which `pytorch_transformer.rs` checks):
//! token-by-token decoding with cached keys and values gives the logits of recomputing the
//! whole prefix, positional encodings hold the values their formulas give, and misuse is
//! refused with an error naming what was expected.

use strata_modules::{
    AttentionCache, AttentionMasks, Dense, Embedding, Module, PositionalEmbedding,
    SinusoidalPositionalEncoding, TransformerConfig, TransformerEncoder, Var,
};
use strata_tensor::{Rng, Tensor};

const VOCAB: usize = 11;
const WIDTH: usize = 16;

/// A small decoder-only language model: token and position embeddings, a causal pre-norm
/// stack with a final norm, and a head to next-token logits.
struct TinyGpt {
    tokens: Embedding,
    positions: PositionalEmbedding,
    blocks: TransformerEncoder,
    head: Dense,
}

impl TinyGpt {
    fn new(rng: &mut Rng) -> Self {
        let config = TransformerConfig::new(WIDTH, 4)
            .dim_feedforward(32)
            .dropout(0.0)
            .norm_first(true);
        Self {
            tokens: Embedding::new(VOCAB, WIDTH, rng),
            positions: PositionalEmbedding::new(32, WIDTH, rng),
            blocks: TransformerEncoder::new(config, 3, rng).with_final_norm(),
            head: Dense::new(WIDTH, VOCAB, rng),
        }
    }

    /// Logits `[N, T, VOCAB]` of every position, the whole prefix at once.
    fn logits(&self, ids: &Tensor) -> Var {
        let x = self
            .positions
            .forward(&self.tokens.forward(&Var::constant(ids.clone())));
        self.head
            .forward(&self.blocks.forward_masked(&x, &AttentionMasks::causal()))
    }

    /// Logits of the next tokens `ids` `[N, t]`, the earlier ones held in `caches`.
    fn next_logits(&self, ids: &Tensor, caches: &mut Vec<AttentionCache>) -> Var {
        let start = caches.first().map_or(0, AttentionCache::len);
        let x = self.tokens.forward(&Var::constant(ids.clone()));
        let x = self.positions.forward_at(&x, start);
        self.head
            .forward(&self.blocks.forward_incremental(&x, caches))
    }
}

fn assert_close(what: &str, a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() < 1e-4, "{what}[{i}]: {x} vs {y}");
    }
}

#[test]
fn cached_decoding_gives_the_logits_of_recomputing_the_prefix() {
    let mut rng = Rng::new(7);
    let gpt = TinyGpt::new(&mut rng);
    let ids: Vec<f32> = (0..2 * 9).map(|i| ((i * 7 + 3) % VOCAB) as f32).collect();
    let ids = Tensor::from_vec(ids, &[2, 9]);
    let whole = gpt.logits(&ids);
    // One token at a time, then in pieces of 4, 1 and 4.
    for pieces in [vec![1; 9], vec![4, 1, 4]] {
        let mut caches = Vec::new();
        let mut start = 0;
        for len in pieces {
            let step = gpt.next_logits(&ids.narrow(1, start, len), &mut caches);
            let expected = whole.value().narrow(1, start, len).contiguous();
            assert_close(
                &format!("tokens {start}..{}", start + len),
                &step.value().to_vec(),
                &expected.to_vec(),
            );
            start += len;
        }
        assert!(caches.iter().all(|c| c.len() == 9));
    }
}

#[test]
fn a_cache_is_cleared_for_new_sequences_and_refuses_another_batch() {
    let mut rng = Rng::new(8);
    let gpt = TinyGpt::new(&mut rng);
    let ids = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[1, 3]);
    let mut caches = Vec::new();
    let first = gpt.next_logits(&ids, &mut caches).value().to_vec();
    caches.iter_mut().for_each(AttentionCache::clear);
    assert!(caches.iter().all(AttentionCache::is_empty));
    let again = gpt.next_logits(&ids, &mut caches).value().to_vec();
    assert_eq!(first, again);

    let two = Var::constant(Tensor::zeros(&[2, 1, WIDTH]));
    let err = gpt
        .blocks
        .try_forward_incremental(&two, &mut caches)
        .unwrap_err()
        .to_string();
    assert!(err.contains("a cache of the same N"), "{err}");
}

#[test]
fn sinusoidal_encodings_follow_their_formula() {
    let (d, max_len) = (6, 50);
    let encoding = SinusoidalPositionalEncoding::new(d, max_len);
    let zeros = Var::constant(Tensor::zeros(&[1, max_len, d]));
    let table = encoding.forward(&zeros).value().to_vec();
    for t in [0usize, 1, 7, 49] {
        for k in 0..d {
            let omega = 10000f64.powf(-2.0 * (k / 2) as f64 / d as f64);
            let angle = t as f64 * omega;
            let want = if k % 2 == 0 { angle.sin() } else { angle.cos() };
            let got = table[t * d + k] as f64;
            assert!(
                (got - want).abs() < 1e-6,
                "PE[{t}, {k}] = {got}, want {want}"
            );
        }
    }
    // forward_at shifts the positions.
    let at_seven = encoding.forward_at(&Var::constant(Tensor::zeros(&[1, 1, d])), 7);
    assert_eq!(at_seven.value().to_vec(), table[7 * d..8 * d]);
}

#[test]
fn positions_beyond_the_table_are_refused() {
    let positions = PositionalEmbedding::new(8, 4, &mut Rng::new(9));
    let x = Var::constant(Tensor::zeros(&[1, 3, 4]));
    let err = positions.try_forward_at(&x, 6).unwrap_err().to_string();
    assert!(
        err.contains("positions 6..6+T within 0..8, found [1, 3, 4]"),
        "{err}"
    );
    let wide = Var::constant(Tensor::zeros(&[1, 3, 5]));
    assert!(positions.try_forward(&wide).is_err());
}
