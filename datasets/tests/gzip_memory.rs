//! Readers check a gzip file's header on the stream and bound what it claims by the data
//! present: a small `.gz` that inflates to hundreds of megabytes is refused at its first bad
//! part, with memory measured by a counting allocator (one test, so that nothing else runs
//! while it measures).

mod common;

use common::{idx_u8, Scratch};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use strata_datasets::{
    cifar10, parse_csv, parse_idx, parse_sklearn_csv, CsvOptions, DataError, Split,
};

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = IN_USE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters move.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size);
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most bytes allocated at once while `f` runs, beyond what was in use before.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = IN_USE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let result = f();
    (result, PEAK.load(Ordering::Relaxed) - before)
}

/// Inflated size of the bombs: 256 MiB, from well under 1 MiB of gzip.
const INFLATED: usize = 256 << 20;

/// `prefix`, then `INFLATED` bytes of `filler`, gzip-compressed without ever holding them.
fn bomb(prefix: &[u8], filler: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(prefix).unwrap();
    let chunk: Vec<u8> = filler.iter().copied().cycle().take(1 << 20).collect();
    for _ in 0..INFLATED / chunk.len() {
        encoder.write_all(&chunk).unwrap();
    }
    encoder.finish().unwrap()
}

fn expected_and_found(err: DataError) -> (String, String) {
    match err {
        DataError::Format {
            expected, found, ..
        } => (expected, found),
        other => panic!("expected a format error, found {other:?}"),
    }
}

#[test]
fn small_gzip_bombs_and_oversized_files_are_refused_without_reading_them_whole() {
    /// Far below the 256 MiB the old readers inflated first; above what the longest CSV line
    /// (8 MiB) may take, the buffer of 16 MiB it grows to and the 8 MiB it grew from.
    const BOUND: usize = 32 << 20;

    // IDX: a header announcing 16 bytes, followed by 256 MiB.
    let gz = bomb(&idx_u8(&[16], &[7; 16]), &[0]);
    assert!(gz.len() < 1 << 20);
    let (result, peak) = peak_during(|| parse_idx(&gz, "bomb.gz"));
    let (expected, found) = expected_and_found(result.unwrap_err());
    assert_eq!(
        (expected.as_str(), found.as_str()),
        ("16 bytes of U8 data for dimensions [16]", "more bytes")
    );
    assert!(peak < 1 << 20, "IDX with trailing data: {peak} bytes");

    // IDX: no magic number, then 256 MiB.
    let (result, peak) = peak_during(|| parse_idx(&bomb(b"PK", &[0]), "zip.gz"));
    assert!(result.is_err());
    assert!(peak < 2 << 20, "IDX with a bad magic: {peak} bytes");

    // IDX: a header claiming more than a gzip stream of this size can hold.
    let small = common::gzip(&idx_u8(&[1 << 31], &[]));
    let (result, peak) = peak_during(|| parse_idx(&small, "claims.gz"));
    let (_, found) = expected_and_found(result.unwrap_err());
    assert!(found.contains("which inflates to at most"), "{found}");
    assert!(peak < 1 << 20, "IDX claiming 2 GiB: {peak} bytes");

    // CSV: a bad number on line 2, then 256 MiB of good rows.
    let gz = bomb(b"1,2,0\nx,2,0\n", b"3,4,1\n");
    let (result, peak) = peak_during(|| parse_csv(&gz, &CsvOptions::new(), "bad.csv.gz"));
    let (expected, found) = expected_and_found(result.unwrap_err());
    assert_eq!(
        (expected.as_str(), found.as_str()),
        ("a number at line 2, column 1", "\"x\"")
    );
    assert!(peak < BOUND, "CSV with a bad row: {peak} bytes");

    // CSV: 256 MiB without a line break.
    let (result, peak) = peak_during(|| parse_csv(&bomb(b"1,", b"0"), &CsvOptions::new(), "x"));
    let (expected, _) = expected_and_found(result.unwrap_err());
    assert_eq!(expected, "lines of at most 8388608 bytes");
    assert!(peak < BOUND, "CSV without line breaks: {peak} bytes");

    // scikit-learn CSV: 2 rows declared, 256 MiB of them present.
    let gz = bomb(b"2,2,a,b\n", b"3,4,1\n");
    let (result, peak) = peak_during(|| parse_sklearn_csv(&gz, "many.csv.gz"));
    let (expected, found) = expected_and_found(result.unwrap_err());
    assert_eq!(
        (expected.as_str(), found.as_str()),
        ("2 rows", "another at line 4")
    );
    assert!(
        peak < BOUND,
        "scikit-learn CSV with extra rows: {peak} bytes"
    );

    // CIFAR: a sparse 1 GiB file where a 30 MB batch should be.
    let dir = Scratch::new("cifar-huge");
    std::fs::File::create(dir.path("test_batch.bin"))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let (result, peak) = peak_during(|| cifar10(&dir.0, Split::Test));
    let (_, found) = expected_and_found(result.unwrap_err());
    assert_eq!(found, "1073741824 bytes");
    assert!(peak < 1 << 20, "a wrong-sized batch: {peak} bytes");
}
