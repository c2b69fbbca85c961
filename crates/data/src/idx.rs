//! IDX files (`source = "idx"`), the format of MNIST and Fashion-MNIST, raw or gzip-compressed.
//!
//! An IDX file is a big-endian header, then unsigned bytes: the images file starts with the
//! magic number 0x00000803 (unsigned bytes, 3 dimensions) and the dimensions (items, rows,
//! columns); the labels file with 0x00000801 and (items). A file starting with the gzip magic
//! bytes (1f 8b) is decompressed as it is read, whatever its name.
//!
//! Images become rows of rows × columns features scaled to [0, 1] (pixel / 255); labels become
//! one-hot targets over the classes `"0"`, `"1"`, … (ten, or more when the training labels go
//! higher). Headers are checked before anything is allocated: the claimed size against the
//! file's size (raw files) and against [`MAX_IDX_BYTES`] (all files), so a header claiming 10¹²
//! items is refused at once; compressed data is read incrementally and its length checked.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use backprop_tensor::{Element, Matrix, SpecError, Validate};
use serde::{Deserialize, Serialize};

use crate::error::Location;
use crate::samples::{Loaded, Samples, Targets, class_names, numbered};
use crate::{DataError, Task};

/// The most data bytes (pixels or labels) one IDX file may hold: 2³¹.
pub const MAX_IDX_BYTES: u64 = 1 << 31;

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// `source = "idx"`: MNIST-style image and label files, raw or `.gz`.
///
/// Keys:
/// - `images`, `labels` (required): e.g. `train-images-idx3-ubyte.gz`,
///   `train-labels-idx1-ubyte.gz`; relative paths resolve against the config file's folder.
/// - `validation_images` with `validation_labels`, `test_images` with `test_labels`: separate
///   files of the same image size (e.g. `t10k-images-idx3-ubyte.gz` as the test set), instead of
///   the `validation` / `test` fractions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdxSource {
    /// The training images file (magic 0x00000803).
    pub images: PathBuf,
    /// The training labels file (magic 0x00000801).
    pub labels: PathBuf,
    /// Separate validation images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_images: Option<PathBuf>,
    /// Their labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_labels: Option<PathBuf>,
    /// Separate test images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_images: Option<PathBuf>,
    /// Their labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_labels: Option<PathBuf>,
}

impl Validate for IdxSource {
    fn validate(&self) -> Result<(), SpecError> {
        for (key, path) in [("images", &self.images), ("labels", &self.labels)] {
            if path.as_os_str().is_empty() {
                return Err(SpecError::new(key, "must name an IDX file"));
            }
        }
        for (a, b, pa, pb) in [
            ("validation_images", "validation_labels", &self.validation_images, &self.validation_labels),
            ("test_images", "test_labels", &self.test_images, &self.test_labels),
        ] {
            match (pa, pb) {
                (Some(_), None) => return Err(SpecError::new(b, format!("must be given with `{a}`"))),
                (None, Some(_)) => return Err(SpecError::new(a, format!("must be given with `{b}`"))),
                _ => {}
            }
        }
        Ok(())
    }
}

/// An open IDX file whose header has been read.
struct IdxFile {
    path: PathBuf,
    reader: Box<dyn Read>,
    /// The file's size when it is raw (`None` when gzip-compressed).
    raw_size: Option<u64>,
    header_len: u64,
    /// The dimensions the header gives.
    dims: Vec<u32>,
}

/// Reads until `buf` is full or the input ends; the number of bytes read.
fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// A gzip file's members one after the other, as `MultiGzDecoder` reads them, except that
/// bytes after a member that are not another one are told apart ([`NotGzip`]) from a member
/// that is truncated or corrupt (the decoder's own error: its trailer missing, or its checksum
/// wrong), which `MultiGzDecoder` reports alike.
struct GzMembers {
    decoder: Option<flate2::bufread::GzDecoder<BufReader<File>>>,
}

/// What [`GzMembers`] fails with when a member is followed by bytes that are not a member.
#[derive(Debug)]
struct NotGzip;

impl std::fmt::Display for NotGzip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not gzip data")
    }
}

impl std::error::Error for NotGzip {}

impl Read for GzMembers {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let Some(decoder) = self.decoder.as_mut() else { return Ok(0) };
            let n = decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // The member has ended, its trailer checked; what follows it is the file's end,
            // another member, or something else.
            let mut rest = self.decoder.take().expect("a decoder").into_inner();
            let next = rest.fill_buf()?;
            if next.is_empty() {
                return Ok(0);
            }
            // What is buffered may hold only the magic's first byte (the member ended a byte
            // before the buffer's end: `fill_buf` does not refill while it holds some).
            if !GZIP_MAGIC.starts_with(&next[..next.len().min(GZIP_MAGIC.len())]) {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, NotGzip));
            }
            self.decoder = Some(flate2::bufread::GzDecoder::new(rest));
        }
    }
}

