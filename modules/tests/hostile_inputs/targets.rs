//! What is fuzzed: each target turns one mutated input into a call of a public reader (and,
//! when it succeeds, of what comes next: loading into a model, an optimizer step), and says
//! whether it ended in `Ok` or in an error, with the error's message.

use super::mutate::mutate;
use crate::common::checkpoint_file;
use std::io::Write;
use std::path::{Path, PathBuf};
use strata_datasets::{
    parse_cifar10, parse_csv, parse_idx, parse_sklearn_csv, CsvOptions, LabelColumn,
};
use strata_modules::io::interop::{load_safetensors, read_safetensors, save_safetensors};
use strata_modules::{
    Adam, AdamW, BatchNorm1d, Checkpoint, Dense, Dropout, EpochMetrics, Module, Optimizer, Relu,
    RmsProp, Sequential, Sgd, TrainConfig, Trainer, TrainingState, Var,
};
use strata_tensor::{Rng, Tensor};

/// A reader of outside bytes under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `parse_idx`, raw and gzip.
    Idx,
    /// `parse_cifar10`.
    Cifar,
    /// `parse_csv` with three option sets and `parse_sklearn_csv`, raw and gzip.
    Csv,
    /// `Checkpoint::from_bytes` (checksum recomputed), then `apply_to` a model.
    Checkpoint,
    /// A checkpoint whose optimizer state is mutated, through `apply_to_optimizer`, then a
    /// `step`.
    OptimizerState,
    /// `Trainer::resume_from` a mutated checkpoint file, then a `step`.
    Resume,
    /// `read_safetensors` and `load_safetensors` of a mutated file.
    Safetensors,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 7] = [
        Target::Idx,
        Target::Cifar,
        Target::Csv,
        Target::Checkpoint,
        Target::OptimizerState,
        Target::Resume,
        Target::Safetensors,
    ];

    /// The name used on the child's command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Idx => "idx",
            Target::Cifar => "cifar",
            Target::Csv => "csv",
            Target::Checkpoint => "checkpoint",
            Target::OptimizerState => "optimizer-state",
            Target::Resume => "resume",
            Target::Safetensors => "safetensors",
        }
    }

    /// Inputs per run: chosen so that the whole suite takes well under a minute in release
    /// (the file-writing targets are the slow ones), while every header branch of each
    /// format is reached many times.
    pub fn inputs(self) -> usize {
        match self {
            Target::Idx | Target::Cifar | Target::Csv => 40_000,
            Target::Checkpoint | Target::OptimizerState => 30_000,
            Target::Resume | Target::Safetensors => 10_000,
        }
    }
}

/// The valid files every input starts from, and a scratch folder.
pub struct Seeds {
    idx: Vec<Vec<u8>>,
    cifar: Vec<u8>,
    /// One per entry of `CSV_SEEDS`.
    csv: Vec<Vec<u8>>,
    /// Checkpoint payloads, one per optimizer kind (see [`optimizer`]).
    payloads: Vec<Vec<u8>>,
    /// Where the optimizer state lies in each payload.
    optimizer_parts: Vec<std::ops::Range<usize>>,
    safetensors: Vec<u8>,
    scratch: PathBuf,
}

/// CSV seeds, each read with the readers of its layout (see `Target::Csv` in [`run`]): a
/// scikit-learn table, a table with a quoted header, CRLF and a blank line, a bare table.
const CSV_SEEDS: [&[u8]; 3] = [
    b"3,2,a,b\n1.5,2,0\n-3,4e2,1\n5,6,1\n",
    b"x,y,class\n\"1\",2,0\r\n3,4,1\n\n5,-6.5,2\n",
    b"0.5,1,2\n-1e-3,7,0\n",
];

/// The optimizers whose states are fuzzed: SGD with momentum, Adam, AdamW, RMSprop.
const OPTIMIZERS: usize = 4;

fn optimizer(kind: usize) -> Box<dyn Optimizer> {
    match kind {
        0 => Box::new(Sgd::new(0.1).momentum(0.9)),
        1 => Box::new(Adam::new(0.01)),
        2 => Box::new(AdamW::new(0.01)),
        _ => Box::new(RmsProp::new(0.01).momentum(0.5)),
    }
}

/// A model with parameters, buffers (batch norm) and a random stream (dropout).
fn model(seed: u64) -> Sequential {
    let mut rng = Rng::new(seed);
    Sequential::new()
        .push(Dense::new(3, 4, &mut rng))
        .push(BatchNorm1d::new(4))
        .push(Dropout::new(0.2, seed))
        .push(Relu)
        .push(Dense::new(4, 2, &mut rng))
}

