//! Reversing digit sequences with a GRU encoder-decoder: the source is a random sequence of
//! 5 to 10 digits (seeded), the target the same digits in reverse order followed by the end
//! token. Held-out sequences are drawn first and never used for training.

use std::collections::HashSet;
use strata_modules::{clip_grad_norm, Adam, CosineAnnealingLr, Dense, Gru, LrSchedule, Optimizer};
use strata_patterns::Seq2Seq;
use strata_tensor::{Rng, Tensor};

/// Seed of the held-out sequences.
pub const TEST_SEED: u64 = 17;
/// Seed of initialisation and training sequences.
pub const SEED: u64 = 18;
/// Digit tokens are 0..10; then the start and end tokens.
const DIGITS: usize = 10;
/// Fed to the decoder before its first output.
const START: usize = DIGITS;
/// Ends every target sequence.
const END: usize = DIGITS + 1;
/// Token ids in all.
const VOCABULARY: usize = DIGITS + 2;
/// Shortest and longest source sequences.
pub const LENGTHS: std::ops::RangeInclusive<usize> = 5..=10;
/// Hidden size of the encoder and the decoder: the encoder's final state must hold up to ten
/// digits (about 33 bits); 64 units learn it about as fast per step as 128, at a third of
/// the cost.
const HIDDEN: usize = 64;
/// Training steps (each a batch of one length).
pub const STEPS: usize = 1500;
/// Sequences per batch.
const BATCH: usize = 64;
/// Held-out sequences of each length.
pub const TEST_PER_LENGTH: usize = 100;
/// Adam's initial learning rate, annealed to 0 along a cosine over the steps: a high rate
/// finds the solution quickly, the decay lets it settle (at a constant 1e-2 held-out accuracy
/// wanders around 90%; with the decay it passes 98% in the same steps).
const LEARNING_RATE: f32 = 1e-2;
/// Global gradient-norm clip: recurrent gradients can spike early in training.
const GRAD_CLIP: f32 = 1.0;

/// The model of this recipe.
pub type Reverser = Seq2Seq<Gru>;

/// A GRU encoder and decoder of width 64 over the 12 tokens.
pub fn build(rng: &mut Rng) -> Reverser {
    Seq2Seq::new(
        Gru::new(VOCABULARY, HIDDEN, rng),
        Gru::new(VOCABULARY, HIDDEN, rng),
        Dense::new(HIDDEN, VOCABULARY, rng),
        START,
        END,
    )
}

fn random_sequence(length: usize, rng: &mut Rng) -> Vec<usize> {
    (0..length).map(|_| rng.below(DIGITS)).collect()
}

/// Held-out sequences: [`TEST_PER_LENGTH`] of each length, distinct.
pub fn held_out(seed: u64) -> Vec<Vec<usize>> {
    let mut rng = Rng::new(seed);
    let mut seen = HashSet::new();
    let mut sequences = Vec::new();
    for length in LENGTHS {
        while sequences.len() < (length - LENGTHS.start() + 1) * TEST_PER_LENGTH {
            let sequence = random_sequence(length, &mut rng);
            if seen.insert(sequence.clone()) {
                sequences.push(sequence);
            }
        }
    }
    sequences
}

/// Sources `[N, T]` and reversed targets with the end token `[N, T + 1]`, as token tensors.
fn source_and_target(sequences: &[Vec<usize>]) -> (Tensor, Tensor) {
    let (n, length) = (sequences.len(), sequences[0].len());
    let source: Vec<f32> = sequences.iter().flatten().map(|&d| d as f32).collect();
    let target: Vec<f32> = sequences
        .iter()
        .flat_map(|s| s.iter().rev().copied().chain([END]))
        .map(|d| d as f32)
        .collect();
    (
        Tensor::from_vec(source, &[n, length]),
        Tensor::from_vec(target, &[n, length + 1]),
    )
}

/// Trains with teacher forcing on fresh random sequences, skipping the held-out ones.
pub fn train(held_out: &[Vec<usize>], seed: u64) -> Reverser {
    let held_out: HashSet<&Vec<usize>> = held_out.iter().collect();
    let mut rng = Rng::new(seed);
    let mut model = build(&mut rng);
    let mut optimizer = Adam::new(LEARNING_RATE);
    let schedule = CosineAnnealingLr {
        period: STEPS,
        min_lr: 0.0,
    };
    for step in 0..STEPS {
        optimizer.set_learning_rate(schedule.learning_rate(LEARNING_RATE, step));
        let length = LENGTHS.start() + rng.below(LENGTHS.count());
        let mut batch = Vec::with_capacity(BATCH);
        while batch.len() < BATCH {
            let sequence = random_sequence(length, &mut rng);
            if !held_out.contains(&sequence) {
                batch.push(sequence);
            }
        }
        let (source, target) = source_and_target(&batch);
        let loss = model.loss(&source, &target);
        let mut grads = loss
            .backward()
            .expect("the loss depends on the model's parameters");
        clip_grad_norm(&mut grads, GRAD_CLIP);
        optimizer.step(&mut model, &grads);
    }
    model
}

/// Fraction of `sequences` whose greedy decoding is exactly their reverse (same length,
/// every digit right).
pub fn exact_accuracy(model: &Reverser, sequences: &[Vec<usize>]) -> f32 {
    let mut correct = 0;
    for length in LENGTHS {
        let group: Vec<Vec<usize>> = sequences
            .iter()
            .filter(|s| s.len() == length)
            .cloned()
            .collect();
        if group.is_empty() {
            continue;
        }
        let (source, _) = source_and_target(&group);
        let decoded = model.greedy_decode(&source, length + 2);
        correct += decoded
            .iter()
            .zip(&group)
            .filter(|(out, s)| out.iter().eq(s.iter().rev()))
            .count();
    }
    correct as f32 / sequences.len().max(1) as f32
}
