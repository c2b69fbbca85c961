//! No input makes a loader panic: random bytes, and random mutations of a valid CSV file and a
//! valid IDX pair (raw and gzipped), go to the loaders, which must return `Ok` or `Err`.

mod common;

use std::path::Path;

use backprop_data::read_csv_features;
use common::{gzip, idx_images, idx_labels, scratch, spec, write};
use proptest::prelude::*;

const CSV: &str = "a, b,label\n1,2,x\n3.5, -4,y\n\"5\",6e2,x\n7,8,\"z\"\n";

/// A change to a byte string: overwrite, insert, delete or cut at a position (taken modulo the
/// length).
#[derive(Clone, Debug)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Cut(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), prop::sample::select(b",\n\r\" 09.-e\xff".to_vec())).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Cut),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let n = bytes.len().max(1);
        match *m {
            Mutation::Set(i, b) if !bytes.is_empty() => bytes[i % n] = b,
            Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Mutation::Delete(i) if !bytes.is_empty() => {
                bytes.remove(i % n);
            }
            Mutation::Cut(i) => bytes.truncate(i % (bytes.len() + 1)),
            _ => {}
        }
    }
    bytes
}

/// Every way the CSV loader can be asked to read `bytes`; each must return.
fn load_csv(dir: &Path, bytes: &[u8]) {
    write(dir, "f.csv", bytes);
    for text in [
        "source = \"csv\"\npath = \"f.csv\"\ntargets = [\"label\"]\ntask = \"classification\"\nvalidation = 0.3\nnormalize = \"minmax\"",
        "source = \"csv\"\npath = \"f.csv\"\ntargets = [1]\nnormalize = \"standardize\"",
        "source = \"csv\"\npath = \"f.csv\"\nfeatures = [\"a\"]\ntargets = [\"label\"]\ntask = \"classification\"\ntest_path = \"f.csv\"",
    ] {
        let _ = spec(text).load_splits::<f64>(dir, 1);
    }
    let _ = read_csv_features::<f32>(&dir.join("f.csv"), &["a".into(), " b".into()]);
}

fn load_idx(dir: &Path, images: &[u8], labels: &[u8]) {
    write(dir, "img", images);
    write(dir, "lab", labels);
    let text = "source = \"idx\"\nimages = \"img\"\nlabels = \"lab\"\nvalidation = 0.25\nnormalize = \"standardize\"";
    let _ = spec(text).load_splits::<f32>(dir, 1);
}

fn valid_idx() -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..4 * 9).map(|i| (i * 7) as u8).collect();
    (idx_images(4, 3, 3, &pixels), idx_labels(&[0, 1, 1, 0]))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("BACKPROP_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(128), ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let dir = scratch("fuzz-random");
        load_csv(&dir, &bytes);
        load_idx(&dir, &bytes, &bytes);
        let (images, labels) = valid_idx();
        load_idx(&dir, &images, &bytes);
        load_idx(&dir, &bytes, &labels);
    }

    #[test]
    fn mutated_csv_never_panics(mutations in prop::collection::vec(mutation(), 1..6)) {
        let dir = scratch("fuzz-csv");
        load_csv(&dir, &mutate(CSV.as_bytes().to_vec(), &mutations));
    }

    #[test]
    fn mutated_idx_never_panics(mutations in prop::collection::vec(mutation(), 1..4), compress in any::<bool>()) {
        let dir = scratch("fuzz-idx");
        let (images, labels) = valid_idx();
        let (images, labels) = (mutate(images, &mutations), mutate(labels, &mutations));
        if compress {
            load_idx(&dir, &gzip(&images), &gzip(&labels));
        } else {
            load_idx(&dir, &images, &labels);
        }
        // A mutated compressed stream, too.
        load_idx(&dir, &mutate(gzip(&images), &mutations), &labels);
    }
}
