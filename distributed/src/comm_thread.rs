//! A communication thread: it owns a detached allreduce and runs the sums it is handed one
//! after the other, in the order they were started, while the thread that started them goes
//! on computing.
//!
//! Why a thread and not non-blocking `MPI_Iallreduce`: Open MPI (4.1, transports ob1 with
//! shared memory or TCP) has no asynchronous progress, so a non-blocking collective only
//! advances while some thread of the rank is inside an MPI call. Started during the
//! backward pass, it would sit still through the matrix products between two readiness
//! points and do its work in the final wait anyway. A thread blocked in `MPI_Allreduce`
//! drives its own progress; it needs `MPI_THREAD_MULTIPLE`, which Debian's Open MPI
//! provides (`MpiWorld::init` asks for it and falls back to no overlap otherwise).

use crate::collective::DetachedAllReduce;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A sum handed to the thread: its send and receive buffers travel with it (no copy).
struct Job {
    send: Vec<f32>,
    receive: Vec<f32>,
}

/// A finished sum: the buffers back, `receive` holding the sum, and how long the call took.
pub(crate) struct Done {
    pub(crate) send: Vec<f32>,
    pub(crate) receive: Vec<f32>,
    pub(crate) took: Duration,
}

/// The thread and its two queues.
pub(crate) struct CommThread {
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    thread: Option<JoinHandle<()>>,
}

impl CommThread {
    /// Starts the thread that will run `all_reduce` for every job.
    pub(crate) fn spawn(mut all_reduce: DetachedAllReduce) -> Self {
        let (jobs, incoming) = channel::<Job>();
        let (finished, done) = channel();
        let thread = std::thread::Builder::new()
            .name("strata-allreduce".into())
            .spawn(move || {
                for Job { send, mut receive } in incoming {
                    let started = Instant::now();
                    all_reduce(&send, &mut receive);
                    let took = started.elapsed();
                    if finished
                        .send(Done {
                            send,
                            receive,
                            took,
                        })
                        .is_err()
                    {
                        return;
                    }
                }
            })
            .expect("the communication thread starts");
        Self {
            jobs: Some(jobs),
            done,
            thread: Some(thread),
        }
    }

    /// Queues the sum of `send` (over the whole buffer) into `receive`, of the same length.
    pub(crate) fn start(&self, send: Vec<f32>, receive: Vec<f32>) {
        self.jobs
            .as_ref()
            .expect("jobs are queued only while the thread runs")
            .send(Job { send, receive })
            .expect("the communication thread is alive (a panic there aborts the job)");
    }

    /// Waits for the oldest unfinished sum.
    pub(crate) fn finish(&self) -> Done {
        self.done
            .recv()
            .expect("the communication thread is alive (a panic there aborts the job)")
    }
}

impl Drop for CommThread {
    /// Closes the queue and waits for the thread to end (it owns the detached allreduce,
    /// which may hold an MPI communicator to free).
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
