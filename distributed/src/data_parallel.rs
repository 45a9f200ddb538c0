//! The data-parallel step hook: every rank holds a replica of the model and trains on its own
//! share of each batch; the hook keeps the replicas identical.

use crate::bucket::{BucketPlan, BucketScratch, DEFAULT_BUCKET_BYTES};
use crate::collective::Collective;
use std::collections::{HashMap, HashSet};
use strata_autograd::{Gradients, Var, VarId};
use strata_modules::{Buffer, Params, StepHook, Visitor};
use strata_tensor::Tensor;

/// Keeps data-parallel replicas in step, plugged into [`strata_modules::Trainer::with_hook`]:
///
/// - at the start, every parameter and buffer takes rank 0's value (broadcast);
/// - after each backward, the gradients are averaged over the ranks with allreduce over
///   flat buckets of at most `bucket_bytes` (one call per bucket, never one per tensor); a
///   parameter without a gradient on some rank counts as zero there, and one without a
///   gradient on every rank keeps none;
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
    scratch: BucketScratch,
}

impl<C: Collective> DataParallel<C> {
    /// The hook over `collective`, with buckets of [`DEFAULT_BUCKET_BYTES`].
    pub fn new(collective: C) -> Self {
        Self {
            collective,
            bucket_len: DEFAULT_BUCKET_BYTES / size_of::<f32>(),
            scratch: BucketScratch::default(),
        }
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

    /// Runs `plan` over `pieces` with allreduce, dividing the sums by the world size.
    fn all_reduce_mean(&mut self, pieces: &mut [&mut [f32]]) {
        let lens: Vec<usize> = pieces.iter().map(|p| p.len()).collect();
        let plan = BucketPlan::new(&lens, self.bucket_len);
        let scale = 1.0 / self.collective.world_size() as f32;
        let collective = &self.collective;
        plan.run(pieces, &mut self.scratch, scale, |send, sum| {
            collective.all_reduce_sum(send, sum)
        });
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
    }

    fn reduce_gradients(&mut self, grads: &mut Gradients, model: &dyn Params) {
        if self.collective.world_size() == 1 {
            return;
        }
        let mut replica = Replica::of(model);
        // Which parameters have a gradient here; after the sum, on how many ranks.
        let mut present: Vec<f32> = replica
            .params
            .iter()
            .map(|p| f32::from(u8::from(grads.get_by_id(p.id()).is_some())))
            .collect();
        for p in &replica.params {
            if grads.get_by_id(p.id()).is_none() {
                grads.insert(p.id(), Tensor::zeros(p.shape()));
            }
        }
        {
            let mut by_id: HashMap<VarId, &mut Tensor> = grads.iter_mut().collect();
            let mut pieces: Vec<&mut [f32]> = vec![present.as_mut_slice()];
            for p in &replica.params {
                let grad = by_id.remove(&p.id()).expect("inserted above when missing");
                pieces.push(grad.data_mut());
            }
            pieces.extend(replica.buffers.iter_mut().map(Tensor::data_mut));
            self.all_reduce_mean(&mut pieces);
        }
        for (p, &share) in replica.params.iter().zip(&present) {
            if share == 0.0 {
                grads.remove(p);
            }
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
