//! Truth tables and synthetic sets through `DataSpec`: the config shapes, seeds, splits, and
//! `load` for the CLI of today.

mod common;

use std::path::Path;

use backprop_data::{DataError, DataSpec, Moons, Task};
use common::{load, spec};

#[test]
fn truth_tables_load_in_counting_order() {
    let xor = DataSpec::Xor {}.load::<f64>().unwrap();
    assert_eq!(xor.targets.column(0).to_vec(), vec![0.0, 1.0, 1.0, 0.0]);
    let and = spec("source = \"and\"").load::<f32>().unwrap();
    assert_eq!(and.targets.column(0).to_vec(), vec![0.0, 0.0, 0.0, 1.0]);
    let or = spec("source = \"or\"").load::<f64>().unwrap();
    assert_eq!(or.targets.column(0).to_vec(), vec![0.0, 1.0, 1.0, 1.0]);
    let parity = spec("source = \"parity\"\nbits = 4").load::<f64>().unwrap();
    assert_eq!((parity.len(), parity.features(), parity.outputs()), (16, 4, 1));
    assert_eq!(parity.inputs.row(11).to_vec(), vec![1.0, 0.0, 1.0, 1.0]);
    assert_eq!(parity.targets[[11, 0]], 1.0);
    let full = DataSpec::FullAdder {}.load_splits::<f64>(Path::new(""), 3).unwrap();
    assert_eq!(full.task, Task::Regression);
    assert_eq!(full.feature_names, ["x0", "x1", "x2"]);
    assert_eq!(full.target_names, ["sum", "carry"]);
    assert!(full.classes.is_none() && full.validation.is_none() && full.normalizer.is_identity());
}

#[test]
fn synthetic_sets_are_fixed_by_the_seed() {
    let here = Path::new("");
    for text in [
        "source = \"moons\"",
        "source = \"circles\"\nnoise = 0.05",
        "source = \"spirals\"\nclasses = 4\nsamples = 100",
        "source = \"blobs\"\nfeatures = 3",
        "source = \"sine\"\nsamples = 50",
    ] {
        let a = load(here, text, 11).unwrap();
        assert_eq!(a, load(here, text, 11).unwrap(), "{text}");
        assert_ne!(a.train.inputs, load(here, text, 12).unwrap().train.inputs, "{text}");
    }
    let s = load(here, "source = \"spirals\"\nclasses = 4\nsamples = 100", 0).unwrap();
    assert_eq!(s.classes.unwrap(), ["0", "1", "2", "3"]);
    assert_eq!((s.train.len(), s.train.features(), s.train.outputs()), (100, 2, 4));
    let sine = load(here, "source = \"sine\"", 0).unwrap();
    assert_eq!(
        (sine.task, sine.feature_names, sine.target_names),
        (Task::Regression, vec!["x".into()], vec!["y".into()])
    );
    // The CLI passes the experiment's data stream; `generate` with that seed gives the same draw.
    let whole = load(here, "source = \"moons\"\nsamples = 30", 5).unwrap().train;
    assert_eq!(whole, Moons { samples: 30, noise: 0.1 }.generate::<f64>(5).unwrap());
}

#[test]
fn synthetic_splits_are_stratified_and_normalised() {
    let s = load(
        Path::new(""),
        "source = \"moons\"\nsamples = 500\nnoise = 0.2\nvalidation = 0.2\ntest = 0.1\nnormalize = \"standardize\"",
        1,
    )
    .unwrap();
    let counts = |d: &backprop_data::Dataset<f64>| (d.targets.column(0).sum(), d.targets.column(1).sum());
    assert_eq!(counts(s.validation.as_ref().unwrap()), (50.0, 50.0));
    assert_eq!(counts(s.test.as_ref().unwrap()), (25.0, 25.0));
    assert_eq!(counts(&s.train), (175.0, 175.0));
    for j in 0..2 {
        let col = s.train.inputs.column(j);
        assert!(col.mean().unwrap().abs() < 1e-12);
        assert!((col.std(0.0) - 1.0).abs() < 1e-12);
    }
}

