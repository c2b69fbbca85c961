//! [`DataError`]: everything that can go wrong between a `[data]` table and a [`Dataset`](crate::Dataset).
//!
//! Every message about a file starts with the file's path and says where in it: the line and
//! 1-based data row of a CSV record (the header is line 1, the first data row is row 1), the
//! 1-based item of an IDX file, or a byte offset; and the column where one applies.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a file a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// A CSV record: the line it starts on and its 1-based data row (the header is not a row).
    Record {
        /// The 1-based line the record starts on.
        line: u64,
        /// The 1-based data row.
        row: u64,
    },
    /// The 1-based item (image or label) of an IDX file.
    Item(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Record { line, row } => write!(f, "line {line} (data row {row})"),
            Location::Item(n) => write!(f, "item {n}"),
        }
    }
}

/// A dataset that could not be read, split or fitted to a network. Messages name the file and
/// the place in it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// The sample widths disagree with the network's.
    #[error(
        "dataset `{name}` has {features} inputs and {outputs} targets per sample, the network takes {want_inputs} inputs and gives {want_outputs} outputs"
    )]
    Shape {
        /// The dataset.
        name: String,
        /// Its features per sample.
        features: usize,
        /// Its targets per sample.
        outputs: usize,
        /// The network's inputs.
        want_inputs: usize,
        /// The network's outputs.
        want_outputs: usize,
    },
    /// A dataset whose inputs and targets have different numbers of rows.
    #[error("dataset `{name}` has {inputs} rows of inputs and {targets} rows of targets")]
    RowMismatch {
        /// The dataset.
        name: String,
        /// Rows of inputs.
        inputs: usize,
        /// Rows of targets.
        targets: usize,
    },
    /// The dataset has no samples.
    #[error("dataset `{0}` has no samples")]
    Empty(String),
    /// The spec has a value out of range (`load` validates before it reads anything).
    #[error("invalid `data.{}`: {}", .0.key, .0.message)]
    Spec(backprop_tensor::SpecError),
    /// A file could not be opened or read.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's message.
        message: String,
    },
    /// A CSV file with nothing in it, not even a header.
    #[error("{}: the file is empty; a CSV file must start with a header row of column names", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// A CSV file with a header and no data rows, or an IDX file of zero items.
    #[error("{}: no data rows", path.display())]
    NoRows {
        /// The file.
        path: PathBuf,
    },
    /// A CSV record longer than [`MAX_RECORD_BYTES`](crate::MAX_RECORD_BYTES); it was not read whole.
    #[error(
        "{}: line {line}: a record longer than {limit} bytes ({})",
        path.display(),
        match open_quote {
            Some(q) => format!("a quoted field opened on line {q} is still open there: a `\"` missing?"),
            None => "is this a CSV file?".into(),
        }
    )]
    RecordTooLong {
        /// The file.
        path: PathBuf,
        /// The line the record starts on.
        line: u64,
        /// The limit in bytes.
        limit: usize,
        /// The line of a quoted field still open at the limit.
        open_quote: Option<u64>,
    },
    /// A quoted CSV field whose closing quote never comes: the parser would read the rest of the
    /// file into that one field.
    #[error(
        "{}: line {line}: a quoted field opened here is never closed (a `\"` missing; the rest of the file would be one value)",
        path.display()
    )]
    UnclosedQuote {
        /// The file.
        path: PathBuf,
        /// The line of the opening quote.
        line: u64,
    },
    /// More values than [`MAX_CELLS`](crate::MAX_CELLS) in one file.
    #[error("{}: line {line}: more than {limit} cells in all, too many to load", path.display())]
    TooManyCells {
        /// The file.
        path: PathBuf,
        /// The line where the count passed the limit.
        line: u64,
        /// The limit.
        limit: u64,
    },
    /// A CSV record with a different number of fields than the header.
    #[error(
        "{}: line {line} (data row {row}): {found} {}, but the header has {expected}",
        path.display(),
        if *found == 1 { "field" } else { "fields" }
    )]
    Ragged {
        /// The file.
        path: PathBuf,
        /// The line the record starts on.
        line: u64,
        /// The 1-based data row.
        row: u64,
        /// Fields in the header.
        expected: usize,
        /// Fields in this record.
        found: usize,
    },
    /// A feature or regression-target cell that is not a finite number.
    #[error(
        "{}: line {line} (data row {row}), column `{column}`: {cell:?} is not a finite number{}",
        path.display(),
        label_hint(*target, cell)
    )]
    NotNumeric {
        /// The file.
        path: PathBuf,
        /// The line the record starts on.
        line: u64,
        /// The 1-based data row.
        row: u64,
        /// The column's name.
        column: String,
        /// The cell as written (lossily decoded when not UTF-8).
        cell: String,
        /// Whether the column is a regression target (a word there may be a class label).
        target: bool,
    },
    /// A number beyond the run's dtype (1e39 in an f32 run).
    #[error(
        "{}: line {line} (data row {row}), column `{column}`: {cell} is beyond {dtype}'s range (use dtype = \"f64\", or scale the column)",
        path.display()
    )]
    OutOfRange {
        /// The file.
        path: PathBuf,
        /// The line the record starts on.
        line: u64,
        /// The 1-based data row.
        row: u64,
        /// The column's name.
        column: String,
        /// The cell as written (lossily decoded when not UTF-8).
        cell: String,
        /// The dtype it does not fit.
        dtype: backprop_tensor::Dtype,
    },
    /// An empty cell where a class label belongs.
    #[error("{}: line {line} (data row {row}), column `{column}`: empty label", path.display())]
    EmptyLabel {
        /// The file.
        path: PathBuf,
        /// The line the record starts on.
        line: u64,
        /// The 1-based data row.
        row: u64,
        /// The label column's name.
        column: String,
    },
    /// A class label that is not UTF-8 text.
    #[error(
        "{}: line {line} (data row {row}), column `{column}`: the label is not UTF-8 text (save the file as UTF-8)",
        path.display()
    )]
    LabelNotUtf8 {
        /// The file.
        path: PathBuf,
        /// The line the record starts on.
        line: u64,
        /// The 1-based data row.
        row: u64,
        /// The label column's name.
        column: String,
    },
    /// A column name in the header that is not UTF-8 text.
    #[error("{}: the header's column {column} is not UTF-8 text (save the file as UTF-8)", path.display())]
    HeaderNotUtf8 {
        /// The file.
        path: PathBuf,
        /// The 1-based column.
        column: usize,
    },
    /// A first row of numbers (all of them, or all but one, a label), one of them with a
    /// fraction or an exponent, of which the config names none: data, not column names (a file
    /// without a header row would lose its first sample, and name its features by its numbers).
    #[error(
        "{}: the first row is data ({example} is a number), not column names: a CSV file's first row must name its columns (a header of numbers is taken as one when the config names a column of it)",
        path.display()
    )]
    HeaderIsData {
        /// The file.
        path: PathBuf,
        /// The first name that is a number with a fraction or an exponent.
        example: String,
    },
    /// A configured column the header does not have.
    #[error(
        "{}: no column {column} in the header ({}){}{}",
        path.display(),
        list(header),
        suggest(suggestion.as_deref()),
        header_hint(header)
    )]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column as configured: `` `name` `` or an index.
        column: String,
        /// The header's column names.
        header: Vec<String>,
        /// A header name close to the one configured.
        suggestion: Option<String>,
        /// The config's key that named it, when one did.
        key: Option<ColumnKey>,
    },
    /// A column chosen twice as a target, or twice as a feature (by name, index, or both).
    #[error("{}: column `{column}` is chosen twice among the {role}", path.display())]
    ColumnTwice {
        /// The file.
        path: PathBuf,
        /// The column's name.
        column: String,
        /// `"targets"` or `"features"`.
        role: &'static str,
    },
    /// Data with a value that is not finite in the run's dtype once made (and normalised).
    #[error("{name}: a value is beyond {dtype}'s range (a source parameter such as `noise` too large?)")]
    NonFinite {
        /// The data's name (its file, or its source).
        name: String,
        /// The run's dtype.
        dtype: backprop_tensor::Dtype,
    },
    /// A feature whose range (or, for values not finite, mean) overflows f64, so that normalising cannot scale it.
    #[error(
        "{name}: feature `{column}`: its values are too large to normalize (their range overflows f64); scale the column, or set `normalize = \"none\"`"
    )]
    NormalizeOverflow {
        /// The data's name (its file, or its source).
        name: String,
        /// The feature's name.
        column: String,
    },
    /// A regression target whose range (or, for values not finite, mean) overflows f64, so that
    /// `normalize_targets` cannot scale it.
    #[error(
        "{name}: target `{column}`: its values are too large to normalize (their range overflows f64); scale the column, or leave out `normalize_targets`"
    )]
    NormalizeTargetsOverflow {
        /// The data's name (its file, or its source).
        name: String,
        /// The target's name.
        column: String,
    },
    /// A column chosen both as a feature and as a target.
    #[error("{}: column `{column}` is both a feature and a target", path.display())]
    ColumnConflict {
        /// The file.
        path: PathBuf,
        /// The column's name.
        column: String,
    },
    /// A class label in a validation or test file that the training data does not have.
    #[error(
        "{}: {at}, column `{column}`: label {label:?} is not a class of the training data (classes: {})",
        path.display(),
        list(classes)
    )]
    UnseenLabel {
        /// The file.
        path: PathBuf,
        /// The record or item.
        at: Location,
        /// The label column's name (`label` for IDX files).
        column: String,
        /// The label as written.
        label: String,
        /// The training data's classes (boxed to keep the error small).
        classes: Box<[String]>,
    },
    /// A column named more than once in a CSV header, chosen by that name.
    #[error(
        "{}: column `{column}` is named {} times in the header (columns {}, 0-based); rename them or choose by index",
        path.display(),
        at.len(),
        at.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
    )]
    AmbiguousColumn {
        /// The file.
        path: PathBuf,
        /// The name.
        column: String,
        /// Where it stands in the header.
        at: Vec<usize>,
    },
    /// Two columns a model would read (features or targets) under one name, or one without a
    /// name: the model keeps the names, and `predict --csv` picks columns by them.
    #[error(
        "{}: header: {}; a model keeps the names of the columns it reads (`predict --csv` picks \
         columns by them), so each needs its own: rename them",
        path.display(),
        match at.as_slice() {
            [j] => format!("column {j} (0-based) has no name"),
            _ => format!(
                "columns {} (0-based) are all named `{column}`",
                at.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
            ),
        }
    )]
    UnnamedColumn {
        /// The file.
        path: PathBuf,
        /// The name shared (empty for a column without one).
        column: String,
        /// The columns: one without a name, or those sharing `column`.
        at: Vec<usize>,
    },
    /// A CSV file that is gzip-compressed (CSV files are read as plain text).
    #[error("{}: the file is gzip-compressed; decompress it first (`gunzip`): CSV files are read as plain text", path.display())]
    CompressedCsv {
        /// The file.
        path: PathBuf,
    },
    /// A source whose classes are not those of the model that reads it.
    #[error("{name}: the data's classes ({}) are not the model's ({})", list(data), list(model))]
    ClassesDiffer {
        /// The source's name.
        name: String,
        /// The classes the data has.
        data: Box<[String]>,
        /// The model's classes.
        model: Box<[String]>,
    },
    /// A source read as a trained model sees it whose features are not as many as the model's
    /// normalizer scales.
    #[error("{name}: the data has {data} features, the model's normalizer scales {model}")]
    FeaturesDiffer {
        /// The source's name.
        name: String,
        /// The data's features.
        data: usize,
        /// The features the model's normalizer was fitted on.
        model: usize,
    },
    /// A source read as a trained model sees it whose regression targets are not as many as
    /// the model's target normalizer scales.
    #[error("{name}: the data has {data} regression targets, the model's target normalizer scales {model}")]
    TargetsDiffer {
        /// The source's name.
        name: String,
        /// The data's target columns (0 for class labels).
        data: usize,
        /// The targets the model's target normalizer was fitted on.
        model: usize,
    },
    /// An IDX file whose first four bytes are not the expected magic number.
    #[error(
        "{}: byte 0: magic number 0x{found:08x}, expected 0x{expected:08x} (an IDX {what} file, raw or gzip-compressed)",
        path.display()
    )]
    IdxMagic {
        /// The file.
        path: PathBuf,
        /// `images` or `labels`.
        what: String,
        /// The magic number wanted.
        expected: u32,
        /// The magic number found.
        found: u32,
    },
    /// An IDX file shorter than its header says.
    #[error("{}: truncated IDX file: the header promises {expected} bytes in all, the file has {actual}", path.display())]
    IdxTruncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header promises (header included; decompressed for `.gz`).
        expected: u128,
        /// Bytes there are (decompressed for `.gz`).
        actual: u64,
    },
    /// An IDX header claiming more data than [`MAX_IDX_BYTES`](crate::MAX_IDX_BYTES).
    #[error(
        "{}: the IDX header claims {items} items of {item_bytes} bytes, {total} bytes in all, more than the limit of {limit} bytes",
        path.display()
    )]
    IdxTooLarge {
        /// The file.
        path: PathBuf,
        /// Items the header claims.
        items: u64,
        /// Bytes per item.
        item_bytes: u64,
        /// Their product.
        total: u128,
        /// The limit.
        limit: u64,
    },
    /// Any other malformed IDX file (a zero dimension, bytes after the data).
    #[error("{}: byte {offset}: {message}", path.display())]
    IdxFormat {
        /// The file.
        path: PathBuf,
        /// Where the problem is.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// IDX image and label files with different item counts.
    #[error("{} has {images} images but {} has {labels} labels", images_path.display(), labels_path.display())]
    IdxCountMismatch {
        /// The images file.
        images_path: PathBuf,
        /// Its item count.
        images: u64,
        /// The labels file.
        labels_path: PathBuf,
        /// Its item count.
        labels: u64,
    },
    /// A split fraction that leaves a split with no samples.
    #[error(
        "dataset `{name}`: the `{split}` fraction of its {samples} samples rounds to no samples; raise it, or \
         set it to 0 to hold out none"
    )]
    SplitTooSmall {
        /// The dataset.
        name: String,
        /// `validation` or `test`.
        split: String,
        /// Samples there were to split.
        samples: usize,
    },
    /// A data set whose values this machine cannot allocate.
    #[error(
        "{}: its {items} samples take {} as {dtype} values, more than this machine can allocate",
        path.display(),
        gib(*bytes)
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Samples in it.
        items: u64,
        /// Bytes their values take.
        bytes: u128,
        /// The run's dtype.
        dtype: backprop_tensor::Dtype,
    },
    /// A held-out split left empty because training keeps one sample (of each class, for
    /// classes), and the test split, taken first, may have taken the others.
    #[error(
        "dataset `{name}`: none of its {samples} samples are left for `{split}` once training keeps {}{}; use more \
         data, or set `{split}` to 0 to hold out none",
        if *per_class { "a sample of every class" } else { "a sample" },
        if *after_test { " and `test` takes its share" } else { "" }
    )]
    NoneToSpare {
        /// The dataset.
        name: String,
        /// `validation` or `test`.
        split: String,
        /// Samples there were to split.
        samples: usize,
        /// Whether training keeps a sample of each class (classification), not one in all.
        per_class: bool,
        /// Whether the test split was taken first (`split` is `validation` and `test` is above 0).
        after_test: bool,
    },
    /// A [`Normalizer`](crate::Normalizer) applied to inputs of another width.
    #[error("the normalizer was fitted on {expected} features, the inputs have {found}")]
    NormalizerWidth {
        /// Features it was fitted on.
        expected: usize,
        /// Features of the inputs.
        found: usize,
    },
}

