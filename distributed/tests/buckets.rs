//! Bucket plans: every element of every piece travels exactly once, in order, in buckets no
//! larger than asked: `⌈total / bucket⌉` of them when packed full, and none that cuts a
//! piece it could hold whole when aligned to piece boundaries.

use strata_distributed::{BucketPlan, BucketScratch};

/// Piece lengths covering the edge cases: empty pieces, pieces smaller than, equal to and
/// larger than a bucket, a total that is and is not a multiple of the bucket.
const PIECE_SETS: &[&[usize]] = &[
    &[],
    &[0],
    &[1],
    &[5],
    &[4, 4],
    &[3, 0, 10, 2],
    &[17, 1, 0, 0, 9, 33],
];

#[test]
fn plans_cover_every_element_once_in_bounded_buckets() {
    for &lens in PIECE_SETS {
        for bucket_len in [1, 2, 3, 4, 7, 64] {
            let plan = BucketPlan::new(lens, bucket_len);
            let total: usize = lens.iter().sum();
            let bucket_lens = plan.bucket_lens();
            assert_eq!(
                bucket_lens.len(),
                total.div_ceil(bucket_len),
                "{lens:?} / {bucket_len}"
            );
            assert!(bucket_lens.iter().all(|&n| n <= bucket_len && n > 0));
            // Every bucket but the last is full.
            if let Some((_, full)) = bucket_lens.split_last() {
                assert!(full.iter().all(|&n| n == bucket_len));
            }
            // Walking the segments visits (piece, element) pairs in stream order.
            let visited: Vec<(usize, usize)> = plan
                .buckets()
                .iter()
                .flatten()
                .flat_map(|s| (0..s.len).map(move |i| (s.piece, s.piece_offset + i)))
                .collect();
            let expected: Vec<(usize, usize)> = lens
                .iter()
                .enumerate()
                .flat_map(|(p, &n)| (0..n).map(move |i| (p, i)))
                .collect();
            assert_eq!(visited, expected, "{lens:?} / {bucket_len}");
        }
    }
}

/// The (piece, element) pairs a plan visits, in order.
fn visits(plan: &BucketPlan) -> Vec<(usize, usize)> {
    plan.buckets()
        .iter()
        .flatten()
        .flat_map(|s| (0..s.len).map(move |i| (s.piece, s.piece_offset + i)))
        .collect()
}

#[test]
fn aligned_plans_cut_pieces_only_when_they_cannot_fit() {
    for &lens in PIECE_SETS {
        for (first, bucket_len) in [(1, 1), (2, 3), (4, 4), (3, 7), (64, 64), (5, 2)] {
            let plan = BucketPlan::aligned(lens, first, bucket_len);
            let expected: Vec<(usize, usize)> = lens
                .iter()
                .enumerate()
                .flat_map(|(p, &n)| (0..n).map(move |i| (p, i)))
                .collect();
            assert_eq!(visits(&plan), expected, "{lens:?} / {first}, {bucket_len}");
            let bucket_lens = plan.bucket_lens();
            for (b, &n) in bucket_lens.iter().enumerate() {
                let cap = if b == 0 { first } else { bucket_len };
                assert!(n > 0 && n <= cap, "{lens:?}: bucket {b} of {n}");
            }
            // A piece no larger than a later bucket starts a bucket or lies in one whole.
            for (piece, &n) in lens.iter().enumerate() {
                let buckets: Vec<usize> = plan
                    .buckets()
                    .iter()
                    .enumerate()
                    .filter(|(_, segments)| segments.iter().any(|s| s.piece == piece))
                    .map(|(b, _)| b)
                    .collect();
                if n > 0 && n <= bucket_len && n <= first {
                    assert_eq!(buckets.len(), 1, "{lens:?}: piece {piece} was cut");
                }
            }
        }
    }
}

#[test]
fn running_a_plan_exchanges_the_concatenation_and_scales_the_result() {
    let lens = [3, 0, 10, 2];
    let mut pieces: Vec<Vec<f32>> = lens
        .iter()
        .scan(0.0f32, |next, &n| {
            let piece = (0..n).map(|i| *next + i as f32).collect();
            *next += n as f32;
            Some(piece)
        })
        .collect();
    let mut seen = Vec::new();
    let mut slices: Vec<&mut [f32]> = pieces.iter_mut().map(Vec::as_mut_slice).collect();
    BucketPlan::new(&lens, 4).run(
        &mut slices,
        &mut BucketScratch::default(),
        0.5,
        |send, receive| {
            seen.push(send.to_vec());
            for (r, s) in receive.iter_mut().zip(send) {
                *r = s + 100.0;
            }
        },
    );
    let stream: Vec<f32> = (0..15).map(|i| i as f32).collect();
    assert_eq!(
        seen,
        stream.chunks(4).map(<[f32]>::to_vec).collect::<Vec<_>>()
    );
    let flat: Vec<f32> = pieces.concat();
    let expected: Vec<f32> = stream.iter().map(|v| (v + 100.0) * 0.5).collect();
    assert_eq!(flat, expected);
}