/// One optimizer step on `model` (what resuming does next).
fn step(model: &mut Sequential, optimizer: &mut dyn Optimizer) -> Result<(), String> {
    let x = Var::constant(Tensor::rand_normal(&[5, 3], 0.0, 1.0, &mut Rng::new(7)));
    let grads = model
        .try_forward(&x)
        .map_err(|err| err.to_string())?
        .square()
        .sum()
        .backward()
        .map_err(|err| err.to_string())?;
    optimizer.step(model, &grads);
    Ok(())
}

/// A training checkpoint after one step with optimizer `kind`: every part of the format.
fn training_checkpoint(kind: usize) -> Checkpoint {
    let mut net = model(1);
    let mut opt = optimizer(kind);
    step(&mut net, opt.as_mut()).expect("the seed model steps");
    let mut checkpoint = Checkpoint::of_model(&net)
        .with_optimizer(opt.as_ref())
        .with_metadata("run", "fuzz seed");
    let state = TrainingState {
        next_epoch: 1,
        history: vec![EpochMetrics {
            epoch: 0,
            train: [("loss".to_string(), 0.5), ("accuracy".to_string(), 0.75)].into(),
            validation: [("loss".to_string(), 0.625)].into(),
            learning_rate: 0.01,
            seconds: 0.1,
        }],
        ..TrainingState::default()
    };
    state
        .save_in(&mut checkpoint)
        .expect("encode the training state");
    checkpoint
}

fn payload(checkpoint: &Checkpoint) -> Vec<u8> {
    let file = checkpoint.to_bytes().expect("encode the seed");
    crate::common::checkpoint_payload(&file).to_vec()
}

/// The bytes of the optimizer state in the payload of `training_checkpoint(kind)`: the
/// payload's fields are written in order (parameters, buffers, streams, optimizer, sections
/// (the training state), metadata), so the state starts where a payload without it and the fields after
/// it ends (less those fields' empty encodings: one byte each), and ends likewise.
fn optimizer_part(kind: usize) -> std::ops::Range<usize> {
    let full = training_checkpoint(kind);
    let before = Checkpoint {
        optimizer: None,
        sections: Default::default(),
        metadata: Default::default(),
        ..full.clone()
    };
    let with_state = Checkpoint {
        sections: Default::default(),
        metadata: Default::default(),
        ..full
    };
    // Two empty maps (1 byte each) follow the optimizer state in `with_state`.
    let start = payload(&before).len() - 3;
    start..payload(&with_state).len() - 2
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("compress in memory");
    encoder.finish().expect("compress in memory")
}

