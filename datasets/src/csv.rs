//! Numeric CSV tables (raw or gzip): a header option, lines to skip, a chosen label column;
//! and scikit-learn's variant whose first line is `n_samples,n_features,class names...`.
//!
//! Fields are numbers separated by the delimiter; header names may be wrapped in double
//! quotes. Blank lines are skipped.

use crate::compression::{damaged, read_file, Content};
use crate::dataset::TensorDataset;
use crate::error::{DataError, DataResult};
use crate::idx::check_labels;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use strata_tensor::Tensor;

/// Which column holds the label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelColumn {
    /// The last column.
    Last,
    /// The column at this 0-based position.
    Index(usize),
    /// The column with this header name (needs [`CsvOptions::header`]).
    Name(String),
    /// No label: every column is a feature.
    None,
}

/// How to read a CSV table.
///
/// ```
/// use strata_datasets::{parse_csv, CsvOptions, LabelColumn};
/// let text = b"a,b,class\n1,2,0\n3,4,1\n";
/// let options = CsvOptions::new().header(true).label(LabelColumn::Name("class".into()));
/// let table = parse_csv(text, &options, "inline").unwrap();
/// assert_eq!(table.features.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
/// assert_eq!(table.labels.unwrap().to_vec(), vec![0.0, 1.0]);
/// assert_eq!(table.feature_names, vec!["a", "b"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Lines to ignore at the top, before the header if any.
    pub skip_lines: usize,
    /// Whether the first line read (after the skipped ones) names the columns.
    pub header: bool,
    /// The label column.
    pub label: LabelColumn,
    /// The field separator.
    pub delimiter: char,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            skip_lines: 0,
            header: false,
            label: LabelColumn::Last,
            delimiter: ',',
        }
    }
}

impl CsvOptions {
    /// No skipped line, no header, label in the last column, comma-separated.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ignores the first `lines` lines.
    pub fn skip_lines(mut self, lines: usize) -> Self {
        self.skip_lines = lines;
        self
    }

    /// Whether a header line names the columns.
    pub fn header(mut self, header: bool) -> Self {
        self.header = header;
        self
    }

    /// The label column.
    pub fn label(mut self, label: LabelColumn) -> Self {
        self.label = label;
        self
    }

    /// The field separator.
    pub fn delimiter(mut self, delimiter: char) -> Self {
        self.delimiter = delimiter;
        self
    }
}

/// A parsed CSV table: the feature columns and the label column.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvTable {
    /// The feature columns' names (empty without a header).
    pub feature_names: Vec<String>,
    /// Features `[rows, feature columns]`.
    pub features: Tensor,
    /// Labels `[rows]`, unless [`LabelColumn::None`].
    pub labels: Option<Tensor>,
}

impl CsvTable {
    /// The table as a dataset of feature vectors `[F]` and scalar labels; an error without a
    /// label column.
    pub fn into_dataset(self) -> DataResult<TensorDataset> {
        let Some(labels) = self.labels else {
            return Err(DataError::invalid(
                "CsvTable::into_dataset",
                "a table with a label column",
                "LabelColumn::None",
            ));
        };
        TensorDataset::new(self.features, labels)
    }
}

/// The longest line read: a row of 100,000 numbers of 20 characters is 2 MB, so 8 MiB holds
/// any table these readers are meant for, and bounds the memory a stream without line
/// breaks can take before it is refused (the line buffer, grown by doubling, to 16 MiB).
const MAX_LINE_BYTES: usize = 8 << 20;

/// The lines of a file's content, read (and inflated) one at a time: `(line number, line)`
/// with the line break removed, `\r\n` included. Each line is checked to be UTF-8.
struct Lines<'a> {
    reader: BufReader<Content<'a>>,
    source_name: &'a str,
    number: usize,
    offset: usize,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8], source_name: &'a str) -> Self {
        Self {
            reader: BufReader::new(Content::new(bytes)),
            source_name,
            number: 0,
            offset: 0,
        }
    }

    fn next_line(&mut self) -> DataResult<Option<(usize, String)>> {
        let mut line = Vec::new();
        let read = (&mut self.reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|err| damaged(self.source_name, &err))?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        if line.len() > MAX_LINE_BYTES {
            return Err(DataError::format(
                self.source_name,
                format!("lines of at most {MAX_LINE_BYTES} bytes"),
                format!("a longer line {}", self.number),
            ));
        }
        let start = self.offset;
        self.offset += read;
        for end in [b'\n', b'\r'] {
            if line.last() == Some(&end) {
                line.pop();
            }
        }
        let line = String::from_utf8(line).map_err(|err| {
            DataError::format(
                self.source_name,
                "UTF-8 text",
                format!(
                    "an invalid byte at offset {}",
                    start + err.utf8_error().valid_up_to()
                ),
            )
        })?;
        Ok(Some((self.number, line)))
    }
}

impl Iterator for Lines<'_> {
    type Item = DataResult<(usize, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_line().transpose()
    }
}

/// Parses a numeric CSV table held in memory (raw or gzip); `source_name` names it in errors.
/// The content is read line by line, so a damaged file is refused at its first bad line
/// without inflating the rest.
pub fn parse_csv(bytes: &[u8], options: &CsvOptions, source_name: &str) -> DataResult<CsvTable> {
    let mut lines = Lines::new(bytes, source_name);
    for _ in 0..options.skip_lines {
        if lines.next().transpose()?.is_none() {
            break;
        }
    }
    read_table(lines, options, source_name, None)
}

