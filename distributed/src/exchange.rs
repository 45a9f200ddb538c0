//! One step's gradient exchange, bucket by bucket.
//!
//! The values every rank sums each step are laid end to end — the parameters' gradients in
//! the order the backward pass finishes them (see `DataParallel`: reverse visiting order at
//! first, then the order rank 0's first backward pass reported them in, as PyTorch's DDP
//! rebuilds its buckets after the first iteration), then one presence flag per parameter,
//! then the buffers — and cut into buckets that
//! end at parameter boundaries ([`BucketPlan::aligned`]). A bucket is summed as soon as every value in it is known and every bucket
//! before it has been started, so all ranks start the same sums in the same order whatever
//! the timing. Whether a bucket starts during the backward pass (overlap) or after it, it
//! holds the same values: the two ways give bit-identical results.

use crate::bucket::{BucketPlan, Segment};
use crate::collective::Collective;
use crate::comm_thread::CommThread;
use crate::meter::CommTimes;
use std::collections::HashMap;
use std::time::Instant;
use strata_autograd::{Gradients, Var, VarId};
use strata_tensor::Tensor;

/// Where a bucket's sum is computed.
pub(crate) struct Link<'a> {
    /// Sums on the calling thread, blocking, when there is no thread.
    pub(crate) collective: &'a dyn Collective,
    /// The communication thread, when overlapping.
    pub(crate) thread: Option<&'a CommThread>,
    /// Where the time spent goes.
    pub(crate) times: &'a mut CommTimes,
}

/// The layout of the exchanged values and the state of the current step.
pub(crate) struct Exchange {
    /// The parameters, in visiting order (identities and shapes; not the `Var`s, whose
    /// extra handles would stop the optimizer from updating them in place).
    params: Vec<(VarId, Vec<usize>)>,
    /// Lengths of the buffers.
    buffer_lens: Vec<usize>,
    /// The parameters (as indices in visiting order) in stream order.
    order: Vec<usize>,
    /// Parameter index → its piece (position in the stream).
    piece_of_param: Vec<usize>,
    /// Parameter identity → its piece.
    piece_of: HashMap<VarId, usize>,
    plan: BucketPlan,
    /// For each piece, its segments and their buckets.
    segments_of: Vec<Vec<(usize, Segment)>>,
    /// Per piece: written this step.
    filled: Vec<bool>,
    /// Per bucket: segments not yet written this step.
    unfilled: Vec<usize>,
    /// The next bucket to start.
    next: usize,
    /// Per bucket, its values and its sum (moved to the communication thread in flight).
    sends: Vec<Vec<f32>>,
    receives: Vec<Vec<f32>>,
    /// Buckets started on the thread and not yet finished.
    in_flight: usize,
    /// Parameters reported by the backward pass so far this step.
    reports: usize,
    /// Per bucket: `reports` when it started.
    reports_at_start: Vec<usize>,
}

impl Exchange {
    /// The layout for `params` (distinct, in visiting order) laid out in `order` (a
    /// permutation of their indices) and buffers of `buffer_lens` elements, in buckets that
    /// end at parameter boundaries ([`BucketPlan::aligned`]).
    pub(crate) fn new(
        params: &[Var],
        order: &[usize],
        buffer_lens: &[usize],
        first_len: usize,
        bucket_len: usize,
    ) -> Self {
        let n = params.len();
        // Piece k < n is parameter order[k]; then the flags; then the buffers.
        let mut piece_of_param = vec![0; n];
        for (piece, &param) in order.iter().enumerate() {
            piece_of_param[param] = piece;
        }
        let piece_lens: Vec<usize> = order
            .iter()
            .map(|&i| params[i].numel())
            .chain([n])
            .chain(buffer_lens.iter().copied())
            .collect();
        let plan = BucketPlan::aligned(&piece_lens, first_len, bucket_len);
        let mut segments_of = vec![Vec::new(); piece_lens.len()];
        for (bucket, segments) in plan.buckets().iter().enumerate() {
            for s in segments {
                segments_of[s.piece].push((bucket, *s));
            }
        }
        let bucket_lens = plan.bucket_lens();
        Self {
            params: params
                .iter()
                .map(|p| (p.id(), p.shape().to_vec()))
                .collect(),
            buffer_lens: buffer_lens.to_vec(),
            piece_of: params
                .iter()
                .zip(&piece_of_param)
                .map(|(p, &piece)| (p.id(), piece))
                .collect(),
            order: order.to_vec(),
            piece_of_param,
            filled: vec![false; piece_lens.len()],
            unfilled: plan.buckets().iter().map(Vec::len).collect(),
            next: 0,
            sends: bucket_lens.iter().map(|&len| vec![0.0; len]).collect(),
            receives: bucket_lens.iter().map(|&len| vec![0.0; len]).collect(),
            in_flight: 0,
            reports: 0,
            reports_at_start: vec![0; bucket_lens.len()],
            segments_of,
            plan,
        }
    }

