//! The language-model judges and the transformer LM: held-out bits per token carried across
//! chunks equal one pass over each stream, the count baselines equal hand-computed values, a
//! transformer judged in one window gives its cross-entropy, and cached sampling draws what
//! recomputing every prefix draws.

use strata_autograd::no_grad;
use strata_datasets::token_tensor;
use strata_modules::{
    cross_entropy, CrossEntropyLoss, Dense, Embedding, Lstm, Reduction, TransformerConfig,
};
use strata_patterns::{sample_token, AutoRegressive, CountBaselines, Sampling, TransformerLm};
use strata_tensor::Rng;

fn model(rng: &mut Rng) -> AutoRegressive<Lstm> {
    AutoRegressive::tokens(
        Embedding::new(7, 6, rng),
        Lstm::new(6, 10, rng),
        Dense::new(10, 7, rng),
    )
}

/// Bits per token of each stream read in one pass from a zero state, averaged.
fn one_pass_bits(model: &AutoRegressive<Lstm>, text: &[usize], streams: usize) -> f64 {
    let per_stream = (text.len() - 1) / streams;
    let mut nats = 0.0;
    for s in 0..streams {
        let from = s * per_stream;
        let inputs = token_tensor(
            text[from..from + per_stream].iter().copied(),
            &[1, per_stream],
        );
        let targets = token_tensor(
            text[from + 1..=from + per_stream].iter().copied(),
            &[per_stream],
        );
        no_grad(|| {
            let (logits, _) = model.run(&inputs, None);
            let logits = logits.reshape(&[-1, 7]);
            nats += f64::from(
                CrossEntropyLoss::new()
                    .reduction(Reduction::Sum)
                    .forward(&logits, &targets)
                    .item(),
            );
        });
    }
    nats / (streams * per_stream) as f64 / std::f64::consts::LN_2
}

#[test]
fn chunked_reading_carries_the_state_and_equals_one_pass_per_stream() {
    let mut rng = Rng::new(3);
    let model = model(&mut rng);
    let text: Vec<usize> = (0..301).map(|i| (i * i + 3 * i) % 7).collect();
    for streams in [1, 3, 4] {
        let whole = one_pass_bits(&model, &text, streams);
        for chunk in [1, 7, 50, 1000] {
            let chunked = model.bits_per_token(&text, streams, chunk);
            assert!(
                (chunked - whole).abs() < 1e-4,
                "{streams} streams, chunks of {chunk}: {chunked} vs {whole}"
            );
        }
    }
}

#[test]
fn count_baselines_match_hand_computed_bits() {
    // Vocabulary 3, training text "0 1 0 1 2": pairs (0,1) (1,0) (0,1) (1,2).
    // Unigram counts of the predicted tokens, plus one: [1+1, 2+1, 1+1] = [2, 3, 2] of 7.
    // Bigram rows plus one: from 0: [1, 3, 1] of 5; from 1: [2, 1, 2] of 5; from 2: [1, 1, 1].
    // Test "0 1 2": unigram −(log2 3/7 + log2 2/7)/2, bigram −(log2 3/5 + log2 2/5)/2.
    let baselines = CountBaselines::measure(&[0, 1, 0, 1, 2], &[0, 1, 2], 3);
    let unigram = -((3.0f64 / 7.0).log2() + (2.0f64 / 7.0).log2()) / 2.0;
    let bigram = -((3.0f64 / 5.0).log2() + (2.0f64 / 5.0).log2()) / 2.0;
    assert!((baselines.unigram - unigram).abs() < 1e-12, "{baselines:?}");
    assert!((baselines.bigram - bigram).abs() < 1e-12, "{baselines:?}");
}

#[test]
#[should_panic(expected = "ids must be below the vocabulary of 3")]
fn count_baselines_refuse_ids_outside_the_vocabulary() {
    let _ = CountBaselines::measure(&[0, 1, 3], &[0, 1], 3);
}

fn transformer(rng: &mut Rng, context: usize) -> TransformerLm {
    let config = TransformerConfig::new(8, 2)
        .dim_feedforward(16)
        .dropout(0.0);
    TransformerLm::new(7, context, config, 2, rng)
}

#[test]
fn a_transformer_judged_in_one_window_gives_its_mean_cross_entropy() {
    let model = transformer(&mut Rng::new(5), 32);
    let text: Vec<usize> = (0..20).map(|i| (3 * i + 1) % 7).collect();
    let inputs = token_tensor(text[..19].iter().copied(), &[1, 19]);
    let targets = token_tensor(text[1..].iter().copied(), &[19]);
    let logits = model.logits(&inputs).reshape(&[-1, 7]);
    let nats = cross_entropy(&logits, &targets).item();
    let bits = f64::from(nats) / std::f64::consts::LN_2;
    for batch in [1, 4] {
        let judged = model.bits_per_token(&text, batch);
        assert!(
            (judged - bits).abs() < 1e-5,
            "batch {batch}: {judged} vs {bits}"
        );
    }
    // Overlapping windows of a shorter context: the batch size does not change the figure.
    let short = transformer(&mut Rng::new(5), 6);
    let (one, many) = (
        short.bits_per_token(&text, 1),
        short.bits_per_token(&text, 5),
    );
    assert!((one - many).abs() < 1e-6, "{one} vs {many}");
}

#[test]
fn cached_sampling_draws_what_recomputing_every_prefix_draws() {
    let model = transformer(&mut Rng::new(6), 16);
    let greedy = Sampling {
        temperature: 1.0,
        top_k: Some(1),
    };
    let prompt = [1, 4, 2];
    let cached = model.sample(&prompt, 10, greedy, &mut Rng::new(0));
    let mut text = prompt.to_vec();
    for _ in 0..10 {
        let ids = token_tensor(text.iter().copied(), &[1, text.len()]);
        let logits = model.logits(&ids).value().to_vec();
        let last = &logits[(text.len() - 1) * 7..];
        text.push(sample_token(last, greedy, &mut Rng::new(0)));
    }
    assert_eq!(cached, text[prompt.len()..]);
}
