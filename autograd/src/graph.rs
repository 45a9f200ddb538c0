//! The recorded graph's bookkeeping: whether recording is on (no-grad scopes), anomaly
//! mode, node identities and the count of live graph nodes.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use strata_tensor::Tensor;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
    static ANOMALY: Cell<bool> = const { Cell::new(false) };
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static LIVE_NODES: AtomicUsize = AtomicUsize::new(0);

/// A fresh node identity. Ids grow with creation order, so every node's inputs have smaller
/// ids than the node itself: sorting by id is a topological order.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

pub(crate) fn node_created() {
    LIVE_NODES.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn node_dropped() {
    LIVE_NODES.fetch_sub(1, Ordering::Relaxed);
}

/// Number of recorded op nodes (in all threads) that are still alive. Once every `Var` of a
/// training step is dropped, its nodes are freed and this count goes back down.
pub fn live_nodes() -> usize {
    LIVE_NODES.load(Ordering::Relaxed)
}

/// Whether ops on this thread currently record the graph.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Runs `f` without recording (inference): every op returns an untracked value.
///
/// ```
/// use strata_autograd::{no_grad, Var};
/// use strata_tensor::Tensor;
/// let w = Var::leaf(Tensor::ones(&[2]));
/// let y = no_grad(|| &w * 3.0);
/// assert!(!y.is_tracked());
/// ```
pub fn no_grad<T>(f: impl FnOnce() -> T) -> T {
    let _guard = NoGradGuard::new();
    f()
}

/// Turns recording off on this thread until dropped (restoring the previous state).
pub struct NoGradGuard {
    previous: bool,
}

impl NoGradGuard {
    /// Starts a no-grad scope.
    pub fn new() -> Self {
        Self {
            previous: GRAD_ENABLED.with(|g| g.replace(false)),
        }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

/// Turns anomaly mode on or off for this thread. When on, the first op whose forward output
/// holds a NaN or an infinity panics with the op's name and input shapes, at the line that
/// called the op, and `backward` returns [`crate::AutogradError::Anomaly`] at the first op
/// whose gradient does. Off by default: the checks read every element.
///
/// The setting belongs to the thread that records the graph (tensor kernels that it spreads
/// over rayon's pool are covered). Ops recorded on another thread (a forward pass you run in
/// a spawned thread, a data-parallel replica on its own thread) are checked only if that
/// thread turns anomaly mode on too: a setting shared by all threads would make one test or
/// one model's debugging slow down, or panic, every other one in the process.
pub fn set_anomaly_detection(enabled: bool) {
    ANOMALY.with(|a| a.set(enabled));
}

/// Whether anomaly mode is on for this thread.
pub fn anomaly_detection() -> bool {
    ANOMALY.with(Cell::get)
}

/// Whether a tensor holds a NaN or an infinity.
pub(crate) fn has_non_finite(t: &Tensor) -> bool {
    t.values().iter().any(|x| !x.is_finite())
}
