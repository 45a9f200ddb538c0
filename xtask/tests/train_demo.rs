//! End-to-end tests of the `xtask` binary: the demo on the embedded digits reaches its
//! accuracy target and writes every output in a readable form, `eval` reports the accuracy
//! measured at the end of training, and a missing dataset fails with the fetch command.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use strata_modules::{Checkpoint, Dense, Flatten, Relu, Sequential};
use strata_tensor::Rng;

/// The accuracy the issue asks of the default demo on the held-out digits.
const DIGITS_TARGET_ACCURACY: f64 = 0.97;

/// A fresh, empty folder for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("xtask-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary folder");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("run the xtask binary")
}

fn train_demo(out: &Path, extra: &[&str]) -> Output {
    let out = out.to_str().expect("a UTF-8 temporary path");
    let output = xtask(&[&["train-demo", "--out", out], extra].concat());
    assert!(
        output.status.success(),
        "train-demo failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn read_metrics(out: &Path) -> Value {
    let text = std::fs::read_to_string(out.join("metrics.json")).expect("metrics.json exists");
    serde_json::from_str(&text).expect("metrics.json is JSON")
}

/// The contents of the `<text>` elements of an SVG document, trimmed.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|element| {
            let content = element.split_once('>')?.1;
            Some(content.split_once("</text>")?.0.trim().to_string())
        })
        .collect()
}

#[test]
fn default_demo_reaches_the_target_and_writes_every_output() {
    let out = TempDir::new("demo");
    let run = train_demo(&out.0, &[]);
    let stdout = String::from_utf8_lossy(&run.stdout);

    // Accuracy on the held-out split, as logged and as printed.
    let metrics = read_metrics(&out.0);
    let accuracy = metrics["test"]["accuracy"].as_f64().expect("test accuracy");
    assert!(
        accuracy >= DIGITS_TARGET_ACCURACY,
        "test accuracy {accuracy} is below {DIGITS_TARGET_ACCURACY}"
    );
    assert_eq!(metrics["dataset"], "digits");
    let correct = metrics["test"]["correct"].as_u64().expect("correct count");
    let total = metrics["test"]["total"].as_u64().expect("total count");
    assert_eq!(total, 359, "20% of the 1,797 digits are held out");
    assert!(stdout.contains(&format!(
        "test accuracy: {:.2}% ({correct}/{total})",
        100.0 * accuracy
    )));

    // The confusion matrix counts every test example once; its diagonal is the correct ones.
    let matrix: Vec<Vec<u64>> = serde_json::from_value(metrics["test"]["confusion"].clone())
        .expect("a confusion matrix of counts");
    assert_eq!(matrix.len(), 10);
    assert_eq!(matrix.iter().flatten().sum::<u64>(), total);
    assert_eq!((0..10).map(|k| matrix[k][k]).sum::<u64>(), correct);
    assert!(
        stdout.contains("true \\ predicted"),
        "confusion matrix printed:\n{stdout}"
    );

    // One history entry per epoch, with a falling training loss.
    let history = metrics["history"].as_array().expect("history");
    assert_eq!(
        history.len() as u64,
        metrics["epochs"].as_u64().expect("epochs")
    );
    let loss = |entry: &Value| entry["train"]["loss"].as_f64().expect("train loss");
    assert!(loss(&history[history.len() - 1]) < loss(&history[0]) / 5.0);

    // The curves: an SVG whose text includes the axis descriptions.
    let svg = std::fs::read_to_string(out.0.join("curves.svg")).expect("curves.svg exists");
    assert!(
        svg.trim_start().starts_with("<svg"),
        "not an SVG: {}",
        &svg[..40.min(svg.len())]
    );
    let texts = svg_texts(&svg);
    for label in [
        "epoch",
        "cross-entropy loss",
        "accuracy (%)",
        "train",
        "test",
    ] {
        assert!(
            texts.iter().any(|t| t == label),
            "no {label:?} among the SVG texts {texts:?}"
        );
    }

    // The patterns: a valid grayscale PNG large enough for 16x16 tiles of 8x8 digits.
    let png = std::fs::File::open(out.0.join("first-layer-weights.png"))
        .expect("first-layer-weights.png exists");
    let mut reader = png::Decoder::new(std::io::BufReader::new(png))
        .read_info()
        .expect("a PNG header");
    let info = reader.info();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    assert!(info.width >= 16 * 32 && info.height >= 16 * 32);
    let mut pixels = vec![0; reader.output_buffer_size().expect("a buffer size")];
    reader
        .next_frame(&mut pixels)
        .expect("the PNG's pixels decode");

    // The checkpoint: loads, describes the run, and fits the network it describes.
    let checkpoint = Checkpoint::load(out.0.join("model.ckpt")).expect("the checkpoint loads");
    assert_eq!(checkpoint.metadata["recipe.dataset"], "digits");
    assert_eq!(checkpoint.metadata["recipe.widths"], "512");
    let mut rng = Rng::new(0);
    let mut mlp = Sequential::new()
        .push(Flatten)
        .push(Dense::new(64, 512, &mut rng))
        .push(Relu)
        .push(Dense::new(512, 10, &mut rng));
    checkpoint
        .apply_to(&mut mlp)
        .expect("the checkpoint fits a 64-512-10 MLP");
    assert!(checkpoint.training.is_some() && checkpoint.optimizer.is_some());
}

