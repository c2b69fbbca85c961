//! CSV files (`source = "csv"`): a header row of column names, then one sample per record.
//!
//! Feature cells and regression targets parse as `f64` (surrounding spaces allowed; NaN and
//! infinities refused). A classification target holds labels (strings or integers): the classes
//! are its distinct labels, sorted (numerically when every label is an integer, then named by
//! the integer, so `01`, `1` and `1.0` (as pandas writes a column of integers that had a gap)
//! are one class `1`).
//!
//! Reading is incremental and bounded: a record longer than [`MAX_RECORD_BYTES`] is refused
//! before it is read whole (the file goes through a reader that will not hand the CSV parser more
//! than that past the start of the current record), and so is a file of more than [`MAX_CELLS`]
//! cells. Errors name the file, the line the record starts on, its 1-based data row and the
//! column.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use backprop_tensor::{Element, Matrix, SpecError, Validate};
use serde::{Deserialize, Serialize};

use crate::error::{ColumnKey, Location};
use crate::samples::{Loaded, Samples, Targets};
use crate::{DataError, Task};

/// The longest CSV record read, in bytes (1 MiB).
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// The most cells (fields of all records) read from one CSV file.
pub const MAX_CELLS: u64 = 100_000_000;

/// A CSV column, by header name or by 0-based index (`"species"` or `4` in a config).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    /// The column with this header name (spaces around it ignored; a name that two columns of
    /// the header share is refused as ambiguous).
    Name(String),
    /// The column at this 0-based position.
    Index(usize),
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Name(n) => write!(f, "`{n}`"),
            Column::Index(i) => write!(f, "{i} (0-based)"),
        }
    }
}

impl Serialize for Column {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Column::Name(n) => s.serialize_str(n),
            Column::Index(i) => s.serialize_u64(*i as u64),
        }
    }
}

