//! The data-parallel step hook: every rank holds a replica of the model and trains on its own
//! share of each batch; the hook keeps the replicas identical.

use crate::bucket::{BucketPlan, BucketScratch, DEFAULT_BUCKET_BYTES, FIRST_BUCKET_BYTES};
use crate::collective::Collective;
use crate::comm_thread::CommThread;
use crate::exchange::{Exchange, Link};
use crate::meter::{CommMeter, CommTimes};
use std::collections::{HashMap, HashSet};
use strata_autograd::{AutogradError, Gradients, Var, VarId};
use strata_modules::{Buffer, Params, StepHook, Visitor};
use strata_tensor::Tensor;

/// Keeps data-parallel replicas in step, plugged into [`strata_modules::Trainer::with_hook`]:
///
/// - at the start, every parameter and buffer takes rank 0's value (broadcast);
/// - the gradients are averaged over the ranks with allreduce over flat buckets of at most
///   `bucket_bytes` (one call per bucket, never one per tensor), filled in the order in
///   which the backward pass finishes the parameters' gradients (reverse visiting order
///   in the first step, then the order rank 0's first pass reported); buckets
///   end at parameter boundaries and the first holds at most [`FIRST_BUCKET_BYTES`], as
///   in PyTorch's DDP, so the first gradients ready go out early. With
///   overlap (the default, [`DataParallel::with_overlap`]), each bucket is summed on a
///   communication thread as soon as the backward pass has finished its gradients, while
///   the pass goes on; the training thread waits for all buckets only before the optimizer
///   step. Without it, the buckets are summed after the backward pass; both give the same
///   result bit for bit. A parameter without a gradient on some rank counts as zero there,
///   and one without a gradient on every rank keeps none;
/// - gradients can be accumulated over micro-batches with no communication until the last
///   one ([`DataParallel::backward_no_sync`], PyTorch's `no_sync`);
/// - buffers (e.g. batch-norm running statistics) are averaged in the same buckets, so the
///   replicas stay identical while each rank normalises with its own batch's statistics
///   (local batch norm, not synchronised);
/// - epoch metric sums are summed over the ranks, so every rank reports global figures;
/// - only rank 0 is primary: the trainer writes checkpoints there only.
///
/// Every rank then applies the same averaged gradient with the same optimizer, so the
/// replicas stay equal step after step. Random streams (dropout) are left per rank.
///
/// ```
/// use strata_distributed::{DataParallel, LocalRank};
/// use strata_modules::{Dense, Module, Params, Regression, Sgd, TrainConfig, Trainer};
/// use strata_tensor::{Rng, Tensor};
/// // Two ranks as threads; each starts from different weights and sees different data.
/// let weights: Vec<Vec<f32>> = std::thread::scope(|s| {
///     let ranks = LocalRank::group(2).into_iter().enumerate().map(|(r, rank)| s.spawn(move || {
///         let mut model = Dense::new(3, 1, &mut Rng::new(r as u64));
///         let x = Tensor::rand_uniform(&[8, 3], -1.0, 1.0, &mut Rng::new(10 + r as u64));
///         let y = x.sum_axes(&[1], true);
///         Trainer::new(TrainConfig { epochs: 5, ..Default::default() })
///             .with_hook(DataParallel::new(rank))
///             .fit(&mut model.with_objective(Regression), &mut Sgd::new(0.1),
///                  |_| [(x.clone(), y.clone())], ())
///             .unwrap();
///         model.weight.value().to_vec()
///     }));
///     ranks.collect::<Vec<_>>().into_iter().map(|h| h.join().unwrap()).collect()
/// });
/// assert_eq!(weights[0], weights[1]); // the replicas never drift apart
/// ```
pub struct DataParallel<C: Collective> {
    collective: C,
    bucket_len: usize,
    /// The start-of-training broadcast's buffers.
    scratch: BucketScratch,
    overlap: bool,
    /// The communication thread, started by `on_start` when overlapping.
    thread: Option<CommThread>,
    /// The layout of the exchanged values, made at the first step.
    exchange: Option<Exchange>,
    /// Whether `backward` has begun this step's exchange (`reduce_gradients` ends it).
    in_step: bool,
    /// The order of the parameters (indices in visiting order) in the buckets, agreed by
    /// the ranks after the first step; reverse visiting order until then.
    order: Option<Vec<usize>>,
    /// The parameters in the order the first step's backward pass reported them.
    reported: Option<Vec<VarId>>,
    /// Gradients of the micro-batches since the last exchange.
    accumulated: Option<Gradients>,
    meter: CommMeter,
}

