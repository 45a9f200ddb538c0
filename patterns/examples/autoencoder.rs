//! Autoencoders on the embedded 8×8 digits, three ways:
//!
//! 1. a 16-number latent code, judged by its held-out reconstruction error against the error
//!    of predicting the mean image;
//! 2. a 2-number code, drawn as a scatter plot of the held-out digits coloured by class (an
//!    SVG written to `target/examples/autoencoder/latent.svg`, or into the folder given as
//!    argument);
//! 3. a denoising autoencoder that maps noisy digits to clean ones;
//! 4. the 16-number code reached by convolutions and transposed convolutions instead of
//!    dense layers, its error beside the dense one's.
//!
//! `cargo run --release -p strata-patterns --example autoencoder [FOLDER]`

#![allow(clippy::print_stdout)]

#[allow(dead_code)] // each example uses one recipe of the shared support module
mod support;

use support::autoencoder::{
    evaluate, latent_points, train, write_latent_plot, CONVOLUTIONAL, DENOISING, MAX_MSE_RATIO,
    PLAIN, PLANE,
};
use support::data::digit_datasets;
use support::{output_dir, Progress, SPLIT_SEED};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (train_set, test_set) = digit_datasets(SPLIT_SEED);

    let mut plane = train(&PLANE, &train_set, Progress::Bar);
    let report = evaluate(&mut plane, &PLANE, &train_set, &test_set);
    let path = output_dir("autoencoder")?.join("latent.svg");
    write_latent_plot(&path, &latent_points(&plane, &test_set), &test_set)?;
    println!(
        "2-D code: held-out MSE {:.4} ({:.0}% of the mean image's); latent plane drawn in {}",
        report.model_mse,
        100.0 * report.ratio(),
        path.display()
    );

    let mut denoising = train(&DENOISING, &train_set, Progress::Bar);
    let report = evaluate(&mut denoising, &DENOISING, &train_set, &test_set);
    println!(
        "denoising (σ = {}): noisy input MSE {:.4} → denoised MSE {:.4} (mean image {:.4})",
        DENOISING.noise, report.input_mse, report.model_mse, report.mean_image_mse
    );

    let mut plain = train(&PLAIN, &train_set, Progress::Bar);
    let report = evaluate(&mut plain, &PLAIN, &train_set, &test_set);
    println!(
        "{}-number code: held-out reconstruction MSE {:.4} = {:.1}% of the mean-image MSE {:.4} (threshold {:.0}%)",
        PLAIN.latent,
        report.model_mse,
        100.0 * report.ratio(),
        report.mean_image_mse,
        100.0 * MAX_MSE_RATIO
    );

    let mut convolutional = train(&CONVOLUTIONAL, &train_set, Progress::Bar);
    let conv = evaluate(&mut convolutional, &CONVOLUTIONAL, &train_set, &test_set);
    println!(
        "the same code by convolutions: held-out MSE {:.4} = {:.1}% of the mean image's (dense: {:.1}%)",
        conv.model_mse,
        100.0 * conv.ratio(),
        100.0 * report.ratio()
    );
    Ok(())
}