impl<'de> Deserialize<'de> for Column {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Column;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a column name or a 0-based column index")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Column, E> {
                Ok(Column::Name(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Column, E> {
                usize::try_from(v)
                    .map(Column::Index)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Column, E> {
                usize::try_from(v)
                    .map(Column::Index)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// Columns as a list (`["a", 2]`), or one column alone (`"price"`, `4`), as pandas takes `y`.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Column>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<Column>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a column name, a 0-based column index, or a list of them")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(vec![Column::Name(v.to_string())])
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Column::deserialize(serde::de::value::U64Deserializer::new(v)).map(|c| vec![c])
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Column::deserialize(serde::de::value::I64Deserializer::new(v)).map(|c| vec![c])
        }
        // Each item as a column, so that an error names its index (`targets[1]`).
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(c) = seq.next_element::<Column>()? {
                out.push(c);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

fn some_one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<Column>>, D::Error> {
    one_or_many(d).map(Some)
}

/// `source = "csv"`: samples from a CSV file with a header row.
///
/// Keys:
/// - `path` (required): the file; a relative path resolves against the config file's folder.
/// - `targets` (required): one or more columns (names or 0-based indices; one alone may be given
///   without a list); for classification exactly one, which becomes one-hot over its sorted
///   distinct labels.
/// - `features`: the input columns (default: every column but the targets).
/// - `task`: `"regression"` (default) or `"classification"`.
/// - `validation_path`, `test_path`: separate files with the same columns (matched by name),
///   instead of the `validation` / `test` fractions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvSource {
    /// The file.
    pub path: PathBuf,
    /// The input columns; `None` means every column but the targets.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "some_one_or_many")]
    pub features: Option<Vec<Column>>,
    /// The target columns (one alone may be given without a list: `targets = "price"`).
    #[serde(deserialize_with = "one_or_many")]
    pub targets: Vec<Column>,
    /// Classification (one label column, one-hot) or regression (numeric columns).
    #[serde(default)]
    pub task: Task,
    /// A separate validation file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_path: Option<PathBuf>,
    /// A separate test file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_path: Option<PathBuf>,
}

impl Validate for CsvSource {
    fn validate(&self) -> Result<(), SpecError> {
        if self.path.as_os_str().is_empty() {
            return Err(SpecError::new("path", "must name a CSV file"));
        }
        for (key, path) in [("validation_path", &self.validation_path), ("test_path", &self.test_path)] {
            if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                return Err(SpecError::new(key, "must name a CSV file (leave it out for none)"));
            }
        }
        if self.targets.is_empty() {
            return Err(SpecError::new("targets", "must name at least one column"));
        }
        if self.task == Task::Classification && self.targets.len() != 1 {
            return Err(SpecError::new(
                "targets",
                format!("classification takes exactly one label column, got {}", self.targets.len()),
            ));
        }
        if self.features.as_ref().is_some_and(Vec::is_empty) {
            return Err(SpecError::new(
                "features",
                "must name at least one column (leave it out for every column but the targets)",
            ));
        }
        Ok(())
    }
}

/// How much of the byte stream the CSV parser may see, and where its line breaks are.
#[derive(Debug, Default)]
struct Tracker {
    /// Total bytes handed to the parser.
    read: u64,
    /// The parser gets no byte at or past this offset.
    limit: u64,
    /// Set when the parser asked for a byte past `limit`.
    tripped: bool,
    /// Line breaks counted so far (those before the last offset asked about).
    lines_before: u64,
    /// The `\r` and `\n` bytes not counted yet: offset, and whether it breaks a line (`\n`
    /// after `\r` does not: `\r\n` is one break, as a lone `\r` is, as for the CSV parser).
    pending: VecDeque<(u64, bool)>,
    /// Whether the last byte handed over was `\r`.
    after_cr: bool,
    /// Line breaks among the bytes handed over (`\r\n` one).
    breaks_noted: u64,
    /// Where the bytes handed over leave a record, by the parser's quoting rules.
    quote: Quote,
    /// The line of the quote that opened the field being read, while `quote` is `Open`.
    quote_line: u64,
    /// Set when the file has ended (the source read 0 bytes).
    eof: bool,
}

/// The CSV parser's quoting state after some bytes (its default rules: `"` quotes a field that
/// starts with it, `""` is a quote inside one; elsewhere a quote is a plain character).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Quote {
    /// At the start of a field.
    #[default]
    FieldStart,
    /// In a field that did not start with a quote, or after a quoted part.
    Plain,
    /// Inside a quoted field.
    Open,
    /// Inside a quoted field, just after a quote: it closed the field, or starts `""`.
    ClosingOrDoubled,
}

impl Tracker {
    /// Line breaks in the stream before byte `offset` (offsets must not decrease between calls).
    fn breaks_before(&mut self, offset: u64) -> u64 {
        while let Some(&(_, breaks)) = self.pending.front().filter(|(o, _)| *o < offset) {
            self.pending.pop_front();
            self.lines_before += u64::from(breaks);
        }
        self.lines_before
    }

    /// The 1-based line of the first byte at or after `offset` that is not a line break: where
    /// a record read from `offset` starts, past the blank lines the parser skips.
    fn line_from(&mut self, offset: u64) -> u64 {
        let before = self.breaks_before(offset);
        let skipped = self.pending.iter().zip(offset..).take_while(|((o, _), at)| o == at);
        before + 1 + skipped.map(|((_, breaks), _)| u64::from(*breaks)).sum::<u64>()
    }

    /// Notes the line breaks of `bytes`, which start at offset `start`, and follows the quoting.
    fn note(&mut self, start: u64, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            let ends_field = matches!(b, b',' | b'\r' | b'\n');
            self.quote = match (self.quote, b) {
                (Quote::FieldStart, b'"') => {
                    self.quote_line = self.breaks_noted + 1;
                    Quote::Open
                }
                (Quote::Open, b'"') => Quote::ClosingOrDoubled,
                (Quote::Open, _) => Quote::Open,
                (Quote::ClosingOrDoubled, b'"') => Quote::Open,
                (_, _) if ends_field => Quote::FieldStart,
                _ => Quote::Plain,
            };
            if b == b'\r' || b == b'\n' {
                let breaks = b == b'\r' || !self.after_cr;
                self.pending.push_back((start + i as u64, breaks));
                self.breaks_noted += u64::from(breaks);
            }
            self.after_cr = b == b'\r';
        }
    }

    /// The line of a quoted field left open at the end of the file.
    fn unclosed_quote(&self) -> Option<u64> {
        (self.eof && self.quote == Quote::Open).then_some(self.quote_line)
    }
}

/// A reader that stops at the tracker's limit and notes newline offsets.
struct Limited<R> {
    inner: R,
    tracker: Rc<RefCell<Tracker>>,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut t = self.tracker.borrow_mut();
        let room = t.limit.saturating_sub(t.read);
        if room == 0 {
            // At the limit: fine if the file ends here, too long if it does not.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                t.eof = true;
                return Ok(0);
            }
            t.tripped = true;
            return Err(io::Error::other("record too long"));
        }
        let max = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        t.eof |= n == 0 && max > 0;
        let start = t.read;
        t.note(start, &buf[..n]);
        t.read += n as u64;
        Ok(n)
    }
}

/// A CSV file being read one record at a time.
struct CsvReader {
    path: PathBuf,
    rdr: csv::Reader<Limited<Box<dyn Read>>>,
    tracker: Rc<RefCell<Tracker>>,
    header: Vec<String>,
    record: csv::ByteRecord,
    /// Data rows read so far (the current record's 1-based row).
    row: u64,
    /// The line the current record starts on.
    line: u64,
    cells: u64,
    /// [`MAX_CELLS`], lower in tests.
    max_cells: u64,
}

impl CsvReader {
    /// Opens `path` and reads its header.
    fn open(path: &Path) -> Result<Self, DataError> {
        let mut file = File::open(path).map_err(|e| DataError::io(path, &e))?;
        let mut start = Vec::with_capacity(3);
        (&mut file).take(3).read_to_end(&mut start).map_err(|e| DataError::io(path, &e))?;
        // A gzip file's first two bytes; read as text it would be one "header" of binary.
        if start.starts_with(&[0x1f, 0x8b]) {
            return Err(DataError::CompressedCsv { path: path.to_path_buf() });
        }
        // A UTF-8 byte-order mark (Excel's "CSV UTF-8") is not part of the first column's name:
        // dropped before the parser sees it, so that a quoted first name parses as quoted.
        if start == b"\xef\xbb\xbf" {
            start.clear();
        }
        Self::from_reader(path, Box::new(io::Cursor::new(start).chain(file)))
    }

