//! `for_each_block` and the worker threads behind it: every row is visited once, in the
//! blocks asked for; panics reach the caller and leave the pool usable; nested and
//! concurrent callers get right answers. Every test here runs at 3 threads (more than the
//! cores of a small machine), and nothing in this binary sets another count.

use std::sync::atomic::{AtomicUsize, Ordering};
use strata_tensor::{for_each_block, set_num_threads, Tensor};

const THREADS: usize = 3;

#[test]
fn every_row_is_visited_once_in_the_blocks_asked_for() {
    set_num_threads(THREADS);
    for (rows, block) in [(0, 4), (1, 4), (10, 3), (1000, 7), (4096, 4096), (5000, 64)] {
        let mut values = vec![0.0f32; 2 * rows];
        let mut owners = vec![0.0f32; rows];
        let calls = AtomicUsize::new(0);
        for_each_block(
            rows,
            block,
            [&mut values, &mut owners],
            |range, [values, owners]| {
                calls.fetch_add(1, Ordering::Relaxed);
                assert!(range.len() == block || range.end == rows, "{range:?}");
                assert_eq!(range.start % block, 0);
                assert_eq!((values.len(), owners.len()), (2 * range.len(), range.len()));
                for (i, row) in range.clone().enumerate() {
                    values[2 * i] += row as f32;
                    values[2 * i + 1] += 1.0;
                    owners[i] = range.start as f32;
                }
            },
        );
        assert_eq!(calls.into_inner(), rows.div_ceil(block));
        for row in 0..rows {
            assert_eq!(values[2 * row], row as f32, "row {row} written once");
            assert_eq!(values[2 * row + 1], 1.0);
            assert_eq!(owners[row], (row / block * block) as f32);
        }
    }
}

#[test]
#[should_panic(expected = "not a whole number of 3 rows")]
fn slices_must_hold_whole_rows() {
    let mut values = vec![0.0f32; 7];
    for_each_block(3, 1, [&mut values], |_, _| {});
}

#[test]
fn a_panicking_block_reaches_the_caller_and_the_pool_keeps_working() {
    set_num_threads(THREADS);
    for _ in 0..20 {
        let mut values = vec![0.0f32; 64];
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for_each_block(64, 1, [&mut values], |rows, _| {
                if rows.start == 37 {
                    panic!("block 37 fails");
                }
            })
        }));
        let payload = result.expect_err("the panic is resumed on the caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"block 37 fails"));
    }
    let mut values = vec![0.0f32; 64];
    for_each_block(64, 1, [&mut values], |rows, [v]| v[0] = rows.start as f32);
    assert_eq!(values, (0..64).map(|r| r as f32).collect::<Vec<_>>());
}

#[test]
fn blocks_may_use_parallel_kernels_themselves() {
    set_num_threads(THREADS);
    let a = Tensor::ones(&[300, 200]);
    let b = Tensor::ones(&[200, 100]);
    let mut sums = vec![0.0f32; 8];
    // Each block runs a product large enough to be split: inside a block it runs on the
    // block's own thread.
    for_each_block(8, 1, [&mut sums], |_, [sum]| {
        sum[0] = a.matmul(&b).sum().item();
    });
    assert_eq!(sums, vec![300.0 * 100.0 * 200.0; 8]);
}

#[test]
fn concurrent_callers_get_their_own_results() {
    set_num_threads(THREADS);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for round in 0..50 {
                    let mut values = vec![0.0f32; 999];
                    for_each_block(999, 10, [&mut values], |rows, [v]| {
                        for (x, row) in v.iter_mut().zip(rows) {
                            *x = (t * 1000 + round + row) as f32;
                        }
                    });
                    for (row, &x) in values.iter().enumerate() {
                        assert_eq!(x, (t * 1000 + round + row) as f32);
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("no caller panics");
    }
}

#[test]
fn split_work_is_timed_once_and_serial_work_not_at_all() {
    use std::time::{Duration, Instant};
    use strata_tensor::time_in_parallel_regions;
    set_num_threads(THREADS);
    let nap = Duration::from_millis(5);
    let mut values = vec![0.0f32; 4];

    // Four 5 ms jobs on at most 3 threads: at least two rounds of naps.
    let before = time_in_parallel_regions();
    for_each_block(4, 1, [&mut values], |_, _| std::thread::sleep(nap));
    assert!(time_in_parallel_regions() - before >= 2 * nap);

    // Serial work, and a single block, are not split work.
    let before = time_in_parallel_regions();
    std::thread::sleep(nap);
    for_each_block(4, 4, [&mut values], |_, _| std::thread::sleep(nap));
    assert_eq!(time_in_parallel_regions(), before);

    // A region inside a region counts once: never more than the outer region's wall time.
    let before = time_in_parallel_regions();
    let started = Instant::now();
    for_each_block(2, 1, [&mut values[..2]], |_, _| {
        let mut inner = vec![0.0f32; 2];
        for_each_block(2, 1, [&mut inner], |_, _| std::thread::sleep(nap));
    });
    let wall = started.elapsed();
    let counted = time_in_parallel_regions() - before;
    assert!(
        counted >= 2 * nap && counted <= wall,
        "{counted:?} of {wall:?}"
    );
}