impl<C: Collective> DataParallel<C> {
    /// The hook over `collective`, with buckets of [`DEFAULT_BUCKET_BYTES`] and overlap.
    pub fn new(collective: C) -> Self {
        Self {
            collective,
            bucket_len: DEFAULT_BUCKET_BYTES / size_of::<f32>(),
            scratch: BucketScratch::default(),
            overlap: true,
            thread: None,
            exchange: None,
            in_step: false,
            order: None,
            reported: None,
            accumulated: None,
            meter: CommMeter::default(),
        }
    }

    /// Whether to sum each bucket during the backward pass, as soon as its gradients are
    /// ready (`true`, the default), or after the pass. It takes effect at the start of
    /// training ([`StepHook::on_start`]), where the communication thread starts; a
    /// collective that cannot run sums on another thread
    /// ([`Collective::detached_all_reduce`]) exchanges after the pass either way.
    pub fn with_overlap(self, overlap: bool) -> Self {
        Self { overlap, ..self }
    }

    /// Whether a communication thread is running, i.e. training overlaps communication.
    pub fn overlaps(&self) -> bool {
        self.thread.is_some()
    }

    /// A handle on the time spent exchanging gradients (see [`CommTimes`]).
    pub fn meter(&self) -> CommMeter {
        self.meter.clone()
    }

    /// Differentiates the loss of a micro-batch and keeps its gradients on this rank, with
    /// no communication (PyTorch's `no_sync`). The next [`StepHook::backward`] adds them to
    /// its own gradients (in its buckets too, so overlap still works) and
    /// [`StepHook::reduce_gradients`] averages the total over the ranks: one exchange for
    /// several micro-batches. Scale each micro-batch's loss (e.g. by `1 / micro-batches`)
    /// as without data parallelism.
    pub fn backward_no_sync(&mut self, loss: &Var) -> Result<(), AutogradError> {
        let grads = loss.backward()?;
        match self.accumulated.as_mut() {
            Some(accumulated) => accumulated.accumulate(grads),
            None => self.accumulated = Some(grads),
        }
        Ok(())
    }

    /// The same with buckets of at most `bytes` (rounded down to whole `f32`s, at least one).
    pub fn with_bucket_bytes(self, bytes: usize) -> Self {
        Self {
            bucket_len: (bytes / size_of::<f32>()).max(1),
            ..self
        }
    }

    /// The bucket size in bytes.
    pub fn bucket_bytes(&self) -> usize {
        self.bucket_len * size_of::<f32>()
    }

    /// The collective the hook talks through.
    pub fn collective(&self) -> &C {
        &self.collective
    }

    /// Sets the bucket order for the next steps to the order in which rank 0's backward
    /// pass `reported` the parameters (those it did not report after them, in reverse
    /// visiting order): a collective call, so that every rank lays out the same buckets.
    fn agree_on_order(&mut self, params: &[Var], reported: &[VarId]) {
        let index: HashMap<VarId, usize> = params
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id(), i))
            .collect();
        let mut seen = vec![false; params.len()];
        let mut order: Vec<usize> = reported
            .iter()
            .filter_map(|id| index.get(id).copied())
            .chain((0..params.len()).rev())
            .filter(|&i| !std::mem::replace(&mut seen[i], true))
            .collect();
        // Indices travel as f32: exact below 2^24 parameters.
        let mut values: Vec<f32> = order.iter().map(|&i| i as f32).collect();
        self.collective.broadcast(0, &mut values);
        order = values.iter().map(|&v| v as usize).collect();
        self.order = Some(order);
    }

    /// Panics on the ranks whose model does not have the same parameter and buffer layout
    /// as the others' (what MPI would otherwise meet as mismatched message lengths).
    fn check_same_layout(&self, replica: &Replica) {
        let mine = replica.fingerprint();
        let mut sum = [0.0f64; FINGERPRINT_LEN];
        self.collective.all_reduce_sum_f64(&mine, &mut sum);
        let world = self.collective.world_size() as f64;
        // If the ranks disagree, at least one of them differs from the mean and stops here.
        assert!(
            mine.iter().zip(&sum).all(|(&m, &s)| m * world == s),
            "DataParallel: rank {} holds a model unlike the other ranks' (its parameters, \
             buffers, elements, shape hash: {mine:?}; mean over ranks: {:?}): every rank must \
             build the same architecture",
            self.collective.rank(),
            sum.map(|s| s / world)
        );
    }
}