    fn from_reader(path: &Path, inner: Box<dyn Read>) -> Result<Self, DataError> {
        let tracker = Rc::new(RefCell::new(Tracker::default()));
        let limited = Limited { inner, tracker: Rc::clone(&tracker) };
        let rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(limited);
        let mut reader = CsvReader {
            path: path.to_path_buf(),
            rdr,
            tracker,
            header: Vec::new(),
            record: csv::ByteRecord::new(),
            row: 0,
            line: 0,
            cells: 0,
            max_cells: MAX_CELLS,
        };
        if !reader.read_record()? {
            return Err(DataError::EmptyFile { path: path.to_path_buf() });
        }
        let mut header = Vec::with_capacity(reader.record.len());
        for (j, name) in reader.record.iter().enumerate() {
            let Ok(name) = std::str::from_utf8(name) else {
                return Err(DataError::HeaderNotUtf8 { path: path.to_path_buf(), column: j + 1 });
            };
            header.push(name.trim().to_string());
        }
        reader.header = header;
        Ok(reader)
    }

    /// Reads the next record; `false` at the end of the file.
    fn read_record(&mut self) -> Result<bool, DataError> {
        let start = self.rdr.position().byte();
        {
            let mut t = self.tracker.borrow_mut();
            t.limit = start + MAX_RECORD_BYTES as u64 + 2;
        }
        let read = self.rdr.read_byte_record(&mut self.record);
        if let (Ok(_), Some(line)) = (&read, self.tracker.borrow().unclosed_quote()) {
            // The record that holds the open quote ends with the file: refused before it is
            // used (a label of many lines, or rows silently missing).
            return Err(DataError::UnclosedQuote { path: self.path.clone(), line });
        }
        match read {
            Ok(true) => {
                self.line = self.tracker.borrow_mut().line_from(start);
                self.cells += self.record.len() as u64;
                if self.cells > self.max_cells {
                    let (path, line, limit) = (self.path.clone(), self.line, self.max_cells);
                    return Err(DataError::TooManyCells { path, line, limit });
                }
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) => {
                let mut t = self.tracker.borrow_mut();
                if t.tripped {
                    let line = t.line_from(start);
                    // Inside a quoted field at the limit: most likely a quote left open.
                    let open_quote = (t.quote == Quote::Open).then_some(t.quote_line);
                    let (path, limit) = (self.path.clone(), MAX_RECORD_BYTES);
                    return Err(DataError::RecordTooLong { path, line, limit, open_quote });
                }
                let message = match e.into_kind() {
                    csv::ErrorKind::Io(e) => e.to_string(),
                    other => format!("{other:?}"),
                };
                Err(DataError::Io { path: self.path.clone(), message })
            }
        }
    }

    /// Reads the next data row, which must have as many fields as the header.
    fn next_row(&mut self) -> Result<bool, DataError> {
        if !self.read_record()? {
            return Ok(false);
        }
        self.row += 1;
        if self.record.len() != self.header.len() {
            return Err(DataError::Ragged {
                path: self.path.clone(),
                line: self.line,
                row: self.row,
                expected: self.header.len(),
                found: self.record.len(),
            });
        }
        Ok(true)
    }

    fn at(&self) -> Location {
        Location::Record { line: self.line, row: self.row }
    }

    /// Cell `j` of the current row as a finite number of type `F`.
    fn number<F: Element>(&self, j: usize) -> Result<F, DataError> {
        let x = self.number_f64(j)?;
        let v = F::of(x);
        if v.is_finite() {
            return Ok(v);
        }
        Err(DataError::OutOfRange {
            path: self.path.clone(),
            line: self.line,
            row: self.row,
            column: self.header[j].clone(),
            cell: String::from_utf8_lossy(&self.record[j]).trim().to_string(),
            dtype: F::DTYPE,
        })
    }

    /// Cell `j` of the current row as a finite number.
    fn number_f64(&self, j: usize) -> Result<f64, DataError> {
        let cell = &self.record[j];
        std::str::from_utf8(cell).ok().and_then(|s| s.trim().parse::<f64>().ok()).filter(|x| x.is_finite()).ok_or_else(
            || DataError::NotNumeric {
                path: self.path.clone(),
                line: self.line,
                row: self.row,
                column: self.header[j].clone(),
                cell: String::from_utf8_lossy(cell).into_owned(),
                target: false,
            },
        )
    }

    /// Cell `j` of the current row as a label (trimmed, never empty).
    fn label(&self, j: usize) -> Result<String, DataError> {
        // Not decoded lossily: two labels that differ only in bytes that are not UTF-8 (Latin-1
        // "café" and "cafè") would become one class.
        let Ok(label) = std::str::from_utf8(&self.record[j]) else {
            return Err(DataError::LabelNotUtf8 {
                path: self.path.clone(),
                line: self.line,
                row: self.row,
                column: self.header[j].clone(),
            });
        };
        let label = label.trim().to_string();
        if label.is_empty() {
            return Err(DataError::EmptyLabel {
                path: self.path.clone(),
                line: self.line,
                row: self.row,
                column: self.header[j].clone(),
            });
        }
        Ok(label)
    }