fn idx_file(kind: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, kind, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

impl Seeds {
    /// The seed files, and a scratch folder for the targets that read files.
    pub fn new() -> Self {
        let scratch = std::env::temp_dir().join(format!("strata-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).expect("create the scratch folder");
        let safetensors_path = scratch.join("seed.safetensors");
        save_safetensors(&model(1), &safetensors_path).expect("write the seed");
        Self {
            idx: vec![
                idx_file(0x08, &[3, 4, 4], &(0..48).collect::<Vec<u8>>()),
                idx_file(0x08, &[5], &[1, 0, 4, 9, 2]),
                idx_file(
                    0x0D,
                    &[2, 2],
                    &[
                        0x3F, 0x80, 0, 0, 0x40, 0, 0, 0, 0xBF, 0x80, 0, 0, 0, 0, 0, 0,
                    ],
                ),
                idx_file(0x0B, &[3], &[0, 1, 0xFF, 0xFE, 0x12, 0x34]),
            ],
            cifar: (0..2)
                .flat_map(|r| {
                    std::iter::once(r as u8).chain((0..3072).map(move |i| ((i + r) % 256) as u8))
                })
                .collect(),
            csv: CSV_SEEDS.iter().map(|s| s.to_vec()).collect(),
            payloads: (0..OPTIMIZERS)
                .map(|kind| payload(&training_checkpoint(kind)))
                .collect(),
            optimizer_parts: (0..OPTIMIZERS).map(optimizer_part).collect(),
            safetensors: std::fs::read(&safetensors_path).expect("read the seed"),
            scratch,
        }
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.scratch.join(name);
        std::fs::write(&path, bytes).expect("write into the scratch folder");
        path
    }

    /// Raw bytes mutated, the gzip of mutated bytes, or mutated gzip bytes.
    fn maybe_gzip(&self, rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
        match rng.below(3) {
            0 => mutate(rng, seed),
            1 => gzip(&mutate(rng, seed)),
            _ => mutate(rng, &gzip(seed)),
        }
    }

    /// A checkpoint file whose optimizer state is mutated (the checksum recomputed).
    fn optimizer_state_bytes(&self, rng: &mut Rng, kind: usize) -> Vec<u8> {
        let payload = &self.payloads[kind];
        let part = self.optimizer_parts[kind].clone();
        let mut mutated = payload[..part.start].to_vec();
        mutated.extend(mutate(rng, &payload[part.clone()]));
        mutated.extend_from_slice(&payload[part.end..]);
        checkpoint_file(&mutated)
    }

    /// A checkpoint file whose payload (mostly) or header (sometimes) is mutated; the
    /// checksum is recomputed after a payload mutation so the decoder sees it.
    fn checkpoint_bytes(&self, rng: &mut Rng, kind: usize) -> Vec<u8> {
        let payload = &self.payloads[kind];
        if rng.below(10) == 0 {
            mutate(rng, &checkpoint_file(payload))
        } else {
            checkpoint_file(&mutate(rng, payload))
        }
    }
}

impl Drop for Seeds {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// Runs one mutated input through `target`: `Ok` if every call accepted it, else the first
/// error's message.
pub fn run(target: Target, seeds: &Seeds, rng: &mut Rng) -> Result<(), String> {
    let text = |err: &dyn std::fmt::Display| err.to_string();
    match target {
        Target::Idx => {
            let seed = &seeds.idx[rng.below(seeds.idx.len())];
            parse_idx(&seeds.maybe_gzip(rng, seed), "fuzz.idx")
                .map(drop)
                .map_err(|e| text(&e))
        }
        Target::Cifar => parse_cifar10(&mutate(rng, &seeds.cifar), "fuzz.bin")
            .map(drop)
            .map_err(|e| text(&e)),
        Target::Csv => {
            let layout = rng.below(CSV_SEEDS.len());
            let bytes = seeds.maybe_gzip(rng, &seeds.csv[layout]);
            let options = match (layout, rng.below(2)) {
                (0, 0) => {
                    return parse_sklearn_csv(&bytes, "fuzz.csv")
                        .map(drop)
                        .map_err(|e| text(&e))
                }
                (0, _) => CsvOptions::new().skip_lines(1),
                (1, 0) => CsvOptions::new()
                    .header(true)
                    .label(LabelColumn::Name("class".into())),
                (1, _) => CsvOptions::new().skip_lines(1).label(LabelColumn::Index(1)),
                (_, 0) => CsvOptions::new(),
                _ => CsvOptions::new().label(LabelColumn::None),
            };
            parse_csv(&bytes, &options, "fuzz.csv")
                .map(drop)
                .map_err(|e| text(&e))
        }
        Target::Checkpoint => {
            let kind = rng.below(OPTIMIZERS);
            let bytes = seeds.checkpoint_bytes(rng, kind);
            let checkpoint = Checkpoint::from_bytes(&bytes).map_err(|e| text(&e))?;
            checkpoint.apply_to(&mut model(2)).map_err(|e| text(&e))
        }
        Target::OptimizerState => {
            let kind = rng.below(OPTIMIZERS);
            let bytes = seeds.optimizer_state_bytes(rng, kind);
            let checkpoint = Checkpoint::from_bytes(&bytes).map_err(|e| text(&e))?;
            let mut net = model(2);
            checkpoint.apply_to(&mut net).map_err(|e| text(&e))?;
            // Mostly the optimizer that wrote the state, sometimes another kind.
            let mut opt = optimizer(if rng.below(4) == 0 {
                rng.below(OPTIMIZERS)
            } else {
                kind
            });
            checkpoint
                .apply_to_optimizer(opt.as_mut(), &net)
                .map_err(|e| text(&e))?;
            step(&mut net, opt.as_mut())
        }
        Target::Resume => {
            let kind = rng.below(OPTIMIZERS);
            let path = seeds.file("resume.ckpt", &seeds.checkpoint_bytes(rng, kind));
            let mut net = model(2);
            let mut opt = optimizer(kind);
            let mut trainer = Trainer::new(TrainConfig {
                epochs: 3,
                ..TrainConfig::default()
            });
            trainer
                .resume_from(&path, &mut net, opt.as_mut())
                .map_err(|e| text(&e))?;
            step(&mut net, opt.as_mut())
        }
        Target::Safetensors => {
            let path: &Path = &seeds.file("fuzz.safetensors", &mutate(rng, &seeds.safetensors));
            read_safetensors(path).map_err(|e| text(&e))?;
            load_safetensors(&mut model(2), path).map_err(|e| text(&e))
        }
    }
}