    /// Whether this layout is the one for `params` in `order` and `buffer_lens`.
    pub(crate) fn fits(&self, params: &[Var], order: &[usize], buffer_lens: &[usize]) -> bool {
        self.buffer_lens == buffer_lens && self.order == order && self.fits_params(params)
    }

    fn fits_params(&self, params: &[Var]) -> bool {
        self.params.len() == params.len()
            && self
                .params
                .iter()
                .zip(params)
                .all(|((id, shape), p)| *id == p.id() && shape == p.shape())
    }

    /// Number of buckets.
    pub(crate) fn buckets(&self) -> usize {
        self.sends.len()
    }

    /// Starts a new step: nothing written, nothing started.
    pub(crate) fn begin(&mut self) {
        debug_assert_eq!(self.in_flight, 0, "the previous step finished its buckets");
        self.filled.fill(false);
        for (unfilled, segments) in self.unfilled.iter_mut().zip(self.plan.buckets()) {
            *unfilled = segments.len();
        }
        self.next = 0;
        self.reports = 0;
    }

    /// Buckets started so far this step while the backward pass still had parameters to
    /// report: the communication that overlapped with computing gradients.
    pub(crate) fn started_before_last_report(&self) -> usize {
        self.reports_at_start[..self.next]
            .iter()
            .filter(|&&r| r < self.reports)
            .count()
    }

    /// Writes the gradient of parameter `id` (plus `earlier`, the gradient accumulated over
    /// previous micro-batches, if any) into its buckets. Ignores leaves that are not
    /// parameters of the model and parameters already written this step.
    pub(crate) fn write_param(&mut self, id: VarId, grad: &[f32], earlier: Option<&[f32]>) {
        let Some(&piece) = self.piece_of.get(&id) else {
            return;
        };
        self.reports += 1;
        self.write_piece(piece, |at, out| match earlier {
            Some(earlier) => {
                for ((o, &g), &e) in out.iter_mut().zip(&grad[at..]).zip(&earlier[at..]) {
                    *o = g + e;
                }
            }
            None => out.copy_from_slice(&grad[at..at + out.len()]),
        });
    }

    /// Writes a piece through `fill(piece offset, bucket slice)`, once per step.
    fn write_piece(&mut self, piece: usize, mut fill: impl FnMut(usize, &mut [f32])) {
        if std::mem::replace(&mut self.filled[piece], true) {
            return;
        }
        for &(bucket, s) in &self.segments_of[piece] {
            let send = &mut self.sends[bucket];
            fill(
                s.piece_offset,
                &mut send[s.bucket_offset..s.bucket_offset + s.len],
            );
            self.unfilled[bucket] -= 1;
        }
    }

    /// Starts every bucket, in order, whose values are all written.
    pub(crate) fn start_ready(&mut self, link: &mut Link<'_>) {
        while self.next < self.buckets() && self.unfilled[self.next] == 0 {
            let bucket = self.next;
            self.next += 1;
            link.times.calls += 1;
            self.reports_at_start[bucket] = self.reports;
            match link.thread {
                Some(thread) => {
                    let send = std::mem::take(&mut self.sends[bucket]);
                    let receive = std::mem::take(&mut self.receives[bucket]);
                    thread.start(send, receive);
                    self.in_flight += 1;
                }
                None => {
                    let started = Instant::now();
                    link.collective
                        .all_reduce_sum(&self.sends[bucket], &mut self.receives[bucket]);
                    let took = started.elapsed();
                    link.times.all_reduce += took;
                    link.times.waiting += took;
                }
            }
        }
    }