    /// The position of `column` in the header.
    fn resolve(&self, column: &Column) -> Result<usize, DataError> {
        let found = match column {
            Column::Name(n) => {
                let at: Vec<usize> = (0..self.header.len()).filter(|&j| self.header[j] == n.trim()).collect();
                if at.len() > 1 {
                    let column = n.trim().to_string();
                    return Err(DataError::AmbiguousColumn { path: self.path.clone(), column, at });
                }
                at.first().copied()
            }
            Column::Index(i) => (*i < self.header.len()).then_some(*i),
        };
        found.ok_or_else(|| {
            let suggestion = match column {
                Column::Name(n) => closest(n, &self.header),
                Column::Index(_) => None,
            };
            DataError::MissingColumn {
                path: self.path.clone(),
                column: column.to_string(),
                header: self.header.clone(),
                suggestion,
                key: None,
            }
        })
    }

    /// The positions of `columns`, each at most once (`role` names them in the error).
    fn resolve_all(&self, columns: &[Column], role: &'static str) -> Result<Vec<usize>, DataError> {
        let found: Vec<usize> = columns
            .iter()
            .map(|c| {
                self.resolve(c).map_err(|e| match e {
                    DataError::MissingColumn { path, column, header, suggestion, .. } => {
                        let key = if role == "targets" { ColumnKey::Targets } else { ColumnKey::Features };
                        DataError::MissingColumn { path, column, header, suggestion, key: Some(key) }
                    }
                    e => e,
                })
            })
            .collect::<Result<_, _>>()?;
        if let Some((_, &j)) = found.iter().enumerate().find(|(i, j)| found[..*i].contains(j)) {
            return Err(DataError::ColumnTwice { path: self.path.clone(), column: self.header[j].clone(), role });
        }
        Ok(found)
    }
}

/// The header name closest to `name`, when one is close (or equal ignoring case).
fn closest(name: &str, header: &[String]) -> Option<String> {
    let lower = name.to_lowercase();
    header
        .iter()
        .map(|h| {
            let score = if h.to_lowercase() == lower { 1.0 } else { strsim::jaro_winkler(name, h) };
            (score, h)
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, h)| h.clone())
}

/// What to do with a classification label.
enum Labels<'a> {
    /// Regression: the targets are numbers.
    None,
    /// Collect the distinct labels (the training file).
    Collect(HashMap<String, usize>),
    /// Map onto known classes; an unknown label is an error.
    Known(&'a ClassIndex),
}

/// Rows read from one file.
struct Rows<F> {
    n: usize,
    inputs: Vec<F>,
    values: Vec<F>,
    /// Per row: a class index (`Known`) or a raw label id (`Collect`).
    labels: Vec<usize>,
}

/// Reads every data row of `reader`: the `features` columns as numbers, and the `targets`
/// columns as numbers or as one label.
fn read_rows<F: Element>(
    reader: &mut CsvReader,
    features: &[usize],
    targets: &[usize],
    labels: &mut Labels<'_>,
) -> Result<Rows<F>, DataError> {
    let mut rows = Rows { n: 0, inputs: Vec::new(), values: Vec::new(), labels: Vec::new() };
    while reader.next_row()? {
        for &j in features {
            rows.inputs.push(reader.number(j)?);
        }
        match labels {
            Labels::None => {
                for &j in targets {
                    let value = reader.number(j).map_err(|e| match e {
                        DataError::NotNumeric { path, line, row, column, cell, .. } => {
                            DataError::NotNumeric { path, line, row, column, cell, target: true }
                        }
                        other => other,
                    })?;
                    rows.values.push(value);
                }
            }
            Labels::Collect(ids) => {
                let label = reader.label(targets[0])?;
                let next = ids.len();
                rows.labels.push(*ids.entry(label).or_insert(next));
            }
            Labels::Known(classes) => {
                let label = reader.label(targets[0])?;
                let Some(c) = classes.get(&label) else {
                    return Err(DataError::UnseenLabel {
                        path: reader.path.clone(),
                        at: reader.at(),
                        column: reader.header[targets[0]].clone(),
                        label,
                        classes: classes.names.clone().into_boxed_slice(),
                    });
                };
                rows.labels.push(c);
            }
        }
        rows.n += 1;
    }
    if rows.n == 0 {
        return Err(DataError::NoRows { path: reader.path.clone() });
    }
    Ok(rows)
}

/// Class lookup by label: exact names, and integers by value when every class is an integer.
pub(crate) struct ClassIndex {
    names: Vec<String>,
    exact: HashMap<String, usize>,
    numeric: Option<HashMap<i64, usize>>,
}

impl ClassIndex {
    pub(crate) fn new(classes: &[String]) -> Self {
        let exact = classes.iter().enumerate().map(|(i, c)| (c.clone(), i)).collect();
        let numeric = classes.iter().enumerate().map(|(i, c)| integer_label(c.trim()).map(|v| (v, i))).collect();
        ClassIndex { names: classes.to_vec(), exact, numeric }
    }

    pub(crate) fn get(&self, label: &str) -> Option<usize> {
        let label = label.trim();
        self.exact.get(label).copied().or_else(|| {
            let v = integer_label(label)?;
            self.numeric.as_ref()?.get(&v).copied()
        })
    }
}