impl<C: Collective> StepHook for DataParallel<C> {
    fn on_start(&mut self, model: &mut dyn Params) {
        if self.collective.world_size() == 1 {
            return;
        }
        let replica = Replica::of(model);
        self.check_same_layout(&replica);
        let mut values: Vec<Vec<f32>> = replica
            .params
            .iter()
            .map(Var::value)
            .chain(&replica.buffers)
            .map(Tensor::to_vec)
            .collect();
        let mut pieces: Vec<&mut [f32]> = values.iter_mut().map(Vec::as_mut_slice).collect();
        let lens: Vec<usize> = pieces.iter().map(|p| p.len()).collect();
        let collective = &self.collective;
        BucketPlan::new(&lens, self.bucket_len).run(
            &mut pieces,
            &mut self.scratch,
            1.0,
            |send, received| {
                received.copy_from_slice(send);
                collective.broadcast(0, received);
            },
        );
        let buffer_values = values.split_off(replica.params.len());
        let mut by_id: HashMap<VarId, (Vec<f32>, Vec<usize>)> = replica
            .params
            .iter()
            .zip(values)
            .map(|(p, v)| (p.id(), (v, p.shape().to_vec())))
            .collect();
        model.visit_mut("", &mut |_: &str, param: &mut Var| {
            if let Some((value, shape)) = by_id.remove(&param.id()) {
                param.set_value(Tensor::from_vec(value, &shape));
            }
        });
        let buffers = replica
            .buffers
            .iter()
            .zip(buffer_values)
            .map(|(old, v)| Tensor::from_vec(v, old.shape()))
            .collect();
        set_buffers(model, buffers);
        self.thread = None;
        if self.overlap {
            self.thread = self.collective.detached_all_reduce().map(CommThread::spawn);
            if self.thread.is_none() {
                tracing::warn!("this collective cannot sum on another thread: no overlap");
            }
        }
    }

    fn backward(&mut self, loss: &Var, model: &dyn Params) -> Result<Gradients, AutogradError> {
        let earlier = self.accumulated.take();
        // Until the ranks agree on a bucket order, the pass records when gradients are
        // ready (with or without overlap, so that both lay out the same buckets).
        let record = self.collective.world_size() > 1 && self.order.is_none();
        let mut reported = Vec::new();
        let mut grads = match &self.thread {
            Some(thread) if self.collective.world_size() > 1 => {
                let replica = Replica::of(model);
                let exchange = begin_exchange(
                    &mut self.exchange,
                    &replica,
                    self.order.as_deref(),
                    self.bucket_len,
                );
                let mut times = CommTimes::default();
                let mut link = Link {
                    collective: &self.collective,
                    thread: Some(thread),
                    times: &mut times,
                };
                self.in_step = true;
                let grads = loss.backward_with_ready(&mut |id, grad| {
                    if record {
                        reported.push(id);
                    }
                    let earlier = earlier.as_ref().and_then(|e| e.get_by_id(id));
                    let earlier = earlier.map(Tensor::values);
                    exchange.write_param(id, &grad.values(), earlier.as_deref());
                    exchange.start_ready(&mut link);
                });
                times.started_in_backward = exchange.started_before_last_report();
                self.meter.add(times);
                grads?
            }
            _ if record => loss.backward_with_ready(&mut |id, _| reported.push(id))?,
            _ => loss.backward()?,
        };
        if record {
            self.reported = Some(reported);
        }
        if let Some(earlier) = earlier {
            grads.accumulate(earlier);
        }
        Ok(grads)
    }

    fn reduce_gradients(&mut self, grads: &mut Gradients, model: &dyn Params) {
        if self.collective.world_size() == 1 {
            return;
        }
        let mut replica = Replica::of(model);
        let exchange = if std::mem::take(&mut self.in_step) {
            self.exchange
                .as_mut()
                .expect("DataParallel: backward began the exchange")
        } else {
            begin_exchange(
                &mut self.exchange,
                &replica,
                self.order.as_deref(),
                self.bucket_len,
            )
        };
        let mut times = CommTimes::default();
        let mut link = Link {
            collective: &self.collective,
            thread: self.thread.as_ref(),
            times: &mut times,
        };
        let scale = 1.0 / self.collective.world_size() as f32;
        exchange.finish(
            &replica.params,
            grads,
            &mut replica.buffers,
            scale,
            &mut link,
        );
        self.meter.add(times);
        if let Some(reported) = self.reported.take() {
            self.agree_on_order(&replica.params, &reported);
        }
        set_buffers(model, replica.buffers);
    }