#[test]
fn out_of_range_values_are_refused_before_loading() {
    let err = spec("source = \"moons\"\nsamples = 0").load::<f64>().unwrap_err();
    assert_eq!(err.to_string(), "invalid `data.samples`: must be at least 1 and at most 10000000, got 0");
    assert!(matches!(err, DataError::Spec(e) if e.key == "samples"));
    let err = DataSpec::Parity { bits: 64 }.load::<f64>().unwrap_err();
    assert!(matches!(err, DataError::Spec(e) if e.key == "bits"));
    let err = spec("source = \"sine\"\nsamples = 3\nvalidation = 0.1").load::<f64>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "dataset `sine`: the `validation` fraction of its 3 samples rounds to no samples; raise it, or set it to 0 \
         to hold out none"
    );
    // Two moons of one sample each: half would be one sample, but each class keeps its one.
    let err = spec("source = \"moons\"\nsamples = 2\nvalidation = 0.5").load::<f64>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "dataset `moons`: none of its 2 samples are left for `validation` once training keeps a sample of every \
         class; use more data, or set `validation` to 0 to hold out none"
    );
    // With a test split, taken first.
    let err = spec("source = \"moons\"\nsamples = 3\nvalidation = 0.3\ntest = 0.4").load::<f64>().unwrap_err();
    assert!(
        err.to_string().contains("once training keeps a sample of every class and `test` takes its share;"),
        "{err}"
    );
    // The test split itself, and a regression set, whose training keeps one sample in all.
    let err = spec("source = \"moons\"\nsamples = 2\ntest = 0.5").load::<f64>().unwrap_err();
    assert!(err.to_string().contains("left for `test` once training keeps a sample of every class;"), "{err}");
    let err = spec("source = \"sine\"\nsamples = 3\ntest = 0.5\nvalidation = 0.3").load::<f64>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "dataset `sine`: none of its 3 samples are left for `validation` once training keeps a sample and `test` \
         takes its share; use more data, or set `validation` to 0 to hold out none"
    );
}

/// A draw past the dtype's range (noise 1e39 in f32) is refused with the source's name, not
/// handed to training as infinities.
#[test]
fn draws_beyond_the_dtype_are_refused() {
    let moons = spec("source = \"moons\"\nnoise = 1e39");
    let m = moons.load_splits::<f32>(Path::new("."), 0).unwrap_err().to_string();
    assert!(m.contains("beyond f32's range"), "{m}");
    assert!(moons.load_splits::<f64>(Path::new("."), 0).is_ok());
}

/// Data read as a model sees it, whose features are not those its normalizer scales: refused
/// naming the data (the bare width error named nothing).
#[test]
fn a_models_normalizer_of_another_width_is_refused_naming_the_data() {
    use backprop_data::{NormalizeKind, Normalizer, Trained};
    let three = ndarray::Array2::<f64>::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as f64);
    let scaler = Normalizer::fit(NormalizeKind::Standardize, &three);
    let trained = Trained { normalizer: Some(&scaler), ..Trained::default() };
    let err = DataSpec::HalfAdder {}.load_splits_as::<f64>(Path::new("."), 0, trained).unwrap_err();
    assert_eq!(err.to_string(), "half_adder: the data has 2 features, the model's normalizer scales 3");
    let two = Normalizer::fit(NormalizeKind::Standardize, &three.slice(ndarray::s![.., ..2]).to_owned());
    let trained = Trained { normalizer: Some(&two), ..Trained::default() };
    assert!(DataSpec::HalfAdder {}.load_splits_as::<f64>(Path::new("."), 0, trained).is_ok());
}

