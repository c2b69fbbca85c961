//! Real data through the binary: the example configs train to good results, a CSV with string
//! labels goes train → model.json → predict, IDX files the test writes, and bad data files exit 2
//! with the file and the place.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::util::{backprop, json, scratch};

fn train(config: &str, sets: &[&str], name: &str) -> (TempDir, serde_json::Value) {
    let (tmp, summary, _) = train_logged(config, sets, name);
    (tmp, summary)
}

/// [`train`], and what the run printed on stdout.
fn train_logged(config: &str, sets: &[&str], name: &str) -> (TempDir, serde_json::Value, String) {
    let tmp = scratch(name);
    let out = tmp.path();
    let mut args = vec!["train", config];
    for s in sets {
        args.extend(["--set", s]);
    }
    args.extend(["--out", out.to_str().unwrap()]);
    let run = backprop(&args);
    assert_eq!(run.code, 0, "{config}: {}\n{}", run.stdout, run.stderr);
    let summary = json(&out.join("summary.json"));
    (tmp, summary, run.stdout)
}

#[test]
fn moons_reach_95_percent_validation_accuracy() {
    let (out, s, stdout) = train_logged("configs/moons.toml", &[], "moons");
    assert!(s["val_accuracy"].as_f64().unwrap() >= 0.95, "{s}");
    assert!(s["test_accuracy"].as_f64().unwrap() >= 0.95, "{s}");
    // The report is on the test split when there is one, and train prints its figures.
    assert_eq!(s["report"]["split"], "test", "{s}");
    let accuracy = format!("{:.4}", s["test_accuracy"].as_f64().unwrap());
    assert!(
        stdout.contains(&format!(
            "Test (200 samples): cost {:.4}, accuracy {accuracy}\n",
            s["test_cost"].as_f64().unwrap()
        ))
    );
    let report = &s["report"]["classification"];
    assert_eq!(report["confusion"].as_array().unwrap().len(), 2);
    assert_eq!(report["per_class"][0]["class"], "0");
    // The log line every `log_every = 50` epochs carries the epoch's accuracy and validation
    // figures, as metrics.csv has them (the accuracies to 4 decimals).
    let col = |name| crate::util::column(out.path(), name);
    let (cost, accuracy, val_cost, val_accuracy) = (col("cost"), col("accuracy"), col("val_cost"), col("val_accuracy"));
    let want = format!(
        " Epoch: 50 , Current cost: {:?} , accuracy: {:.4} , val cost: {:?} , val accuracy: {:.4}",
        cost[50], accuracy[50], val_cost[50], val_accuracy[50]
    );
    assert!(stdout.lines().any(|l| l == want), "no line {want:?} in\n{stdout}");
}

#[test]
fn spirals_reach_95_percent_validation_accuracy() {
    let (_, s) = train("configs/spirals.toml", &[], "spirals");
    assert!(s["val_accuracy"].as_f64().unwrap() >= 0.95, "{s}");
}

#[test]
fn sine_regression_fits() {
    let (out, s) = train("configs/sine.toml", &[], "sine");
    let r = &s["report"]["regression"];
    assert_eq!(s["report"]["split"], "validation", "no test split: the validation split");
    assert!(r["r2"].as_f64().unwrap() > 0.95, "{s}");
    assert!(r.get("bits").is_none(), "targets other than 0 and 1 are not bits: {s}");
    assert!(s["val_cost"].as_f64().unwrap() < 0.01, "{s}");
    let header = std::fs::read_to_string(out.path().join("metrics.csv")).unwrap();
    assert!(header.starts_with("epoch,cost,val_cost,lr\n"), "{}", &header[..40]);
}

/// `predict` takes a single output's class at 0.5 for a sigmoid output and at 0 for a logit (an
/// identity output), as training's accuracy does: one hand-written model of each, σ(z) or z of
/// the input itself, on inputs either side of both thresholds.
#[test]
fn predict_takes_a_single_outputs_class_at_its_threshold() {
    let tmp = scratch("predict-threshold");
    for (activation, want) in [("sigmoid", ["no", "yes", "yes"]), ("identity", ["no", "yes", "yes"])] {
        let model = write(
            tmp.path(),
            &format!("{activation}.json"),
            &format!(
                r#"{{"format": "backprop.model", "version": 1, "dtype": "f64", "inputs": 1, "classes": ["no", "yes"],
                    "layers": [{{"units": 1, "activation": "{activation}", "weights": [[1]], "biases": [0]}}]}}"#
            ),
        );
        // σ(−1) = 0.27 is above 0, and a logit of 0.3 below 0.5: each threshold in the other's
        // place would change a label.
        let run = backprop(&["predict", model.to_str().unwrap(), "--input", "-1", "--input", "0.3", "--input", "2"]);
        assert_eq!(run.code, 0, "{activation}: {}", run.stderr);
        let labels: Vec<&str> = run.stdout.lines().map(|l| l.rsplit(" -> ").next().unwrap()).collect();
        assert_eq!(labels, want, "{activation}:\n{}", run.stdout);
    }
}

