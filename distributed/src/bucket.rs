//! Bucketing: many tensors of any sizes cut into a few flat messages of at most one bucket
//! each, so a step makes `⌈total / bucket⌉` collective calls instead of one per tensor, and no
//! single call is so large that the MPI library allocates (and page-faults on) a huge
//! temporary.

/// Size in bytes of the first gradient bucket of a step (PyTorch DDP's default too): it
/// holds the gradients the backward pass finishes first, so it goes out while the rest of
/// the pass runs, however large the other buckets are.
pub const FIRST_BUCKET_BYTES: usize = 1 << 20;

/// Default bucket size in bytes. On the 2-core development machine a 4 MB allreduce ran at
/// the full shared-memory bandwidth (2.4 GB/s) with no page faults, while a 100 MB one
/// page-faulted ~12,800 times per call (`shared/MPI.md` §3). Each call is also a
/// synchronisation point, so buckets much smaller than this cost more calls for nothing.
pub const DEFAULT_BUCKET_BYTES: usize = 4 << 20;

/// A run of elements copied between a tensor (piece) and a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Which piece.
    pub piece: usize,
    /// First element within the piece.
    pub piece_offset: usize,
    /// First element within the bucket.
    pub bucket_offset: usize,
    /// Number of elements.
    pub len: usize,
}

/// How the concatenation of pieces of given lengths is cut into buckets of at most
/// `bucket_len` elements: every bucket but the last is full, and a piece larger than a bucket
/// spreads over several.
///
/// ```
/// use strata_distributed::BucketPlan;
/// let plan = BucketPlan::new(&[3, 10, 2], 4);
/// assert_eq!(plan.bucket_lens(), vec![4, 4, 4, 3]); // 15 elements, ⌈15 / 4⌉ buckets
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketPlan {
    buckets: Vec<Vec<Segment>>,
    bucket_len: usize,
}

impl BucketPlan {
    /// The plan for pieces of `piece_lens` elements in buckets of `bucket_len` elements.
    /// Panics if `bucket_len` is 0.
    #[track_caller]
    pub fn new(piece_lens: &[usize], bucket_len: usize) -> Self {
        assert!(bucket_len > 0, "BucketPlan: bucket length must be positive");
        let buckets = cut(piece_lens, |_| bucket_len, false);
        Self {
            buckets,
            bucket_len,
        }
    }

    /// The plan for pieces in buckets that end at piece boundaries, as PyTorch's DDP cuts
    /// them for overlapping communication with the backward pass (where a piece is a
    /// parameter's gradient, and a bucket can go out once its pieces are ready): a bucket
    /// closes when the next piece does not fit in what is left of it, and a piece larger
    /// than a bucket fills buckets of its own, the last of which later pieces may join. The
    /// first bucket holds at most `first_len` elements (DDP's small first bucket, so the
    /// first gradients ready go out early), the others `bucket_len`. Panics if either is 0.
    ///
    /// ```
    /// use strata_distributed::BucketPlan;
    /// let plan = BucketPlan::aligned(&[3, 10, 2], 4, 6);
    /// assert_eq!(plan.bucket_lens(), vec![3, 6, 4 + 2]); // 10 does not fit after 3
    /// ```
    #[track_caller]
    pub fn aligned(piece_lens: &[usize], first_len: usize, bucket_len: usize) -> Self {
        assert!(
            first_len > 0 && bucket_len > 0,
            "BucketPlan: bucket lengths must be positive"
        );
        let cap = |bucket: usize| if bucket == 0 { first_len } else { bucket_len };
        let buckets = cut(piece_lens, cap, true);
        Self {
            buckets,
            bucket_len: first_len.max(bucket_len),
        }
    }

    /// The segments of each bucket, in order.
    pub fn buckets(&self) -> &[Vec<Segment>] {
        &self.buckets
    }

    /// Number of elements in each bucket.
    pub fn bucket_lens(&self) -> Vec<usize> {
        self.buckets
            .iter()
            .map(|segments| segments.iter().map(|s| s.len).sum())
            .collect()
    }

    /// For each bucket: copies its elements out of `pieces` into a send buffer, calls
    /// `exchange(send, receive)`, and writes `scale · receive` back into `pieces`. `pieces`
    /// must have the lengths the plan was made for; `scratch` is reused between calls.
    #[track_caller]
    pub fn run(
        &self,
        pieces: &mut [&mut [f32]],
        scratch: &mut BucketScratch,
        scale: f32,
        mut exchange: impl FnMut(&[f32], &mut [f32]),
    ) {
        scratch.send.resize(self.bucket_len, 0.0);
        scratch.receive.resize(self.bucket_len, 0.0);
        for segments in &self.buckets {
            let len: usize = segments.iter().map(|s| s.len).sum();
            for s in segments {
                scratch.send[s.bucket_offset..s.bucket_offset + s.len]
                    .copy_from_slice(&pieces[s.piece][s.piece_offset..s.piece_offset + s.len]);
            }
            exchange(&scratch.send[..len], &mut scratch.receive[..len]);
            for s in segments {
                let received = &scratch.receive[s.bucket_offset..s.bucket_offset + s.len];
                let target = &mut pieces[s.piece][s.piece_offset..s.piece_offset + s.len];
                for (t, &r) in target.iter_mut().zip(received) {
                    *t = r * scale;
                }
            }
        }
    }
}

/// The send and receive buffers of one bucket, kept between steps (the MPI binding has no
/// in-place allreduce, so a bucket needs both).
#[derive(Debug, Default)]
pub struct BucketScratch {
    send: Vec<f32>,
    receive: Vec<f32>,
}

/// The segments of the concatenation of pieces of `piece_lens` elements cut into buckets, the
/// `i`-th holding at most `cap(i)` elements; a piece larger than what is left spreads over the
/// next buckets. With `aligned`, a piece that does not fit in what is left of a started
/// bucket opens a new one instead. No bucket is empty.
fn cut(piece_lens: &[usize], cap: impl Fn(usize) -> usize, aligned: bool) -> Vec<Vec<Segment>> {
    let mut buckets: Vec<Vec<Segment>> = Vec::new();
    let mut filled = 0;
    for (piece, &piece_len) in piece_lens.iter().enumerate() {
        if aligned && filled > 0 && piece_len > cap(buckets.len() - 1) - filled {
            buckets.push(Vec::new());
            filled = 0;
        }
        let mut piece_offset = 0;
        while piece_offset < piece_len {
            if buckets.is_empty() || filled == cap(buckets.len() - 1) {
                buckets.push(Vec::new());
                filled = 0;
            }
            let len = (piece_len - piece_offset).min(cap(buckets.len() - 1) - filled);
            buckets.last_mut().expect("pushed above").push(Segment {
                piece,
                piece_offset,
                bucket_offset: filled,
                len,
            });
            piece_offset += len;
            filled += len;
        }
    }
    buckets
}