/// `normalize_targets` scales regression targets by a normalizer fitted on the training split
/// (mean 0 and std 1 there), the held-out splits by the same one; `invert` gives the targets
/// back. Class labels are refused naming the key, and a resolved config leaves `none` out.
#[test]
fn regression_targets_are_scaled_on_request_and_class_labels_never() {
    let text = "source = \"sine\"\nsamples = 200\nnoise = 0.1\nvalidation = 0.25\nnormalize_targets = \"standardize\"";
    let s = spec(text).load_splits::<f64>(Path::new("."), 7).unwrap();
    let plain =
        spec(&text.replace("normalize_targets = \"standardize\"", "")).load_splits::<f64>(Path::new("."), 7).unwrap();
    let t = s.train.targets.column(0);
    let (mean, var) = (t.mean().unwrap(), t.mapv(|v| v * v).mean().unwrap());
    assert!(mean.abs() < 1e-15 && (var - 1.0).abs() < 1e-13, "mean {mean}, variance {var}");
    assert_eq!(s.target_normalizer.shift.len(), 1);
    assert!(s.normalizer.is_identity(), "inputs are not scaled by normalize_targets");
    assert_eq!(s.train.inputs, plain.train.inputs);
    for (scaled, plain) in
        [(&s.train, &plain.train), (s.validation.as_ref().unwrap(), plain.validation.as_ref().unwrap())]
    {
        let mut back = scaled.targets.clone();
        s.target_normalizer.invert(&mut back).unwrap();
        let most = back.iter().zip(plain.targets.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(most < 1e-15, "{most}");
        let shifted = (plain.targets[[0, 0]] - s.target_normalizer.shift[0]) / s.target_normalizer.scale[0];
        assert_eq!(scaled.targets[[0, 0]], shifted, "the training split's normalizer, for every split");
    }
    assert!(plain.target_normalizer.is_identity());
    let resolved = toml::to_string(&spec(text)).unwrap();
    assert!(resolved.contains("normalize_targets = \"standardize\""), "{resolved}");
    assert!(!toml::to_string(&plain_spec()).unwrap().contains("normalize_targets"));

    for text in ["source = \"moons\"", "source = \"spirals\"", "source = \"blobs\"", "source = \"circles\""] {
        let err = spec(&format!("{text}\nnormalize_targets = \"minmax\"")).load::<f64>().unwrap_err().to_string();
        assert!(
            err.contains("normalize_targets`: ") && err.contains("gives class labels, which are not scaled"),
            "{err}"
        );
    }

    fn plain_spec() -> DataSpec {
        spec("source = \"sine\"")
    }
}

/// Data read as a model sees it takes the model's target normalizer, of the data's width.
#[test]
fn a_models_target_normalizer_scales_the_targets_and_must_fit_them() {
    use backprop_data::{NormalizeKind, Normalizer, Trained};
    let targets = ndarray::array![[0.0, 10.0], [2.0, 30.0]];
    let scaler = Normalizer::fit(NormalizeKind::Minmax, &targets);
    let trained = Trained { target_normalizer: Some(&scaler), ..Trained::default() };
    let s = DataSpec::HalfAdder {}.load_splits_as::<f64>(Path::new("."), 0, trained).unwrap();
    // Half adder targets (sum, carry) = (0,0), (1,0), (1,0), (0,1), scaled by (t − (0, 10)) / (2, 20).
    assert_eq!(s.train.targets.row(3).to_vec(), vec![0.0, (1.0 - 10.0) / 20.0]);
    let one = Normalizer::fit(NormalizeKind::Minmax, &ndarray::array![[0.0], [1.0]]);
    let trained = Trained { target_normalizer: Some(&one), ..Trained::default() };
    let err = DataSpec::HalfAdder {}.load_splits_as::<f64>(Path::new("."), 0, trained).unwrap_err();
    assert_eq!(
        err.to_string(),
        "half_adder: the data has 2 regression targets, the model's target normalizer scales 1"
    );
    let trained = Trained { target_normalizer: Some(&one), ..Trained::default() };
    let err = spec("source = \"moons\"").load_splits_as::<f64>(Path::new("."), 0, trained).unwrap_err();
    assert_eq!(err.to_string(), "moons: the data has 0 regression targets, the model's target normalizer scales 1");
}
