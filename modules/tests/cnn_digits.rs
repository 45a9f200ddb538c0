//! The LeNet-style CNN of examples/cnn.rs learns the 8×8 digits: held-out accuracy ≥ 97% on
//! the seeded split.

#[path = "../examples/cnn.rs"]
#[allow(dead_code)]
mod cnn;

/// The threshold for the digits CNN.
const MIN_ACCURACY: f32 = 0.97;
/// Fewer epochs than the example's, still clearing the threshold with the example's seed.
const TEST_EPOCHS: usize = 10;

#[test]
fn cnn_reaches_97_percent_on_held_out_digits() {
    let accuracy = cnn::train_and_evaluate(TEST_EPOCHS, cnn::SEED).unwrap();
    assert!(
        accuracy >= MIN_ACCURACY,
        "held-out accuracy {accuracy} below {MIN_ACCURACY}"
    );
}
