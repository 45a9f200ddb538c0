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
}

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
}
