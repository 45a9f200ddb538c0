//! Reusable f32 buffers.
//!
//! A training step allocates the same activations and gradients every iteration. Two costs
//! follow if each goes back to the system allocator: glibc hands large freed blocks back to
//! the operating system, so the next step pays fresh page faults; and every fresh small block
//! is zero-filled before the kernel overwrites it. So buffers of at least [`POOL_MIN_LEN`]
//! elements are kept, when their last tensor is dropped, in a pool owned by the dropping
//! thread, and handed out again for the next request of the same length on that thread.
//! Training runs its ops on one thread, so its buffers cycle through that thread's pool with
//! no locking.

use crate::int_hash::IntMap;
use std::cell::RefCell;

/// Smallest buffer (in f32 elements) worth pooling: below this, the allocator's own free
/// lists are as fast as the pool's lookup (measured with callgrind on a 2-64-64-2 MLP step).
pub const POOL_MIN_LEN: usize = 16;

/// Most bytes one thread's pool keeps; beyond this, freed buffers go back to the allocator.
pub const POOL_MAX_BYTES: usize = 512 << 20;

/// Most buffers kept for any one length.
const POOL_MAX_PER_LEN: usize = 64;

#[derive(Default)]
struct Pool {
    free: IntMap<usize, Vec<Vec<f32>>>,
    bytes: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::default();
}

/// A vector of `len` elements whose contents are unspecified (the caller overwrites them all).
pub(crate) fn take(len: usize) -> Vec<f32> {
    if len >= POOL_MIN_LEN {
        let reused = POOL
            .try_with(|pool| {
                let mut pool = pool.borrow_mut();
                let vec = pool.free.get_mut(&len).and_then(Vec::pop);
                if vec.is_some() {
                    pool.bytes -= len * 4;
                }
                vec
            })
            .ok()
            .flatten();
        if let Some(vec) = reused {
            return vec;
        }
    }
    vec![0.0; len]
}

/// A vector of `len` zeros.
pub(crate) fn take_zeroed(len: usize) -> Vec<f32> {
    let mut vec = take(len);
    vec.fill(0.0);
    vec
}

/// Gives a vector back to this thread's pool (or to the allocator when it is small or the
/// pool is full).
pub(crate) fn recycle(vec: Vec<f32>) {
    let len = vec.len();
    if len < POOL_MIN_LEN || vec.capacity() != len {
        return;
    }
    // During thread teardown the pool may be gone; the vector is then simply freed.
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.bytes + len * 4 > POOL_MAX_BYTES {
            return;
        }
        let list = pool.free.entry(len).or_default();
        if list.len() < POOL_MAX_PER_LEN {
            list.push(vec);
            pool.bytes += len * 4;
        }
    });
}

/// Frees every buffer the calling thread's pool holds; returns the number of bytes released.
///
/// Useful after training, when the activations of the training step will not recur.
pub fn release_cached_buffers() -> usize {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let bytes = pool.bytes;
        pool.free.clear();
        pool.bytes = 0;
        bytes
    })
}

/// Bytes currently held for reuse by the calling thread's pool.
pub fn cached_buffer_bytes() -> usize {
    POOL.with(|pool| pool.borrow().bytes)
}

/// The storage behind a tensor: a vector that returns to the pool when dropped.
pub(crate) struct PooledVec {
    data: Vec<f32>,
}

impl PooledVec {
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

impl Drop for PooledVec {
    fn drop(&mut self) {
        recycle(std::mem::take(&mut self.data));
    }
}
