//! Reusable f32 buffers.
//!
//! glibc hands large freed blocks back to the operating system, so a training step that
//! allocates the same large activations every iteration pays fresh page faults each time.
//! Buffers of at least [`POOL_MIN_LEN`] elements are therefore returned to a process-wide
//! pool when their last tensor is dropped, and handed out again for the next request of the
//! same length. Smaller buffers go straight to the allocator, which serves them from its own
//! free lists without touching the OS.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Smallest buffer (in f32 elements) worth pooling: 16 K elements = 64 KiB, half of glibc's
/// initial mmap threshold, chosen so the buffers that would page-fault are the ones kept.
pub const POOL_MIN_LEN: usize = 16 * 1024;

/// Most bytes the pool keeps; beyond this, freed buffers go back to the allocator.
pub const POOL_MAX_BYTES: usize = 512 << 20;

/// Most buffers kept for any one length.
const POOL_MAX_PER_LEN: usize = 64;

#[derive(Default)]
struct Pool {
    free: HashMap<usize, Vec<Vec<f32>>>,
    bytes: usize,
}

fn pool() -> &'static Mutex<Pool> {
    static POOL: OnceLock<Mutex<Pool>> = OnceLock::new();
    POOL.get_or_init(Mutex::default)
}

fn lock() -> std::sync::MutexGuard<'static, Pool> {
    // A panic while holding the lock leaves the pool consistent (it only holds plain vectors).
    pool()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A vector of `len` elements whose contents are unspecified (the caller overwrites them all).
pub(crate) fn take(len: usize) -> Vec<f32> {
    if len >= POOL_MIN_LEN {
        let mut pool = lock();
        if let Some(vec) = pool.free.get_mut(&len).and_then(Vec::pop) {
            pool.bytes -= len * 4;
            return vec;
        }
    }
    vec![0.0; len]
}

/// A vector of `len` zeros.
pub(crate) fn take_zeroed(len: usize) -> Vec<f32> {
    let mut vec = take(len);
    if len >= POOL_MIN_LEN {
        vec.fill(0.0);
    }
    vec
}

/// Gives a vector back to the pool (or to the allocator when it is small or the pool is full).
pub(crate) fn recycle(vec: Vec<f32>) {
    let len = vec.len();
    if len < POOL_MIN_LEN || vec.capacity() != len {
        return;
    }
    let mut pool = lock();
    if pool.bytes + len * 4 > POOL_MAX_BYTES {
        return;
    }
    let list = pool.free.entry(len).or_default();
    if list.len() < POOL_MAX_PER_LEN {
        list.push(vec);
        pool.bytes += len * 4;
    }
}

/// Frees every buffer the pool holds; returns the number of bytes released.
///
/// Useful after training, when the activations of the training step will not recur.
pub fn release_cached_buffers() -> usize {
    let mut pool = lock();
    let bytes = pool.bytes;
    pool.free.clear();
    pool.bytes = 0;
    bytes
}

/// Bytes currently held by the pool for reuse.
pub fn cached_buffer_bytes() -> usize {
    lock().bytes
}

/// The storage behind a tensor: a vector that returns to the pool when dropped.
pub(crate) struct Buffer {
    data: Vec<f32>,
}

impl Buffer {
    pub(crate) fn new(data: Vec<f32>) -> Self {
        Self { data }
    }

    pub(crate) fn as_slice(&self) -> &[f32] {
        &self.data
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.data
    }

    pub(crate) fn into_vec(mut self) -> Vec<f32> {
        std::mem::take(&mut self.data)
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        recycle(std::mem::take(&mut self.data));
    }
}
