//! The few collective operations data-parallel training needs, as a trait: MPI implements it
//! (feature `mpi`), and [`crate::LocalRank`] implements it with threads for tests.

use std::rc::Rc;

/// A group of `world_size` processes (ranks) that take part together in each call: every
/// rank must make the same calls, in the same order, with buffers of the same lengths.
///
/// Implementations block until every rank has arrived; an error on any rank is fatal to the
/// whole group (MPI aborts the job), so the methods return nothing.
pub trait Collective {
    /// This process's rank, `0..world_size`.
    fn rank(&self) -> usize;

    /// Number of ranks in the group.
    fn world_size(&self) -> usize;

    /// Overwrites `data` on every rank with the values it holds on rank `root`.
    fn broadcast(&self, root: usize, data: &mut [f32]);

    /// `sum[i] = Σ over ranks of send[i]`, on every rank.
    fn all_reduce_sum(&self, send: &[f32], sum: &mut [f32]);

    /// The same in double precision (metric sums, counts).
    fn all_reduce_sum_f64(&self, send: &[f64], sum: &mut [f64]);

    /// A float sum over the ranks ([`Collective::all_reduce_sum`]'s) that another thread
    /// may own and call while this thread computes: what overlapping the gradient exchange
    /// with the backward pass needs. Its calls are a separate stream, matched across the
    /// ranks among themselves (MPI gives it a duplicate communicator). A collective call:
    /// every rank must ask at the same point. `None` (the default) when this collective
    /// cannot offer it; the caller then exchanges on its own thread.
    fn detached_all_reduce(&self) -> Option<DetachedAllReduce> {
        None
    }
}

/// A blocking `sum = Σ over ranks of send` that can be moved to another thread (see
/// [`Collective::detached_all_reduce`]).
pub type DetachedAllReduce = Box<dyn FnMut(&[f32], &mut [f32]) + Send>;

/// A shared handle is a collective too (e.g. one MPI world used by the training hook and by
/// the code that shards the data).
impl<C: Collective + ?Sized> Collective for Rc<C> {
    fn rank(&self) -> usize {
        (**self).rank()
    }
    fn world_size(&self) -> usize {
        (**self).world_size()
    }
    fn broadcast(&self, root: usize, data: &mut [f32]) {
        (**self).broadcast(root, data)
    }
    fn all_reduce_sum(&self, send: &[f32], sum: &mut [f32]) {
        (**self).all_reduce_sum(send, sum)
    }
    fn all_reduce_sum_f64(&self, send: &[f64], sum: &mut [f64]) {
        (**self).all_reduce_sum_f64(send, sum)
    }
    fn detached_all_reduce(&self) -> Option<DetachedAllReduce> {
        (**self).detached_all_reduce()
    }
}
