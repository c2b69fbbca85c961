//! CSV sources: labels, regression targets, column selection, splits, normalisation, and every
//! error a user can meet, each asserted on its message.

mod common;

use backprop_data::{NormalizeKind, Normalizer, Task, Trained, read_csv_features};
use common::{assert_mentions, error, load, scratch, spec, write};

const IRIS: &str = "sepal_length,sepal_width,species
5.1,3.5,setosa
7.0,3.2,versicolor
6.3,3.3,virginica
4.9,3.0,setosa
";

#[test]
fn string_labels_become_sorted_one_hot_classes() {
    let dir = scratch("csv-strings");
    write(&dir, "iris.csv", IRIS);
    let s = load(&dir, "source = \"csv\"\npath = \"iris.csv\"\ntargets = [\"species\"]\ntask = \"classification\"", 0)
        .unwrap();
    assert_eq!(s.task, Task::Classification);
    assert_eq!(s.classes.as_deref().unwrap(), ["setosa", "versicolor", "virginica"]);
    assert_eq!(s.feature_names, ["sepal_length", "sepal_width"]);
    assert_eq!(s.target_names, ["species"]);
    assert_eq!(s.train.name, "iris.csv");
    assert_eq!(s.train.inputs.row(1).to_vec(), vec![7.0, 3.2]);
    assert_eq!(s.train.targets.row(1).to_vec(), vec![0.0, 1.0, 0.0]);
    assert_eq!(s.train.targets.row(3).to_vec(), vec![1.0, 0.0, 0.0]);
    assert!(s.validation.is_none() && s.test.is_none() && s.normalizer.is_identity());
}

