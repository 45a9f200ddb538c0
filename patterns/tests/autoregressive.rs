//! Auto-regressive: sampling with temperature and top-k against the softmax it should follow,
//! teacher forcing against step-by-step runs, the training step on padded batches of
//! sequences of different lengths, the forecast loop, and the recipes' held-out results (sine
//! forecasting, the Moby-Dick character model against count baselines).

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // the tests use some of the shared recipes
#[path = "../examples/support/mod.rs"]
mod support;

use support::Progress;

use strata_datasets::{stack_examples, token_tensor, Batch, Example, Fields};
use strata_modules::{mean_absolute_error, Dense, Embedding, Gru, Lstm, Module, Params, TrainStep};
use strata_patterns::{sample_token, AutoRegressive, Sampling};
use strata_tensor::{Rng, Tensor};

/// Draws per frequency check: the standard error of a frequency near 0.3 is then about
/// 0.003, so a tolerance of 0.015 is five standard errors.
const DRAWS: usize = 20_000;
const FREQUENCY_TOLERANCE: f64 = 0.015;

fn frequencies(logits: &[f32], sampling: Sampling) -> Vec<f64> {
    let mut rng = Rng::new(1);
    let mut counts = vec![0usize; logits.len()];
    for _ in 0..DRAWS {
        counts[sample_token(logits, sampling, &mut rng)] += 1;
    }
    counts.iter().map(|&c| c as f64 / DRAWS as f64).collect()
}

/// `softmax(logits / temperature)` restricted to `allowed`, by hand.
fn expected(logits: &[f32], temperature: f64, allowed: &[usize]) -> Vec<f64> {
    let weights: Vec<f64> = (0..logits.len())
        .map(|i| {
            if allowed.contains(&i) {
                (f64::from(logits[i]) / temperature).exp()
            } else {
                0.0
            }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| w / total).collect()
}

#[test]
fn sampling_follows_the_tempered_softmax_over_the_top_k() {
    let logits = [1.0, 0.2, -0.5, 0.8, -1.0];
    for (sampling, allowed) in [
        (Sampling::default(), vec![0, 1, 2, 3, 4]),
        (
            Sampling {
                temperature: 0.5,
                top_k: None,
            },
            vec![0, 1, 2, 3, 4],
        ),
        (
            Sampling {
                temperature: 2.0,
                top_k: Some(3),
            },
            vec![0, 1, 3],
        ),
    ] {
        let got = frequencies(&logits, sampling);
        let want = expected(&logits, f64::from(sampling.temperature), &allowed);
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() < FREQUENCY_TOLERANCE,
                "{sampling:?}: {got:?} vs {want:?}"
            );
        }
    }
    // Top-1 is greedy.
    let greedy = Sampling {
        temperature: 1.0,
        top_k: Some(1),
    };
    assert!(frequencies(&logits, greedy)[0] == 1.0);
}

fn token_model(rng: &mut Rng) -> AutoRegressive<Gru> {
    AutoRegressive::tokens(
        Embedding::new(6, 4, rng),
        Gru::new(4, 5, rng),
        Dense::new(5, 6, rng),
    )
}

#[test]
fn teacher_forcing_equals_running_the_steps_one_at_a_time() {
    let mut rng = Rng::new(2);
    let model = token_model(&mut rng);
    let tokens = Tensor::from_vec(vec![0.0, 3.0, 5.0, 1.0, 2.0, 2.0, 4.0, 0.0], &[2, 4]);
    let (all_at_once, _) = model.run(&tokens, None);
    let mut state = None;
    for t in 0..4 {
        let (step, next) = model.run(&tokens.narrow(1, t, 1), state.as_ref());
        state = Some(next);
        let want = all_at_once.value().narrow(1, t, 1).to_vec();
        for (g, w) in step.value().to_vec().iter().zip(&want) {
            assert!((g - w).abs() < 1e-5);
        }
    }
    // The loss is the mean cross-entropy of every step's logits against the next token.
    let (inputs, targets) = (tokens.narrow(1, 0, 3), tokens.narrow(1, 1, 3));
    let logits = model.run(&inputs, None).0.value().to_vec();
    let mut nats = 0.0;
    for (row, &target) in logits.chunks(6).zip(&targets.to_vec()) {
        let top = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let log_total = row.iter().map(|l| (l - top).exp()).sum::<f32>().ln() + top;
        nats += log_total - row[target as usize];
    }
    let loss = model.token_loss(&inputs, &targets);
    assert!((loss.item() - nats / 6.0).abs() < 1e-5);
    let names: Vec<String> = model.parameter_names();
    assert_eq!(names[0], "embedding.weight");
    assert_eq!(names[1], "core.weight_ih_l0");
    assert_eq!(names.last().unwrap(), "head.bias");
}

/// Ids as a `[1, n]` tensor.
fn ids(tokens: &[usize]) -> Tensor {
    token_tensor(tokens.iter().copied(), &[1, tokens.len()])
}