/// `predict --format csv` names every column once: outputs whose names a feature has are
/// prefixed.
#[test]
fn predict_csv_columns_are_named_once() {
    let tmp = scratch("predict-names");
    let model = write(
        tmp.path(),
        "m.json",
        r#"{"format": "backprop.model", "version": 1, "dtype": "f64", "inputs": 1, "classes": ["no", "yes"],
            "features": ["class"], "layers": [{"units": 1, "activation": "sigmoid", "weights": [[1]], "biases": [0]}]}"#,
    );
    let run = backprop(&["predict", model.to_str().unwrap(), "--input", "2", "--format", "csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().next(), Some("class,predicted_output_1,predicted_class"), "{}", run.stdout);
    assert!(
        run.stdout.lines().nth(1).is_some_and(|l| l.starts_with("2,0.88") && l.ends_with(",yes")),
        "{}",
        run.stdout
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const IRIS_LIKE: &str = "sepal,petal,species\n";

/// A small three-class table with string labels, written here.
fn flowers(dir: &Path) -> PathBuf {
    let mut text = String::from(IRIS_LIKE);
    for i in 0..90 {
        let (species, (a, b)) = match i % 3 {
            0 => ("setosa", (1.0, 0.2)),
            1 => ("versicolor", (2.0, 1.5)),
            _ => ("virginica", (3.0, 2.5)),
        };
        let jitter = backprop_tensor::math::sin(i as f64 * 0.37) * 0.2;
        text.push_str(&format!("{:.3},{:.3},{species}\n", a + jitter, b - jitter));
    }
    write(dir, "flowers.csv", &text)
}

fn csv_config(dir: &Path, data: &Path) -> PathBuf {
    let config = format!(
        "[experiment]\nname = \"flowers\"\nseed = 3\n\n[data]\nsource = \"csv\"\npath = {:?}\ntargets = [\"species\"]\n\
         task = \"classification\"\nvalidation = 0.2\nnormalize = \"standardize\"\n\n[model]\nhidden = [8]\n\
         activation = \"tanh\"\noutput_activation = \"softmax\"\n\n[loss]\nkind = \"cross_entropy\"\n\n[optim]\n\
         kind = \"adam\"\nlr = 0.05\n\n[train]\nepochs = 100\nbatch_size = 16\nlog_every = 0\n",
        data.file_name().unwrap().to_str().unwrap()
    );
    write(dir, "flowers.toml", &config)
}

/// The flowers table and its config in a fresh scratch folder, trained: the folder, the run's
/// folder, the config and the run's summary.
fn trained_flowers(name: &str) -> (TempDir, TempDir, PathBuf, serde_json::Value) {
    let tmp = scratch(name);
    let data = flowers(tmp.path());
    let config = csv_config(tmp.path(), &data);
    let (out, summary) = train(config.to_str().unwrap(), &[], &format!("{name}-run"));
    (tmp, out, config, summary)
}

#[test]
fn csv_with_string_labels_trains_and_predicts_labels() {
    let (tmp, out, config, s) = trained_flowers("flowers");
    let dir = tmp.path();
    assert!(s["val_accuracy"].as_f64().unwrap() >= 0.9, "{s}");
    let model = out.path().join("model.json");
    let m = json(&model);
    assert_eq!(m["classes"], serde_json::json!(["setosa", "versicolor", "virginica"]));
    assert_eq!(m["features"], serde_json::json!(["sepal", "petal"]));
    assert_eq!(m["normalizer"]["kind"], "standardize");

    let run = backprop(&["predict", model.to_str().unwrap(), "--input", "1.0,0.2", "--input", "3.0,2.5"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].ends_with("-> setosa") && lines[1].ends_with("-> virginica"), "{}", run.stdout);

    let query = write(dir, "query.csv", "petal,extra,sepal\n1.5,x,2.0\n0.2,y,1.0\n");
    let run = backprop(&["predict", model.to_str().unwrap(), "--csv", query.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].ends_with("-> versicolor") && lines[1].ends_with("-> setosa"), "{}", run.stdout);
    // The same as CSV and as JSON: the model's feature order, every output in full, the class.
    let as_format = |format: &str| {
        let run = backprop(&["predict", model.to_str().unwrap(), "--csv", query.to_str().unwrap(), "--format", format]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let csv = as_format("csv");
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0], ["sepal", "petal", "output_setosa", "output_versicolor", "output_virginica", "class"], "{csv}");
    assert_eq!(
        (&rows[1][..2], rows[1][5], &rows[2][..2], rows[2][5]),
        (&["2", "1.5"][..], "versicolor", &["1", "0.2"][..], "setosa")
    );
    let json: serde_json::Value = serde_json::from_str(&as_format("json")).expect("JSON");
    assert_eq!(json[0]["input"], serde_json::json!([2.0, 1.5]));
    assert_eq!(json[1]["class"], "setosa");
    for (k, cell) in rows[1][2..5].iter().enumerate() {
        assert_eq!(
            cell.parse::<f64>().unwrap(),
            json[0]["output"][k].as_f64().unwrap(),
            "the same numbers, to the bit"
        );
    }

    let run = backprop(&["eval", model.to_str().unwrap(), config.to_str().unwrap(), "--split", "validation"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("split: validation (18 samples)") && run.stdout.contains("accuracy:"),
        "{}",
        run.stdout
    );
    // The report as scikit-learn's classification_report prints it, each class a row.
    assert!(run.stdout.contains("precision  recall  f1-score  support"), "{}", run.stdout);
    assert!(run.stdout.lines().any(|l| l.starts_with("versicolor ")), "{}", run.stdout);
    assert!(run.stdout.contains("confusion matrix (rows: true class, columns: predicted class):"), "{}", run.stdout);
    assert!(!run.stderr.contains("warning"), "the model's own training split: {}", run.stderr);
    // Another seed splits the rows otherwise: the validation split now holds rows the model
    // trained on, which eval counts (its training set rebuilt from its provenance) and says (and
    // measures all the same).
    let args = ["eval", model.to_str().unwrap(), config.to_str().unwrap(), "--split", "validation"];
    let run = backprop(&[&args[..], &["--set", "experiment.seed=99"]].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("warning: 13 of the 18 samples of the validation split are identical to samples "),
        "{}",
        run.stderr
    );
    // A test split read from its own file holds no training rows unless it repeats one: this
    // one's second row is the table's first (i = 0: no jitter), which the model trained on.
    let own_file = format!("data.test_path={:?}", dir.join("query.csv").to_str().unwrap());
    let query = write(dir, "query.csv", "petal,sepal,species\n1.5,2.0,versicolor\n0.2,1.0,setosa\n");
    assert!(query.is_file());
    let args = ["eval", model.to_str().unwrap(), config.to_str().unwrap(), "--split", "test"];
    let run = backprop(&[&args[..], &["--set", &own_file, "--set", "experiment.seed=99"]].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("split: test (2 samples)"), "{}", run.stdout);
    assert!(
        run.stderr.contains("warning: 1 of the 2 samples of the test split is identical to a sample "),
        "{}",
        run.stderr
    );
    // ... unless that file is the training source itself (the model trained on 80% of it) ...
    let table = format!("data.test_path={:?}", dir.join("flowers.csv").to_str().unwrap());
    let run = backprop(&["eval", model.to_str().unwrap(), config.to_str().unwrap(), "--set", &table]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("warning: 72 of the 90 samples of the test split are identical to samples "),
        "{}",
        run.stderr
    );
    // ... or the file the model's own run trained from, by its provenance, though this config
    // reads another source.
    let other = "1.0,0.2,setosa\n2.0,1.5,versicolor\n3.0,2.5,virginica\n";
    write(dir, "other.csv", &format!("{IRIS_LIKE}{other}"));
    let query_source = format!("data.path={:?}", dir.join("other.csv").to_str().unwrap());
    let sets = ["--set", &query_source, "--set", &table, "--set", "data.validation=0"];
    let run = backprop(&[&["eval", model.to_str().unwrap(), config.to_str().unwrap()][..], &sets].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("warning: 72 of the 90 samples of the test split are identical to samples "),
        "{}",
        run.stderr
    );
    // ... or holds what the model trained on: one trained on the whole table, measured on the
    // same rows written otherwise (CRLF line ends: not a copy by its bytes, the same data).
    let (whole, _) = train(config.to_str().unwrap(), &["data.validation=0"], "flowers-whole");
    let whole_model = whole.path().join("model.json");
    let crlf = std::fs::read_to_string(dir.join("flowers.csv")).unwrap().replace('\n', "\r\n");
    write(dir, "copy.csv", &crlf);
    let copy = format!("data.test_path={:?}", dir.join("copy.csv").to_str().unwrap());
    let run = backprop(&["eval", whole_model.to_str().unwrap(), config.to_str().unwrap(), "--set", &copy]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("warning: 90 of the 90 samples of the test split are identical to samples "),
        "{}",
        run.stderr
    );

    let run = backprop(&["predict", model.to_str().unwrap(), "--input", "1.0"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("the model takes 2 inputs"), "{}", run.stderr);
    // A value that is not finite is quoted, and its place given as such.
    let run = backprop(&["predict", model.to_str().unwrap(), "--input", "7, 1e999"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--input #1: `1e999` (value 2 of 2) is not a finite number"), "{}", run.stderr);
}

/// `eval` on other data reads it as the model does: the model's classes (in its order; a label
/// it does not know exits 2 with the file and the row) and its normalizer, not ones found from
/// the data evaluated.
#[test]
fn eval_reads_other_data_with_the_models_classes_and_normalizer() {
    let (tmp, out, config, _) = trained_flowers("flowers-eval");
    let dir = tmp.path();
    let model = out.path().join("model.json");
    let eval = |file: &str| {
        let path = format!("data.path={:?}", dir.join(file));
        let args = ["eval", model.to_str().unwrap(), config.to_str().unwrap(), "--set", &path];
        backprop(&[&args[..], &["--set", "data.validation=0", "--split", "train"]].concat())
    };

    // One class only, all at its centre: standardised on these rows alone they would all be 0.
    write(dir, "virginica.csv", &format!("{IRIS_LIKE}3.0,2.5,virginica\n3.0,2.5,virginica\n3.0,2.5,virginica\n"));
    let run = eval("virginica.csv");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("accuracy: 1.0\n"), "{}", run.stdout);
    // Every class of the model, in its order, with the samples' 3 under virginica.
    let start = run.stdout.find("confusion matrix").unwrap();
    let matrix: Vec<&str> = run.stdout[start..].lines().skip(1).collect();
    assert_eq!(
        matrix[0].split_whitespace().collect::<Vec<_>>(),
        ["setosa", "versicolor", "virginica"],
        "{}",
        run.stdout
    );
    assert_eq!(matrix[3].split_whitespace().collect::<Vec<_>>(), ["virginica", "0", "0", "3"], "{}", run.stdout);

    write(dir, "unseen.csv", &format!("{IRIS_LIKE}1.0,0.2,setosa\n2.0,1.5,rosa\n"));
    let run = eval("unseen.csv");
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("unseen.csv") && run.stderr.contains("\"rosa\" is not a class"), "{}", run.stderr);

    // Other columns, read by position, would mean nothing: refused as `predict --csv` refuses.
    let header = IRIS_LIKE.lines().next().unwrap();
    let renamed = IRIS_LIKE.replacen(header, "width,length,species", 1);
    write(dir, "renamed.csv", &format!("{renamed}3.0,2.5,virginica\n"));
    let run = eval("renamed.csv");
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("the model was trained on the features ["), "{}", run.stderr);
    assert!(run.stderr.contains("and the config's data has [width, length]"), "{}", run.stderr);
    // Another count of features, or other labels, failed first on the normalizer's count or the
    // classes (`the data has 3 features, the model's normalizer scales 2`): the features are
    // the reason, said against the model file.
    let three = "sepal,petal,depth,species\n3.0,2.5,1.0,virginica\n1.0,0.5,1.0,setosa\n";
    write(dir, "three.csv", three);
    let run = eval("three.csv");
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!("{}: the model was trained on the features [", model.display())),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(", depth]"), "{}", run.stderr);
}

/// MNIST-format files written by the test (three 2×2 "images" per class), raw and gzipped.
#[test]
fn idx_files_train() {
    let tmp = scratch("idx");
    let dir = tmp.path();
    let (mut images, mut labels) =
        (vec![0, 0, 8, 3, 0, 0, 0, 30, 0, 0, 0, 2, 0, 0, 0, 2], vec![0, 0, 8, 1, 0, 0, 0, 30]);
    for i in 0..30u8 {
        let class = i % 3;
        let mut px = [10u8, 10, 10, 10];
        px[class as usize] = 250;
        images.extend_from_slice(&px);
        labels.push(class);
    }
    std::fs::write(dir.join("images.idx"), &images).unwrap();
    std::fs::write(dir.join("labels.idx"), &labels).unwrap();
    let config = write(
        dir,
        "idx.toml",
        "[data]\nsource = \"idx\"\nimages = \"images.idx\"\nlabels = \"labels.idx\"\n\n[model]\nhidden = [8]\n\
         activation = \"relu\"\noutput_activation = \"softmax\"\n\n[loss]\nkind = \"cross_entropy\"\n\n[optim]\n\
         kind = \"adam\"\nlr = 0.05\n\n[train]\nepochs = 60\nlog_every = 0\n",
    );
    let (_, s) = train(config.to_str().unwrap(), &[], "idx-run");
    assert_eq!(s["report"]["classification"]["accuracy"].as_f64(), Some(1.0), "{s}");
    assert_eq!(s["report"]["split"], "train", "no held-out split: the training set");
}

/// IDX files whose pixels, as the run's values, take more memory than the process may have
/// (`ulimit -v`: 2²⁸ pixels, 256 MiB as bytes, 2 GiB as f64, under a 1 GB limit) are refused
/// naming the file (exit 2); before, the failed allocation aborted the process (exit 134). A
/// gzip file of a megabyte holds as much. The files here are sparse: no disk is used.
#[cfg(target_os = "linux")]
#[test]
fn idx_files_too_large_for_memory_are_refused() {
    let tmp = scratch("idx-too-large");
    let dir = tmp.path();
    let n: u32 = 1 << 20;
    let sparse = |name: &str, header: &[u8], data: u64| {
        let file = std::fs::File::create(dir.join(name)).unwrap();
        std::io::Write::write_all(&mut &file, header).unwrap();
        file.set_len(header.len() as u64 + data).unwrap();
    };
    let images = [[0, 0, 8, 3].as_slice(), &n.to_be_bytes(), &16u32.to_be_bytes(), &16u32.to_be_bytes()].concat();
    sparse("images.idx", &images, u64::from(n) * 256);
    sparse("labels.idx", &[[0, 0, 8, 1].as_slice(), &n.to_be_bytes()].concat(), u64::from(n));
    write(
        dir,
        "idx.toml",
        "[data]\nsource = \"idx\"\nimages = \"images.idx\"\nlabels = \"labels.idx\"\n[train]\nepochs = 1\n",
    );
    let run = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1000000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_backprop-e2e"))
        .args(["train", "idx.toml", "--set", "experiment.dtype=\"f64\"", "--out", "run"])
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", "2")
        .env("MALLOC_ARENA_MAX", "2")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "images.idx: its 1048576 samples take 2.0 GiB as f64 values, more than this machine can allocate"
        ),
        "{stderr}"
    );
}