impl IdxFile {
    /// Opens `path` (raw or gzip) and reads a header of `ndims` dimensions after `magic`.
    fn open(path: &Path, what: &str, magic: u32, ndims: usize) -> Result<Self, DataError> {
        let io = |e: std::io::Error| DataError::io(path, &e);
        let file = File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let mut buffered = BufReader::with_capacity(1 << 16, file);
        let gzip = buffered.fill_buf().map_err(io)?.starts_with(&GZIP_MAGIC);
        let (mut reader, raw_size): (Box<dyn Read>, _) = if gzip {
            (Box::new(GzMembers { decoder: Some(flate2::bufread::GzDecoder::new(buffered)) }), None)
        } else {
            (Box::new(buffered), Some(size))
        };
        let header_len = 4 + 4 * ndims;
        let mut head = vec![0u8; header_len];
        let got = read_up_to(&mut reader, &mut head).map_err(io)?;
        if got >= 4 {
            let found = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
            if found != magic {
                return Err(DataError::IdxMagic {
                    path: path.to_path_buf(),
                    what: what.into(),
                    expected: magic,
                    found,
                });
            }
        }
        if got < header_len {
            return Err(DataError::IdxTruncated {
                path: path.to_path_buf(),
                expected: header_len as u128,
                actual: got as u64,
            });
        }
        let dims = head[4..].chunks_exact(4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])).collect();
        Ok(IdxFile { path: path.to_path_buf(), reader, raw_size, header_len: header_len as u64, dims })
    }

    /// Checks that `items` items of `item_bytes` bytes can be in the file and are within
    /// [`MAX_IDX_BYTES`], before anything is allocated; the number of data bytes.
    fn check_size(&self, items: u64, item_bytes: u64) -> Result<u64, DataError> {
        let path = self.path.clone();
        if items == 0 {
            return Err(DataError::NoRows { path });
        }
        let total = u128::from(items) * u128::from(item_bytes);
        let expected = total + u128::from(self.header_len);
        if let Some(size) = self.raw_size
            && expected > u128::from(size)
        {
            return Err(DataError::IdxTruncated { path, expected, actual: size });
        }
        if total > u128::from(MAX_IDX_BYTES) {
            return Err(DataError::IdxTooLarge { path, items, item_bytes, total, limit: MAX_IDX_BYTES });
        }
        Ok(total as u64) // At most MAX_IDX_BYTES.
    }

    /// Reads the `total` data bytes [`check_size`](Self::check_size) allowed into one buffer.
    fn read_data(mut self, total: u64) -> Result<Vec<u8>, DataError> {
        let path = self.path.clone();
        let gzip = self.raw_size.is_none();
        let io = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::UnexpectedEof if gzip => {
                DataError::Io { path: path.clone(), message: "the gzip data ends early: the file is cut short".into() }
            }
            _ => DataError::io(&path, &e),
        };
        // A raw file has been seen to hold the data; compressed data is grown into as it arrives,
        // so a header that lies costs no more than the data there is.
        let capacity = if self.raw_size.is_some() { total } else { total.min(1 << 20) };
        let mut data = Vec::with_capacity(capacity as usize);
        (&mut self.reader).take(total).read_to_end(&mut data).map_err(io)?;
        let got = data.len() as u64;
        if got < total {
            let expected = u128::from(self.header_len + total);
            return Err(DataError::IdxTruncated { path, expected, actual: self.header_len + got });
        }
        // A byte more than promised shows trailing data; in a gzip file, bytes after the last
        // member that are not another one are `NotGzip`, and a truncated or corrupt last member
        // the decoder's error, found only now (its trailer comes after the data).
        let after = |message: &str| DataError::IdxFormat {
            path: path.clone(),
            offset: self.header_len + total,
            message: message.into(),
        };
        match self.reader.read(&mut [0u8]) {
            Ok(0) => Ok(data),
            Ok(_) => Err(after("more bytes after the data the header describes")),
            Err(e) if e.get_ref().is_some_and(|e| e.is::<NotGzip>()) => {
                Err(after("more bytes after the data the header describes, not gzip data"))
            }
            Err(e) => Err(io(e)),
        }
    }
}

/// Images (n, rows·cols) scaled to [0, 1], and labels, from one pair of files.
struct Pair<F> {
    inputs: Matrix<F>,
    labels: Vec<u8>,
    /// (rows, cols) of each image.
    size: (u32, u32),
}