    fn reduce_metrics(&mut self, sums: &mut [f64]) {
        if self.collective.world_size() == 1 {
            return;
        }
        let mine = sums.to_vec();
        self.collective.all_reduce_sum_f64(&mine, sums);
    }

    fn is_primary(&self) -> bool {
        self.collective.rank() == 0
    }
}

/// The exchange layout for `replica` with the parameters in `order` (reverse visiting order
/// when `None`), reused while it stays the same, begun.
fn begin_exchange<'a>(
    slot: &'a mut Option<Exchange>,
    replica: &Replica,
    order: Option<&[usize]>,
    bucket_len: usize,
) -> &'a mut Exchange {
    let buffer_lens = replica.buffer_lens();
    let reverse: Vec<usize>;
    let order = match order {
        Some(order) => order,
        None => {
            reverse = (0..replica.params.len()).rev().collect();
            &reverse
        }
    };
    if !slot
        .as_ref()
        .is_some_and(|e| e.fits(&replica.params, order, &buffer_lens))
    {
        let first_len = (FIRST_BUCKET_BYTES / size_of::<f32>()).min(bucket_len);
        *slot = Some(Exchange::new(
            &replica.params,
            order,
            &buffer_lens,
            first_len,
            bucket_len,
        ));
    }
    let exchange = slot.as_mut().expect("made above");
    exchange.begin();
    exchange
}

/// Length of [`Replica::fingerprint`].
const FINGERPRINT_LEN: usize = 5;
/// The shape hash is kept below 2^20 so that sums of it over ranks stay exact in `f64`.
const SHAPE_HASH_MODULUS: u64 = 1 << 20;

/// What a rank holds: its distinct parameters in visiting order (shared ones once) and its
/// buffers' values.
struct Replica {
    params: Vec<Var>,
    buffers: Vec<Tensor>,
}

impl Replica {
    fn of(model: &dyn Params) -> Self {
        struct Collect {
            seen: HashSet<VarId>,
            replica: Replica,
        }
        impl Visitor for Collect {
            fn param(&mut self, _: &str, param: &Var) {
                if self.seen.insert(param.id()) {
                    self.replica.params.push(param.clone());
                }
            }
            fn buffer(&mut self, _: &str, buffer: &Buffer) {
                self.replica.buffers.push(buffer.get());
            }
        }
        let mut collect = Collect {
            seen: HashSet::new(),
            replica: Replica {
                params: Vec::new(),
                buffers: Vec::new(),
            },
        };
        model.visit("", &mut collect);
        collect.replica
    }

    fn buffer_lens(&self) -> Vec<usize> {
        self.buffers.iter().map(Tensor::numel).collect()
    }

    /// Counts, element totals and a hash of the shapes, compared across ranks.
    fn fingerprint(&self) -> [f64; FINGERPRINT_LEN] {
        let shapes = self
            .params
            .iter()
            .map(|p| p.shape().to_vec())
            .chain(self.buffers.iter().map(|b| b.shape().to_vec()));
        // FNV-1a over the dimensions, tensor by tensor.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for shape in shapes {
            for dim in shape.into_iter().chain([usize::MAX]) {
                hash = (hash ^ dim as u64).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        [
            self.params.len() as f64,
            self.params.iter().map(Var::numel).sum::<usize>() as f64,
            self.buffers.len() as f64,
            self.buffers.iter().map(Tensor::numel).sum::<usize>() as f64,
            (hash % SHAPE_HASH_MODULUS) as f64,
        ]
    }
}

/// Sets the model's buffers, in visiting order, to `values`.
fn set_buffers(model: &dyn Params, values: Vec<Tensor>) {
    struct Assign(std::vec::IntoIter<Tensor>);
    impl Visitor for Assign {
        fn param(&mut self, _: &str, _: &Var) {}
        fn buffer(&mut self, _: &str, buffer: &Buffer) {
            if let Some(value) = self.0.next() {
                buffer.set(value);
            }
        }
    }
    model.visit("", &mut Assign(values.into_iter()));
}