/// Trains briefly with `model` and the `extra` options and checks that `eval` of the
/// checkpoint prints the accuracy the run ended with (what matters is that both agree, not
/// how high they are); returns the output folder.
fn eval_matches_training(model: &str, extra: &[&str]) -> TempDir {
    let out = TempDir::new(&format!("eval-{model}-{}", extra.len()));
    let options = [
        "--model",
        model,
        "--epochs",
        "2",
        "--seed",
        "5",
        "--optimizer",
        "sgd",
    ];
    train_demo(&out.0, &[&options[..], extra].concat());
    let metrics = read_metrics(&out.0);
    let expected = format!(
        "({}/{})",
        metrics["test"]["correct"], metrics["test"]["total"]
    );
    let reported = eval_report(&out.0.join("model.ckpt"));
    assert!(
        reported.contains(&expected),
        "eval reported {reported:?}, training ended with {expected}"
    );
    assert!(reported.contains(&format!("{model} ")) && reported.contains("on digits (seed 5)"));
    out
}

/// The line where a successful `eval` of `checkpoint` reports the test accuracy.
fn eval_report(checkpoint: &Path) -> String {
    let eval = xtask(&[
        "eval",
        "--checkpoint",
        checkpoint.to_str().expect("UTF-8 path"),
    ]);
    let stdout = String::from_utf8_lossy(&eval.stdout);
    assert!(
        eval.status.success(),
        "eval failed: {}",
        String::from_utf8_lossy(&eval.stderr)
    );
    stdout
        .lines()
        .find(|line| line.contains("test accuracy"))
        .expect("eval prints the test accuracy")
        .to_string()
}

#[test]
fn eval_of_an_mlp_reports_the_accuracy_measured_after_training() {
    eval_matches_training("mlp", &[]);
}

#[test]
fn eval_of_a_cnn_reports_the_accuracy_measured_after_training() {
    eval_matches_training("cnn", &[]);
}