fn read_pair<F: Element>(images: &Path, labels: &Path) -> Result<Pair<F>, DataError> {
    let img = IdxFile::open(images, "images", IMAGES_MAGIC, 3)?;
    let lab = IdxFile::open(labels, "labels", LABELS_MAGIC, 1)?;
    let (n, rows, cols) = (img.dims[0], img.dims[1], img.dims[2]);
    if rows == 0 || cols == 0 {
        return Err(DataError::IdxFormat {
            path: images.to_path_buf(),
            offset: 8,
            message: format!("images of {rows}×{cols} pixels have no pixels"),
        });
    }
    let width = u64::from(rows) * u64::from(cols);
    let n_pixels = img.check_size(n.into(), width)?;
    let n_labels = lab.check_size(lab.dims[0].into(), 1)?;
    if lab.dims[0] != n {
        return Err(DataError::IdxCountMismatch {
            images_path: images.to_path_buf(),
            images: n.into(),
            labels_path: labels.to_path_buf(),
            labels: lab.dims[0].into(),
        });
    }
    let pixels = img.read_data(n_pixels)?;
    let labels = lab.read_data(n_labels)?;
    let lut: Vec<F> = (0..=255u8).map(|b| F::of(f64::from(b) / 255.0)).collect();
    // Eight bytes a pixel in f64: a small compressed file can ask for gigabytes here, which a
    // failed allocation would turn into an abort.
    let mut values: Vec<F> = Vec::new();
    if values.try_reserve_exact(pixels.len()).is_err() {
        let bytes = (pixels.len() as u128) * std::mem::size_of::<F>() as u128;
        return Err(DataError::TooLarge { path: images.to_path_buf(), items: n.into(), bytes, dtype: F::DTYPE });
    }
    values.extend(pixels.iter().map(|&b| lut[usize::from(b)]));
    drop(pixels);
    let inputs = Matrix::from_shape_vec((n as usize, width as usize), values).expect("n · rows · cols pixels");
    Ok(Pair { inputs, labels, size: (rows, cols) })
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Reads the source: the training pair, then the separate validation and test pairs.
pub(crate) fn load<F: Element>(spec: &IdxSource, base_dir: &Path) -> Result<Loaded<F>, DataError> {
    let images = base_dir.join(&spec.images);
    let train = read_pair::<F>(&images, &base_dir.join(&spec.labels))?;
    let n_classes = train.labels.iter().max().map_or(10, |&m| (usize::from(m) + 1).max(10));
    let classes = class_names(n_classes);
    let (rows, cols) = train.size;
    let features = numbered("pixel", train.inputs.ncols());
    let main = Samples {
        name: file_name(&images),
        inputs: train.inputs,
        targets: Targets::Labels(train.labels.into_iter().map(usize::from).collect()),
    };
    let other = |images: &Option<PathBuf>, labels: &Option<PathBuf>| -> Result<Option<Samples<F>>, DataError> {
        let (Some(images), Some(labels)) = (images, labels) else { return Ok(None) };
        let (images, labels) = (base_dir.join(images), base_dir.join(labels));
        let pair = read_pair::<F>(&images, &labels)?;
        if pair.size != (rows, cols) {
            return Err(DataError::IdxFormat {
                path: images,
                offset: 8,
                message: format!(
                    "images of {}×{} pixels, but the training images are {rows}×{cols}",
                    pair.size.0, pair.size.1
                ),
            });
        }
        if let Some(i) = pair.labels.iter().position(|&l| usize::from(l) >= n_classes) {
            return Err(DataError::UnseenLabel {
                path: labels,
                at: Location::Item(i as u64 + 1),
                column: "label".into(),
                label: pair.labels[i].to_string(),
                classes: classes.clone().into_boxed_slice(),
            });
        }
        let targets = Targets::Labels(pair.labels.into_iter().map(usize::from).collect());
        Ok(Some(Samples { name: file_name(&images), inputs: pair.inputs, targets }))
    };
    let validation = other(&spec.validation_images, &spec.validation_labels)?;
    let test = other(&spec.test_images, &spec.test_labels)?;
    Ok(Loaded {
        main,
        validation,
        test,
        task: Task::Classification,
        classes: Some(classes),
        feature_names: features,
        target_names: vec!["label".into()],
        warnings: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out `data` two bytes at a time, failing with `Interrupted` (a signal) before each.
    struct Interrupting<'a> {
        data: &'a [u8],
        interrupt: bool,
    }

    impl Read for Interrupting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(2).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn reading_retries_after_a_signal_and_stops_at_the_end() {
        let mut buf = [0u8; 8];
        let got = read_up_to(&mut Interrupting { data: b"abcde", interrupt: false }, &mut buf).unwrap();
        assert_eq!(&buf[..got], b"abcde");
        let mut short = [0u8; 3];
        assert_eq!(read_up_to(&mut Interrupting { data: b"abcde", interrupt: false }, &mut short).unwrap(), 3);
        assert_eq!(&short, b"abc");
    }
}
