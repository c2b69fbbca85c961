//! IDX sources: files written here, raw and gzipped, load into scaled pixels and one-hot
//! labels; malformed files are refused with messages naming the file and the byte or item.

mod common;

use backprop_data::Task;
use common::{assert_mentions, error, gzip, idx_images, idx_labels, load, scratch, write};

/// Five 2×3 images with pixel values 0, 51, …, and labels 3, 0, 9, 3, 1.
fn five() -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..30u32).map(|i| ((i * 51) % 256) as u8).collect();
    (idx_images(5, 2, 3, &pixels), idx_labels(&[3, 0, 9, 3, 1]))
}

const SPEC: &str = "source = \"idx\"\nimages = \"img\"\nlabels = \"lab\"";

#[test]
fn raw_and_gzipped_files_load_the_same() {
    let dir = scratch("idx-load");
    let (images, labels) = five();
    write(&dir, "img", &images);
    write(&dir, "lab", &labels);
    let raw = load(&dir, SPEC, 0).unwrap();
    assert_eq!(raw.task, Task::Classification);
    assert_eq!(raw.classes.as_deref().unwrap(), ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    assert_eq!(raw.train.inputs.dim(), (5, 6));
    assert_eq!(raw.train.targets.dim(), (5, 10));
    assert_eq!(raw.train.inputs.row(0).to_vec(), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
    assert_eq!(raw.train.targets.row(2).iter().position(|&v| v == 1.0), Some(9));
    assert_eq!(raw.feature_names[5], "pixel5");
    assert_eq!(raw.train.name, "img", "a data set is named after its images' file");
    // Gzip is recognised by its magic bytes, whatever the name.
    write(&dir, "img", gzip(&images));
    write(&dir, "lab.gz", gzip(&labels));
    let gz = load(&dir, "source = \"idx\"\nimages = \"img\"\nlabels = \"lab.gz\"", 0).unwrap();
    assert_eq!(gz.train.inputs, raw.train.inputs);
    assert_eq!(gz.train.targets, raw.train.targets);
    let f32s = common::spec(SPEC).load_splits::<f32>(&dir, 0).unwrap();
    assert_eq!(f32s.train.inputs.row(0).to_vec(), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
}

#[test]
fn separate_test_files_and_unseen_labels() {
    let dir = scratch("idx-separate");
    let (images, labels) = five();
    write(&dir, "img", &images);
    write(&dir, "lab", &labels);
    write(&dir, "t-img", idx_images(2, 2, 3, &[255; 12]));
    write(&dir, "t-lab", idx_labels(&[7, 2]));
    let text = format!("{SPEC}\ntest_images = \"t-img\"\ntest_labels = \"t-lab\"");
    let s = load(&dir, &text, 0).unwrap();
    let t = s.test.unwrap();
    assert_eq!(t.name, "t-img");
    assert_eq!(t.inputs.row(1).to_vec(), vec![1.0; 6]);
    assert_eq!(t.targets.row(0).iter().position(|&v| v == 1.0), Some(7));
    write(&dir, "t-lab", idx_labels(&[7, 12]));
    let m = error(&dir, &text);
    assert_mentions(&m, &["t-lab: item 2, column `label`: label \"12\" is not a class of the training data"]);
    write(&dir, "t-img", idx_images(2, 3, 2, &[255; 12]));
    let m = error(&dir, &text);
    assert_mentions(&m, &["t-img: byte 8: images of 3×2 pixels, but the training images are 2×3"]);
}

#[test]
fn wrong_magic_names_both_numbers() {
    let dir = scratch("idx-magic");
    let (images, labels) = five();
    write(&dir, "img", &labels);
    write(&dir, "lab", &images);
    let m = error(&dir, SPEC);
    assert_mentions(&m, &["img: byte 0: magic number 0x00000801, expected 0x00000803 (an IDX images file"]);
    write(&dir, "img", &images);
    let m = error(&dir, SPEC);
    assert_mentions(&m, &["lab: byte 0: magic number 0x00000803, expected 0x00000801 (an IDX labels file"]);
    write(&dir, "img", b"P5\n28 28\n255\n");
    assert_mentions(&error(&dir, SPEC), &["img: byte 0: magic number 0x50350a32"]);
}

#[test]
fn truncated_files_say_expected_and_actual_bytes() {
    let dir = scratch("idx-truncated");
    let (images, labels) = five();
    write(&dir, "img", &images[..images.len() - 4]);
    write(&dir, "lab", &labels);
    let m = error(&dir, SPEC);
    assert_mentions(&m, &["img: truncated IDX file: the header promises 46 bytes in all, the file has 42"]);
    write(&dir, "img", gzip(&images[..images.len() - 4]));
    let m = error(&dir, SPEC);
    assert_mentions(&m, &["img: truncated IDX file: the header promises 46 bytes in all, the file has 42"]);
    write(&dir, "img", &images[..10]);
    assert_mentions(&error(&dir, SPEC), &["the header promises 16 bytes in all, the file has 10"]);
    write(&dir, "img", []);
    assert_mentions(&error(&dir, SPEC), &["the header promises 16 bytes in all, the file has 0"]);
    // A gzip stream cut short is an I/O error of the decoder, still naming the file.
    let gz = gzip(&images);
    write(&dir, "img", &gz[..gz.len() / 2]);
    assert!(error(&dir, SPEC).starts_with(&dir.join("img").display().to_string()));
}

#[test]
fn counts_dimensions_and_trailing_bytes_are_checked() {
    let dir = scratch("idx-counts");
    let (images, _) = five();
    write(&dir, "img", &images);
    write(&dir, "lab", idx_labels(&[1, 2, 3]));
    assert_mentions(&error(&dir, SPEC), &["img has 5 images but", "lab has 3 labels"]);
    write(&dir, "img", idx_images(0, 2, 3, &[]));
    write(&dir, "lab", idx_labels(&[]));
    assert_mentions(&error(&dir, SPEC), &["img: no data rows"]);
    write(&dir, "img", idx_images(1, 0, 3, &[]));
    write(&dir, "lab", idx_labels(&[1]));
    assert_mentions(&error(&dir, SPEC), &["img: byte 8: images of 0×3 pixels have no pixels"]);
    write(&dir, "img", idx_images(1, 1, 1, &[9, 9]));
    assert_mentions(&error(&dir, SPEC), &["img: byte 17: more bytes after the data the header describes"]);
    write(&dir, "img", gzip(&idx_images(1, 1, 1, &[9, 9])));
    assert_mentions(&error(&dir, SPEC), &["img: byte 17: more bytes after the data"]);
    // Bytes after a gzip file's last member that are not another member.
    write(&dir, "img", [gzip(&idx_images(1, 1, 1, &[9])), b"garbage".to_vec()].concat());
    assert_mentions(
        &error(&dir, SPEC),
        &["img: byte 17: more bytes after the data the header describes, not gzip data"],
    );
    // Another member after the first is more of the file, as gzip has it.
    let (images, labels) = five();
    write(&dir, "lab", &labels);
    let members = [gzip(&images[..20]), gzip(&images[20..])].concat();
    write(&dir, "img", &members);
    assert_eq!(load(&dir, SPEC, 0).unwrap().train.inputs.row(0).to_vec(), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
    // A member whose 8-byte trailer (checksum, length) is cut off, or whose checksum is wrong:
    // the file is damaged, not followed by other bytes.
    let whole = gzip(&images);
    write(&dir, "img", &whole[..whole.len() - 8]);
    let cut = error(&dir, SPEC);
    assert_mentions(&cut, &["img: the gzip data ends early: the file is cut short"]);
    assert!(!cut.contains("more bytes"), "{cut}");
    let mut bad_crc = whole.clone();
    let at = bad_crc.len() - 8;
    bad_crc[at] ^= 0xff;
    write(&dir, "img", &bad_crc);
    let corrupt = error(&dir, SPEC);
    assert_mentions(&corrupt, &["img: ", "checksum"]);
    assert!(!corrupt.contains("more bytes"), "{corrupt}");
}

#[test]
fn a_header_claiming_a_trillion_items_is_refused() {
    let dir = scratch("idx-huge");
    // 10⁶ images of 1000×1000 pixels: 10¹² bytes, in a file of 80.
    write(&dir, "img", idx_images(1_000_000, 1000, 1000, &[0; 64]));
    write(&dir, "lab", idx_labels(&[1]));
    let m = error(&dir, SPEC);
    assert_mentions(&m, &["img: truncated IDX file: the header promises 1000000000016 bytes in all, the file has 80"]);
    write(&dir, "img", gzip(&idx_images(1_000_000, 1000, 1000, &[0; 64])));
    let m = error(&dir, SPEC);
    assert_mentions(
        &m,
        &["img: the IDX header claims 1000000 items of 1000000 bytes", "more than the limit of 2147483648 bytes"],
    );
    assert!(!m.contains("labels"), "{m}");
    // Exactly the limit is allowed (and then found missing), one row of pixels more is not.
    write(&dir, "lab", idx_labels(&[1; 2048]));
    write(&dir, "img", gzip(&idx_images(2048, 1024, 1024, &[0; 64])));
    let m = error(&dir, SPEC);
    assert_mentions(&m, &["img: truncated IDX file"]);
    assert!(!m.contains("limit"), "{m}");
    write(&dir, "img", gzip(&idx_images(2048, 1025, 1024, &[0; 64])));
    assert_mentions(&error(&dir, SPEC), &["more than the limit of 2147483648 bytes"]);
}

#[test]
fn missing_files_name_the_path() {
    let dir = scratch("idx-io");
    assert_mentions(&error(&dir, SPEC), &["img: ", "No such file"]);
}

/// Members of a gzip file where one ends a byte before the reader's 64 KiB buffer does: the
/// next member's magic is split across two reads, and must not be taken for other bytes.
#[test]
fn a_member_that_ends_where_the_buffer_does_is_followed_by_the_next() {
    use std::io::Write as _;
    let dir = scratch("idx-members");
    let pixels: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let images = idx_images(1000, 10, 10, &pixels);
    let stored = |bytes: &[u8]| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    };
    // The first member's length: 65,535 bytes, one short of the buffer.
    let split = (60_000..images.len()).find(|&n| stored(&images[..n]).len() == 65_535).expect("a split");
    write(&dir, "img", [stored(&images[..split]), gzip(&images[split..])].concat());
    write(&dir, "lab", idx_labels(&[1; 1000]));
    let loaded = load(&dir, SPEC, 0).unwrap();
    assert_eq!(loaded.train.inputs.dim(), (1000, 100));
    assert_eq!(loaded.train.inputs[[999, 99]], f64::from(99_999u32 % 251) / 255.0);
}