    /// Ends the step for `params` (those the layout was made for): writes what the backward pass did not report (gradients found in
    /// `grads` or zeros, the presence flags, the buffers), sums every remaining bucket, waits
    /// for all, and replaces each gradient by `scale ·` its sum, and each buffer by its
    /// mean. A parameter without a gradient on any rank keeps none.
    pub(crate) fn finish(
        &mut self,
        params: &[Var],
        grads: &mut Gradients,
        buffers: &mut [Tensor],
        scale: f32,
        link: &mut Link<'_>,
    ) {
        let n = self.params.len();
        debug_assert!(
            self.fits_params(params),
            "finish with the layout's parameters"
        );
        let present: Vec<bool> = params
            .iter()
            .map(|p| grads.get_by_id(p.id()).is_some())
            .collect();
        for (i, param) in params.iter().enumerate() {
            let piece = self.piece_of_param[i];
            if self.filled[piece] {
                continue;
            }
            match grads.get_by_id(param.id()) {
                Some(grad) => {
                    let values = grad.values();
                    self.write_piece(piece, |at, out| {
                        out.copy_from_slice(&values[at..at + out.len()])
                    });
                }
                None => self.write_piece(piece, |_, out| out.fill(0.0)),
            }
        }
        self.write_piece(n, |at, out| {
            for (o, &p) in out.iter_mut().zip(&present[at..]) {
                *o = f32::from(u8::from(p));
            }
        });
        for (b, buffer) in buffers.iter().enumerate() {
            let values = buffer.values();
            self.write_piece(n + 1 + b, |at, out| {
                out.copy_from_slice(&values[at..at + out.len()])
            });
        }
        self.start_ready(link);
        debug_assert_eq!(self.next, self.buckets(), "every bucket is written by now");
        if let Some(thread) = link.thread {
            let started = Instant::now();
            for bucket in self.buckets() - self.in_flight..self.buckets() {
                let done = thread.finish();
                link.times.all_reduce += done.took;
                self.sends[bucket] = done.send;
                self.receives[bucket] = done.receive;
            }
            self.in_flight = 0;
            link.times.waiting += started.elapsed();
        }
        self.read_back(params, grads, buffers, scale);
    }

    /// Replaces gradients and buffers by the sums, scaled.
    fn read_back(&self, params: &[Var], grads: &mut Gradients, buffers: &mut [Tensor], scale: f32) {
        let n = self.params.len();
        let mut flags = vec![0.0f32; n];
        self.read_piece(n, |at, sums| {
            flags[at..at + sums.len()].copy_from_slice(sums)
        });
        for (i, param) in params.iter().enumerate() {
            if flags[i] == 0.0 {
                grads.remove(param);
                continue;
            }
            if grads.get_by_id(param.id()).is_none() {
                grads.insert(param.id(), Tensor::zeros(param.shape()));
            }
            let target = grads
                .get_mut_by_id(param.id())
                .expect("inserted above when missing")
                .data_mut();
            let piece = self.piece_of_param[i];
            self.read_piece(piece, |at, sums| scale_into(&mut target[at..], sums, scale));
        }
        for (b, buffer) in buffers.iter_mut().enumerate() {
            let target = buffer.data_mut();
            self.read_piece(n + 1 + b, |at, sums| {
                scale_into(&mut target[at..], sums, scale)
            });
        }
    }

    /// Calls `read(piece offset, sums)` for each segment of `piece`.
    fn read_piece(&self, piece: usize, mut read: impl FnMut(usize, &[f32])) {
        for &(bucket, s) in &self.segments_of[piece] {
            read(
                s.piece_offset,
                &self.receives[bucket][s.bucket_offset..s.bucket_offset + s.len],
            );
        }
    }
}

/// `target[i] = sums[i] · scale` over `sums`' length.
fn scale_into(target: &mut [f32], sums: &[f32], scale: f32) {
    for (t, &s) in target.iter_mut().zip(sums) {
        *t = s * scale;
    }
}
