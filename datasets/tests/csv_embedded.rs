//! CSV reader (options and errors), the embedded datasets against the files in shared/data,
//! and the character-level text dataset.

mod common;

use common::{gzip, shared_data, Scratch};
use strata_datasets::{
    breast_cancer, digits, iris, moby_dick, parse_csv, parse_sklearn_csv, read_csv, wine,
    CharDataset, CsvOptions, DataError, Dataset, LabelColumn, TensorDataset, Vocabulary,
};

fn format_error(err: DataError) -> (String, String) {
    match err {
        DataError::Format {
            expected, found, ..
        } => (expected, found),
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn csv_label_by_index_name_last_or_none() {
    let text = b"# comment line\nx,y,label,z\n1,2,0,3\n\n4,5,1,6\n";
    let skip = CsvOptions::new().skip_lines(1).header(true);
    let by_name = parse_csv(
        text,
        &skip.clone().label(LabelColumn::Name("label".into())),
        "t",
    )
    .unwrap();
    assert_eq!(by_name.feature_names, vec!["x", "y", "z"]);
    assert_eq!(by_name.features.shape(), &[2, 3]);
    assert_eq!(
        by_name.features.to_vec(),
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    );
    assert_eq!(by_name.labels.clone().unwrap().to_vec(), vec![0.0, 1.0]);
    let by_index = parse_csv(text, &skip.clone().label(LabelColumn::Index(2)), "t").unwrap();
    assert_eq!(by_index, by_name);
    let last = parse_csv(text, &skip.clone(), "t").unwrap();
    assert_eq!(last.labels.unwrap().to_vec(), vec![3.0, 6.0]);
    let none = parse_csv(text, &skip.label(LabelColumn::None), "t").unwrap();
    assert_eq!(none.features.shape(), &[2, 4]);
    assert!(none.labels.is_none());
    assert!(none.into_dataset().is_err());
}

#[test]
fn csv_reads_gzip_files_and_other_delimiters() {
    let dir = Scratch::new("csv");
    let path = dir.write("t.csv.gz", &gzip(b"1;2;1\n3;4;0\n"));
    let table = read_csv(&path, &CsvOptions::new().delimiter(';')).unwrap();
    let data = table.into_dataset().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data.get(1).unwrap().input().to_vec(), vec![3.0, 4.0]);
}

#[test]
fn csv_errors_say_where_and_what() {
    let opts = CsvOptions::new();
    let (expected, found) = format_error(parse_csv(b"1,2\n3,x\n", &opts, "t").unwrap_err());
    assert_eq!(
        (expected.as_str(), found.as_str()),
        ("a number at line 2, column 2", "\"x\"")
    );
    let (expected, found) = format_error(parse_csv(b"1,2,3\n4,5\n", &opts, "t").unwrap_err());
    assert_eq!(
        (expected.as_str(), found.as_str()),
        ("3 fields at line 2", "2")
    );
    let (_, found) = format_error(parse_csv(b"1,2\n4,5,6\n", &opts, "t").unwrap_err());
    assert_eq!(found, "more");
    let (expected, found) = format_error(parse_csv(b"\n\n", &opts, "t").unwrap_err());
    assert_eq!(
        (expected.as_str(), found.as_str()),
        ("at least one data row", "none")
    );
    let (expected, _) = format_error(
        parse_csv(
            b"a,b\n1,2\n",
            &opts
                .clone()
                .header(true)
                .label(LabelColumn::Name("c".into())),
            "t",
        )
        .unwrap_err(),
    );
    assert_eq!(expected, "a column named \"c\"");
    let (_, found) = format_error(
        parse_csv(b"1,2\n", &opts.clone().label(LabelColumn::Index(5)), "t").unwrap_err(),
    );
    assert_eq!(found, "2 fields at line 1");
    let by_name_without_header = parse_csv(
        b"1,2\n",
        &opts.clone().label(LabelColumn::Name("b".into())),
        "t",
    );
    assert!(matches!(
        by_name_without_header,
        Err(DataError::InvalidArgument { .. })
    ));
    let (expected, found) = format_error(parse_csv(b"1,2\n\xff,3\n", &opts, "t").unwrap_err());
    assert_eq!(
        (expected.as_str(), found.as_str()),
        ("UTF-8 text", "an invalid byte at offset 4")
    );
    let missing = read_csv(std::path::Path::new("/nonexistent/strata.csv"), &opts).unwrap_err();
    assert!(matches!(missing, DataError::Io { .. }));
}

#[test]
fn sklearn_csv_checks_declared_counts_and_classes() {
    let data = parse_sklearn_csv(b"2,2,a,b\n1,2,0\n3,4,1\n", "ok").unwrap();
    assert_eq!(data.classes(), &["a", "b"]);
    assert_eq!(data.target().to_vec(), vec![0.0, 1.0]);
    let (expected, found) =
        format_error(parse_sklearn_csv(b"3,2,a,b\n1,2,0\n3,4,1\n", "t").unwrap_err());
    assert!(expected.starts_with("3 rows of 2 features"), "{expected}");
    assert!(found.starts_with("2 rows of 2 features"), "{found}");
    let (expected, found) =
        format_error(parse_sklearn_csv(b"2,2,a,b\n1,2,0\n3,4,2\n", "t").unwrap_err());
    assert_eq!(
        (expected.as_str(), found.as_str()),
        ("labels in 0..2", "label 2 at position 1")
    );
    let (expected, _) = format_error(parse_sklearn_csv(b"sepal,petal\n1,2\n", "t").unwrap_err());
    assert!(expected.contains("n_samples,n_features"), "{expected}");
}

/// Class counts of a dataset's targets.
fn class_counts(data: &TensorDataset) -> Vec<usize> {
    let mut counts = vec![0; data.classes().len()];
    data.target()
        .values()
        .iter()
        .for_each(|&l| counts[l as usize] += 1);
    counts
}

#[test]
fn embedded_sets_have_the_documented_shapes_and_counts() {
    let digits = digits();
    assert_eq!((digits.len(), digits.input_shape()), (1797, &[1, 8, 8][..]));
    assert_eq!(
        class_counts(&digits),
        vec![178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    );
    let pixels = digits.input().values();
    assert_eq!(pixels.iter().cloned().fold(f32::MIN, f32::max), 16.0);
    assert_eq!(pixels.iter().cloned().fold(f32::MAX, f32::min), 0.0);
    assert_eq!(digits.get(0).unwrap().target().item(), 0.0);

    let iris = iris();
    assert_eq!((iris.len(), iris.input_shape()), (150, &[4][..]));
    assert_eq!(iris.classes(), &["setosa", "versicolor", "virginica"]);
    assert_eq!(class_counts(&iris), vec![50, 50, 50]);
    assert_eq!(
        iris.get(0).unwrap().input().to_vec(),
        vec![5.1, 3.5, 1.4, 0.2]
    );

    let wine = wine();
    assert_eq!((wine.len(), wine.input_shape()), (178, &[13][..]));
    assert_eq!(class_counts(&wine), vec![59, 71, 48]);

    let cancer = breast_cancer();
    assert_eq!((cancer.len(), cancer.input_shape()), (569, &[30][..]));
    assert_eq!(cancer.classes(), &["malignant", "benign"]);
    assert_eq!(class_counts(&cancer), vec![212, 357]);
}

#[test]
fn embedded_sets_equal_the_shared_files() {
    let Some(dir) = shared_data("", "embedded_sets_equal_the_shared_files") else {
        return;
    };
    let shared_digits = read_csv(&dir.join("digits/digits.csv.gz"), &CsvOptions::new()).unwrap();
    let embedded = digits().with_input_shape(&[64]).unwrap();
    assert_eq!(&shared_digits.features, embedded.input());
    assert_eq!(shared_digits.labels.as_ref(), Some(embedded.target()));
    for (file, data) in [
        ("iris/iris.csv", iris()),
        ("wine/wine_data.csv", wine()),
        ("breast-cancer/breast_cancer.csv", breast_cancer()),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let shared = parse_sklearn_csv(&bytes, file).unwrap();
        assert_eq!(shared.input(), data.input(), "{file}");
        assert_eq!(shared.target(), data.target(), "{file}");
    }
    let text = std::fs::read_to_string(dir.join("moby-dick/moby-dick.txt")).unwrap();
    assert!(
        text == moby_dick(),
        "embedded Moby-Dick differs from the shared text"
    );
}

#[test]
fn moby_dick_has_the_documented_characters() {
    let text = moby_dick();
    assert_eq!(text.chars().count(), 1_190_317);
    let vocab = Vocabulary::from_text(&text);
    assert_eq!(vocab.len(), 83);
    assert_eq!(vocab.chars()[0], '\n');
    assert_eq!(vocab.chars()[82], '”');
    assert!(vocab.chars().windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn vocabulary_round_trips_and_rejects_unknowns() {
    let vocab = Vocabulary::from_text("the whale — ’tis");
    let unknown = vocab.encode("whales!").unwrap_err();
    assert!(
        matches!(unknown, DataError::InvalidArgument { .. }),
        "'!' is not in the text"
    );
    let ids = vocab.encode("the ’tis — whale").unwrap();
    assert_eq!(vocab.decode(&ids).unwrap(), "the ’tis — whale");
    assert!(vocab.decode(&[vocab.len()]).is_err());
}

#[test]
fn char_windows_are_next_character_pairs() {
    let text = "call me ishmael";
    let data = CharDataset::new(text, 4).unwrap();
    assert_eq!(data.len(), text.len() - 4);
    let vocab = data.vocabulary();
    for i in [0, 5, data.len() - 1] {
        let example = data.get(i).unwrap();
        let ids =
            |t: &strata_tensor::Tensor| t.to_vec().iter().map(|&v| v as usize).collect::<Vec<_>>();
        assert_eq!(
            vocab.decode(&ids(example.input())).unwrap(),
            &text[i..i + 4]
        );
        assert_eq!(
            vocab.decode(&ids(example.target())).unwrap(),
            &text[i + 1..i + 5]
        );
    }
    let batch = data.get_batch(&[2, 0]).unwrap();
    assert_eq!(batch.input().shape(), &[2, 4]);
    assert_eq!(
        batch.input().narrow(0, 1, 1).squeeze(0),
        data.get(0).unwrap().input().clone()
    );
    assert!(matches!(
        data.get(data.len()),
        Err(DataError::IndexOutOfRange { .. })
    ));
    assert!(CharDataset::new("abc", 3).is_err());
    assert!(CharDataset::new("abc", 0).is_err());
    let other = CharDataset::with_vocabulary("xyz", 1, Vocabulary::from_text("abc"));
    assert!(other.is_err());
}