/// A class of one sample, and labels that differ only in case, load with a warning each (a
/// typo made a class of its own, silently).
#[test]
fn a_class_of_one_sample_or_labels_in_two_cases_are_warned_of() {
    let dir = scratch("csv-class-warnings");
    write(&dir, "t.csv", "a,label\n1,setosa\n2,setosa\n3,versicolor\n4,Setosa\n5,versicolor\n");
    let s =
        load(&dir, "source = \"csv\"\npath = \"t.csv\"\ntargets = [\"label\"]\ntask = \"classification\"", 0).unwrap();
    assert_eq!(
        s.warnings,
        [
            "t.csv: the classes `Setosa` (1 sample) and `setosa` (2 samples) differ only in case: one label written two ways?",
            "t.csv: the class `Setosa` has 1 sample of 5: too few to learn it from (a typo of another label?)",
        ]
    );
    // Many classes of one sample: one line, naming five; a file of 20000 distinct labels loads
    // at once (the check was quadratic in the classes: 10 s).
    let mut text = String::from("a,label\n0,k\n1,k\n");
    for i in 0..7 {
        text += &format!("{i},s{i}\n");
    }
    write(&dir, "many.csv", text);
    let s =
        load(&dir, "source = \"csv\"\npath = \"many.csv\"\ntargets = \"label\"\ntask = \"classification\"", 0).unwrap();
    assert_eq!(
        s.warnings,
        [
            "many.csv: 7 classes have 1 sample each of 9: `s0`, `s1`, `s2`, `s3`, `s4` and 2 more: too few to learn them from (typos of other labels?)"
        ]
    );
    let mut text = String::from("a,label\n");
    for i in 0..20_000 {
        text += &format!("{i},L{i}\n");
    }
    text += "1,L1\n1,l1\n";
    write(&dir, "wide.csv", text);
    let started = std::time::Instant::now();
    let s =
        load(&dir, "source = \"csv\"\npath = \"wide.csv\"\ntargets = \"label\"\ntask = \"classification\"", 0).unwrap();
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    assert_eq!(s.warnings.len(), 2, "{:?}", &s.warnings[..2.min(s.warnings.len())]);
    assert!(
        s.warnings[0].contains("the classes `L1` (2 samples) and `l1` (1 sample) differ only in case"),
        "{}",
        s.warnings[0]
    );
    assert!(
        s.warnings[1].starts_with("wide.csv: 20000 classes have 1 sample each of 20002: `L0`, `L10`,"),
        "{}",
        s.warnings[1]
    );
    // Every class of one sample (a truth table's shape), or two of each: nothing to say.
    write(&dir, "one.csv", "a,label\n1,x\n2,y\n");
    let s = load(&dir, "source = \"csv\"\npath = \"one.csv\"\ntargets = [\"label\"]\ntask = \"classification\"", 0)
        .unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    write(&dir, "two.csv", "a,label\n1,x\n2,y\n3,x\n4,y\n");
    let s =
        load(&dir, "source = \"csv\"\npath = \"two.csv\"\ntargets = \"label\"\ntask = \"classification\"", 0).unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn integer_labels_sort_numerically_and_cells_may_have_spaces() {
    let dir = scratch("csv-ints");
    write(&dir, "d.csv", "x, label\n 1.5 ,10\n2e1,2\n-3, 1\n4,02\n");
    let s =
        load(&dir, "source = \"csv\"\npath = \"d.csv\"\ntargets = [\"label\"]\ntask = \"classification\"", 0).unwrap();
    assert_eq!(s.classes.as_deref().unwrap(), ["1", "2", "10"]);
    assert_eq!(s.train.inputs.column(0).to_vec(), vec![1.5, 20.0, -3.0, 4.0]);
    let classes: Vec<usize> =
        s.train.targets.rows().into_iter().map(|r| r.iter().position(|&v| v == 1.0).unwrap()).collect();
    assert_eq!(classes, vec![2, 1, 0, 1]); // "02" is class "2"
}

#[test]
fn regression_with_two_targets_chosen_by_name_and_index() {
    let dir = scratch("csv-regression");
    write(&dir, "r.csv", "a,b,y1,note,y2\n1,2,3,x,4\n5,6,7,y,8\n");
    let s = load(&dir, "source = \"csv\"\npath = \"r.csv\"\nfeatures = [1, \"a\"]\ntargets = [\"y1\", 4]", 0).unwrap();
    assert_eq!(s.task, Task::Regression);
    assert_eq!(s.classes, None);
    assert_eq!(s.feature_names, ["b", "a"]);
    assert_eq!(s.target_names, ["y1", "y2"]);
    assert_eq!(s.train.inputs, ndarray::array![[2.0, 1.0], [6.0, 5.0]]);
    assert_eq!(s.train.targets, ndarray::array![[3.0, 4.0], [7.0, 8.0]]);
}

/// 100 rows, 70 of class `a` then 30 of class `b`, x = row number.
fn seventy_thirty() -> String {
    let mut text = String::from("x,class\n");
    for i in 0..100 {
        text += &format!("{i},{}\n", if i < 70 { "a" } else { "b" });
    }
    text
}

fn count(d: &backprop_data::Dataset<f64>, class: usize) -> usize {
    d.targets.column(class).iter().filter(|&&v| v == 1.0).count()
}

#[test]
fn stratified_fractions_keep_class_proportions() {
    let dir = scratch("csv-stratified");
    write(&dir, "d.csv", seventy_thirty());
    let text = "source = \"csv\"\npath = \"d.csv\"\ntargets = [\"class\"]\ntask = \"classification\"\nvalidation = 0.1\ntest = 0.2";
    let s = load(&dir, text, 3).unwrap();
    let (v, t) = (s.validation.as_ref().unwrap(), s.test.as_ref().unwrap());
    assert_eq!((count(v, 0), count(v, 1)), (7, 3));
    assert_eq!((count(t, 0), count(t, 1)), (14, 6));
    assert_eq!((count(&s.train, 0), count(&s.train, 1)), (49, 21));
    assert_eq!(v.name, "d.csv (validation)");
    // Same seed, same split; the split is a partition of the rows.
    assert_eq!(load(&dir, text, 3).unwrap(), s);
    let mut xs: Vec<f64> = [&s.train, v, t].iter().flat_map(|d| d.inputs.iter().copied()).collect();
    xs.sort_by(f64::total_cmp);
    assert_eq!(xs, (0..100).map(f64::from).collect::<Vec<_>>());
}

#[test]
fn the_normalizer_is_fitted_on_the_training_split_only() {
    let dir = scratch("csv-normalize");
    write(&dir, "d.csv", seventy_thirty());
    let base = "source = \"csv\"\npath = \"d.csv\"\ntargets = [\"class\"]\ntask = \"classification\"\nvalidation = 0.3";
    let raw = load(&dir, base, 9).unwrap();
    let scaled = load(&dir, &format!("{base}\nnormalize = \"standardize\""), 9).unwrap();
    let train: Vec<f64> = raw.train.inputs.iter().copied().collect();
    let mean = train.iter().sum::<f64>() / train.len() as f64;
    let std = (train.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / train.len() as f64).sqrt();
    assert_eq!(scaled.normalizer.kind, NormalizeKind::Standardize);
    assert!((scaled.normalizer.shift[0] - mean).abs() < 1e-12 && (scaled.normalizer.scale[0] - std).abs() < 1e-12);
    let all_mean = 49.5;
    assert!((mean - all_mean).abs() > 1e-9, "the split should move the mean away from the whole file's");
    // Validation went through the training statistics, not its own.
    let v_raw = raw.validation.unwrap().inputs;
    let v_scaled = scaled.validation.unwrap().inputs;
    for (r, s) in v_raw.iter().zip(v_scaled.iter()) {
        assert!(((r - mean) / std - s).abs() < 1e-12);
    }
    let minmax = load(&dir, &format!("{base}\nnormalize = \"minmax\""), 9).unwrap();
    let lo = train.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(minmax.normalizer.shift, vec![lo]);
    assert!(minmax.train.inputs.iter().all(|x| (0.0..=1.0).contains(x)));
}

#[test]
fn separate_files_match_columns_by_name() {
    let dir = scratch("csv-separate");
    write(&dir, "train.csv", IRIS);
    write(&dir, "val.csv", "species,sepal_width,extra,sepal_length\nvirginica,3.0,x,6.5\n");
    write(&dir, "test.csv", "sepal_length,sepal_width,species\n5.0,3.4,setosa\n");
    let text = "source = \"csv\"\npath = \"train.csv\"\ntargets = [\"species\"]\ntask = \"classification\"\n\
                validation_path = \"val.csv\"\ntest_path = \"test.csv\"\nnormalize = \"minmax\"";
    let s = load(&dir, text, 0).unwrap();
    let v = s.validation.unwrap();
    assert_eq!(v.name, "val.csv");
    assert_eq!(v.targets.row(0).to_vec(), vec![0.0, 0.0, 1.0]);
    // minmax fitted on train: sepal_length in [4.9, 7.0], sepal_width in [3.0, 3.5].
    assert!((v.inputs[[0, 0]] - (6.5 - 4.9) / 2.1).abs() < 1e-12);
    assert!(v.inputs[[0, 1]].abs() < 1e-12);
    assert_eq!(s.test.unwrap().targets.row(0).to_vec(), vec![1.0, 0.0, 0.0]);
}

#[test]
fn a_label_unseen_in_training_names_the_file_and_row() {
    let dir = scratch("csv-unseen");
    write(&dir, "train.csv", IRIS);
    write(&dir, "val.csv", "sepal_length,sepal_width,species\n5.0,3.4,setosa\n6.0,2.2,daisy\n");
    let text = "source = \"csv\"\npath = \"train.csv\"\ntargets = [\"species\"]\ntask = \"classification\"\nvalidation_path = \"val.csv\"";
    let m = error(&dir, text);
    assert_mentions(
        &m,
        &["val.csv: line 3 (data row 2), column `species`", "label \"daisy\"", "`setosa`, `versicolor`, `virginica`"],
    );
}

/// Read as a trained model sees it, a file's labels map onto the model's classes in the model's
/// order (a file with one class keeps all three columns), an unknown label is an error, and the
/// model's normalizer replaces the one this file would fit.
#[test]
fn a_trained_models_classes_and_normalizer_replace_the_files_own() {
    let dir = scratch("csv-trained");
    write(&dir, "one.csv", "sepal_length,sepal_width,species\n6.3,3.3,virginica\n6.5,3.0,virginica\n");
    let text = "source = \"csv\"\npath = \"one.csv\"\ntargets = [\"species\"]\ntask = \"classification\"\n\
                normalize = \"standardize\"";
    let classes = ["setosa".to_string(), "versicolor".to_string(), "virginica".to_string()];
    let normalizer = Normalizer { kind: NormalizeKind::Minmax, shift: vec![4.0, 3.0], scale: vec![4.0, 0.5] };
    let trained = Trained { classes: Some(&classes), normalizer: Some(&normalizer), ..Trained::default() };
    let s = spec(text).load_splits_as::<f64>(&dir, 0, trained).unwrap();
    assert_eq!(s.classes.as_deref().unwrap(), classes);
    assert_eq!(s.train.targets.row(1).to_vec(), vec![0.0, 0.0, 1.0]);
    assert_eq!(s.normalizer, normalizer);
    assert_eq!(s.train.inputs.row(0).to_vec(), vec![(6.3 - 4.0) / 4.0, (3.3 - 3.0) / 0.5]);

    let m = spec(text).load_splits_as::<f64>(&dir, 0, Trained { classes: Some(&classes[..2]), ..Trained::default() });
    assert_mentions(&m.unwrap_err().to_string(), &["one.csv: line 2 (data row 1)", "label \"virginica\""]);
    // Without a model's view the file's own classes and statistics.
    let own = spec(text).load_splits::<f64>(&dir, 0).unwrap();
    assert_eq!(own.classes.as_deref().unwrap(), ["virginica"]);
    assert_eq!(own.normalizer.kind, NormalizeKind::Standardize);
}

/// Other sources have their own classes; a model with others is an error naming both lists.
#[test]
fn a_source_with_other_classes_than_the_models_is_an_error() {
    let dir = scratch("moons-trained");
    let classes = ["a".to_string(), "b".to_string()];
    let m = spec("source = \"moons\"").load_splits_as::<f64>(
        &dir,
        0,
        Trained { classes: Some(&classes), ..Trained::default() },
    );
    assert_mentions(&m.unwrap_err().to_string(), &["the data's classes (`0`, `1`) are not the model's (`a`, `b`)"]);
}

#[test]
fn ragged_rows_name_line_row_and_counts() {
    let dir = scratch("csv-ragged");
    write(&dir, "d.csv", "a,b,y\n1,2,3\n\n4,5\n");
    let m = error(&dir, "source = \"csv\"\npath = \"d.csv\"\ntargets = [\"y\"]");
    assert_mentions(&m, &["d.csv: line 4 (data row 2): 2 fields, but the header has 3"]);
    write(&dir, "d.csv", "a,b,y\n1,2,3\n4\n");
    let m = error(&dir, "source = \"csv\"\npath = \"d.csv\"\ntargets = [\"y\"]");
    assert_mentions(&m, &["d.csv: line 3 (data row 2): 1 field, but the header has 3"]);
}

#[test]
fn non_numeric_cells_are_quoted_with_their_column() {
    let dir = scratch("csv-nan");
    write(&dir, "d.csv", "a,b,y\n1,2,3\n4,five,6\n");
    let m = error(&dir, "source = \"csv\"\npath = \"d.csv\"\ntargets = [\"y\"]");
    assert_mentions(&m, &["d.csv: line 3 (data row 2), column `b`: \"five\" is not a finite number"]);
    assert!(!m.contains("class label"), "a feature is no label: {m}");
    // A word in a feature: a text column left among the features.
    assert_mentions(&m, &["\"five\" is not a finite number; a text column? (`data.features` names the columns"]);
    // A word in a regression target: a class label, when the task was left at its default.
    write(&dir, "l.csv", "a,y\n1,setosa\n");
    let m = error(&dir, "source = \"csv\"\npath = \"l.csv\"\ntargets = [\"y\"]");
    assert_mentions(&m, &["\"setosa\" is not a finite number; a class label? (`task = \"classification\"` reads"]);
    write(&dir, "e.csv", "a,y\n1,\n");
    let m = error(&dir, "source = \"csv\"\npath = \"e.csv\"\ntargets = [\"y\"]");
    assert_mentions(&m, &["e.csv: line 2 (data row 1), column `y`: \"\" is not a finite number"]);
    assert!(!m.contains("class label") && !m.contains("text column"), "an empty cell is no word: {m}");
    write(&dir, "n.csv", "a,y\nNaN,1\n");
    let m = error(&dir, "source = \"csv\"\npath = \"n.csv\"\ntargets = [\"y\"]");
    assert_mentions(&m, &["column `a`: \"NaN\""]);
    // Finite in f64, beyond f32: named as such in an f32 run, loaded in an f64 one.
    write(&dir, "big.csv", "a,y\n1,2\n1e39,1\n");
    let text = "source = \"csv\"\npath = \"big.csv\"\ntargets = [\"y\"]\ntask = \"regression\"";
    let m = spec(text).load_splits::<f32>(&dir, 0).unwrap_err().to_string();
    assert_mentions(&m, &["big.csv: line 3 (data row 2), column `a`: 1e39 is beyond f32's range"]);
    assert!(load(&dir, text, 0).is_ok());
}

#[test]
fn empty_files_headers_without_rows_and_empty_labels() {
    let dir = scratch("csv-empty");
    write(&dir, "empty.csv", "");
    let m = error(&dir, "source = \"csv\"\npath = \"empty.csv\"\ntargets = [\"y\"]");
    assert_mentions(&m, &["empty.csv: the file is empty", "header row"]);
    write(&dir, "header.csv", "x,y\n\n");
    let m = error(&dir, "source = \"csv\"\npath = \"header.csv\"\ntargets = [\"y\"]");
    assert_mentions(&m, &["header.csv: no data rows"]);
    write(&dir, "label.csv", "x,y\n1,a\n2, \n");
    let m = error(&dir, "source = \"csv\"\npath = \"label.csv\"\ntargets = [\"y\"]\ntask = \"classification\"");
    assert_mentions(&m, &["label.csv: line 3 (data row 2), column `y`: empty label"]);
}

/// A gzipped CSV file is named as such instead of reading its bytes as a header; the bytes
/// looked at first are handed back to the reader (a one-byte file still has its header). A name
/// the header has twice cannot choose a column.
#[test]
fn gzipped_files_tiny_files_and_names_given_twice() {
    let dir = scratch("csv-gzip");
    write(&dir, "iris.csv.gz", common::gzip(IRIS.as_bytes()));
    let m = error(&dir, "source = \"csv\"\npath = \"iris.csv.gz\"\ntargets = [\"species\"]");
    assert_mentions(&m, &["iris.csv.gz: the file is gzip-compressed; decompress it first"]);
    write(&dir, "one.csv", "y");
    let m = error(&dir, "source = \"csv\"\npath = \"one.csv\"\ntargets = [\"y\"]");
    assert_mentions(&m, &["one.csv: no column for the features", "in the header (`y`)"]);
    write(&dir, "twice.csv", "x,y,x\n1,2,3\n");
    let m = error(&dir, "source = \"csv\"\npath = \"twice.csv\"\ntargets = [\"y\"]\nfeatures = [\"x\"]");
    assert_mentions(&m, &["twice.csv: column `x` is named 2 times in the header (columns 0, 2, 0-based)"]);
    let s = load(&dir, "source = \"csv\"\npath = \"twice.csv\"\ntargets = [\"y\"]\nfeatures = [2]", 0).unwrap();
    assert_eq!(s.train.inputs.row(0).to_vec(), vec![3.0], "by index it is no question");
    write(&dir, "two.csv", "x,y\n1,2\n");
    let s = load(&dir, "source = \"csv\"\npath = \"two.csv\"\ntargets = [\"y\"]", 0).unwrap();
    assert_eq!(s.train.inputs.row(0).to_vec(), vec![1.0]);
}

#[test]
fn missing_columns_list_the_header_and_suggest() {
    let dir = scratch("csv-missing");
    write(&dir, "iris.csv", IRIS);
    let m = error(&dir, "source = \"csv\"\npath = \"iris.csv\"\ntargets = [\"spceies\"]");
    assert_mentions(
        &m,
        &[
            "iris.csv: no column `spceies` in the header (`sepal_length`, `sepal_width`, `species`)",
            "did you mean `species`?",
        ],
    );
    let m = error(&dir, "source = \"csv\"\npath = \"iris.csv\"\ntargets = [7]");
    assert_mentions(&m, &["iris.csv: no column 7 (0-based) in the header"]);
    assert!(!m.contains("did you mean"), "{m}");
    let m = error(&dir, "source = \"csv\"\npath = \"iris.csv\"\nfeatures = [\"species\"]\ntargets = [2]");
    assert_mentions(&m, &["iris.csv: column `species` is both a feature and a target"]);
    // A header that did not split: another separator, or UTF-16 text (NUL bytes).
    write(&dir, "semi.csv", "a;b;label\n1;2;x\n");
    let m = error(&dir, "source = \"csv\"\npath = \"semi.csv\"\ntargets = [\"label\"]");
    assert_mentions(
        &m,
        &["no column `label` in the header (`a;b;label`); the header is one column holding `;`: only commas"],
    );
    write(&dir, "tabs.csv", "a\tlabel\n1\tx\n");
    let m = error(&dir, "source = \"csv\"\npath = \"tabs.csv\"\ntargets = [\"label\"]");
    assert_mentions(&m, &["the header is one column holding tabs: only commas separate columns"]);
    let utf16: Vec<u8> = "a,label\n1,x\n".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    write(&dir, "wide.csv", utf16);
    let m = error(&dir, "source = \"csv\"\npath = \"wide.csv\"\ntargets = [\"label\"]");
    assert_mentions(&m, &["the header holds NUL bytes: UTF-16 text? (save the file as UTF-8)"]);
    let m = error(&dir, "source = \"csv\"\npath = \"iris.csv\"\ntargets = [\"label\"]");
    assert!(!m.contains("; the header"), "a header that split says nothing more: {m}");
    // No header row: a first row of numbers with fractions is refused, whichever way the columns
    // are named (by index it trained on the other rows, its features named `2729.36…`); one of
    // whole numbers may be names (pandas writes `0,1,2`), and a name that is not found says so.
    write(&dir, "bare.csv", "2729.36590562509,4.0,1\n1.5,2,0\n");
    for targets in ["[2]", "[\"y\"]"] {
        let m = error(&dir, &format!("source = \"csv\"\npath = \"bare.csv\"\ntargets = {targets}"));
        assert_mentions(
            &m,
            &[
                "bare.csv: the first row is data (2729.36590562509 is a number), not column names: a CSV file's first row must name",
            ],
        );
    }
    // The classic one, iris without its header: numbers and a label.
    write(&dir, "iris_bare.csv", "0.386,0.435,setosa\n0.5,0.2,versicolor\n");
    let m = error(&dir, "source = \"csv\"\npath = \"iris_bare.csv\"\ntargets = [2]\ntask = \"classification\"");
    assert_mentions(&m, &["iris_bare.csv: the first row is data (0.386 is a number)"]);
    // Names with one number among them are names; numbered columns and a label are names when
    // the config names one of them (a spectrum's wavelengths, `class`).
    write(&dir, "named.csv", "width,2.5,label\n1,2,a\n1,3,b\n");
    assert!(load(&dir, "source = \"csv\"\npath = \"named.csv\"\ntargets = [2]\ntask = \"classification\"", 0).is_ok());
    write(&dir, "spectrum.csv", "400.5,401.0,401.5,class\n1,2,3,a\n1,3,4,b\n");
    let spectrum =
        load(&dir, "source = \"csv\"\npath = \"spectrum.csv\"\ntargets = \"class\"\ntask = \"classification\"", 0);
    assert_eq!(spectrum.expect("named by the config").feature_names, ["400.5", "401.0", "401.5"]);
    let m = error(&dir, "source = \"csv\"\npath = \"spectrum.csv\"\ntargets = [3]\ntask = \"classification\"");
    assert_mentions(&m, &["the first row is data (400.5 is a number)"]);
    write(&dir, "whole.csv", "0,1,2\n1.5,2,0\n");
    let m = error(&dir, "source = \"csv\"\npath = \"whole.csv\"\ntargets = [\"y\"]");
    assert_mentions(&m, &["every name in the header is a number: has the file no header row?"]);
    let whole = load(&dir, "source = \"csv\"\npath = \"whole.csv\"\ntargets = [\"2\"]", 0).expect("names");
    assert_eq!(whole.feature_names, ["0", "1"]);
    assert_eq!(whole.train.len(), 1);
    // `inf` and `nan` are names.
    write(&dir, "names.csv", "inf,nan,y\n1.5,2,0\n");
    let m = error(&dir, "source = \"csv\"\npath = \"names.csv\"\ntargets = [\"z\"]");
    assert!(!m.contains("; every name"), "{m}");
}

#[test]
fn io_errors_name_the_file() {
    let dir = scratch("csv-io");
    let m = error(&dir, "source = \"csv\"\npath = \"nope.csv\"\ntargets = [\"y\"]");
    assert_mentions(&m, &["nope.csv: ", "No such file"]);
    let m = error(&dir, "source = \"csv\"\npath = \".\"\ntargets = [\"y\"]");
    assert!(m.starts_with(&dir.display().to_string()), "{m}");
}

#[test]
fn relative_paths_resolve_against_the_base_dir() {
    let dir = scratch("csv-base");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    write(&dir.join("sub"), "iris.csv", IRIS);
    let s =
        load(&dir, "source = \"csv\"\npath = \"sub/iris.csv\"\ntargets = [2]\ntask = \"classification\"", 0).unwrap();
    assert_eq!(s.train.len(), 4);
    let abs = dir.join("sub/iris.csv");
    let s = load(
        std::path::Path::new("/nonexistent"),
        &format!("source = \"csv\"\npath = {abs:?}\ntargets = [\"species\"]\ntask = \"classification\""),
        0,
    );
    assert_eq!(s.unwrap().train.len(), 4);
}

#[test]
fn read_csv_features_reads_named_columns_in_order() {
    let dir = scratch("csv-features");
    let path = write(&dir, "new.csv", "species,sepal_width,sepal_length\n?,3.0,6.5\n?,3.1,6.6\n");
    let x = read_csv_features::<f32>(&path, &["sepal_length".into(), "sepal_width".into()]).unwrap();
    assert_eq!(x, ndarray::array![[6.5f32, 3.0], [6.6, 3.1]]);
    let m = read_csv_features::<f64>(&path, &["sepal_lenght".into()]).unwrap_err().to_string();
    assert_mentions(&m, &["new.csv: no column `sepal_lenght`", "did you mean `sepal_length`?"]);
}

#[test]
fn a_long_record_is_refused_with_its_line() {
    let dir = scratch("csv-long");
    let text = format!("a,y\n1,2\n{},3\n", "7".repeat(3 << 20));
    write(&dir, "long.csv", text);
    let m = error(&dir, "source = \"csv\"\npath = \"long.csv\"\ntargets = [\"y\"]");
    assert_mentions(&m, &["long.csv: line 3: a record longer than 1048576 bytes"]);
}

/// A file that starts with a UTF-8 byte-order mark (as spreadsheet programs write them): its
/// first column is found by its name.
#[test]
fn a_byte_order_mark_is_not_part_of_the_first_name() {
    let dir = scratch("csv-bom");
    write(&dir, "bom.csv", "\u{feff}y,a,b\n0,0,0\n1,1,1\n0,1,0\n");
    let s = load(&dir, "source = \"csv\"\npath = \"bom.csv\"\ntargets = [\"y\"]\ntask = \"regression\"", 0).unwrap();
    assert_eq!(s.feature_names, ["a", "b"]);
    // Before a quoted first name (Excel's "CSV UTF-8" with quoted fields and CRLF): the quotes
    // are the CSV's, the comma inside them part of the name.
    write(&dir, "quoted.csv", b"\xef\xbb\xbf\"y\",\"a,1\",\"b\"\r\n0,0,0\r\n1,1,1\r\n");
    let s = load(&dir, "source = \"csv\"\npath = \"quoted.csv\"\ntargets = [\"y\"]\ntask = \"regression\"", 0).unwrap();
    assert_eq!(s.feature_names, ["a,1", "b"]);
    assert_eq!(s.train.len(), 2);
}

/// Text that is not UTF-8 (a Latin-1 file) is refused where it names something: labels that
/// differ only in such bytes would otherwise be decoded into one class, names into names the
/// config cannot give.
#[test]
fn labels_and_names_that_are_not_utf8_are_refused_naming_the_place() {
    let dir = scratch("csv-latin1");
    write(&dir, "labels.csv", b"a,b,y\n1,2,caf\xe9\n4,5,caf\xe8\n3,3,tea\n");
    let m = error(&dir, "source = \"csv\"\npath = \"labels.csv\"\ntargets = [\"y\"]\ntask = \"classification\"");
    assert_mentions(&m, &["labels.csv: line 2 (data row 1), column `y`: the label is not UTF-8 text"]);
    write(&dir, "names.csv", b"a,\xe9t\xe9,y\n1,2,3\n4,5,6\n");
    let m = error(&dir, "source = \"csv\"\npath = \"names.csv\"\ntargets = [\"y\"]\ntask = \"regression\"");
    assert_mentions(&m, &["names.csv: the header's column 2 is not UTF-8 text"]);
}

/// A column chosen twice as a target (by name, then by index) would be two identical outputs.
#[test]
fn a_target_chosen_twice_is_named() {
    let dir = scratch("csv-twice");
    write(&dir, "d.csv", "a,b,y\n0,0,1\n1,1,2\n");
    let m = error(&dir, "source = \"csv\"\npath = \"d.csv\"\ntargets = [\"y\", 2]\ntask = \"regression\"");
    assert_mentions(&m, &["d.csv: column `y` is chosen twice among the targets"]);
    let m = error(&dir, "source = \"csv\"\npath = \"d.csv\"\ntargets = [\"y\"]\nfeatures = [\"a\", \"a\"]");
    assert_mentions(&m, &["column `a` is chosen twice among the features"]);
}

/// A feature whose range overflows f64 cannot be scaled by minmax: an error naming it, not a
/// scale of 1 that leaves it as it is. Without normalisation it loads, and standardized too
/// (its std, about 1.2e308, does not overflow, though its squares do).
#[test]
fn a_feature_too_large_to_normalize_is_named() {
    let dir = scratch("csv-norm-overflow");
    write(&dir, "d.csv", "a,b,y\n1.7e308,0,0\n-1e300,1,1\n1,0,1\n-1.7e308,1,0\n");
    let text = |normalize: &str| {
        format!(
            "source = \"csv\"\npath = \"d.csv\"\ntargets = [\"y\"]\ntask = \"regression\"\nnormalize = \"{normalize}\""
        )
    };
    let m = error(&dir, &text("minmax"));
    assert_mentions(&m, &["feature `a`: its values are too large to normalize (their range overflows f64)"]);
    assert!(load(&dir, &text("none"), 0).is_ok());
    let standardized = load(&dir, &text("standardize"), 0).expect("a finite mean and std");
    let a: Vec<f64> = standardized.train.inputs.column(0).to_vec();
    let expected = [1.7e308, -1e300, 1.0, -1.7e308].map(|x: f64| (x + 0.25e300) / 1.2021e308);
    assert!(a.iter().zip(expected).all(|(a, e)| (a - e).abs() < 1e-3), "{a:?}");
}

/// Every column a model reads needs a name of its own: the model keeps them, and `predict
/// --csv` picks its columns by them. A name shared by columns read by default (all but the
/// targets), by index, or as feature and target, and a column without a name, are refused;
/// columns left unread may share names or have none.
#[test]
fn the_columns_read_need_names_of_their_own() {
    let dir = scratch("csv-names");
    write(&dir, "dup.csv", "x1,x1,y\n1,2,0\n3,4,1\n");
    let m = error(&dir, "source = \"csv\"\npath = \"dup.csv\"\ntargets = [\"y\"]");
    assert_mentions(&m, &["dup.csv: header: columns 0, 1 (0-based) are all named `x1`", "rename them"]);
    let m = error(&dir, "source = \"csv\"\npath = \"dup.csv\"\ntargets = [\"y\"]\nfeatures = [0, 1]");
    assert_mentions(&m, &["columns 0, 1 (0-based) are all named `x1`"]);
    write(&dir, "same.csv", "x,y,x\n1,2,3\n");
    let m = error(&dir, "source = \"csv\"\npath = \"same.csv\"\ntargets = [2]\nfeatures = [0]");
    assert_mentions(&m, &["columns 0, 2 (0-based) are all named `x`"]);
    write(&dir, "blank.csv", ",x2,y\n1,2,0\n3,4,1\n");
    let m = error(&dir, "source = \"csv\"\npath = \"blank.csv\"\ntargets = [\"y\"]");
    assert_mentions(&m, &["blank.csv: header: column 0 (0-based) has no name"]);
    // Unread columns do not matter.
    write(&dir, "unread.csv", "a,,a,x,y\n9,9,9,1,2\n");
    let s = load(&dir, "source = \"csv\"\npath = \"unread.csv\"\ntargets = [\"y\"]\nfeatures = [\"x\"]", 0).unwrap();
    assert_eq!(s.train.inputs.row(0).to_vec(), vec![1.0]);
}

/// In f32, targets are scaled in f64 and then rounded: prices of 1e8 + k, all one f32 value,
/// stay four targets (rounded first they were all 1e8, scaled to 0); inputs are read as ever.
/// A classification CSV may not scale its labels.
#[test]
fn f32_targets_are_scaled_before_they_are_rounded() {
    let dir = scratch("csv-f32-targets");
    write(&dir, "p.csv", "x,y\n0,100000001\n1,100000002\n2,100000003\n3,100000004\n");
    let text = "source = \"csv\"\npath = \"p.csv\"\ntargets = \"y\"\nnormalize_targets = \"standardize\"";
    let s = spec(text).load_splits::<f32>(&dir, 0).unwrap();
    let t: Vec<f32> = s.train.targets.column(0).to_vec();
    let want = [-1.5, -0.5, 0.5, 1.5].map(|k: f64| (k / 1.25f64.sqrt()) as f32);
    assert_eq!(t, want);
    let mut back = s.train.targets.clone();
    s.target_normalizer.invert(&mut back).unwrap();
    for (k, v) in back.iter().enumerate() {
        // f32 holds 1e8 + k only to its spacing there, 8: back within one spacing.
        assert!((f64::from(*v) - (100_000_001.0 + k as f64)).abs() <= 8.0, "{k}: {v}");
    }
    assert_eq!(s.target_normalizer.shift, [100_000_002.5]);
    // The model's target normalizer given for f32 reads the same way.
    let trained = Trained { target_normalizer: Some(&s.target_normalizer), ..Trained::default() };
    let plain = "source = \"csv\"\npath = \"p.csv\"\ntargets = \"y\"";
    assert_eq!(spec(plain).load_splits_as::<f32>(&dir, 0, trained).unwrap().train.targets, s.train.targets);

    // The inputs are read in f32 as ever, and so are the targets first: a value past f32's
    // range is refused naming its row and column, scaled or not (a model of such targets could
    // not answer in f32).
    write(&dir, "big.csv", "x,y\n0,1e39\n1,3e39\n");
    let big = "source = \"csv\"\npath = \"big.csv\"\ntargets = \"y\"\nnormalize_targets = \"minmax\"";
    for text in [big.to_string(), big.replace("minmax", "none")] {
        let err = spec(&text).load_splits::<f32>(&dir, 0).unwrap_err().to_string();
        assert!(err.contains("line 2 (data row 1), column `y`: 1e39 is beyond f32's range"), "{err}");
    }
    // Inputs as `predict` reads them: rounded to f32, then scaled.
    write(&dir, "fine.csv", "x,y\n1000.0001,1\n1000.0002,2\n1000.0004,3\n");
    let fine = "source = \"csv\"\npath = \"fine.csv\"\ntargets = \"y\"\nnormalize = \"standardize\"";
    let scaled = spec(&format!("{fine}\nnormalize_targets = \"minmax\"")).load_splits::<f32>(&dir, 0).unwrap();
    assert_eq!(scaled.train.inputs, spec(fine).load_splits::<f32>(&dir, 0).unwrap().train.inputs);

    write(&dir, "iris.csv", IRIS);
    let classes = "source = \"csv\"\npath = \"iris.csv\"\ntargets = \"species\"\ntask = \"classification\"\n\
                   normalize_targets = \"standardize\"";
    let err = spec(classes).load::<f64>().unwrap_err().to_string();
    assert!(err.contains("normalize_targets`: scales regression targets; `task = \"classification\"`"), "{err}");
}