/// The index of `label` among `classes` (as [`Splits::classes`](crate::Splits::classes) lists
/// them): an exact match after trimming spaces, or, when every class is an integer, the class of
/// the same value (`"01"` finds class `"1"`).
///
/// ```
/// let classes = ["setosa".to_string(), "versicolor".to_string()];
/// assert_eq!(backprop_data::class_index(&classes, " versicolor"), Some(1));
/// assert_eq!(backprop_data::class_index(&["3".into(), "10".into()], "010"), Some(1));
/// assert_eq!(backprop_data::class_index(&classes, "virginica"), None);
/// ```
pub fn class_index(classes: &[String], label: &str) -> Option<usize> {
    ClassIndex::new(classes).get(label)
}

/// The integer a label names: written as one (`3`, `-1`, `+1`, `007`), or with a fraction of
/// zeros only (`3.0`, `3.`, as pandas writes a column of integers that had a gap). Read from
/// the text, not through f64, which would round `1.0000000000000001` to 1.
fn integer_label(label: &str) -> Option<i64> {
    let whole = match label.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => whole,
        Some(_) => return None,
        None => label,
    };
    // `i64`'s parser takes a sign and digits only (no spaces, no `_`).
    whole.parse::<i64>().ok()
}

/// Sorted class names for raw label ids, and each raw id's class index.
fn classes_of(ids: HashMap<String, usize>) -> (Vec<String>, Vec<usize>) {
    let raw: Vec<(String, usize)> = ids.into_iter().collect();
    let ints: Option<Vec<i64>> = raw.iter().map(|(l, _)| integer_label(l)).collect();
    let mut remap = vec![0; raw.len()];
    match ints {
        Some(values) => {
            let mut distinct = values.clone();
            distinct.sort_unstable();
            distinct.dedup();
            for ((_, id), v) in raw.iter().zip(&values) {
                remap[*id] = distinct.binary_search(v).unwrap_or(0);
            }
            (distinct.iter().map(i64::to_string).collect(), remap)
        }
        None => {
            let mut names: Vec<String> = raw.iter().map(|(l, _)| l.clone()).collect();
            names.sort_unstable();
            for (label, id) in &raw {
                remap[*id] = names.binary_search(label).unwrap_or(0);
            }
            (names, remap)
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Builds samples from rows; `labels` replaces the rows' own labels when given.
fn samples<F: Element>(name: String, rows: Rows<F>, n_features: usize, n_targets: usize, task: Task) -> Samples<F> {
    let inputs = Matrix::from_shape_vec((rows.n, n_features), rows.inputs).expect("every row has every feature");
    let targets = match task {
        Task::Classification => Targets::Labels(rows.labels),
        Task::Regression => Targets::Values(
            Matrix::from_shape_vec((rows.n, n_targets), rows.values).expect("every row has every target"),
        ),
    };
    Samples { name, inputs, targets }
}

/// A cell of `header` that shows it is a row of data: a number with a fraction or an exponent,
/// where every cell is a number, or all but one (a label: `0.386,0.435,setosa`, iris without its
/// header). Whole numbers may be names: pandas writes a frame's default columns as `0,1,2`.
/// (Numbered columns beside a label, `400.5,401.0,class`, are names too when the config names
/// one of them: [`load`] asks only when it names none.)
fn data_in_header(header: &[String]) -> Option<&str> {
    let numbers = header.iter().filter(|h| crate::error::is_number(h)).count();
    if numbers < header.len().saturating_sub(1).max(1) {
        return None;
    }
    header.iter().find(|h| crate::error::is_number(h) && h.contains(['.', 'e', 'E'])).map(String::as_str)
}

/// Reads the source: the main file, then the separate validation and test files by column name.
/// With `known` classes (a trained model's), a classification file's labels are mapped onto
/// them, an unknown label an error, instead of being collected.
pub(crate) fn load<F: Element>(
    spec: &CsvSource,
    base_dir: &Path,
    known: Option<&[String]>,
) -> Result<Loaded<F>, DataError> {
    let path = base_dir.join(&spec.path);
    let mut reader = CsvReader::open(&path)?;
    // A header that names no column the config names, and reads as data: the file has none.
    let named = spec
        .targets
        .iter()
        .chain(spec.features.iter().flatten())
        .any(|c| matches!(c, Column::Name(n) if reader.header.iter().any(|h| h == n.trim())));
    if !named && let Some(example) = data_in_header(&reader.header) {
        return Err(DataError::HeaderIsData { path, example: example.to_string() });
    }
    let targets = reader.resolve_all(&spec.targets, "targets")?;
    let features = match &spec.features {
        Some(columns) => reader.resolve_all(columns, "features")?,
        None => (0..reader.header.len()).filter(|j| !targets.contains(j)).collect(),
    };
    if let Some(&j) = features.iter().find(|j| targets.contains(j)) {
        return Err(DataError::ColumnConflict { path, column: reader.header[j].clone() });
    }
    if features.is_empty() {
        return Err(DataError::MissingColumn {
            path,
            column: "for the features (every column is a target)".into(),
            header: reader.header.clone(),
            suggestion: None,
            key: Some(ColumnKey::Targets),
        });
    }
    let mut named: HashMap<&str, Vec<usize>> = HashMap::new();
    for &j in features.iter().chain(&targets) {
        let name = reader.header[j].as_str();
        if name.is_empty() {
            return Err(DataError::UnnamedColumn { path, column: String::new(), at: vec![j] });
        }
        named.entry(name).or_default().push(j);
    }
    if let Some((name, mut at)) = named.into_iter().filter(|(_, at)| at.len() > 1).min_by_key(|(_, at)| at[0]) {
        at.sort_unstable();
        return Err(DataError::UnnamedColumn { path, column: name.to_string(), at });
    }
    let feature_names: Vec<String> = features.iter().map(|&j| reader.header[j].clone()).collect();
    let target_names: Vec<String> = targets.iter().map(|&j| reader.header[j].clone()).collect();
    let (n_features, n_targets) = (features.len(), targets.len());

    let known = known.map(ClassIndex::new);
    let mut labels = match (spec.task, &known) {
        (Task::Classification, Some(index)) => Labels::Known(index),
        (Task::Classification, None) => Labels::Collect(HashMap::new()),
        (Task::Regression, _) => Labels::None,
    };
    let mut rows = read_rows::<F>(&mut reader, &features, &targets, &mut labels)?;
    let classes = match labels {
        Labels::Collect(ids) => {
            let (names, remap) = classes_of(ids);
            rows.labels.iter_mut().for_each(|l| *l = remap[*l]);
            Some(names)
        }
        Labels::Known(index) => Some(index.names.clone()),
        Labels::None => None,
    };
    let main = samples(file_name(&path), rows, n_features, n_targets, spec.task);
    // Classes found in the file (not a model's): one label written two ways makes a class.
    let warnings = match (&known, &classes, main.labels()) {
        (None, Some(names), Some(labels)) => class_warnings(&main.name, names, labels),
        _ => Vec::new(),
    };

    let index = classes.as_deref().map(ClassIndex::new);
    let other = |file: &Option<PathBuf>| -> Result<Option<Samples<F>>, DataError> {
        let Some(file) = file else { return Ok(None) };
        let path = base_dir.join(file);
        let mut reader = CsvReader::open(&path)?;
        let by_name = |names: &[String]| -> Result<Vec<usize>, DataError> {
            names.iter().map(|n| reader.resolve(&Column::Name(n.clone()))).collect()
        };
        let (features, targets) = (by_name(&feature_names)?, by_name(&target_names)?);
        let mut labels = match &index {
            Some(index) => Labels::Known(index),
            None => Labels::None,
        };
        let rows = read_rows::<F>(&mut reader, &features, &targets, &mut labels)?;
        Ok(Some(samples(file_name(&path), rows, n_features, n_targets, spec.task)))
    };
    let validation = other(&spec.validation_path)?;
    let test = other(&spec.test_path)?;
    Ok(Loaded { main, validation, test, task: spec.task, classes, feature_names, target_names, warnings })
}

/// The most classes of one sample a warning names.
const NAMED: usize = 5;

/// [`Splits::warnings`](crate::Splits::warnings) for the classes `names` a file's labels made,
/// its samples' `labels`: labels that differ only in case (`Setosa` beside `setosa`), and
/// classes of one sample where others have more (nothing to learn them from; scikit-learn's
/// stratified split refuses them). Linear in the classes, and a few lines however many.
fn class_warnings(source: &str, names: &[String], labels: &[usize]) -> Vec<String> {
    let mut counts = vec![0usize; names.len()];
    for &l in labels {
        counts[l] += 1;
    }
    let samples = |n: usize| if n == 1 { "1 sample".to_string() } else { format!("{n} samples") };
    let mut warnings = Vec::new();
    let mut by_case: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        by_case.entry(name.to_lowercase()).or_default().push(i);
    }
    let mut twins: Vec<&Vec<usize>> = by_case.values().filter(|v| v.len() > 1).collect();
    twins.sort();
    for group in twins.iter().take(NAMED) {
        let listed: Vec<String> = group.iter().map(|&i| format!("`{}` ({})", names[i], samples(counts[i]))).collect();
        warnings.push(format!(
            "{source}: the classes {} differ only in case: one label written two ways?",
            listed.join(" and ")
        ));
    }
    if twins.len() > NAMED {
        warnings.push(format!("{source}: and {} more sets of classes that differ only in case", twins.len() - NAMED));
    }
    // Where other classes have more: a set of one sample per class is a truth table's.
    if counts.iter().any(|&c| c > 1) {
        let single: Vec<&String> = names.iter().zip(&counts).filter(|(_, c)| **c == 1).map(|(n, _)| n).collect();
        let listed: Vec<String> = single.iter().take(NAMED).map(|n| format!("`{n}`")).collect();
        let more = if single.len() > NAMED { format!(" and {} more", single.len() - NAMED) } else { String::new() };
        match single.len() {
            0 => {}
            1 => warnings.push(format!(
                "{source}: the class {} has 1 sample of {}: too few to learn it from (a typo of another label?)",
                listed[0],
                labels.len()
            )),
            n => warnings.push(format!(
                "{source}: {n} classes have 1 sample each of {}: {}{more}: too few to learn them from (typos of other labels?)",
                labels.len(),
                listed.join(", ")
            )),
        }
    }
    warnings
}

/// Reads the columns named `columns`, in that order, of the CSV file at `path` as a matrix
/// (samples, columns); other columns are ignored. For `backprop predict --csv FILE` with the
/// feature names a model was trained on.
///
/// ```no_run
/// let x = backprop_data::read_csv_features::<f64>(
///     std::path::Path::new("new_flowers.csv"),
///     &["sepal_length".to_string(), "sepal_width".to_string()],
/// )?;
/// # Ok::<(), backprop_data::DataError>(())
/// ```
pub fn read_csv_features<F: Element>(path: &Path, columns: &[String]) -> Result<Matrix<F>, DataError> {
    let mut reader = CsvReader::open(path)?;
    let features: Vec<usize> =
        columns.iter().map(|n| reader.resolve(&Column::Name(n.clone()))).collect::<Result<_, _>>()?;
    let rows = read_rows::<F>(&mut reader, &features, &[], &mut Labels::None)?;
    Ok(Matrix::from_shape_vec((rows.n, features.len()), rows.inputs).expect("every row has every feature"))
}

/// The cells of the columns named `columns` of the CSV file at `path`, row by row, as text
/// (trimmed; UTF-8 where the bytes are not, lossily): what `backprop predict --keep` copies
/// beside its predictions, an id or a label. The rows are those [`read_csv_features`] reads.
pub fn read_csv_text(path: &Path, columns: &[String]) -> Result<Vec<Vec<String>>, DataError> {
    let mut reader = CsvReader::open(path)?;
    let at: Vec<usize> = columns.iter().map(|n| reader.resolve(&Column::Name(n.clone()))).collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    while reader.next_row()? {
        rows.push(at.iter().map(|&j| String::from_utf8_lossy(&reader.record[j]).trim().to_string()).collect());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(text: &str) -> Result<CsvReader, DataError> {
        CsvReader::from_reader(Path::new("t.csv"), Box::new(io::Cursor::new(text.as_bytes().to_vec())))
    }

    fn read(text: &str) -> Result<(Vec<String>, Vec<u64>), DataError> {
        let mut r = reader(text)?;
        let mut lines = Vec::new();
        while r.next_row()? {
            lines.push(r.line);
        }
        Ok((r.header, lines))
    }

    /// Five sets of twins or five classes of one sample are named each; past five, the rest
    /// are counted.
    #[test]
    fn class_warnings_name_five_and_count_the_rest() {
        let names = |n: usize| -> Vec<String> { (0..n).flat_map(|i| [format!("C{i}"), format!("c{i}")]).collect() };
        // Twins, each of two samples: five sets are five lines; six, five and one that counts.
        for (sets, lines, more) in
            [(5, 5, None), (6, 6, Some("t.csv: and 1 more sets of classes that differ only in case"))]
        {
            let names = names(sets);
            let labels: Vec<usize> = (0..names.len()).flat_map(|k| [k, k]).collect();
            let w = class_warnings("t.csv", &names, &labels);
            assert_eq!(w.len(), lines, "{w:?}");
            assert_eq!(w.last().map(String::as_str).filter(|l| l.contains("more")), more, "{w:?}");
        }
        // Classes of one sample beside one of two: five are all named, six name five and one more.
        for (singles, tail) in [(5, "`s4`: too few"), (6, "`s4` and 1 more: too few")] {
            let names: Vec<String> =
                std::iter::once("big".to_string()).chain((0..singles).map(|i| format!("s{i}"))).collect();
            let labels: Vec<usize> = [0, 0].into_iter().chain(1..=singles).collect();
            let w = class_warnings("t.csv", &names, &labels);
            assert_eq!(w.len(), 1, "{w:?}");
            assert!(
                w[0].contains(tail) && w[0].starts_with(&format!("t.csv: {singles} classes have 1 sample each")),
                "{w:?}"
            );
        }
    }

    /// One column alone reads from any format's integer (JSON's are unsigned), and a list.
    #[test]
    fn one_column_reads_from_an_unsigned_integer_too() {
        use serde::de::IntoDeserializer;
        let from_u64: Result<Vec<Column>, serde::de::value::Error> = one_or_many(3u64.into_deserializer());
        assert_eq!(from_u64.unwrap(), [Column::Index(3)]);
        let from_i64: Result<Vec<Column>, serde::de::value::Error> = one_or_many((-1i64).into_deserializer());
        assert!(from_i64.is_err());
    }

    #[test]
    fn lines_count_from_the_header_past_blank_lines_crlf_and_quoted_newlines() {
        assert_eq!(read("a,b\n1,2\n\n3,4\n").unwrap().1, vec![2, 4]);
        assert_eq!(read("a,b\r\n1,2\r\n\r\n3,4").unwrap().1, vec![2, 4]);
        assert_eq!(read("\n\na,b\n\"1\n2\",3\n4,5\n").unwrap(), (vec!["a".into(), "b".into()], vec![4, 6]));
        assert_eq!(read("\u{feff} a , b\n1,2").unwrap().0, vec!["a", "b"]);
        // A lone CR ends a line too, as it ends a record.
        assert_eq!(read("a,b\r1,2\r\r3,4\r").unwrap().1, vec![2, 4]);
        assert_eq!(read("a,b\r\n\r\n1,2\r\r\n3,4").unwrap().1, vec![3, 5]);
    }

    /// A quote left open runs to the end of the file: refused, naming its line, where the
    /// parser would make the rest of the file one value (a label of many lines, rows missing).
    #[test]
    fn a_quote_left_open_is_refused_at_its_line() {
        let open = read("a,b\n1,2\n\"3,4\n5,6\n").unwrap_err();
        assert!(matches!(open, DataError::UnclosedQuote { line: 3, .. }), "{open:?}");
        let last_column = read("a,label\r\n1,\"x\"\r\n2,\"churn\r\n3,y\r\n4,z\r\n").unwrap_err();
        assert_eq!(
            last_column.to_string(),
            "t.csv: line 3: a quoted field opened here is never closed (a `\"` missing; the rest of the file would be one value)"
        );
        // `"say ""hi""`: both pairs are quotes inside the field, which stays open.
        let escaped = read("a,b\n1,\"say \"\"hi\"\"\n2,\"\"\"\"\n").unwrap_err();
        assert!(matches!(escaped, DataError::UnclosedQuote { line: 2, .. }), "{escaped:?}");
        assert!(matches!(read("a\n\"").unwrap_err(), DataError::UnclosedQuote { line: 2, .. }));
        // Closed quotes, doubled quotes, line breaks inside quotes, and quotes inside a field
        // that does not start with one (plain characters to the parser) all read.
        assert_eq!(read("a,b\n1,\"x,\"\"y\"\"\nz\"\n2,\"\"\n").unwrap().1, vec![2, 4]);
        assert_eq!(read("a,b\n1,5\"\n2, \"q").unwrap().1, vec![2, 3]);
        assert_eq!(read("a,b\n1,5\"\n").unwrap().1, vec![2], "a quote inside a plain field opens nothing");
        assert_eq!(read("a,b\n1,x\"y\n").unwrap().1, vec![2]);
        assert_eq!(read("a,b\n1,\"q\"x\n").unwrap().1, vec![2]);
    }

    #[test]
    fn long_records_are_refused_before_they_are_read_whole() {
        let long = format!("a,b\n1,2\n{},3\n", "9".repeat(MAX_RECORD_BYTES + 10));
        let err = read(&long).unwrap_err();
        assert_eq!(err.to_string(), "t.csv: line 3: a record longer than 1048576 bytes (is this a CSV file?)");
        // A quote left open with more than a record's worth after it: said, with its line.
        let open = format!("a,b\n1,2\n3,\"4\n{}", "5,6\n".repeat(MAX_RECORD_BYTES / 4 + 10));
        let err = read(&open).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv: line 3: a record longer than 1048576 bytes (a quoted field opened on line 3 is still open there: a `\"` missing?)"
        );
        // A record just under the limit, at the very end of the file, is fine.
        let fits = format!("a\n{}", "9".repeat(MAX_RECORD_BYTES - 1));
        assert_eq!(read(&fits).unwrap().1, vec![2]);
    }

    #[test]
    fn too_many_cells_are_refused_at_the_record_that_passes_the_limit() {
        let mut r = reader("a,b\n1,2\n3,4\n5,6\n").unwrap();
        r.max_cells = 6; // the header's 2 cells count too
        assert!(r.next_row().unwrap() && r.next_row().unwrap());
        let err = r.next_row().unwrap_err();
        assert_eq!(err.to_string(), "t.csv: line 4: more than 6 cells in all, too many to load");
    }

    #[test]
    fn classes_sort_numerically_when_all_labels_are_integers() {
        let ids: HashMap<String, usize> =
            [("10", 0), ("9", 1), ("09", 2), ("-1", 3)].map(|(l, i)| (l.to_string(), i)).into();
        let (names, remap) = classes_of(ids);
        assert_eq!(names, vec!["-1", "9", "10"]);
        assert_eq!(remap, vec![2, 1, 1, 0]);
        let ids: HashMap<String, usize> = [("b", 0), ("a", 1), ("10", 2)].map(|(l, i)| (l.to_string(), i)).into();
        assert_eq!(classes_of(ids), (vec!["10".into(), "a".into(), "b".into()], vec![2, 1, 0]));
        // Integers written with a fraction of zeros (pandas' `1.0`) are those integers.
        let ids: HashMap<String, usize> =
            [("1", 0), ("1.0", 1), ("2.", 2), ("-0.0", 3), ("+30.00", 4)].map(|(l, i)| (l.to_string(), i)).into();
        assert_eq!(classes_of(ids), (vec!["0".into(), "1".into(), "2".into(), "30".into()], vec![1, 1, 2, 0, 3]));
        let index = ClassIndex::new(&["1".into(), "2".into()]);
        assert_eq!((index.get("1.0"), index.get("2.000"), index.get("1.5")), (Some(0), Some(1), None));
        // Anything else makes the labels names, sorted as text: a fraction (also one that f64
        // would round to an integer), an exponent, an infinity, NaN, an integer past i64.
        let other_labels =
            ["1.5", "1.0000000000000001", "3e1", "inf", "NaN", "1e300", "9223372036854775808", "1.0.0", "."];
        for other in other_labels {
            let ids: HashMap<String, usize> = [("1", 0), (other, 1)].map(|(l, i)| (l.to_string(), i)).into();
            assert_eq!(classes_of(ids).0.len(), 2, "{other}");
        }
    }

    #[test]
    fn suggestions_need_a_close_name() {
        let header = vec!["species".to_string(), "petal_width".to_string()];
        assert_eq!(closest("spceies", &header).as_deref(), Some("species"));
        assert_eq!(closest("Species", &header).as_deref(), Some("species"));
        assert_eq!(closest("colour", &header), None);
    }
}
