//! Shared helpers of the modules tests: a seeded two-class spiral and a small MLP.

#![allow(dead_code)]

use strata_modules::{Sequential, Tanh};
use strata_tensor::{Rng, Tensor};

/// Two interleaved spirals in the plane, `n` points per class, with Gaussian noise; returns
/// inputs `[2n, 2]` and class ids `[2n]`, shuffled.
pub fn two_spirals(n: usize, noise: f32, seed: u64) -> (Tensor, Tensor) {
    let mut rng = Rng::new(seed);
    let mut points = Vec::with_capacity(2 * n);
    for class in 0..2 {
        for i in 0..n {
            let t = 0.25 + 2.5 * i as f32 / n as f32; // radius and angle grow together
            let angle = t * std::f32::consts::PI + class as f32 * std::f32::consts::PI;
            let x = t * angle.cos() + noise * rng.next_normal() as f32;
            let y = t * angle.sin() + noise * rng.next_normal() as f32;
            points.push((x, y, class as f32));
        }
    }
    rng.shuffle(&mut points);
    let inputs = points.iter().flat_map(|p| [p.0, p.1]).collect();
    let labels = points.iter().map(|p| p.2).collect();
    (
        Tensor::from_vec(inputs, &[2 * n, 2]),
        Tensor::from_vec(labels, &[2 * n]),
    )
}

/// The first `count` rows and the rest.
pub fn split_rows(t: &Tensor, count: usize) -> (Tensor, Tensor) {
    let rows = t.shape()[0];
    (
        t.narrow(0, 0, count).contiguous(),
        t.narrow(0, count, rows - count).contiguous(),
    )
}

/// Mini-batches of `size` rows in a seeded order that changes with `epoch`.
pub fn batches(
    x: &Tensor,
    y: &Tensor,
    size: usize,
    seed: u64,
    epoch: usize,
) -> Vec<(Tensor, Tensor)> {
    let rows = x.shape()[0];
    let mut order: Vec<usize> = (0..rows).collect();
    Rng::new(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9)).shuffle(&mut order);
    order
        .chunks(size)
        .map(|idx| (x.index_select(0, idx), y.index_select(0, idx)))
        .collect()
}

/// An MLP `2 → h → h → out` with tanh.
pub fn mlp(hidden: usize, out: usize, rng: &mut Rng) -> Sequential {
    Sequential::mlp(&[2, hidden, hidden, out], Tanh, rng)
}

/// Checkpoint file bytes around `payload`: magic, format version, length and a freshly
/// computed FNV-1a checksum (written here from the format's description, so that damaged
/// payloads get past the checksum and reach the decoder).
pub fn checkpoint_file(payload: &[u8]) -> Vec<u8> {
    let checksum = payload.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &b| {
        (hash ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mut bytes = b"STRATAck".to_vec();
    bytes.extend_from_slice(&strata_modules::FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&checksum.to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// The payload of checkpoint file bytes (everything after the 28-byte header).
pub fn checkpoint_payload(file: &[u8]) -> &[u8] {
    &file[28..]
}

/// The serde layout of a checkpoint payload with tensors as plain `(shape, data)` records,
/// so tests can write payloads no `Tensor` could hold (bincode is not self-describing: a
/// struct is its fields in order, as a tuple is).
pub mod raw_payload {
    use serde::Serialize;
    use std::collections::BTreeMap;

    /// A tensor as written: its shape, then its values.
    pub type RawTensor = (Vec<usize>, Vec<f32>);

    /// `Checkpoint`'s fields, in order.
    #[derive(Serialize, Default)]
    pub struct RawCheckpoint {
        pub params: Vec<(String, RawTensor)>,
        pub buffers: Vec<(String, RawTensor)>,
        pub rngs: Vec<(String, u64)>,
        pub optimizer: Option<RawOptimizerState>,
        pub training: Option<()>,
        pub metadata: BTreeMap<String, String>,
    }

    /// `OptimizerState`'s fields, in order.
    #[derive(Serialize)]
    pub struct RawOptimizerState {
        pub kind: String,
        pub steps: u64,
        pub learning_rate: f32,
        pub slots: BTreeMap<String, Vec<RawTensor>>,
    }

    impl RawCheckpoint {
        /// The checkpoint file bytes (checksum computed).
        pub fn to_file(&self) -> Vec<u8> {
            let payload = bincode::serde::encode_to_vec(self, bincode::config::standard())
                .expect("plain data encodes");
            super::checkpoint_file(&payload)
        }
    }
}

/// Where and why a panic happened.
#[derive(Debug)]
pub struct PanicSite {
    /// The panic message.
    pub message: String,
    /// The source file the panic was reported at (as `file!()` spells it).
    pub file: String,
    /// The line there.
    pub line: u32,
}

/// Runs `f`, which must panic, and returns the message and the location the panic reports:
/// a hook installed once records panics of threads inside `panic_site` (other threads'
/// panics go to the previous hook, so parallel tests are not disturbed).
pub fn panic_site(f: impl FnOnce()) -> PanicSite {
    use std::cell::{Cell, RefCell};
    thread_local! {
        static CAPTURING: Cell<bool> = const { Cell::new(false) };
        static SITE: RefCell<Option<PanicSite>> = const { RefCell::new(None) };
    }
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CAPTURING.with(Cell::get) {
                return previous(info);
            }
            let payload = info.payload();
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let location = info.location().expect("panics carry a location");
            SITE.with(|site| {
                *site.borrow_mut() = Some(PanicSite {
                    message,
                    file: location.file().to_string(),
                    line: location.line(),
                })
            });
        }));
    });
    CAPTURING.with(|c| c.set(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CAPTURING.with(|c| c.set(false));
    assert!(outcome.is_err(), "expected a panic");
    SITE.with(|site| site.borrow_mut().take())
        .expect("the hook recorded the panic")
}