#[test]
fn eval_rebuilds_batch_norm_and_dropout_and_reads_checkpoints_from_before_them() {
    let regularised = [
        "--batch-norm",
        "true",
        "--dropout",
        "0.3",
        "--shift",
        "1",
        "--warmup",
        "1",
    ];
    let out = eval_matches_training("cnn", &regularised);
    let reported = eval_report(&out.0.join("model.ckpt"));
    assert!(
        reported.contains(", batch norm, dropout 0.3 on digits"),
        "{reported}"
    );
    let metrics = read_metrics(&out.0);
    assert_eq!(
        (&metrics["warmup_epochs"], &metrics["max_shift_pixels"]),
        (&Value::from(1), &Value::from(1))
    );
    let rates: Vec<f64> = metrics["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|epoch| epoch["learning_rate"].as_f64().expect("a rate"))
        .collect();
    assert!(rates[0] < rates[1], "epoch 0 warms up: {rates:?}");

    // Without its two entries, the metadata describes the network without batch norm and
    // dropout: refused, naming what it expected and what the file holds.
    let strip = |checkpoint: &mut Checkpoint| {
        checkpoint.metadata.remove("recipe.batch_norm");
        checkpoint.metadata.remove("recipe.dropout");
    };
    let mut stripped = Checkpoint::load(out.0.join("model.ckpt")).expect("the checkpoint loads");
    strip(&mut stripped);
    let err = eval_fails(&out.0, &stripped, "stripped.ckpt");
    assert!(
        err.contains("the metadata describes cnn conv3x3(16)-pool-conv3x3(32)-pool-64-10 but the weights disagree: there is no parameter `0.bias` [16] (found 0.weight, 1.weight, 1.bias, 4.weight"),
        "{err}"
    );

    // A checkpoint written before the entries existed, of the network without either, is
    // still evaluated, at the accuracy it was trained to.
    let plain = eval_matches_training("cnn", &["--batch-norm", "false", "--dropout", "0"]);
    let path = plain.0.join("model.ckpt");
    let mut old = Checkpoint::load(&path).expect("the checkpoint loads");
    strip(&mut old);
    let before = eval_report(&path);
    old.save(&path).expect("save the old-style checkpoint");
    assert_eq!(eval_report(&path), before);
}

#[test]
fn trace_prints_where_the_training_time_went() {
    let out = TempDir::new("trace");
    let run = train_demo(&out.0, &["--epochs", "2", "--trace"]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    let table = &stdout[stdout.find("time per phase").expect("a phase table")..];
    let steps = |phase: &str| -> u64 {
        let line = table
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{phase} ")))
            .unwrap_or_else(|| panic!("no {phase} line in:\n{table}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    // 1,438 training digits in batches of 32 (default), two epochs.
    let batches = 2 * 1438u64.div_ceil(32);
    assert_eq!(steps("epoch"), 2, "{table}");
    for phase in ["step", "forward", "backward", "optimizer"] {
        assert_eq!(steps(phase), batches, "{phase} in:\n{table}");
    }
    assert_eq!(steps("validation"), 2, "{table}");
}

#[test]
fn shifts_of_data_that_are_not_images_are_refused() {
    let out = TempDir::new("iris-shift");
    let folder = out.0.join("never-written");
    let folder = folder.to_str().expect("UTF-8 path");
    let run = xtask(&[
        "train-demo",
        "--dataset",
        "iris",
        "--shift",
        "2",
        "--out",
        folder,
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("random shifts move images [channels, height, width]; iris has inputs of shape [4] (use --shift 0)"),
        "{stderr}"
    );
}

#[test]
fn mnist_without_files_fails_naming_the_fetch_command() {
    let empty = TempDir::new("no-mnist");
    let dir = empty.0.to_str().expect("UTF-8 path");
    let run = xtask(&["train-demo", "--dataset", "mnist", "--data-dir", dir]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success(),
        "train-demo should fail without the MNIST files"
    );
    assert!(
        stderr.contains("cargo xtask fetch mnist"),
        "no fetch hint in: {stderr}"
    );
    assert!(
        stderr.contains(dir),
        "the folder searched is not named in: {stderr}"
    );
    assert!(
        stderr.contains("train-images-idx3-ubyte"),
        "the expected files are not named: {stderr}"
    );
}

#[test]
fn eval_of_a_file_that_is_not_a_checkpoint_fails_cleanly() {
    let dir = TempDir::new("bad-ckpt");
    let path = dir.0.join("model.ckpt");
    std::fs::write(&path, b"not a checkpoint").expect("write a file");
    let run = xtask(&["eval", "--checkpoint", path.to_str().expect("UTF-8 path")]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(stderr.contains("not a Strata checkpoint"), "{stderr}");
}

#[test]
fn fetch_lists_the_downloadable_datasets_without_network() {
    let run = xtask(&["fetch", "--list"]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success());
    for name in ["mnist", "fashion-mnist", "cifar10"] {
        assert!(stdout.contains(name), "{name} missing from:\n{stdout}");
    }
}

/// Runs `eval` on `checkpoint` written to `dir`, expecting a clean failure (an error message,
/// exit code 1, no panic); returns its message.
fn eval_fails(dir: &Path, checkpoint: &Checkpoint, name: &str) -> String {
    let path = dir.join(name);
    checkpoint.save(&path).expect("save the edited checkpoint");
    let run = xtask(&["eval", "--checkpoint", path.to_str().expect("UTF-8 path")]);
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert_eq!(run.status.code(), Some(1), "{name}: {stderr}");
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    stderr
}

#[test]
fn eval_refuses_checkpoints_whose_metadata_disagrees_with_the_weights_or_the_data() {
    let out = TempDir::new("eval-edited");
    train_demo(&out.0, &["--epochs", "1", "--seed", "3"]);
    let trained = Checkpoint::load(out.0.join("model.ckpt")).expect("the checkpoint loads");
    let edited = |key: &str, value: &str| {
        let mut checkpoint = trained.clone();
        checkpoint.metadata.insert(key.into(), value.into());
        checkpoint
    };

    let err = eval_fails(&out.0, &edited("recipe.input_shape", "1,8,9"), "wider.ckpt");
    assert!(
        err.contains("the metadata describes mlp 72-512-10 but the weights disagree: `1.weight` should be [512, 72], found [512, 64]"),
        "{err}"
    );
    let err = eval_fails(&out.0, &edited("recipe.classes", "5"), "fewer.ckpt");
    assert!(
        err.contains("`3.weight` should be [5, 512], found [10, 512]"),
        "{err}"
    );
    // A width of 10^11 would ask for 25.6 TB: refused before anything is built.
    let err = eval_fails(
        &out.0,
        &edited("recipe.widths", "100000000000"),
        "absurd.ckpt",
    );
    assert!(
        err.contains("`1.weight` should be [100000000000, 64]"),
        "{err}"
    );

    // Metadata and weights agree with each other, not with the data.
    let mut rng = Rng::new(1);
    let consistent = |inputs: usize, classes: usize, rng: &mut Rng| {
        let model = Sequential::new()
            .push(Flatten)
            .push(Dense::new(inputs, 16, rng))
            .push(Relu)
            .push(Dense::new(16, classes, rng));
        let mut checkpoint = Checkpoint::of_model(&model);
        checkpoint.metadata = trained.metadata.clone();
        checkpoint
            .metadata
            .insert("recipe.widths".into(), "16".into());
        checkpoint
    };
    let mut other_images = consistent(72, 10, &mut rng);
    other_images
        .metadata
        .insert("recipe.input_shape".into(), "1,8,9".into());
    let err = eval_fails(&out.0, &other_images, "other-images.ckpt");
    assert!(
        err.contains("the network takes inputs of shape [1, 8, 9], the digits data has [1, 8, 8]"),
        "{err}"
    );
    let mut five_classes = consistent(64, 5, &mut rng);
    five_classes
        .metadata
        .insert("recipe.classes".into(), "5".into());
    let err = eval_fails(&out.0, &five_classes, "five-classes.ckpt");
    assert!(
        err.contains("the network has 5 outputs, the digits data has 10 classes"),
        "{err}"
    );
}

#[test]
fn train_demo_refuses_meaningless_settings_with_exit_code_2() {
    let out = TempDir::new("bad-args");
    let folder = out.0.join("never-written");
    let folder = folder.to_str().expect("UTF-8 path");
    for (args, message) in [
        (
            &["--epochs", "0"][..],
            "invalid value '0' for '--epochs <EPOCHS>': must be at least 1",
        ),
        (
            &["--batch-size", "0"],
            "invalid value '0' for '--batch-size <BATCH_SIZE>': must be at least 1",
        ),
        (
            &["--threads", "0"],
            "invalid value '0' for '--threads <THREADS>': must be at least 1",
        ),
        (
            &["--lr=-1"],
            "invalid value '-1' for '--lr <LR>': must be a finite number above 0, found -1",
        ),
        (&["--lr", "0"], "must be a finite number above 0, found 0"),
        (
            &["--lr", "NaN"],
            "must be a finite number above 0, found NaN",
        ),
        (
            &["--lr", "inf"],
            "must be a finite number above 0, found inf",
        ),
        (&["--epochs", "two"], "not a whole number"),
        (
            &["--dropout", "1"],
            "invalid value '1' for '--dropout <P>': must be at least 0 and below 1, found 1",
        ),
        (
            &["--batch-norm", "yes"],
            "invalid value 'yes' for '--batch-norm <BOOL>'",
        ),
    ] {
        let run = xtask(&[&["train-demo", "--out", folder], args].concat());
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    assert!(
        !Path::new(folder).exists(),
        "nothing was trained or written"
    );
}

#[test]
fn fetch_uses_the_mirrors_given_instead_of_the_built_in_ones() {
    let cache = TempDir::new("fetch-mirror");
    // Nothing listens on these ports: each download fails at once, without network.
    let run = xtask(&[
        "fetch",
        "mnist",
        "--dir",
        cache.0.to_str().expect("UTF-8 path"),
        "--mirror",
        "http://127.0.0.1:9/first",
        "--mirror",
        "http://127.0.0.1:9/second/",
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    for url in [
        "http://127.0.0.1:9/first/train-images-idx3-ubyte.gz",
        "http://127.0.0.1:9/second/train-images-idx3-ubyte.gz",
    ] {
        assert!(stderr.contains(url), "{url} not tried: {stderr}");
    }
    assert!(
        !stderr.contains("https://"),
        "a built-in mirror was tried: {stderr}"
    );
}

#[test]
fn a_checkpoint_names_its_data_without_a_machine_path() {
    let out = TempDir::new("no-paths");
    let data_dir = out.0.join("data-folder-of-this-machine");
    std::fs::create_dir_all(&data_dir).expect("create the data folder");
    let data_dir = data_dir.to_str().expect("UTF-8 path");
    train_demo(&out.0, &["--epochs", "1", "--data-dir", data_dir]);
    let checkpoint = Checkpoint::load(out.0.join("model.ckpt")).expect("the checkpoint loads");
    assert_eq!(checkpoint.metadata["recipe.dataset"], "digits");
    for (key, value) in &checkpoint.metadata {
        assert!(
            !value.contains(data_dir),
            "{key} records the data folder: {value}"
        );
    }
    let eval = xtask(&[
        "eval",
        "--checkpoint",
        out.0.join("model.ckpt").to_str().expect("UTF-8 path"),
    ]);
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
}