/// Runs `backprop train` on a config whose data is `file` (CSV unless `idx`), and checks exit 2
/// with every expected fragment in the message.
fn bad_data(name: &str, data: &str, targets: &str, expected: &[&str]) {
    let tmp = scratch(&format!("bad-data-{name}"));
    let dir = tmp.path();
    write(dir, "d.csv", data);
    let config = format!(
        "[data]\nsource = \"csv\"\npath = \"d.csv\"\ntargets = [{targets}]\ntask = \"classification\"\n\n[train]\nepochs = 1\n"
    );
    let path = write(dir, "c.toml", &config);
    let run = backprop(&["train", path.to_str().unwrap(), "--out", dir.join("run").to_str().unwrap()]);
    assert_eq!(run.code, 2, "{name}: {}", run.stderr);
    for want in expected {
        assert!(run.stderr.contains(want), "{name}: no {want:?} in {}", run.stderr);
    }
}

#[test]
fn ragged_row() {
    bad_data("ragged", "a,b,y\n1,2,x\n3,y\n", "\"y\"", &["d.csv", "row 2", "3"]);
}

#[test]
fn non_numeric_cell() {
    bad_data("nonnum", "a,b,y\n1,2,x\n3,oops,y\n", "\"y\"", &["d.csv", "row 2", "oops"]);
}

#[test]
fn empty_file() {
    bad_data("empty", "", "\"y\"", &["d.csv", "empty"]);
}

#[test]
fn missing_column() {
    // Named by the config: the config's place and key too.
    bad_data(
        "missing",
        "a,b,label\n1,2,x\n",
        "\"lable\"",
        &["c.toml:4:1", "`data.targets`", "d.csv", "lable", "label"],
    );
}