/// Reads the table from `lines` (past any skipped ones); with `max_rows`, more rows are an
/// error as soon as they appear.
fn read_table(
    lines: Lines<'_>,
    options: &CsvOptions,
    source_name: &str,
    max_rows: Option<usize>,
) -> DataResult<CsvTable> {
    let mut lines = lines.filter(|line| !matches!(line, Ok((_, text)) if text.trim().is_empty()));
    let split = |line: &str| -> Vec<String> {
        line.split(options.delimiter)
            .map(|f| f.trim().trim_matches('"').to_string())
            .collect()
    };
    let names = if options.header {
        let (_, line) = lines.next().transpose()?.ok_or_else(|| {
            DataError::format(
                source_name,
                "a header line",
                "no line after the skipped ones",
            )
        })?;
        Some(split(line.trim()))
    } else {
        None
    };
    let Some((first_line, first)) = lines.next().transpose()? else {
        return Err(DataError::format(
            source_name,
            "at least one data row",
            "none",
        ));
    };
    let columns = names
        .as_ref()
        .map_or_else(|| split(first.trim()).len(), Vec::len);
    let label_at = label_position(
        &options.label,
        names.as_deref(),
        columns,
        source_name,
        first_line,
    )?;
    let mut features = Vec::new();
    let mut labels = Vec::new();
    let mut rows = 0;
    for line in std::iter::once(Ok((first_line, first))).chain(lines) {
        let (line_number, line) = line?;
        if max_rows.is_some_and(|max| rows == max) {
            return Err(DataError::format(
                source_name,
                format!("{rows} rows"),
                format!("another at line {line_number}"),
            ));
        }
        let mut count = 0;
        for (column, field) in line.trim().split(options.delimiter).enumerate() {
            count += 1;
            if count > columns {
                break;
            }
            let value: f32 = field.trim().parse().map_err(|_| {
                DataError::format(
                    source_name,
                    format!("a number at line {line_number}, column {}", column + 1),
                    format!("{:?}", field.trim()),
                )
            })?;
            if Some(column) == label_at {
                labels.push(value);
            } else {
                features.push(value);
            }
        }
        if count != columns {
            return Err(DataError::format(
                source_name,
                format!("{columns} fields at line {line_number}"),
                if count > columns {
                    "more".to_string()
                } else {
                    count.to_string()
                },
            ));
        }
        rows += 1;
    }
    let feature_count = columns - usize::from(label_at.is_some());
    let feature_names = names
        .map(|names| {
            names
                .into_iter()
                .enumerate()
                .filter(|&(i, _)| Some(i) != label_at)
                .map(|(_, name)| name)
                .collect()
        })
        .unwrap_or_default();
    Ok(CsvTable {
        feature_names,
        features: Tensor::from_vec(features, &[rows, feature_count]),
        labels: label_at.map(|_| Tensor::from_vec(labels, &[rows])),
    })
}

/// The 0-based label column, checked against the number of columns.
fn label_position(
    label: &LabelColumn,
    names: Option<&[String]>,
    columns: usize,
    source_name: &str,
    line: usize,
) -> DataResult<Option<usize>> {
    let position = match label {
        LabelColumn::None => return Ok(None),
        LabelColumn::Last => columns.checked_sub(1),
        LabelColumn::Index(i) => Some(*i).filter(|&i| i < columns),
        LabelColumn::Name(name) => {
            let names = names.ok_or_else(|| {
                DataError::invalid(
                    "parse_csv",
                    "CsvOptions::header(true) to find a label column by name",
                    format!("no header (label column {name:?})"),
                )
            })?;
            return names
                .iter()
                .position(|n| n == name)
                .map(Some)
                .ok_or_else(|| {
                    DataError::format(
                        source_name,
                        format!("a column named {name:?}"),
                        format!("columns {names:?}"),
                    )
                });
        }
    };
    position.map(Some).ok_or_else(|| {
        DataError::format(
            source_name,
            format!("a label column {label:?} among the fields"),
            format!("{columns} fields at line {line}"),
        )
    })
}

/// Reads a numeric CSV file (raw or gzip).
pub fn read_csv(path: &Path, options: &CsvOptions) -> DataResult<CsvTable> {
    parse_csv(&read_file(path)?, options, &path.display().to_string())
}

/// Parses scikit-learn's CSV variant: a first line `n_samples,n_features,class names...`,
/// then rows of `n_features` values and a class id. Checks the declared counts and that the
/// class ids name a listed class; the class names go to [`TensorDataset::classes`].
pub fn parse_sklearn_csv(bytes: &[u8], source_name: &str) -> DataResult<TensorDataset> {
    let mut lines = Lines::new(bytes, source_name);
    let (_, first_line) = lines.next().transpose()?.unwrap_or_default();
    let fields: Vec<&str> = first_line.trim().split(',').collect();
    let declared = |at: usize| fields.get(at).and_then(|f| f.trim().parse::<usize>().ok());
    let (Some(samples), Some(features)) = (declared(0), declared(1)) else {
        return Err(DataError::format(
            source_name,
            "a first line n_samples,n_features,class names...",
            format!("{:?}", first_line.trim()),
        ));
    };
    let classes: Vec<String> = fields[2..].iter().map(|s| s.trim().to_string()).collect();
    let table = read_table(lines, &CsvOptions::new(), source_name, Some(samples))?;
    let shape = table.features.shape().to_vec();
    if shape != [samples, features] {
        return Err(DataError::format(
            source_name,
            format!("{samples} rows of {features} features and a label (declared on line 1)"),
            format!("{} rows of {} features and a label", shape[0], shape[1]),
        ));
    }
    if let Some(labels) = &table.labels {
        check_labels(&labels.values(), classes.len(), source_name)?;
    }
    Ok(table.into_dataset()?.with_classes(classes))
}
