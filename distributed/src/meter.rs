//! How long the gradient exchange took, and how much of it the training thread did not wait
//! for (the part overlap hid behind the backward pass).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

/// Time spent exchanging gradients over some steps.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CommTimes {
    /// Wall time of the allreduce calls, on whichever thread made them; it includes waiting
    /// inside a call for slower ranks to arrive.
    pub all_reduce: Duration,
    /// Time the training thread spent blocked on the exchange: the communication it paid
    /// for (all of it without overlap).
    pub waiting: Duration,
    /// Number of allreduce calls.
    pub calls: usize,
    /// Of those, the calls started during the backward pass, while gradients of other
    /// parameters were still to be computed (overlapped).
    pub started_in_backward: usize,
}

impl CommTimes {
    /// The allreduce time the training thread did not wait for: `all_reduce − waiting`,
    /// at least zero.
    pub fn hidden(&self) -> Duration {
        self.all_reduce.saturating_sub(self.waiting)
    }

    /// [`CommTimes::hidden`] as a share of the allreduce time (0 without calls).
    pub fn hidden_share(&self) -> f64 {
        if self.all_reduce.is_zero() {
            0.0
        } else {
            self.hidden().as_secs_f64() / self.all_reduce.as_secs_f64()
        }
    }
}

/// A handle on a [`crate::DataParallel`] hook's running [`CommTimes`], readable while the
/// hook is inside a trainer (e.g. by a callback at each epoch end).
#[derive(Debug, Clone, Default)]
pub struct CommMeter(pub(crate) Rc<Cell<CommTimes>>);

impl CommMeter {
    /// The times since the last call, resetting them.
    pub fn take(&self) -> CommTimes {
        self.0.take()
    }

    /// Adds `times` to the running total.
    pub(crate) fn add(&self, times: CommTimes) {
        let total = self.0.get();
        self.0.set(CommTimes {
            all_reduce: total.all_reduce + times.all_reduce,
            waiting: total.waiting + times.waiting,
            calls: total.calls + times.calls,
            started_in_backward: total.started_in_backward + times.started_in_backward,
        });
    }
}