#[test]
fn unseen_label_in_a_test_file() {
    let tmp = scratch("bad-data-unseen");
    let dir = tmp.path();
    write(dir, "train.csv", "a,y\n1,x\n2,z\n3,x\n4,z\n");
    write(dir, "test.csv", "a,y\n1,x\n2,w\n");
    let path = write(
        dir,
        "c.toml",
        "[data]\nsource = \"csv\"\npath = \"train.csv\"\ntest_path = \"test.csv\"\ntargets = [\"y\"]\ntask = \"classification\"\n\n[train]\nepochs = 1\n",
    );
    let run = backprop(&["train", path.to_str().unwrap(), "--out", dir.join("run").to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("test.csv") && run.stderr.contains("w"), "{}", run.stderr);
}

fn bad_idx(name: &str, images: &[u8], expected: &[&str]) {
    let tmp = scratch(&format!("bad-idx-{name}"));
    let dir = tmp.path();
    std::fs::write(dir.join("i.idx"), images).unwrap();
    std::fs::write(dir.join("l.idx"), [0u8, 0, 8, 1, 0, 0, 0, 1, 0]).unwrap();
    let path = write(
        dir,
        "c.toml",
        "[data]\nsource = \"idx\"\nimages = \"i.idx\"\nlabels = \"l.idx\"\n\n[train]\nepochs = 1\n",
    );
    let run = backprop(&["train", path.to_str().unwrap(), "--out", dir.join("run").to_str().unwrap()]);
    assert_eq!(run.code, 2, "{name}: {}", run.stderr);
    for want in expected {
        assert!(run.stderr.contains(want), "{name}: no {want:?} in {}", run.stderr);
    }
}

#[test]
fn idx_wrong_magic() {
    bad_idx("magic", &[0, 0, 9, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7], &["i.idx", "magic"]);
}

#[test]
fn idx_truncated() {
    bad_idx(
        "truncated",
        &[0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3],
        &["i.idx", "truncated", "800 bytes"],
    );
}

#[test]
fn idx_claiming_a_trillion_items_is_refused_before_allocating() {
    bad_idx("huge", &[0, 0, 8, 3, 0xE8, 0xD4, 0xA5, 0x10, 0, 0, 0, 28, 0, 0, 0, 28], &["i.idx"]);
}

/// `configs/mnist.toml` is a valid config; without the user's files it exits 2 naming the file.
#[test]
fn mnist_config_names_the_missing_files() {
    let tmp = scratch("mnist-missing");
    let out = tmp.path();
    let run = backprop(&["train", "configs/mnist.toml", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("train-images-idx3-ubyte.gz"), "{}", run.stderr);
}

/// `predict` on inputs whose sums overflow a relu net: no NaN printed with exit 0 (exit 2, the
/// input named), and huge numbers in exponent form, not 300 digits.
#[test]
fn predict_refuses_outputs_that_are_not_finite() {
    let tmp = scratch("predict-overflow");
    let out = tmp.path();
    let sets = ["model.activation=relu", "model.output_activation=identity", "model.hidden=[4, 4]", "train.epochs=5"];
    let run = crate::util::train_half_adder(out, &sets);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let model = out.join("model.json");
    let run = backprop(&["predict", model.to_str().unwrap(), "--input", "1e308,-1e308"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("(1e308, -1e308) : [") && run.stdout.len() < 100, "{}", run.stdout);
    let run = backprop(&["predict", model.to_str().unwrap(), "--input", "1,1", "--input=-1.7e308,-1.7e308"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("--input #2: the model's output is not finite"), "{}", run.stderr);
}

/// A config in a folder whose name is not UTF-8 reads its data beside it: the folder's path,
/// made absolute, cannot be a TOML string, and the lossy one named a file that does not exist.
#[cfg(unix)]
#[test]
fn data_beside_a_config_in_a_non_utf8_folder_is_found() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = scratch("non-utf8");
    let folder = tmp.path().join(std::ffi::OsStr::from_bytes(b"nd\xffir"));
    std::fs::create_dir(&folder).unwrap();
    write(&folder, "data.csv", "a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n");
    let config = write(
        &folder,
        "c.toml",
        "[data]\nsource = \"csv\"\npath = \"data.csv\"\ntargets = [\"y\"]\n[train]\nepochs = 3\n",
    );
    let out = tmp.path().join("out");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_backprop-e2e"))
        .arg("train")
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(out.join("summary.json").exists());
}

/// `eval` measures in the config's dtype, as training did: an f32 run's validation cost is the
/// summary's to the bit in full batch (in f64 it differed from the eighth digit), and within
/// f32's rounding in mini-batches (measured a batch at a time there).
#[test]
fn eval_measures_in_the_runs_dtype() {
    let tmp = scratch("eval-f32");
    for (batch, exact) in [("\"full\"", true), ("32", false)] {
        let out = tmp.path().join(if exact { "full" } else { "batches" });
        let set = format!("train.batch_size={batch}");
        let sets = ["experiment.dtype=\"f32\"", "train.epochs=20", &set];
        let mut args = vec!["train", "configs/moons.toml", "--out", out.to_str().unwrap()];
        sets.iter().for_each(|s| args.extend(["--set", s]));
        let run = backprop(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let summary = json(&out.join("summary.json"));
        let (model, config) = (out.join("model.json"), out.join("config.toml"));
        let run = backprop(&["eval", model.to_str().unwrap(), config.to_str().unwrap(), "--split", "validation"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let cost: f64 = run.stdout.lines().find_map(|l| l.strip_prefix("cost: ")).unwrap().parse().unwrap();
        let val_cost = summary["val_cost"].as_f64().unwrap();
        if exact {
            assert_eq!(cost.to_bits(), val_cost.to_bits(), "{cost} against {val_cost}");
        } else {
            assert!((cost / val_cost - 1.0).abs() < 1e-6, "{cost} against {val_cost}");
        }
    }
}

/// Training samples all of one class are refused where the source knows of more classes (an
/// IDX file's ten digits, the two moons), as a CSV with one label is: nothing to learn.
#[test]
fn training_samples_of_one_class_are_refused() {
    let moons = ["train", "configs/moons.toml", "--set", "data.samples=1", "--set", "data.validation=0"];
    let run = backprop(&[&moons[..], &["--set", "data.test=0"]].concat());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("the training samples are all of one class (`1`)"), "{}", run.stderr);
    let tmp = scratch("idx-one-class");
    let dir = tmp.path();
    let mut images = vec![0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1];
    images.extend([1, 2, 3, 4]);
    std::fs::write(dir.join("images.idx"), &images).unwrap();
    std::fs::write(dir.join("labels.idx"), [0, 0, 8, 1, 0, 0, 0, 4, 7, 7, 7, 7]).unwrap();
    let config = write(
        dir,
        "idx.toml",
        "[data]\nsource = \"idx\"\nimages = \"images.idx\"\nlabels = \"labels.idx\"\n[train]\nepochs = 1\n",
    );
    let out = dir.join("run");
    let run = backprop(&["train", config.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("images.idx: the training samples are all of one class (`7`)"), "{}", run.stderr);
    // A CSV of one label: its file named too.
    write(dir, "one.csv", "a,b,y\n0,1,x\n1,0,x\n");
    let csv = write(
        dir,
        "csv.toml",
        "[data]\nsource = \"csv\"\npath = \"one.csv\"\ntargets = [\"y\"]\ntask = \"classification\"\n[train]\nepochs = 1\n",
    );
    let run = backprop(&["train", csv.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("key `data`: one.csv: the training data has a single class"), "{}", run.stderr);
}

/// `predict` refuses an input that the model's normalizer scales past f64's range (finite as
/// written), naming it: the network saw an infinite input and could still print a label.
#[test]
fn predict_refuses_an_input_its_normalizer_takes_past_the_range() {
    let (tmp, out, _, _) = trained_flowers("flowers-scaled-overflow");
    let mut model = json(&out.path().join("model.json"));
    model["normalizer"]["scale"][0] = 0.5.into();
    let path = tmp.path().join("scaled.json");
    std::fs::write(&path, model.to_string()).unwrap();
    let run = backprop(&["predict", path.to_str().unwrap(), "--input", "1.7e308,1"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("--input #1: value 1 (1.7e308) is beyond f64's range once scaled by the model's normalizer"),
        "{}",
        run.stderr
    );
    assert_eq!(backprop(&["predict", path.to_str().unwrap(), "--input", "1,1"]).code, 0);
}

/// `train` prints the data's warnings on stderr (a label written in two cases made a class of
/// one sample, silently).
#[test]
fn train_warns_of_a_class_of_one_sample() {
    let tmp = scratch("class-warning");
    let dir = tmp.path();
    write(dir, "t.csv", "a,label\n1,setosa\n2,setosa\n3,versicolor\n4,Setosa\n5,versicolor\n");
    let config = dir.join("t.toml");
    std::fs::write(
        &config,
        "[data]\nsource = \"csv\"\npath = \"t.csv\"\ntargets = \"label\"\ntask = \"classification\"\n[train]\nepochs = 2\n",
    )
    .unwrap();
    let run = backprop(&["train", config.to_str().unwrap(), "--out", dir.join("run").to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("warning: t.csv: the classes `Setosa` (1 sample) and `setosa` (2 samples)"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("warning: "), "on stderr, as eval's are: {}", run.stdout);
}

/// A model file without a normalizer scales nothing, in `eval` as in `predict` (eval fitted
/// the config's scaling on the data it evaluated, so the two disagreed on the same file).
#[test]
fn eval_and_predict_read_a_model_without_a_normalizer_alike() {
    let (tmp, out, config, _) = trained_flowers("flowers-no-normalizer");
    let model = out.path().join("model.json");
    let mut m = json(&model);
    m.as_object_mut().unwrap().remove("normalizer").expect("a standardized model");
    let bare = tmp.path().join("bare.json");
    std::fs::write(&bare, serde_json::to_string(&m).unwrap()).unwrap();
    let eval = |model: &Path| {
        let args = [
            "eval",
            model.to_str().unwrap(),
            config.to_str().unwrap(),
            "--split",
            "train",
            "--set",
            "data.validation=0",
        ];
        let run = backprop(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout.lines().find(|l| l.starts_with("cost: ")).expect("a cost").to_string()
    };
    assert_ne!(eval(&model), eval(&bare), "the bare model sees the raw inputs");
    // The bare model's cost is its outputs' on the raw inputs: those `predict` gives.
    let data = std::fs::read_to_string(tmp.path().join("flowers.csv")).unwrap();
    let first: Vec<&str> = data.lines().nth(1).unwrap().split(',').collect();
    let input = format!("{},{}", first[0], first[1]);
    let run = backprop(&[
        "explain",
        config.to_str().unwrap(),
        "--model",
        bare.to_str().unwrap(),
        "--input",
        &input,
        "--target",
        first[2],
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let explained: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(explained.get("normalized").is_none(), "x is the raw input: {explained}");
    let predicted = backprop(&["predict", bare.to_str().unwrap(), "--input", &input, "--format", "json"]);
    let predicted: serde_json::Value = serde_json::from_str(&predicted.stdout).unwrap();
    assert_eq!(predicted[0]["output"], explained["layers"][1]["a"], "explain and predict, the same outputs");
}

/// House prices (10⁵) through `normalize_targets = "standardize"`: the network learns the
/// standardised prices (its costs in their units), the model file carries their scaling and
/// names, `predict` answers in the prices' own units under the target's name, and the report
/// scores in them (its MSE is the scaled cost times the scale²). A classification config may
/// not scale its labels.
#[test]
fn regression_targets_scaled_train_and_predict_in_their_own_units() {
    let tmp = scratch("target-scaling");
    let dir = tmp.path();
    let mut text = String::from("rooms,area,price\n");
    for i in 0..120 {
        let (rooms, area) = (1 + i % 5, 40.0 + 1.5 * i as f64);
        let price = 50_000.0 + 12_000.0 * rooms as f64 + 900.0 * area + 3_000.0 * backprop_tensor::math::sin(i as f64);
        text.push_str(&format!("{rooms},{area},{price:.2}\n"));
    }
    write(dir, "houses.csv", &text);
    let config = write(
        dir,
        "houses.toml",
        "[experiment]\nname = \"houses\"\nseed = 5\n\n[data]\nsource = \"csv\"\npath = \"houses.csv\"\ntargets = \"price\"\n\
         validation = 0.25\nnormalize = \"standardize\"\nnormalize_targets = \"standardize\"\n\n[model]\nhidden = []\n\
         output_activation = \"identity\"\n\n[loss]\nkind = \"mse\"\n\n[optim]\nkind = \"sgd\"\nlr = 0.1\n\n\
         [train]\nepochs = 300\nlog_every = 0\n",
    );
    let (out, s, stdout) = train_logged(config.to_str().unwrap(), &[], "target-scaling-run");
    let report = &s["report"]["regression"];
    // As Keras's evaluate after fit: the held-out figures, four decimals (the MSE of prices in
    // an exponent form).
    let line = stdout.lines().find(|l| l.starts_with("Validation (30 samples): cost 0.00")).expect("a report line");
    let r2 = format!("{:.4}", report["r2"].as_f64().unwrap());
    assert!(line.contains(&format!(", R² {r2}, MSE ")) && line.contains("e6, MAE "), "{line}");
    assert!(report["r2"].as_f64().unwrap() > 0.99, "{s}");
    // The cost is the scaled targets' (a linear fit leaves the sine's 3 000 of 10⁵ unexplained:
    // a cost of about 1e-3), the report's MSE the prices' own.
    let (cost, mse) = (s["val_cost"].as_f64().unwrap(), report["mse"].as_f64().unwrap());
    let model_path = out.path().join("model.json");
    let m = json(&model_path);
    assert_eq!(m["version"], 2);
    assert_eq!(m["targets"], serde_json::json!(["price"]));
    assert_eq!(m["target_normalizer"]["kind"], "standardize");
    let (shift, scale) =
        (m["target_normalizer"]["shift"][0].as_f64().unwrap(), m["target_normalizer"]["scale"][0].as_f64().unwrap());
    assert!((150_000.0..300_000.0).contains(&shift) && scale > 10_000.0, "{m}");
    assert!(cost < 0.01, "{s}");
    assert!(((mse - cost * scale * scale) / mse).abs() < 1e-9, "mse {mse}, cost {cost}, scale {scale}");

    // predict: the network's (scaled) output, times the scale, plus the shift, under `price`.
    let query = write(dir, "query.csv", "area,rooms\n100,3\n");
    let run = backprop(&["predict", model_path.to_str().unwrap(), "--csv", query.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(rows[0], "rooms,area,predicted_price", "{}", run.stdout);
    let price: f64 = rows[1].rsplit(',').next().unwrap().parse().unwrap();
    let truth = 50_000.0 + 12_000.0 * 3.0 + 900.0 * 100.0;
    assert!((price - truth).abs() < 5_000.0, "{price} against {truth}");
    let mut unscaled = m.clone();
    unscaled.as_object_mut().unwrap().remove("target_normalizer");
    let raw_model = write(dir, "raw.json", &unscaled.to_string());
    let run = backprop(&["predict", raw_model.to_str().unwrap(), "--csv", query.to_str().unwrap(), "--format", "csv"]);
    let raw: f64 = run.stdout.lines().nth(1).unwrap().rsplit(',').next().unwrap().parse().unwrap();
    assert!(raw.abs() < 10.0, "the network's own output is a scaled price: {raw}");
    assert_eq!(price, raw * scale + shift, "scaled back in f64, the model's dtype");
    // The library's `ModelFile::predict` is the command's, to the bit.
    let file = backprop_cli::model_file::ModelFile::read(&model_path).unwrap();
    let library = file.predict::<f64>(ndarray::array![[3.0, 100.0]].view()).unwrap();
    assert_eq!(library[[0, 0]], price);

    // eval reads the data as the model sees it: the same cost and report as the run's.
    let run = backprop(&["eval", model_path.to_str().unwrap(), config.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&format!("cost: {cost}")), "{}\n{s}", run.stdout);
    let json = backprop(&["eval", model_path.to_str().unwrap(), config.to_str().unwrap(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("eval --format json");
    assert_eq!(json["regression"]["mse"].as_f64(), Some(mse), "{json}\n{s}");
    let all = run.stdout.lines().find(|l| l.starts_with("all outputs")).expect("the report's line");
    assert_eq!(all.split_whitespace().nth(3), Some(backprop_cli::report::figure(mse).as_str()), "{}", run.stdout);
    assert!(run.stdout.contains("(the cost is of the targets scaled by the model's target normalizer"));
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    // In another dtype than the model's, it says so.
    let run = backprop(&[
        "eval",
        model_path.to_str().unwrap(),
        config.to_str().unwrap(),
        "--set",
        "experiment.dtype=\"f32\"",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("warning: the model was trained in f64, and eval computes in the config's f32"));

    // explain: the target as the network learns it, scaled as the data's, and said so.
    let run = backprop(&[
        "explain",
        config.to_str().unwrap(),
        "--model",
        model_path.to_str().unwrap(),
        "--input",
        "3,100",
        "--target",
        "176000",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let e: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(e["target_normalized"], true, "{e}");
    assert_eq!(e["target"][0].as_f64().unwrap(), (176_000.0 - shift) / scale, "{e}");
    let run = backprop(&["explain", config.to_str().unwrap(), "--model", model_path.to_str().unwrap()]);
    assert!(run.stdout.contains("(t as the network learns it: the target scaled by the data's target normalizer)"));

    // Data whose targets are not the model's (another name, another order) is refused, not
    // scaled by another target's shift and scale.
    let with_rent: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{l},{}\n", if i == 0 { "rent".into() } else { i.to_string() }))
        .collect();
    let rents = write(dir, "rents.csv", &with_rent);
    let rents_path = format!("data.path={:?}", rents.to_str().unwrap());
    let run = backprop(&[
        "eval",
        model_path.to_str().unwrap(),
        config.to_str().unwrap(),
        "--set",
        &rents_path,
        "--set",
        "data.targets=\"rent\"",
        "--set",
        "data.features=[\"rooms\", \"area\"]",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("the model was trained on the targets [price], and the config's data has [rent]"),
        "{}",
        run.stderr
    );

    // Fine-tuning from this model with targets unscaled says that its weights start in other
    // units; with the same scaling it says nothing.
    let init = format!("model.init_from={:?}", model_path.to_str().unwrap());
    for (scaling, said) in [("none", true), ("standardize", false)] {
        let targets = format!("data.normalize_targets=\"{scaling}\"");
        let out = dir.join(format!("tuned-{scaling}"));
        let args =
            ["train", config.to_str().unwrap(), "--set", &init, "--set", &targets, "--out", out.to_str().unwrap()];
        let run = backprop(&args);
        let warning = "its `normalize_targets` was standardize, this run's is none: its weights start in other units";
        assert_eq!(run.stderr.contains(warning), said, "{scaling}: {}", run.stderr);
    }

    // Class labels are not scaled.
    let run = backprop(&[
        "train",
        config.to_str().unwrap(),
        "--set",
        "data.task=\"classification\"",
        "--out",
        dir.join("refused").to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("houses.toml:11:1: key `data.normalize_targets`: scales regression targets"),
        "{}",
        run.stderr
    );
}

/// A regression on targets of 10⁵ that diverges unscaled names `normalize_targets`; scaled, the
/// same run trains, and prints its outputs in the targets' units.
#[test]
fn a_diverging_regression_on_large_targets_hints_at_scaling_them() {
    let tmp = scratch("target-hint");
    let dir = tmp.path();
    write(dir, "tiny.csv", "x,y\n1,100000\n2,200000\n3,300000\n4,400000\n5,500000\n");
    let config = write(
        dir,
        "tiny.toml",
        "[data]\nsource = \"csv\"\npath = \"tiny.csv\"\ntargets = \"y\"\n[model]\nhidden = []\n\
         output_activation = \"identity\"\n[loss]\nkind = \"mse\"\n[optim]\nkind = \"sgd\"\nlr = 0.02\n\
         [train]\nepochs = 2000\nlog_every = 0\n",
    );
    let out = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let run = backprop(&["train", config.to_str().unwrap(), "--set", "optim.lr=0.5", "--out", &out("unscaled")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("Hint: the targets reach 500000; `data.normalize_targets = \"standardize\"`"));
    let scaled = "data.normalize_targets=\"standardize\"";
    let run = backprop(&["train", config.to_str().unwrap(), "--set", scaled, "--out", &out("scaled")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("Hint"), "{}", run.stdout);
    let last: f64 =
        run.stdout.lines().find(|l| l.starts_with("  (5) : [")).unwrap()[9..].trim_end_matches(']').parse().unwrap();
    assert!((last - 500_000.0).abs() < 10.0, "{}", run.stdout);
}

/// f32 with scaled targets of 1e8 + k (f32's spacing there is 8): the network learns the
/// targets scaled in f64, and the report, `predict`, `ModelFile::predict` and train's printed
/// outputs scale back in f64, so the report is the fit's (not a perfect one of rounded values)
/// and every command gives the same numbers.
#[test]
fn f32_scaled_targets_are_scored_and_predicted_in_f64() {
    let tmp = scratch("target-f32");
    let dir = tmp.path();
    let text: String = std::iter::once("x,y\n".to_string())
        .chain((0..12).map(|k| format!("{k},{}\n", 100_000_000 + 3 * k + (k % 2))))
        .collect();
    write(dir, "big.csv", &text);
    let config = write(
        dir,
        "big.toml",
        "[experiment]\ndtype = \"f32\"\n[data]\nsource = \"csv\"\npath = \"big.csv\"\ntargets = \"y\"\n\
         normalize = \"standardize\"\nnormalize_targets = \"standardize\"\n[model]\nhidden = []\n\
         output_activation = \"identity\"\n[loss]\nkind = \"mse\"\n[optim]\nkind = \"sgd\"\nlr = 0.1\n\
         [train]\nepochs = 500\nlog_every = 0\n",
    );
    let (out, s, stdout) = train_logged(config.to_str().unwrap(), &[], "target-f32-run");
    // A line through 1e8 + 3k + (k mod 2): residuals of ±0.5, an MSE of 0.25 in the targets'
    // units (rounded to f32 first, every target was one of two values and the fit "perfect").
    let mse = s["report"]["regression"]["mse"].as_f64().unwrap();
    assert!((mse - 0.25).abs() < 0.01, "{s}");
    let model = out.path().join("model.json");
    let file = backprop_cli::model_file::ModelFile::read(&model).unwrap();
    let inputs = ndarray::Array2::from_shape_fn((12, 1), |(k, _)| k as f64);
    let library = file.predict::<f32>(inputs.view()).unwrap();
    let run = backprop(&[
        "predict",
        model.to_str().unwrap(),
        "--csv",
        dir.join("big.csv").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    for k in 0..12 {
        let command = rows[k]["output"][0].as_f64().unwrap();
        assert_eq!(command, library[[k, 0]], "row {k}");
        assert!((command - (100_000_000.0 + 3.0 * k as f64 + 0.5)).abs() < 1.0, "row {k}: {command}");
        // train prints the same outputs (the training split is every row, in order; its inputs
        // as the network sees them, scaled).
        let printed = format!(") : [{}]", backprop_cli::report::output(command));
        let line = stdout.lines().filter(|l| l.starts_with("  (")).nth(k).unwrap();
        assert!(line.ends_with(&printed), "row {k}: {line:?}, not {printed:?}");
    }
}

/// `model.init_from` reads weights by position: a table with the model's columns in another
/// order is refused (naming `data.features` in the model's order), and the run with them so
/// listed starts where the model ended; renamed classes train, with a warning naming both.
#[test]
fn init_from_refuses_reordered_features_and_warns_of_other_classes() {
    let (tmp, out, config, summary) = trained_flowers("init-order");
    let dir = tmp.path();
    let model = out.path().join("model.json");
    let text = std::fs::read_to_string(dir.join("flowers.csv")).unwrap();
    let swapped: String = text
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            format!("{},{},{}\n", c[1], c[0], c[2])
        })
        .collect();
    write(dir, "swapped.csv", &swapped);
    let from = format!("model.init_from={:?}", model.to_str().unwrap());
    let args = |data: &str, extra: &[&str]| {
        let mut a = vec!["train".to_string(), config.to_str().unwrap().to_string()];
        for s in [
            format!("data.path={:?}", dir.join(data).to_str().unwrap()),
            from.clone(),
            "train.epochs=1".into(),
            "optim.lr=1e-12".into(),
        ]
        .into_iter()
        .chain(extra.iter().map(|s| s.to_string()))
        {
            a.extend(["--set".to_string(), s]);
        }
        a
    };
    let run_with = |a: Vec<String>, name: &str| {
        let o = scratch(name);
        let mut a = a;
        a.extend(["--out".to_string(), o.path().to_str().unwrap().to_string()]);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        (backprop(&refs), o)
    };
    let (run, _o) = run_with(args("swapped.csv", &[]), "init-order-swapped");
    assert_eq!(run.code, 2, "{}", run.stderr);
    for part in [
        "key `model.init_from`",
        "the model's features are [sepal, petal], and this run's data has them in another order, [petal, sepal]",
        "`data.features = [\"sepal\", \"petal\"]`",
    ] {
        assert!(run.stderr.contains(part), "{part}: {}", run.stderr);
    }
    // Listed in the model's order, the run starts at the model's final cost (lr 1e-12, the
    // same normalizer fitted on the same rows).
    let (run, o) = run_with(args("swapped.csv", &["data.features=[\"sepal\", \"petal\"]"]), "init-order-listed");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let initial = json(&o.path().join("summary.json"))["initial_cost"].as_f64().unwrap();
    let last = summary["final_cost"].as_f64().unwrap();
    assert!((initial - last).abs() < 1e-9 * last.max(1e-3), "{initial} vs {last}");
    // Renamed classes: fine-tuning to new classes is allowed, and said.
    write(dir, "renamed.csv", &text.replace("setosa", "s").replace("versicolor", "v").replace("virginica", "a"));
    let (run, _o) = run_with(args("renamed.csv", &[]), "init-order-renamed");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("its classes were [setosa, versicolor, virginica], this run's are [a, s, v]"),
        "{}",
        run.stderr
    );
}

/// The post's "Neural net output" lines show the inputs in their own units, not as the
/// normalizer scaled them for the network (`(-1, -0.97…)` beside outputs in the targets' units).
#[test]
fn the_output_lines_show_the_inputs_unscaled() {
    let tmp = scratch("unscaled-inputs");
    let dir = tmp.path();
    write(dir, "d.csv", "a,b,y\n0,0.3,0\n0,10,1\n10,0.3,1\n10,10,0\n");
    let config = write(
        dir,
        "c.toml",
        "[data]\nsource = \"csv\"\npath = \"d.csv\"\ntargets = [\"y\"]\ntask = \"regression\"\n\
         normalize = \"standardize\"\n[model]\nhidden = [4]\n[train]\nepochs = 10\n",
    );
    // In f32 as in f64: an f32 0.3 is 0.300000011920929 in f64's digits.
    for dtype in ["f64", "f32"] {
        let set = format!("experiment.dtype=\"{dtype}\"");
        let (_out, _, stdout) = train_logged(config.to_str().unwrap(), &[&set], "unscaled-inputs-run");
        let lines: Vec<&str> = stdout.lines().skip_while(|l| *l != "Neural net output:").skip(1).take(4).collect();
        let inputs: Vec<&str> = lines.iter().map(|l| l.trim().split(" : ").next().unwrap()).collect();
        assert_eq!(inputs, ["(0, 0.3)", "(0, 10)", "(10, 0.3)", "(10, 10)"], "{dtype}: {stdout}");
    }
}

/// Class labels 1, 2, 3 with `task` left at its default read as one regression target: a
/// classifier's config over it is refused with a hint at `data.task`; a target with fractions
/// gets none.
#[test]
fn whole_number_targets_under_a_classifiers_config_hint_at_the_task() {
    let tmp = scratch("task-hint");
    let dir = tmp.path();
    let config = |data: &str| {
        format!(
            "[data]\nsource = \"csv\"\npath = \"{data}\"\ntargets = [\"y\"]\n[model]\nhidden = [4]\n\
             output_activation = \"softmax\"\n[loss]\nkind = \"cross_entropy\"\n[train]\nepochs = 10\n"
        )
    };
    write(dir, "labels.csv", "a,b,y\n0,0.3,1\n0,10,2\n10,0.3,3\n10,10,1\n");
    write(dir, "values.csv", "a,b,y\n0,0.3,1.5\n0,10,2\n10,0.3,3\n10,10,1\n");
    for (data, hinted) in [("labels.csv", true), ("values.csv", false)] {
        let path = write(dir, "c.toml", &config(data));
        let run = backprop(&["train", path.to_str().unwrap(), "--out", dir.join("run").to_str().unwrap()]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("a softmax over one output is always 1"), "{}", run.stderr);
        let hint = "the target holds whole numbers: if they are class labels, set `data.task = \"classification\"`";
        assert_eq!(run.stderr.contains(hint), hinted, "{data}: {}", run.stderr);
    }
}

/// `data.seed` fixes the data's draw and split apart from `experiment.seed` (as scikit-learn's
/// `random_state` of `train_test_split`): two experiment seeds then train on the same samples
/// (the model's data hash) from other starts; without it, each seed draws its own data.
#[test]
fn data_seed_fixes_the_split_apart_from_the_experiment_seed() {
    let run = |sets: &[&str], name: &str| {
        let sets: Vec<&str> = [&["train.epochs=2"][..], sets].concat();
        let (out, _) = train("configs/moons.toml", &sets, name);
        let model = json(&out.path().join("model.json"));
        (model["provenance"]["data_hash"].clone(), model["layers"].clone())
    };
    let (data_a, weights_a) = run(&["experiment.seed=1", "data.seed=5"], "data-seed-a");
    let (data_b, weights_b) = run(&["experiment.seed=2", "data.seed=5"], "data-seed-b");
    assert_eq!(data_a, data_b, "the same samples");
    assert_ne!(weights_a, weights_b, "other starts");
    let (data_c, _) = run(&["experiment.seed=1"], "data-seed-c");
    let (data_d, _) = run(&["experiment.seed=2"], "data-seed-d");
    assert_ne!(data_c, data_d, "each experiment seed draws its own data");
}

/// `eval` of a file the model never trained from: no leakage warning however the config splits
/// it (it warned that the split "may hold samples it trained on"), a note that a fraction of it
/// is measured, and `--split all` measures every row; `all` of the training file itself (or a
/// copy) says that it holds the training samples.
#[test]
fn eval_measures_a_new_file_whole_and_warns_only_of_the_training_file() {
    let (tmp, out, config, _) = trained_flowers("eval-new-file");
    let dir = tmp.path();
    let model = out.path().join("model.json");
    let mut rows = String::from(IRIS_LIKE);
    for i in 0..30 {
        let (species, x) = [("setosa", (1.1, 0.3)), ("versicolor", (2.1, 1.4)), ("virginica", (2.9, 2.4))][i % 3];
        rows.push_str(&format!("{:.2},{:.2},{species}\n", x.0, x.1));
    }
    write(dir, "new.csv", &rows);
    let eval = |extra: &[&str]| {
        let args = ["eval", model.to_str().unwrap(), config.to_str().unwrap()];
        let run = backprop(&[&args[..], extra].concat());
        assert_eq!(run.code, 0, "{}", run.stderr);
        run
    };
    let new_file = format!("data.path={:?}", dir.join("new.csv"));
    let run = eval(&["--set", &new_file, "--set", "experiment.seed=9"]);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert!(run.stdout.starts_with("split: validation (6 samples)"), "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "note: none of the validation split's samples is one the model trained on; it is 6 of the 30 samples of "
        ) && run.stderr.contains("`--split all` measures every one"),
        "{}",
        run.stderr
    );
    let run = eval(&["--set", &new_file, "--split", "all"]);
    assert!(run.stdout.starts_with("split: all (30 samples)\n"), "{}", run.stdout);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let json = eval(&["--set", &new_file, "--split", "all", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let support: u64 =
        json["classification"]["per_class"].as_array().unwrap().iter().map(|c| c["support"].as_u64().unwrap()).sum();
    assert_eq!((json["split"].as_str(), json["samples"].as_u64(), support), (Some("all"), Some(30), 30));

    // The training file measured whole holds what the model trained on; so does a copy of it.
    // Its training set is rebuilt from the config it records, and its 72 rows found.
    let run = eval(&["--split", "all"]);
    assert!(run.stdout.starts_with("split: all (90 samples)"), "{}", run.stdout);
    assert!(
        run.stderr.contains("warning: 72 of the 90 samples of the all split are identical to samples "),
        "{}",
        run.stderr
    );
    let crlf = std::fs::read_to_string(dir.join("flowers.csv")).unwrap().replace('\n', "\r\n");
    write(dir, "copy.csv", &crlf);
    let copy = format!("data.path={:?}", dir.join("copy.csv"));
    let run = eval(&["--set", &copy, "--split", "all"]);
    assert!(run.stderr.contains("warning: 72 of the 90 samples of the all split"), "{}", run.stderr);
    let run = backprop(&["eval", model.to_str().unwrap(), config.to_str().unwrap(), "--split", "everything"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is not train, validation, test or all"), "{}", run.stderr);
    // `all` is the source file's samples: not a test file of its own as well (the training file
    // here, which was counted beside the new file's rows, and twice when it was the source too).
    let own_test = format!("data.test_path={:?}", dir.join("flowers.csv"));
    let run = eval(&["--set", &new_file, "--set", &own_test, "--split", "all"]);
    assert!(run.stdout.starts_with("split: all (30 samples)\n"), "{}", run.stdout);
    // The training file moved away: which file the model read is not known, and the data's hash
    // decides (it warned of nothing, taking the missing file for another).
    std::fs::rename(dir.join("flowers.csv"), dir.join("moved.csv")).unwrap();
    let moved = format!("data.path={:?}", dir.join("moved.csv"));
    // ... unless the config's own training split is the model's, by its hash: then that is its
    // training set.
    let run = eval(&["--set", &moved, "--split", "all"]);
    assert!(run.stderr.contains("warning: 72 of the 90 samples of the all split are identical"), "{}", run.stderr);
    // Its own split, by the hash of the training split beside it: nothing to say.
    let run = eval(&["--set", &moved]);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let run = eval(&["--set", &moved, "--set", "experiment.seed=5"]);
    assert!(run.stderr.contains("the validation split may hold samples it trained on"), "{}", run.stderr);
    let moved_test = format!("data.test_path={:?}", dir.join("moved.csv"));
    // The config's training split is the model's (by its hash), so its rows are counted in a
    // test file too.
    let run = eval(&["--set", &moved, "--set", &moved_test, "--split", "test"]);
    assert!(run.stderr.contains("warning: 72 of the 90 samples of the test split are identical"), "{}", run.stderr);
    // Neither rebuilt nor the config's own: not known (a test file that is the config's source
    // says nothing of the model's: a new file can be both).
    let crlf = std::fs::read_to_string(dir.join("moved.csv")).unwrap().replace('\n', "\r\n");
    write(dir, "moved-crlf.csv", &crlf);
    let crlf_test = format!("data.test_path={:?}", dir.join("moved-crlf.csv"));
    let run = eval(&["--set", &moved, "--set", &crlf_test, "--set", "data.validation=0", "--split", "test"]);
    assert!(run.stderr.contains("note: whether the test split holds samples"), "{}", run.stderr);
    assert!(run.stderr.contains("is not known: its training set cannot be rebuilt"), "{}", run.stderr);
}

/// A synthetic source is the model's own when it draws the same samples (source, parameters and
/// data seed): `all` of it holds the training samples, while a split of another seed's draw
/// holds none of them (it was warned of as "may hold samples it trained on"); and a test file
/// that is a copy of the training file is known by its bytes.
#[test]
fn eval_knows_a_synthetic_draw_and_a_copied_test_file() {
    let moons = "configs/moons.toml";
    let (out, _) = train(moons, &["train.epochs=5", "data.test=0.2"], "eval-moons");
    let model = out.path().join("model.json");
    let eval = |extra: &[&str]| {
        let base = ["eval", model.to_str().unwrap(), moons, "--set", "data.test=0.2"];
        let run = backprop(&[&base[..], extra].concat());
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stderr
    };
    assert!(eval(&[]).is_empty());
    let all = eval(&["--split", "all"]);
    assert!(all.contains("warning: 600 of the 1000 samples of the all split are identical to samples "), "{all}");
    let other_seed = eval(&["--set", "experiment.seed=2"]);
    assert!(!other_seed.contains("warning") && other_seed.contains("note: none of the test split's"), "{other_seed}");
    assert!(eval(&["--set", "experiment.seed=2", "--split", "all"]).is_empty());
    // Another draw need not be other samples: with no noise the seed draws nothing.
    let (exact, _) = train(moons, &["train.epochs=5", "data.test=0.2", "data.noise=0"], "eval-moons-exact");
    let exact = exact.path().join("model.json");
    let args = ["eval", exact.to_str().unwrap(), moons, "--set", "data.test=0.2", "--set", "data.noise=0"];
    let run = backprop(&[&args[..], &["--set", "experiment.seed=2"]].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("of the 200 samples of the test split are identical to samples "), "{}", run.stderr);
    // A file after a synthetic source's draw: other samples, noted as a fraction of the file.
    let file = write(
        out.path(),
        "points.csv",
        &format!(
            "x0,x1,label\n{}",
            (0..20).map(|i| format!("{}.5,{}.25,{}\n", i % 3, i % 5, i % 2)).collect::<String>()
        ),
    );
    let csv = format!(
        "data={{ source = \"csv\", path = {:?}, targets = \"label\", task = \"classification\", test = 0.2 }}",
        file
    );
    let from_file = eval(&["--set", &csv]);
    assert!(!from_file.contains("warning") && from_file.contains("it is 4 of the 20 samples of "), "{from_file}");
    // The same draw split otherwise: the test split holds training samples.
    // A test split of 0.3 takes the old test split and part of validation: none of them
    // trained on (the hashes alone said it "may" hold some); one of 0.5 reaches the training rows.
    let resplit = eval(&["--set", "data.test=0.3"]);
    assert!(!resplit.contains("warning") && resplit.contains("note: none of the test split's"), "{resplit}");
    let resplit = eval(&["--set", "data.test=0.5", "--set", "data.validation=0.1"]);
    assert!(resplit.contains("of the 500 samples of the test split are identical to samples "), "{resplit}");

    let (tmp, out, config, _) = trained_flowers("eval-copied-test");
    let dir = tmp.path();
    std::fs::copy(dir.join("flowers.csv"), dir.join("copy.csv")).unwrap();
    let copy = format!("data.test_path={:?}", dir.join("copy.csv"));
    let model = out.path().join("model.json");
    let run = backprop(&["eval", model.to_str().unwrap(), config.to_str().unwrap(), "--set", &copy]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("warning: 72 of the 90 samples of the test split are identical to samples "),
        "{}",
        run.stderr
    );
}

/// The training set is rebuilt in the model's dtype (an f32 model measured by an f64 config),
/// without the held-out files of its run (gone since), with the rows of the model it started
/// from, and −0 is 0: every one of these was a miss.
#[test]
fn eval_finds_training_samples_across_dtypes_held_out_files_lineage_and_signed_zeros() {
    let tmp = scratch("eval-rebuild");
    let dir = tmp.path();
    let table = |shift: usize| {
        let mut rows = String::from("a,b,y\n");
        for i in 0..40 {
            let a = if i % 4 == 0 { "0".to_string() } else { format!("{}.5", i + shift) };
            rows.push_str(&format!("{a},{},{}\n", i + shift, (i % 3) as f64 * 0.5));
        }
        rows
    };
    write(dir, "d.csv", &table(0));
    write(dir, "other.csv", &table(100));
    write(dir, "held.csv", "a,b,y\n1.5,2,0.5\n");
    write(dir, "neg.csv", &table(0).replace("\n0,", "\n-0.0,"));
    let config = write(
        dir,
        "r.toml",
        "[data]\nsource = \"csv\"\npath = \"d.csv\"\ntargets = \"y\"\ntest_path = \"held.csv\"\n\
         [model]\nhidden = [3]\nactivation = \"tanh\"\noutput_activation = \"identity\"\n[loss]\nkind = \"mse\"\n\
         [train]\nepochs = 3\nlog_every = 0\n",
    );
    let config = config.to_str().unwrap();
    let (f32_run, _) = train(config, &["experiment.dtype=\"f32\""], "eval-rebuild-f32");
    let (parent, _) = train(config, &[], "eval-rebuild-parent");
    let parent_model = parent.path().join("model.json");
    let from = format!("model.init_from={:?}", parent_model);
    let other = format!("data.path={:?}", dir.join("other.csv"));
    let (child, _) = train(config, &[&from, &other], "eval-rebuild-child");
    let (scaled, _) = train(config, &[&from, &other, "data.normalize=\"standardize\""], "eval-rebuild-scaled");
    std::fs::remove_file(dir.join("held.csv")).unwrap();
    let eval = |model: &Path, test: &str| {
        let test = format!("data.test_path={:?}", dir.join(test));
        let run = backprop(&["eval", model.to_str().unwrap(), config, "--set", &test]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stderr
    };
    let said = eval(&f32_run.path().join("model.json"), "d.csv");
    assert!(said.contains("warning: 40 of the 40 samples of the test split are identical to samples "), "{said}");
    let said = eval(&parent_model, "neg.csv");
    assert!(said.contains("warning: 40 of the 40 samples of the test split are identical to samples "), "{said}");
    let said = eval(&child.path().join("model.json"), "d.csv");
    assert!(said.contains("40 of the 40 samples of the test split are identical to samples a model "), "{said}");
    assert!(said.contains(" started from (`init_from`) trained on"), "{said}");
    // A model it started from that scaled its data otherwise is not looked in, and said so.
    let said = eval(&scaled.path().join("model.json"), "d.csv");
    assert!(!said.contains("warning"), "{said}");
    assert!(
        said.contains("`init_from`), are not looked for: it is gone, or of another dtype, scaling or classes"),
        "{said}"
    );
}

/// A model whose outputs overflow on the data: eval says so beside its report (whose rows of
/// NaN outputs count as the first class's: an accuracy that looked like any other).
#[test]
fn eval_says_when_the_outputs_overflow() {
    let (tmp, out, config, _) = trained_flowers("eval-overflow");
    let mut m = json(&out.path().join("model.json"));
    let last = m["layers"].as_array_mut().unwrap().last_mut().unwrap();
    for (i, row) in last["weights"].as_array_mut().unwrap().iter_mut().enumerate() {
        for (j, w) in row.as_array_mut().unwrap().iter_mut().enumerate() {
            *w = serde_json::json!(if (i + j) % 2 == 0 { 1e308 } else { -1e308 });
        }
    }
    let model = write(tmp.path(), "huge.json", &m.to_string());
    let run = backprop(&["eval", model.to_str().unwrap(), config.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("warning: the cost is "), "{}", run.stderr);
    assert!(run.stderr.contains("overflow on some of the validation split"), "{}", run.stderr);
}

/// `eval --format json` is one JSON object with the figures `text` prints: the same split,
/// sample count, cost and accuracy, and the same report.
#[test]
fn eval_json_holds_what_text_prints() {
    let (_tmp, out, config, _) = trained_flowers("eval-json");
    let model = out.path().join("model.json");
    let eval = |format: &str| {
        let run = backprop(&["eval", model.to_str().unwrap(), config.to_str().unwrap(), "--format", format]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let text = eval("text");
    let json: serde_json::Value = serde_json::from_str(&eval("json")).expect("one JSON object");
    let line = |name: &str| text.lines().find_map(|l| l.strip_prefix(name)).unwrap().to_string();
    assert_eq!(format!("{} ({} samples)", json["split"].as_str().unwrap(), json["samples"]), line("split: "));
    assert_eq!(format!("{:?}", json["cost"].as_f64().unwrap()), line("cost: "));
    assert_eq!(format!("{:?}", json["accuracy"].as_f64().unwrap()), line("accuracy: "));
    // The text's table holds the JSON's scores, to four decimals.
    let figure = |v: &serde_json::Value| backprop_cli::report::figure(v.as_f64().unwrap());
    for class in json["classification"]["per_class"].as_array().unwrap() {
        let row = class["class"].as_str().unwrap().to_string();
        let line = text.lines().find(|l| l.split_whitespace().next() == Some(row.as_str())).unwrap();
        let cells: Vec<&str> = line.split_whitespace().collect();
        let want =
            [figure(&class["precision"]), figure(&class["recall"]), figure(&class["f1"]), class["support"].to_string()];
        assert_eq!(cells[1..], want, "{text}");
    }
    assert!(json.get("cost_of_scaled_targets").is_none(), "{json}");
}

/// IDX labels are digits: 0s and 3s leave eight of the ten classes without a sample, and
/// labels 0 and 255 make 256 classes, 254 of them empty: trained, and said.
#[test]
fn classes_without_a_training_sample_are_warned_of() {
    let tmp = scratch("idx-absent");
    let dir = tmp.path();
    let mut images = vec![0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1];
    images.extend([1, 2, 3, 4]);
    std::fs::write(dir.join("images.idx"), &images).unwrap();
    let config = write(
        dir,
        "idx.toml",
        "[data]\nsource = \"idx\"\nimages = \"images.idx\"\nlabels = \"labels.idx\"\n[train]\nepochs = 1\n",
    );
    let out = dir.join("run");
    let cases = [
        (3, "images.idx: 8 of the 10 classes have no training sample (`1`, `2`, `4`, `5`, `6`, `7`, `8`, `9`)"),
        (
            255,
            "images.idx: 254 of the 256 classes have no training sample (`1`, `2`, `3`, `4`, `5`, `6`, `7`, `8`, `9`, `10` and 244 more)",
        ),
    ];
    for (label, warned) in cases {
        std::fs::write(dir.join("labels.idx"), [0, 0, 8, 1, 0, 0, 0, 4, 0, label, 0, label]).unwrap();
        let run = backprop(&["train", config.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stderr.contains(warned), "{}", run.stderr);
    }
}

/// The decision plot's axes are the features' names, said to be scaled where the normalizer
/// scales them (the plot is drawn in the network's input space); `plot` draws the same.
#[test]
fn the_decision_plot_names_its_axes_after_the_features() {
    let (_tmp, out, _, _) = trained_flowers("decision-axes");
    let svg = std::fs::read_to_string(out.path().join("decision.svg")).unwrap();
    for title in ["sepal (standardized)", "petal (standardized)"] {
        assert!(svg.contains(&format!("\n{title}\n")), "{title}");
    }
    std::fs::remove_file(out.path().join("decision.svg")).unwrap();
    let run = backprop(&["plot", out.path().to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(out.path().join("decision.svg")).unwrap(), svg);
}

/// `predict --csv … --keep id` copies the named columns beside each prediction: first in a CSV
/// row, under `keep` in JSON; refused without a file, in the text format, or for a feature.
#[test]
fn predict_keeps_the_columns_asked_for() {
    let (tmp, out, _, _) = trained_flowers("predict-keep");
    let model = out.path().join("model.json");
    let query = write(tmp.path(), "ids.csv", "id,petal,sepal,species\nA-1,1.5,2.0,versicolor\nB-2,0.2,1.0,setosa\n");
    let predict = |extra: &[&str]| {
        let args = ["predict", model.to_str().unwrap(), "--csv", query.to_str().unwrap()];
        backprop(&[&args[..], extra].concat())
    };
    let run = predict(&["--keep", "id", "--keep", "species", "--format", "csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Vec<Vec<&str>> = run.stdout.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0][..4], ["id", "species", "sepal", "petal"], "{}", run.stdout);
    assert_eq!((rows[1][..2].to_vec(), rows[2][..2].to_vec()), (vec!["A-1", "versicolor"], vec!["B-2", "setosa"]));
    // The rest of each row is the prediction without --keep.
    let plain = predict(&["--format", "csv"]);
    let plain_rows: Vec<&str> = plain.stdout.lines().collect();
    for (kept, plain) in rows.iter().zip(&plain_rows) {
        assert_eq!(kept[2..].join(","), *plain);
    }
    let run = predict(&["--keep", "id", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json[1]["keep"], serde_json::json!({ "id": "B-2" }));
    for (extra, said) in [
        (&["--keep", "id"][..], "written by --format csv or json"),
        (&["--keep", "sepal", "--format", "csv"], "--keep sepal: a feature of the model"),
        (&["--keep", "nope", "--format", "csv"], "no column `nope`"),
    ] {
        let run = predict(extra);
        assert_eq!(run.code, 2, "{extra:?}: {}", run.stderr);
        assert!(run.stderr.contains(said), "{extra:?}: {}", run.stderr);
    }
    let run = backprop(&["predict", model.to_str().unwrap(), "--input", "1,2", "--keep", "id", "--format", "csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--keep copies columns of the --csv file"), "{}", run.stderr);
}