#[test]
fn the_training_step_leaves_padded_steps_out_of_loss_and_metrics() {
    let mut rng = Rng::new(4);
    let model = token_model(&mut rng);
    // Sentences of 5, 3 and 4 tokens: inputs all but the last, targets all but the first.
    let sentences: [&[usize]; 3] = [&[1, 3, 5, 2, 4], &[2, 5, 1], &[0, 4, 4, 3]];
    let example = |s: &[usize]| {
        let steps = |part: &[usize]| ids(part).squeeze(0);
        Example::from_fields(
            Fields::new().with_sequence("tokens", steps(&s[..s.len() - 1]), 0.0),
            Fields::new().with_sequence("next", steps(&s[1..]), 0.0),
        )
    };
    let batch = stack_examples(&[0, 1, 2], |i| Ok(example(sentences[i]))).unwrap();
    assert_eq!(batch.inputs.lengths("tokens"), Some(&[4, 2, 3][..]));
    let step = model.step(&batch);

    // By hand: each sentence run alone, unpadded.
    let (mut nats, mut hits, mut steps) = (0.0, 0, 0);
    for sentence in sentences {
        let n = sentence.len() - 1;
        let (inputs, targets) = (ids(&sentence[..n]), ids(&sentence[1..]));
        nats += model.token_loss(&inputs, &targets).item() * n as f32;
        let predicted = model.run(&inputs, None).0.value().argmax(2, false);
        hits += (predicted.to_vec().iter())
            .zip(targets.to_vec())
            .filter(|(p, t)| **p == *t)
            .count();
        steps += n;
    }
    assert!((step.loss.item() - nats / steps as f32).abs() < 1e-5);
    let accuracy = step.metrics.get("accuracy").unwrap();
    assert_eq!(accuracy.count, steps as f64, "weighted by the real steps");
    assert!((accuracy.value() - hits as f32 / steps as f32).abs() < 1e-6);
    assert_eq!(step.metrics.get("loss").unwrap().count, steps as f64);

    // A value model on fixed-length series: the mean squared error and the mean absolute
    // error over every value.
    let values = AutoRegressive::values(Lstm::new(2, 3, &mut rng), Dense::new(3, 2, &mut rng));
    let series = Tensor::rand_normal(&[2, 4, 2], 0.0, 1.0, &mut rng);
    let next = Tensor::rand_normal(&[2, 4, 2], 0.0, 1.0, &mut rng);
    let batch = Batch::new(series.clone(), next.clone(), vec![0, 1]);
    let step = values.step(&batch);
    assert!((step.loss.item() - values.value_loss(&series, &next).item()).abs() < 1e-6);
    let predicted = values.run(&series, None).0.value().clone();
    let mae = mean_absolute_error(&predicted, &next).value();
    assert!((step.metrics.value("mae").unwrap() - mae).abs() < 1e-6);
}

#[test]
fn sampling_is_seeded_and_forecasting_feeds_predictions_back() {
    let mut rng = Rng::new(3);
    let model = token_model(&mut rng);
    let draw = |seed| model.sample(&[1, 2], 20, Sampling::default(), &mut Rng::new(seed));
    assert_eq!(draw(7), draw(7));
    assert!(draw(7).iter().all(|&t| t < 6));

    let values = AutoRegressive::values(Lstm::new(2, 3, &mut rng), Dense::new(3, 2, &mut rng));
    let history = Tensor::rand_normal(&[2, 5, 2], 0.0, 1.0, &mut rng);
    let forecast = values.forecast(&history, 3);
    assert_eq!(forecast.shape(), &[2, 3, 2]);
    // Step by step: each prediction is the model's output after reading the previous one.
    let (outputs, mut state) = values.run(&history, None);
    let mut next = outputs.value().narrow(1, 4, 1);
    for t in 0..3 {
        let got = forecast.narrow(1, t, 1).to_vec();
        assert_eq!(got, next.to_vec());
        let (out, after) = values.run(&next, Some(&state));
        state = after;
        next = out.value().clone();
    }
    assert_eq!(
        values
            .forward(&strata_modules::Var::constant(history))
            .shape(),
        &[2, 5, 2]
    );
}

/// Bar on the 10-step forecast error: three times the noise σ (0.05) on the held-out
/// values, which a forecast cannot beat; repeating the last value scores about 1.1 and the
/// recipe measures 0.093 (0.075-0.093 over six seeds).
const MAX_FORECAST_RMSE: f32 = 0.15;

#[test]
fn lstm_forecasts_noisy_sine_waves_ten_steps_ahead() {
    use support::sine::{evaluate, train, SEED};
    let error = evaluate(&train(SEED, Progress::Quiet));
    println!("{error:?}");
    assert!(error.model <= MAX_FORECAST_RMSE);
    assert!(error.model < error.last_value);
}

/// Bar on the held-out bits per character: well under the bigram's 3.56 (measured 2.71
/// with the recipe's budget of 1.5 passes over the book).
const MAX_BITS_PER_CHAR: f64 = 3.0;

#[test]
fn char_lm_beats_unigram_and_bigram_on_held_out_moby_dick() {
    use support::char_lm::{corpus, evaluate, train, SEED};
    let corpus = corpus();
    let model = train(&corpus, SEED, Progress::Quiet);
    let bits = evaluate(&model, &corpus);
    println!("{bits:?}");
    assert!(bits.model < bits.bigram && bits.bigram < bits.unigram);
    assert!(bits.model <= MAX_BITS_PER_CHAR);
}

/// The transformer char LM (`char_transformer` example): measured 2.908 bits per character
/// after 41 s of training on this machine (bigram 3.557, unigram 4.498).
const MAX_TRANSFORMER_BITS_PER_CHAR: f64 = 3.1;

#[test]
fn char_transformer_beats_unigram_and_bigram_on_held_out_moby_dick() {
    use support::char_lm::{corpus, PROMPT};
    use support::char_transformer::{evaluate, generate, train, SEED};
    let corpus = corpus();
    let model = train(&corpus, SEED, Progress::Quiet);
    let bits = evaluate(&model, &corpus);
    println!("{bits:?}");
    let baselines = bits.baselines;
    assert!(bits.model < baselines.bigram && baselines.bigram < baselines.unigram);
    assert!(bits.model <= MAX_TRANSFORMER_BITS_PER_CHAR);
    // Sampling is seeded, and continues past the 64-character context.
    let sample = generate(&model, &corpus, PROMPT, SEED);
    assert_eq!(sample, generate(&model, &corpus, PROMPT, SEED));
    assert_eq!(sample.chars().count(), 300);
}
