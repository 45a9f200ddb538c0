//! # strata-tensor
//!
//! N-dimensional `f32` tensors for the Strata deep-learning library: a shape and strides over
//! a shared buffer, NumPy broadcasting, reductions, matrix products through
//! [faer](https://docs.rs/faer), convolution and pooling kernels for NCHW images, and seeded
//! random numbers that are the same on every machine.
//!
//! ```
//! use strata_tensor::{Rng, Tensor};
//! let mut rng = Rng::new(0);
//! let x = Tensor::rand_normal(&[4, 3], 0.0, 1.0, &mut rng);
//! let w = Tensor::rand_uniform(&[2, 3], -0.5, 0.5, &mut rng);
//! let y = x.matmul(&w.t()).relu();        // [4, 2], the transpose is a view
//! let mean = y.mean_axes(&[0], false);    // [2]
//! assert_eq!(mean.shape(), &[2]);
//! ```
//!
//! ## Errors
//! Shape mismatches in tensor math are programming errors: the plain methods panic with a
//! message that names the op and the shapes, pointing at the caller's line. Each has a `try_`
//! twin that returns a [`TensorError`] instead.
//!
//! ## Threads
//! Large element-wise passes, reductions and products are spread over a pool of worker
//! threads; small ones stay on the calling thread. The thread count follows
//! `STRATA_NUM_THREADS` (else one per core) and can be set with [`set_num_threads`];
//! [`for_each_block`] spreads a caller's own loop over the same threads.

mod buffer_pool;
mod conv;
mod display;
mod error;
pub mod int_hash;
mod matmul;
pub mod ops;
mod parallel;
mod pooling;
mod random;
mod serde_impl;
mod shape;
mod simd;
mod small_matmul;
mod strided;
pub mod temp_file;
mod tensor;
mod workers;

pub use buffer_pool::{cached_buffer_bytes, release_cached_buffers, POOL_MAX_BYTES, POOL_MIN_LEN};
pub use conv::Conv2dSpec;
pub use error::{expect_ok, ErrorKind, Result, TensorError};
pub use ops::elementwise::{sigmoid, softplus};
pub use parallel::{
    bench_thread_counts, for_each_block, num_threads, set_num_threads, time_in_parallel_regions,
    BENCH_THREADS_ENV, MATMUL_PAR_MIN_FLOPS, PAR_MIN_ELEMENTS, THREADS_ENV,
};
pub use pooling::Pool2dSpec;
pub use random::{splitmix64, Rng};
pub use serde_impl::TensorRecord;
pub use shape::{broadcast_shapes, numel, try_numel, Axis, Dims, MAX_NUMEL};
pub use simd::{with_avx2, with_flushed_subnormals};
pub use tensor::Tensor;
