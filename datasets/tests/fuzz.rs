//! Brief fuzzing of every parser: random bytes, and truncations and mutations of valid
//! files (raw and gzip). Any input may be refused, none may panic.

mod common;

use common::{gzip, idx_u8};
use proptest::prelude::*;
use strata_datasets::{
    parse_cifar10, parse_csv, parse_idx, parse_sklearn_csv, CsvOptions, LabelColumn,
};

/// Cases per property: enough to reach every header branch (the first bytes decide most of
/// them) while keeping the whole file under a few seconds.
const CASES: u32 = 300;

/// A valid IDX image file of 3 images of 4×4.
fn valid_idx() -> Vec<u8> {
    idx_u8(&[3, 4, 4], &(0..48).collect::<Vec<u8>>())
}

/// Two valid CIFAR-10 records.
fn valid_cifar() -> Vec<u8> {
    (0..2)
        .flat_map(|r| std::iter::once(r as u8).chain((0..3072).map(move |i| ((i + r) % 256) as u8)))
        .collect()
}

const VALID_CSV: &[u8] = b"3,2,a,b\n1.5,2,0\n-3,4e2,1\n5,6,1\n";

/// `bytes` cut to `cut` (modulo its length) with `flips` bytes replaced.
fn mutate(bytes: &[u8], cut: usize, flips: &[(usize, u8)]) -> Vec<u8> {
    let mut out = bytes[..cut % (bytes.len() + 1)].to_vec();
    if !out.is_empty() {
        let len = out.len();
        for &(at, value) in flips {
            out[at % len] = value;
        }
    }
    out
}

/// Runs every parser on `bytes`; they may return errors but must not panic.
fn parse_all(bytes: &[u8]) {
    let _ = parse_idx(bytes, "fuzz");
    let _ = parse_cifar10(bytes, "fuzz");
    let _ = parse_sklearn_csv(bytes, "fuzz");
    for options in [
        CsvOptions::new(),
        CsvOptions::new()
            .skip_lines(1)
            .header(true)
            .label(LabelColumn::Name("b".into())),
        CsvOptions::new().label(LabelColumn::Index(1)),
    ] {
        let _ = parse_csv(bytes, &options, "fuzz");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        parse_all(&bytes);
        parse_all(&gzip(&bytes));
    }

    #[test]
    fn csv_like_text_never_panics(text in proptest::collection::vec(proptest::sample::select(b"0123456789,.-e\n\"ab ".to_vec()), 0..200)) {
        parse_all(&text);
    }

    #[test]
    fn damaged_valid_files_never_panic(
        cut in any::<usize>(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
    ) {
        for valid in [valid_idx(), valid_cifar(), VALID_CSV.to_vec()] {
            let damaged = mutate(&valid, cut, &flips);
            parse_all(&damaged);
            parse_all(&mutate(&gzip(&valid), cut, &flips));
            parse_all(&gzip(&damaged));
        }
    }
}

#[test]
fn the_unmutated_files_parse() {
    assert_eq!(parse_idx(&valid_idx(), "idx").unwrap().dims, vec![3, 4, 4]);
    assert_eq!(
        parse_cifar10(&valid_cifar(), "cifar").unwrap().1,
        vec![0.0, 1.0]
    );
    assert_eq!(
        parse_sklearn_csv(VALID_CSV, "csv")
            .unwrap()
            .input()
            .to_vec(),
        vec![1.5, 2.0, -3.0, 400.0, 5.0, 6.0]
    );
}
