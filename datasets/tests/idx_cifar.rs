//! IDX and CIFAR-10 readers: small files written here, every error path, and the real MNIST
//! files in shared/data.

mod common;

use common::{gzip, idx_u8, shared_data, Scratch};
use strata_datasets::{
    cifar10, idx_classification, mnist, parse_cifar10, parse_idx, read_idx, DataError, Dataset,
    IdxType, Split, CIFAR10_RECORDS_PER_FILE, CIFAR10_RECORD_BYTES,
};

/// The `(expected, found)` of a format error, panicking on any other error.
fn format_error(err: DataError) -> (String, String) {
    match err {
        DataError::Format {
            expected, found, ..
        } => (expected, found),
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn parses_u8_arrays_raw_and_gzip() {
    let data: Vec<u8> = (0..24).collect();
    let raw = idx_u8(&[2, 3, 4], &data);
    let array = parse_idx(&raw, "raw").unwrap();
    assert_eq!(array.kind, IdxType::U8);
    assert_eq!(array.dims, vec![2, 3, 4]);
    assert_eq!(
        array.values,
        data.iter().map(|&b| b as f32).collect::<Vec<_>>()
    );
    assert_eq!(parse_idx(&gzip(&raw), "gz").unwrap(), array);
}

#[test]
fn parses_every_element_type_big_endian() {
    let cases: [(u8, Vec<u8>, f32); 5] = [
        (0x09, vec![0xFE], -2.0),
        (0x0B, (-300i16).to_be_bytes().to_vec(), -300.0),
        (0x0C, 70_000i32.to_be_bytes().to_vec(), 70_000.0),
        (0x0D, 1.5f32.to_be_bytes().to_vec(), 1.5),
        (0x0E, (-0.25f64).to_be_bytes().to_vec(), -0.25),
    ];
    for (code, value, expected) in cases {
        let mut bytes = vec![0, 0, code, 1, 0, 0, 0, 2];
        bytes.extend_from_slice(&value);
        bytes.extend_from_slice(&value);
        let array = parse_idx(&bytes, "typed").unwrap();
        assert_eq!(array.values, vec![expected, expected], "type {code:#04x}");
        assert_eq!(array.kind.size(), value.len());
    }
}

#[test]
fn rejects_bad_magic_unknown_type_and_short_headers() {
    let (expected, found) = format_error(parse_idx(&[1, 0, 8, 1, 0, 0, 0, 0], "x").unwrap_err());
    assert!(expected.contains("magic"), "{expected}");
    assert_eq!(found, "01 00 08 01");
    let (_, found) = format_error(parse_idx(&[0, 0, 0x07, 1, 0, 0, 0, 0], "x").unwrap_err());
    assert_eq!(found, "00 00 07 01");
    let (expected, found) = format_error(parse_idx(&[0, 0], "x").unwrap_err());
    assert!(
        expected.contains("4 bytes") && found == "2 bytes",
        "{expected} / {found}"
    );
    // Three dimensions announced, only one given.
    let (expected, found) = format_error(parse_idx(&[0, 0, 8, 3, 0, 0, 0, 1], "x").unwrap_err());
    assert!(expected.contains("16 bytes for 3 dimensions"), "{expected}");
    assert_eq!(found, "8 bytes in all");
}

#[test]
fn rejects_truncated_and_overlong_data_with_both_lengths() {
    let full = idx_u8(&[3, 2], &[1, 2, 3, 4, 5, 6]);
    let (expected, found) = format_error(parse_idx(&full[..full.len() - 2], "cut").unwrap_err());
    assert!(expected.starts_with("6 bytes"), "{expected}");
    assert_eq!(found, "4 bytes");
    let mut long = full.clone();
    long.push(0);
    let (_, found) = format_error(parse_idx(&long, "long").unwrap_err());
    assert_eq!(found, "7 bytes");
    // Dimensions whose product overflows are refused before any allocation.
    let huge = idx_u8(&[u32::MAX, u32::MAX, u32::MAX], &[]);
    let (expected, _) = format_error(parse_idx(&huge, "huge").unwrap_err());
    assert!(expected.contains("fits in memory"), "{expected}");
}

#[test]
fn rejects_a_damaged_gzip_stream() {
    let gz = gzip(&idx_u8(&[4], &[1, 2, 3, 4]));
    let (expected, _) = format_error(parse_idx(&gz[..gz.len() / 2], "half.gz").unwrap_err());
    assert!(expected.contains("gzip"), "{expected}");
}

/// Writes a tiny MNIST-like split (N images of h×w, labels) with the given names.
fn write_pair(dir: &Scratch, images: &str, labels: &str, n: u32, side: u32, label_bytes: &[u8]) {
    let pixels: Vec<u8> = (0..n * side * side).map(|i| (i % 256) as u8).collect();
    dir.write(images, &gzip(&idx_u8(&[n, side, side], &pixels)));
    dir.write(labels, &idx_u8(&[label_bytes.len() as u32], label_bytes));
}

#[test]
fn idx_classification_builds_images_and_labels() {
    let dir = Scratch::new("idx-pair");
    write_pair(&dir, "img.gz", "lab", 3, 2, &[4, 0, 9]);
    let classes = (0..10).map(|d| d.to_string()).collect();
    let data = idx_classification(&dir.path("img.gz"), &dir.path("lab"), classes).unwrap();
    assert_eq!(data.len(), 3);
    assert_eq!(data.input_shape(), &[1, 2, 2]);
    let second = data.get(1).unwrap();
    assert_eq!(second.input().to_vec(), vec![4.0, 5.0, 6.0, 7.0]);
    assert_eq!(second.target().shape(), &[] as &[usize]);
    assert_eq!(second.target().item(), 0.0);
}

#[test]
fn idx_classification_errors_name_the_mismatch() {
    let dir = Scratch::new("idx-pair-errors");
    let ten: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    write_pair(&dir, "img", "lab", 3, 2, &[1, 2]);
    let err = idx_classification(&dir.path("img"), &dir.path("lab"), ten.clone()).unwrap_err();
    let (expected, found) = format_error(err);
    assert!(expected.starts_with("3 labels"), "{expected}");
    assert_eq!(found, "2 labels");
    // Label and image files swapped: a mislabelled file.
    write_pair(&dir, "img", "lab", 2, 2, &[1, 2]);
    let err = idx_classification(&dir.path("lab"), &dir.path("img"), ten.clone()).unwrap_err();
    let (expected, found) = format_error(err);
    assert!(expected.contains("3 dimensions"), "{expected}");
    assert_eq!(found, "dimensions [2]");
    write_pair(&dir, "img", "lab", 2, 2, &[1, 12]);
    let err = idx_classification(&dir.path("img"), &dir.path("lab"), ten).unwrap_err();
    let (expected, found) = format_error(err);
    assert_eq!(expected, "labels in 0..10");
    assert_eq!(found, "label 12 at position 1");
    let missing = read_idx(&dir.path("nothing-here")).unwrap_err();
    assert!(matches!(missing, DataError::Io { .. }), "{missing:?}");
}

#[test]
fn mnist_finds_canonical_and_dotted_names_and_checks_the_side() {
    let dir = Scratch::new("mnist-names");
    let err = mnist(&dir.0, Split::Test).unwrap_err();
    let (expected, _) = format_error(err);
    assert!(
        expected.contains("t10k-images-idx3-ubyte.gz")
            && expected.contains("t10k-images.idx3-ubyte")
    );
    write_pair(
        &dir,
        "t10k-images.idx3-ubyte",
        "t10k-labels.idx1-ubyte",
        2,
        28,
        &[3, 7],
    );
    let data = mnist(&dir.0, Split::Test).unwrap();
    assert_eq!(data.input_shape(), &[1, 28, 28]);
    assert_eq!(data.target().to_vec(), vec![3.0, 7.0]);
    write_pair(
        &dir,
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        2,
        8,
        &[3, 7],
    );
    let (expected, found) = format_error(mnist(&dir.0, Split::Train).unwrap_err());
    assert_eq!(
        (expected.as_str(), found.as_str()),
        ("28x28 images", "images of shape [8, 8]")
    );
}

#[test]
fn real_mnist_train_and_test() {
    let Some(dir) = shared_data("mnist", "real_mnist_train_and_test") else {
        return;
    };
    // Per-digit counts and first labels as published in shared/data/mnist/SOURCE.md.
    let cases = [
        (
            Split::Train,
            60_000,
            [5, 0, 4, 1, 9, 2, 1, 3, 1, 4],
            [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
        ),
        (
            Split::Test,
            10_000,
            [7, 2, 1, 0, 4, 1, 4, 9, 5, 9],
            [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
        ),
    ];
    for (split, len, first, counts) in cases {
        let data = mnist(&dir, split).unwrap();
        assert_eq!(data.len(), len);
        assert_eq!(data.input_shape(), &[1, 28, 28]);
        let labels = data.target().to_vec();
        let first_found: Vec<usize> = labels[..10].iter().map(|&l| l as usize).collect();
        assert_eq!(first_found, first);
        let mut found = [0usize; 10];
        labels.iter().for_each(|&l| found[l as usize] += 1);
        assert_eq!(found, counts);
        let pixels = data.input().values();
        assert_eq!(pixels.iter().cloned().fold(f32::MIN, f32::max), 255.0);
        assert_eq!(pixels.iter().cloned().fold(f32::MAX, f32::min), 0.0);
    }
}

#[test]
fn real_mnist_gzip_equals_decompressed_dotted_copy() {
    let Some(dir) = shared_data("mnist", "real_mnist_gzip_equals_decompressed_dotted_copy") else {
        return;
    };
    let scratch = Scratch::new("mnist-dotted");
    for (gz, dotted) in [
        ("t10k-images-idx3-ubyte.gz", "t10k-images.idx3-ubyte"),
        ("t10k-labels-idx1-ubyte.gz", "t10k-labels.idx1-ubyte"),
    ] {
        let compressed = std::fs::read(dir.join(gz)).unwrap();
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut raw)
            .unwrap();
        scratch.write(dotted, &raw);
    }
    let from_gz = mnist(&dir, Split::Test).unwrap();
    let from_raw = mnist(&scratch.0, Split::Test).unwrap();
    assert_eq!(from_gz.input(), from_raw.input());
    assert_eq!(from_gz.target(), from_raw.target());
}

/// A CIFAR record: label, then 3,072 pixels.
fn cifar_record(label: u8, seed: usize) -> Vec<u8> {
    let mut record = vec![label];
    record.extend((0..3072).map(|i| ((i * 7 + seed) % 256) as u8));
    record
}

#[test]
fn cifar_records_keep_channel_planes_in_order() {
    let bytes = [cifar_record(3, 0), cifar_record(9, 5)].concat();
    let (pixels, labels) = parse_cifar10(&bytes, "two").unwrap();
    assert_eq!(labels, vec![3.0, 9.0]);
    assert_eq!(pixels.len(), 2 * 3072);
    // Pixel (channel 1, row 2, col 3) of record 1 is byte 1 + 1024 + 2*32 + 3 of that record.
    let at = 1024 + 2 * 32 + 3;
    assert_eq!(pixels[3072 + at], bytes[3073 + 1 + at] as f32);
}

#[test]
fn cifar_errors_name_lengths_and_labels() {
    let (expected, found) = format_error(parse_cifar10(&[0; 3000], "short").unwrap_err());
    assert!(expected.contains("3073-byte"), "{expected}");
    assert_eq!(found, "3000 bytes");
    let bytes = [cifar_record(1, 0), cifar_record(10, 0)].concat();
    let (_, found) = format_error(parse_cifar10(&bytes, "bad label").unwrap_err());
    assert_eq!(found, "label 10 in record 1");
    assert!(parse_cifar10(&[], "empty").is_err());
}

#[test]
fn cifar10_reads_a_full_test_batch_from_the_unpacked_folder() {
    let dir = Scratch::new("cifar");
    let batch_dir = dir.0.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&batch_dir).unwrap();
    let records: Vec<u8> = (0..CIFAR10_RECORDS_PER_FILE)
        .flat_map(|k| cifar_record((k % 10) as u8, k))
        .collect();
    std::fs::write(batch_dir.join("test_batch.bin"), &records).unwrap();
    for folder in [&dir.0, &batch_dir] {
        let data = cifar10(folder, Split::Test).unwrap();
        assert_eq!(data.len(), 10_000);
        assert_eq!(data.input_shape(), &[3, 32, 32]);
        assert_eq!(data.classes()[3], "cat");
        let example = data.get(12).unwrap();
        assert_eq!(example.target().item(), 2.0);
        assert_eq!(
            example.input().get(&[0, 0, 1]),
            records[12 * CIFAR10_RECORD_BYTES + 2] as f32
        );
    }
    std::fs::write(
        batch_dir.join("test_batch.bin"),
        &records[..CIFAR10_RECORD_BYTES * 10],
    )
    .unwrap();
    let (expected, found) = format_error(cifar10(&dir.0, Split::Test).unwrap_err());
    assert!(expected.starts_with("30730000 bytes"), "{expected}");
    assert_eq!(found, "30730 bytes");
    let missing = cifar10(&dir.0, Split::Train).unwrap_err();
    assert!(matches!(missing, DataError::Io { .. }), "{missing:?}");
}

#[test]
fn missing_shared_data_is_skipped_loudly_and_fails_under_ci() {
    let run = |ci: &str| {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "real_mnist_train_and_test", "--nocapture"])
            .env(common::SHARED_DATA_VAR, "/nonexistent/strata/shared/data")
            .env("CI", ci)
            .output()
            .unwrap()
    };
    let skipped = run("false");
    let stderr = String::from_utf8_lossy(&skipped.stderr);
    assert!(skipped.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "SKIPPED: real_mnist_train_and_test: /nonexistent/strata/shared/data/mnist not found"
        ),
        "{stderr}"
    );
    let failed = run("true");
    let output = String::from_utf8_lossy(&failed.stdout) + String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success(), "{output}");
    assert!(
        output.contains("under CI=true a test that cannot check anything fails"),
        "{output}"
    );
}