/// The key of a CSV source's config that names columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKey {
    /// `targets`.
    Targets,
    /// `features`.
    Features,
}

impl ColumnKey {
    /// The key's name in the config's `[data]` table.
    pub fn name(self) -> &'static str {
        match self {
            ColumnKey::Targets => "targets",
            ColumnKey::Features => "features",
        }
    }
}

impl DataError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: &Path, err: &std::io::Error) -> Self {
        DataError::Io { path: path.to_path_buf(), message: err.to_string() }
    }
}

/// `` `a`, `b`, `c` ``, shortened after 20 names.
fn list(names: &[String]) -> String {
    let mut out: Vec<String> = names.iter().take(20).map(|n| format!("`{n}`")).collect();
    if names.len() > 20 {
        out.push(format!("… {} more", names.len() - 20));
    }
    out.join(", ")
}

/// For a word in a regression target column: the task that reads it as a class label.
fn label_hint(target: bool, cell: &str) -> &'static str {
    let word = cell.trim().chars().any(char::is_alphabetic) && cell.trim().parse::<f64>().is_err();
    match (target, word) {
        (true, true) => {
            "; a class label? (`task = \"classification\"` reads the target column as classes; the default is regression)"
        }
        (false, true) => {
            "; a text column? (`data.features` names the columns read as features; the default is every column but \
             the targets)"
        }
        _ => "",
    }
}

/// Why a header may not have split into the columns meant: another separator, or UTF-16 text.
fn header_hint(header: &[String]) -> String {
    if header.iter().any(|h| h.contains('\0')) {
        return "; the header holds NUL bytes: UTF-16 text? (save the file as UTF-8)".into();
    }
    match header {
        [one] if one.contains(';') || one.contains('\t') => {
            let separator = if one.contains(';') { "`;`" } else { "tabs" };
            format!("; the header is one column holding {separator}: only commas separate columns")
        }
        _ if header.iter().all(|h| is_number(h)) => {
            "; every name in the header is a number: has the file no header row? (its first row must name the columns)"
                .into()
        }
        _ => String::new(),
    }
}

/// Whether a header name reads as a number (`3`, `-0.5`, `1e3`; not `inf` or `NaN`, which
/// could be names).
pub(crate) fn is_number(name: &str) -> bool {
    name.bytes().any(|b| b.is_ascii_digit()) && name.parse::<f64>().is_ok()
}

fn suggest(name: Option<&str>) -> String {
    name.map(|n| format!("; did you mean `{n}`?")).unwrap_or_default()
}

/// `bytes` in GiB for a message: `2.0 GiB`.
fn gib(bytes: u128) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}
