//! Sweeps end to end: `cargo xtask experiment` over configs with a `[sweep]` table, `--jobs`,
//! `--shard` + `collect`, resuming after a kill, invalid sweeps, diverging trials, the plots, and
//! the same weights from one-thread and two-thread products.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The end-to-end tests' pseudo-terminal, for the progress bar.
#[cfg(unix)]
#[path = "../../tests/e2e/pty.rs"]
mod pty;

/// Reading the plots' SVG files.
#[path = "../../crates/cli/tests/support/svg.rs"]
mod svg;
use svg::texts;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// Runs `cargo xtask ARGS` in the repository root; (exit code, stdout, stderr).
fn xtask(args: &[&str]) -> (i32, String, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).current_dir(root()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// A fresh, empty temporary directory for one test, removed when dropped (pass or panic).
fn temp(name: &str) -> TempDir {
    tempfile::Builder::new().prefix(&format!("backprop-sweep-{name}-")).tempdir().unwrap()
}

/// The half adder config with `sweep` as its `[sweep]` table, written into `dir`.
fn config_with(dir: &Path, sweep: &str) -> PathBuf {
    let base = std::fs::read_to_string(root().join("configs/half_adder.toml")).unwrap();
    let path = dir.join("sweep.toml");
    std::fs::write(&path, format!("{base}\n[sweep]\n{sweep}\n")).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A csv file as rows of fields, without the columns named in `drop`.
fn csv_without(path: &Path, drop: &[&str]) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let keep: Vec<usize> = (0..header.len()).filter(|i| !drop.contains(&header[*i].as_str())).collect();
    let mut rows = vec![keep.iter().map(|i| header[*i].clone()).collect::<Vec<_>>()];
    for rec in r.records() {
        let rec = rec.unwrap();
        rows.push(keep.iter().map(|i| rec[*i].to_string()).collect());
    }
    rows
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[test]
fn the_half_adder_study_writes_every_result_file() {
    let tmp = temp("study");
    let dir = tmp.path();
    let out = dir.join("out");
    let (code, stdout, stderr) = xtask(&[
        "experiment",
        "configs/half_adder_sweep.toml",
        "--set",
        "train.epochs=300",
        "--set",
        "sweep.seeds=5",
        "--out",
        s(&out),
    ]);
    assert_eq!(code, 0, "{stderr}");
    // 2 learning rates × 2 architectures × 5 seeds.
    let trials = csv_without(&out.join("trials.csv"), &[]);
    assert_eq!(
        trials[0],
        [
            "trial",
            "model.hidden",
            "optim.lr",
            "seed",
            "status",
            "success",
            "final_cost",
            "best_cost",
            "epochs_run",
            "seconds",
            "r2",
            "mse",
            "mae",
            "bit_accuracy",
            "exact_match",
            "reason"
        ]
    );
    assert_eq!(trials.len(), 1 + 20);
    assert_eq!(&trials[1][..3], ["0", "[2, 2]", "0.5"]);
    assert!(trials[1..].iter().all(|r| r[4] == "ok" && r[8] == "300"), "{trials:?}");
    // `success`: the config's criterion, final_cost below 0.01, trial by trial; the summary's
    // rates count the same trials.
    for r in &trials[1..] {
        assert_eq!(r[5], (r[6].parse::<f64>().unwrap() < 0.01).to_string(), "{r:?}");
    }
    // The same seed index starts every point: seeds repeat with period 5.
    assert!((1..=20).all(|i| trials[i][3] == trials[(i - 1) % 5 + 1][3]));
    assert_eq!(trials[1..=5].iter().map(|r| &r[3]).collect::<std::collections::HashSet<_>>().len(), 5);

    let summary = csv_without(&out.join("summary.csv"), &[]);
    assert_eq!(&summary[0][..4], ["model.hidden", "optim.lr", "n", "diverged"]);
    for col in ["success_rate", "mean", "std", "median", "min", "max"] {
        assert!(summary[0].iter().any(|c| c == col), "{col} in {:?}", summary[0]);
    }
    assert_eq!(summary.len(), 1 + 4);
    let rate = |r: &Vec<String>| r[5].parse::<f64>().unwrap();
    assert!(summary[1..].windows(2).all(|w| rate(&w[0]) >= rate(&w[1])), "best first: {summary:?}");
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("| model.hidden | optim.lr | n |") && stdout.contains(&md), "{stdout}");
    assert!(stdout.contains("peer=backprop workload=half_adder_sweep trials=20 "), "{stdout}");

    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(plan["trials"].as_array().unwrap().len(), 20);
    assert_eq!(plan["trials"][7]["overrides"][1], "optim.lr=2.0");
    for t in 0..20 {
        assert!(out.join(format!("trials/{t:05}/summary.json")).exists());
    }

    // curves.svg: a band (polygon) and a median line per point, each named in the legend.
    let curves = std::fs::read_to_string(out.join("curves.svg")).unwrap();
    assert_eq!(count(&curves, "<polygon"), 4, "one band per point");
    assert!(count(&curves, "<polyline") >= 4 + 4, "a median line and a legend mark per point");
    let labels = texts(&curves);
    for point in ["model.hidden=[2, 2] optim.lr=0.5", "model.hidden=[3] optim.lr=2.0"] {
        assert!(labels.iter().any(|l| l.contains(point) && l.ends_with("(n=5)")), "{point} in {labels:?}");
    }
    // metric_vs_<key>.svg: a dot per trial, a median line.
    for key in ["optim.lr", "model.hidden"] {
        let svg = std::fs::read_to_string(out.join(format!("metric_vs_{key}.svg"))).unwrap();
        let labels = texts(&svg);
        let legend_dots = labels.iter().filter(|l| *l == "success" || *l == "no success").count();
        assert!(legend_dots >= 1, "{labels:?}");
        assert_eq!(count(&svg, "<circle"), 20 + legend_dots, "{key}");
        assert!(labels.iter().any(|l| l == "median") && labels.iter().any(|l| l == "threshold 0.01"), "{labels:?}");
    }
}

/// On a terminal the sweep draws one bar over its trials, in place of a line per trial.
#[cfg(unix)]
#[test]
fn a_terminal_gets_one_bar_for_the_sweep() {
    let tmp = temp("bar");
    let cfg = config_with(tmp.path(), "seeds = 3");
    let out = tmp.path().join("out");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(["experiment", s(&cfg), "--set", "train.epochs=200", "--out", s(&out)]).current_dir(root());
    let run = pty::on_terminal(cmd, false);
    assert_eq!(run.code, 0, "{}", run.terminal);
    assert!(run.terminal.contains("/3 trials") && run.terminal.contains("diverged"), "no bar:\n{}", run.terminal);
    assert_eq!(count(&run.terminal, "] trial "), 0, "per-trial lines beside the bar:\n{}", run.terminal);
    assert!(run.stdout.contains("peer=backprop workload=half_adder_sweep trials=3 ran=3"), "{}", run.stdout);
    // Without a terminal, the same sweep again in a new folder prints its three lines instead.
    let (code, _, stderr) =
        xtask(&["experiment", s(&cfg), "--set", "train.epochs=200", "--out", s(&tmp.path().join("b"))]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(count(&stderr, "] trial "), 3, "{stderr}");
}

#[test]
fn results_do_not_depend_on_jobs_shards_or_interruptions() {
    let tmp = temp("same");
    let dir = tmp.path();
    let cfg = config_with(
        dir,
        "seeds = 8\ngrid = { \"optim.lr\" = [0.5, 3.0] }\nsuccess = { metric = \"final_cost\", below = 0.2 }",
    );
    let sweep = |out: &Path, extra: &[&str]| {
        let mut args = vec!["experiment", s(&cfg), "--set", "train.epochs=1500", "--out", s(out)];
        args.extend_from_slice(extra);
        xtask(&args)
    };
    let results = |out: &Path| {
        (csv_without(&out.join("trials.csv"), &["seconds"]), std::fs::read_to_string(out.join("summary.csv")).unwrap())
    };

    let reference = dir.join("jobs2");
    let (code, stdout, stderr) = sweep(&reference, &["--jobs", "2"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Success: final_cost < 0.2 (strict);"), "{stdout}");
    let expected = results(&reference);
    assert_eq!(expected.0.len(), 1 + 16);

    // Re-running the same command resumes: nothing left to run, the same results, and no
    // warning of another config, also when the config's path is written another way.
    let (code, _, stderr) = sweep(&reference, &["--jobs", "2"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("0 to run, 16 already done") && !stderr.contains("warning"), "{stderr}");
    assert_eq!(results(&reference), expected);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let other_spelling = dir.join("sub").join("..").join("sweep.toml");
    let (code, _, stderr) =
        xtask(&["experiment", s(&other_spelling), "--set", "train.epochs=1500", "--out", s(&reference)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("0 to run, 16 already done") && !stderr.contains("warning"), "{stderr}");

    let one = dir.join("jobs1");
    let (code, _, stderr) = sweep(&one, &["--jobs", "1"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(results(&one), expected, "--jobs 1 and --jobs 2 agree");

    let sharded = dir.join("sharded");
    for part in ["1/2", "2/2"] {
        let (code, stdout, stderr) = sweep(&sharded, &["--shard", part]);
        assert_eq!(code, 0, "{stderr}");
        assert!(!stdout.contains("| optim.lr |"), "a shard writes no summary: {stdout}");
    }
    let done = std::fs::read_dir(sharded.join("trials")).unwrap().count();
    assert_eq!(done, 16);
    let (code, stdout, stderr) = xtask(&["collect", s(&sharded)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("| optim.lr |"), "{stdout}");
    assert_eq!(results(&sharded), expected, "shards + collect equal one sweep");

    // Kill a sweep once some trials are done, then run the same command again.
    let killed = dir.join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["experiment", s(&cfg), "--set", "train.epochs=1500", "--out", s(&killed), "--jobs", "1"])
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let summaries = || (0..16).filter(|t| killed.join(format!("trials/{t:05}/summary.json")).exists()).count();
    let t0 = Instant::now();
    while summaries() < 2 && t0.elapsed() < Duration::from_secs(60) && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = summaries();
    eprintln!("killed after {before} of 16 trials");
    let (code, _, stderr) = sweep(&killed, &[]);
    assert_eq!(code, 0, "{stderr}");
    if before < 16 {
        assert!(stderr.contains(&format!("{} to run, {before} already done", 16 - before)), "{stderr}");
    }
    assert_eq!(results(&killed), expected, "an interrupted sweep, resumed, equals one never interrupted");
}

/// Ctrl-C (a real SIGINT) stops a sweep: no trial starts after it, it says how many have
/// results and how to go on, exit 130; the same command then finishes it, to the results of a
/// sweep never interrupted.
#[test]
fn ctrl_c_stops_a_sweep_which_the_same_command_resumes() {
    let tmp = temp("sigint");
    let dir = tmp.path();
    // Four trials of a few tenths of a second: the press comes once the first is done, during
    // the second.
    let cfg = config_with(dir, "seeds = 2\ngrid = { \"optim.lr\" = [0.5, 3.0] }");
    let args = |out: &Path| -> Vec<String> {
        ["experiment", s(&cfg), "--set", "train.epochs=400000", "--out", s(out), "--jobs", "1"]
            .map(String::from)
            .to_vec()
    };
    let results = |out: &Path| csv_without(&out.join("trials.csv"), &["seconds"]);
    let stopped = dir.join("stopped");
    let child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args(&stopped))
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let summaries = || (0..4).filter(|t| stopped.join(format!("trials/{t:05}/summary.json")).exists()).count();
    let t0 = Instant::now();
    while summaries() < 1 && t0.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let done = summaries();
    assert!((1..4).contains(&done), "the press came with {done} of 4 trials done: {stderr}");
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let said = format!("Interrupted: {done} of 4 trials have their results; the tables in ");
    assert!(stderr.contains(&said) && stderr.contains("run the same command again"), "{stderr}");
    // The tables of the trials done so far, saying so; the others have no row of results.
    let summary = std::fs::read_to_string(stopped.join("summary.md")).unwrap();
    assert!(summary.contains(&format!("{done} of 4 trials finished")), "{summary}");
    let partial = results(&stopped);
    let with_status = partial[1..].iter().filter(|row| row.iter().any(|c| c == "ok" || c == "diverged")).count();
    assert_eq!(with_status, done, "{partial:?}");
    let argv = args(&stopped);
    let (code, _, stderr) = xtask(&argv.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(&format!("{} to run, {done} already done", 4 - done)), "{stderr}");
    let whole = dir.join("whole");
    let argv = args(&whole);
    let (code, _, stderr) = xtask(&argv.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(results(&stopped), results(&whole), "stopped and resumed, or run at once: the same results");
}

#[test]
fn invalid_sweeps_are_refused_before_any_trial_naming_the_key() {
    let tmp = temp("invalid");
    let dir = tmp.path();
    let cases = [
        ("seeds = 2\ngrid = { \"optim.lrr\" = [0.1] }", "sweep.grid.\"optim.lrr\""),
        ("seeds = 2\ngrid = { \"optim.lr\" = [] }", "sweep.grid.\"optim.lr\""),
        ("seeds = 2\ngrid = { \"optim.lr\" = [\"fast\"] }", "sweep.grid.\"optim.lr\""),
        ("seeds = 2\ngrid = { \"model.hidden\" = [2, 3] }", "sweep.grid.\"model.hidden\""),
        ("seeds = 2\ngrid = { \"optim.lr\" = 0.5 }", "sweep.grid.\"optim.lr\""),
        ("seedz = 2", "sweep.seedz"),
        ("seeds = 0", "sweep.seeds"),
        ("seeds = 2\nsuccess = { metric = \"final_cost\", bellow = 0.1 }", "sweep.success.bellow"),
        ("mode = \"random\"\ngrid = { \"optim.lr\" = { log_uniform = [1e-3, 1.0] } }", "sweep.samples"),
        ("grid = { \"optim.lr\" = { log_uniform = [1e-3, 1.0] } }", "sweep.grid.\"optim.lr\""),
        // Too many parameters for the data's sizes: found when planning, not by every trial.
        ("grid = { \"model.hidden\" = [[2], [1000000000]] }", "sweep.grid.\"model.hidden\""),
        ("seeds = 2\nsuccess = { below = 0.1, above = 0.5 }", "sweep.success.below"),
        ("seeds = 2\nsuccess = { metric = \"val_accuracy\", above = 0.9 }", "sweep.success.metric"),
        // The half adder is regression: no accuracy is measured.
        ("seeds = 2\nsuccess = { metric = \"accuracy\", above = 0.5 }", "sweep.success.metric"),
        ("seeds = 2\nsuccess = { metric = \"final_cost\", below = 0 }", "sweep.success.below"),
        // A model to start from that no trial could read.
        ("seeds = 1\ngrid = { \"model.init_from\" = [\"nope.json\"] }", "sweep.grid"),
        // The seed through a grid over the whole [experiment] table.
        ("seeds = 2\ngrid = { experiment = [{ seed = 1 }, { seed = 2 }] }", "sweep.grid.\"experiment\""),
        // With `data.*` swept, a point's own data.
        (
            "grid = { \"data.source\" = [\"moons\"] }\nsuccess = { metric = \"val_accuracy\", above = 0.9 }",
            "sweep.success.metric",
        ),
        // Two values that spell one config: the point would run twice.
        ("grid = { \"model.activation\" = [\"tanh\", { kind = \"tanh\" }] }", "sweep.grid"),
        (
            "grid = { optim = [{ kind = \"sgd\", lr = 0.5 }, { kind = \"sgd\", lr = 0.5, momentum = 0.0 }] }",
            "sweep.grid",
        ),
    ];
    for (i, (sweep, key)) in cases.iter().enumerate() {
        let case = dir.join(format!("case{i}"));
        std::fs::create_dir_all(&case).unwrap();
        let cfg = config_with(&case, sweep);
        let out = case.join("out");
        let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--out", s(&out)]);
        assert_eq!(code, 2, "{sweep}: {stderr}");
        assert!(stderr.contains(&format!("`{key}`")), "{sweep}: expected `{key}` in {stderr}");
        assert!(!out.exists(), "{sweep}: nothing may run");
        if sweep.contains("kind = \"tanh\"") {
            let said =
                "points 0 (model.activation=\"tanh\") and 1 (model.activation={ kind = \"tanh\" }) are the same config";
            assert!(stderr.contains(said), "{stderr}");
        }
    }
    // A network that fits the base config's data (2 parity bits: 8·10⁸ parameters) but not a
    // point's (20 bits: 4.4·10⁹, over the limit) is refused when planning, naming the point.
    let cfg = config_with(dir, "grid = { \"data.bits\" = [20], \"model.hidden\" = [[200000000]] }");
    let text =
        std::fs::read_to_string(&cfg).unwrap().replace("source = \"half_adder\"", "source = \"parity\"\nbits = 2");
    std::fs::write(&cfg, text).unwrap();
    let out = dir.join("parity-out");
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--out", s(&out)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`sweep.grid`") && stderr.contains("point 0 (data.bits=20"), "{stderr}");
    assert!(stderr.contains("(20 inputs, 1 outputs)"), "{stderr}");
    assert!(!out.exists(), "nothing may run");
    // A value that does not fit: the config's own message for the key, without the position
    // `--set` would have given it (the sweep key's position comes first).
    let cfg = config_with(dir, "seeds = 2\ngrid = { \"optim.lr\" = [\"fast\"] }");
    let (_, _, stderr) = xtask(&["experiment", s(&cfg), "--out", s(&dir.join("fast-out"))]);
    let want = "the value \"fast\" does not fit the config: key `optim.lr`: invalid type: string \"fast\"";
    assert!(stderr.contains(want) && !stderr.contains("set by --set"), "{stderr}");
    // A key that fits only beside another of its table's (adadelta's `rho` beside `kind`): the
    // point is checked whole (each value was checked alone, and `rho` refused as sgd's).
    let cfg = config_with(dir, "grid = { \"optim.kind\" = [\"adadelta\"], \"optim.rho\" = [0.5, 0.9] }");
    let text = std::fs::read_to_string(&cfg).unwrap().replace("epochs = 20000", "epochs = 5");
    std::fs::write(&cfg, text).unwrap();
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--out", s(&dir.join("rho-out"))]);
    assert_eq!(code, 0, "{stderr}");
    // The half adder's lr = 0.5 is every swept optimiser's: said, with how to give each its own.
    let said = "the grid sweeps `optim.kind` but not `optim.lr`: every optimiser runs at the config's lr = 0.5";
    assert!(stderr.contains(said), "{stderr}");
    let cfg = config_with(dir, "grid = { \"optim\" = [{ kind = \"sgd\", lr = 0.5 }, { kind = \"adam\" }] }");
    let text = std::fs::read_to_string(&cfg).unwrap().replace("epochs = 20000", "epochs = 5");
    std::fs::write(&cfg, text).unwrap();
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--out", s(&dir.join("tables-out"))]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("but not `optim.lr`"), "{stderr}");
    // A network past the size limit is refused at plan time, its key beside another of its
    // table's or not (it ran every trial, which failed).
    let cfg =
        config_with(dir, "grid = { \"model.hidden\" = [[2], [200000, 200000]], \"model.activation\" = [\"sigmoid\"] }");
    let out = dir.join("huge-out");
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--out", s(&out)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("point 1 (model.activation=\"sigmoid\" model.hidden=[200000, 200000]) does not fit the data"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may run");
    let cfg = config_with(dir, "grid = { \"optim.kind\" = [\"sgd\", \"adadelta\"], \"optim.rho\" = [0.5] }");
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--out", s(&dir.join("rho-sgd-out"))]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("point 0 (optim.kind=\"sgd\" optim.rho=0.5) is not a valid config"), "{stderr}");
    // A sweep key given with --set is named with it (and one beneath it, with the table's).
    let cfg = config_with(dir, "seeds = 2");
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--set", "sweep.seeds=0", "--out", s(&dir.join("o1"))]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("(set by --set sweep.seeds=0): key `sweep.seeds`"), "{stderr}");
    // A key the file lacks that a --set made needed names that --set, not another key's line.
    let (code_random, _, random) = xtask(&[
        "experiment",
        s(&cfg),
        "--set",
        "sweep.mode=random",
        "--set",
        "sweep.seeds=3",
        "--out",
        s(&dir.join("o4")),
    ]);
    assert_eq!(code_random, 2, "{random}");
    assert!(random.contains("key `sweep.samples`:") && random.contains("(needed after --set sweep.mode=random)"));
    assert!(random.contains("sweep.toml: key `sweep.samples`"), "no line of the file: {random}");
    // Given twice, the last one, whose value is read, is named (the first was).
    let o3 = dir.join("o3");
    let twice = ["experiment", s(&cfg), "--set", "sweep.seeds=2", "--set", "sweep.seeds=0", "--out", s(&o3)];
    let (code, _, stderr) = xtask(&twice);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("(set by --set sweep.seeds=0): key `sweep.seeds`"), "{stderr}");
    let set = "sweep.grid={\"optim.lrr\" = [0.1]}";
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--set", set, "--out", s(&dir.join("o2"))]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("(set by --set {set}): key `sweep.grid.\"optim.lrr\"`")), "{stderr}");
    // A grid key set by itself, bare or quoted as the grid writes it.
    for set in ["sweep.grid.optim=[{kind=\"adamm\"}]", "sweep.grid.\"optim\"=[{kind=\"adamm\"}]"] {
        let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--set", set, "--out", s(&dir.join("o3"))]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(&format!("(set by --set {set}): key `sweep.grid.\"optim\"`")), "{stderr}");
    }
    // The position of a key written in the file.
    let cfg = config_with(dir, "seeds = 0");
    let (_, _, stderr) = xtask(&["experiment", s(&cfg)]);
    let line = std::fs::read_to_string(&cfg).unwrap().lines().position(|l| l.starts_with("seeds")).unwrap() + 1;
    assert!(stderr.contains(&format!("sweep.toml:{line}:1: key `sweep.seeds`")), "{stderr}");
    // --shard needs a sweep, and a well-formed I/N.
    let (code, _, stderr) = xtask(&["experiment", "configs/half_adder.toml", "--shard", "1/2"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("error: --shard needs a config with a [sweep] table"), "{stderr}");
    let (code, _, _) = xtask(&["experiment", s(&cfg), "--shard", "3/2"]);
    assert_eq!(code, 2);
    let (code, _, stderr) = xtask(&["experiment", "configs/half_adder_sweep.toml", "--jobs", "0"]);
    assert_eq!(code, 2, "{stderr}");
}

/// A success metric on a held-out split plans when the data has that split, and is refused,
/// naming the split, when it has not.
#[test]
fn a_held_out_metric_needs_its_split() {
    let tmp = temp("held-out");
    let dir = tmp.path();
    let moons = |name: &str, metric: &str| -> PathBuf {
        let path = dir.join(format!("{name}.toml"));
        let text = format!(
            "[data]\nsource = \"moons\"\nsamples = 40\nvalidation = 0.25\n[model]\nhidden = [3]\n\
             output_activation = \"softmax\"\n[loss]\nkind = \"cross_entropy\"\n[train]\nepochs = 2\nlog_every = 0\n\
             [sweep]\nsuccess = {{ metric = \"{metric}\", below = 10.0 }}\n"
        );
        std::fs::write(&path, text).unwrap();
        path
    };
    let (code, _, stderr) = xtask(&["experiment", s(&moons("val", "val_cost")), "--out", s(&dir.join("val-out"))]);
    assert_eq!(code, 0, "a validation split: {stderr}");
    let out = dir.join("test-out");
    let (code, _, stderr) = xtask(&["experiment", s(&moons("test", "test_cost")), "--out", s(&out)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`test_cost` needs a test split"), "{stderr}");
    assert!(!out.exists(), "nothing may run");
}

/// A grid value the data's outputs refuse (`cross_entropy` over xor's one output), as `train`
/// refuses it, is refused before any trial (exit 2, naming the value): every trial of it failed,
/// and the sweep exited 1.
#[test]
fn a_grid_value_the_data_refuses_is_refused_before_any_trial() {
    let tmp = temp("grid-data");
    let dir = tmp.path();
    let config = |model: &str, sweep: &str| {
        let text = format!(
            "[data]\nsource = \"xor\"\n[model]\nhidden = [3]\n{model}\n[train]\nepochs = 3\nlog_every = 0\n[sweep]\n{sweep}\n\
             success = {{ metric = \"final_cost\", below = 0.1 }}\n"
        );
        let cfg = dir.join("sweep.toml");
        std::fs::write(&cfg, text).unwrap();
        cfg
    };
    let out = dir.join("out");
    let cfg = config("", "grid = { \"loss.kind\" = [\"half_mse\", \"cross_entropy\"] }");
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--out", s(&out)]);
    assert_eq!(code, 2, "{stderr}");
    let want = "point 1 (loss.kind=\"cross_entropy\") does not fit the data (1 output): `loss.kind`";
    assert!(stderr.contains(want), "{stderr}");
    assert!(!out.exists(), "nothing may run");
    // A softmax output over the one output, likewise; a softmax hidden layer beside a sigmoid
    // output, another key's value, fits.
    let cfg = config(
        "output_activation = \"sigmoid\"",
        "grid = { \"model.output_activation\" = [\"sigmoid\", \"softmax\"] }",
    );
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--out", s(&out)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("does not fit the data (1 output): `model.output_activation`: a softmax over one output"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may run");
    let cfg = config(
        "",
        "seeds = 1\ngrid = { \"model.activation\" = [\"softmax\", \"tanh\"], \"model.output_activation\" = [\"sigmoid\"] }",
    );
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--out", s(&dir.join("fits"))]);
    assert!(code != 2, "a value another key makes fit is no error: {stderr}");
    // A model to start from of another shape than a point's network (the seed program's
    // 2-2-2-2 half adder against a [3] hidden layer): refused before any trial, as `train`
    // refuses it, not failed trial by trial (exit 1).
    let init = root().join("tests/fixtures/seed_ann/init.json");
    let half_adder = format!(
        "[data]\nsource = \"half_adder\"\n[model]\ninit_from = {:?}\n[train]\nepochs = 3\n[sweep]\n\
         grid = {{ \"model.hidden\" = [[2, 2], [3]] }}\n",
        init.to_str().unwrap()
    );
    std::fs::write(dir.join("init.toml"), half_adder).unwrap();
    let (code, _, stderr) = xtask(&["experiment", s(&dir.join("init.toml")), "--out", s(&out)]);
    assert_eq!(code, 2, "{stderr}");
    for part in
        ["key `sweep.grid`", "`model.init_from` of point 1 (model.hidden=[3])", "but the config asks for 2 inputs"]
    {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    assert!(!out.exists(), "nothing may run");
}

/// Data no trial could read (here a CSV row with `nan`) is refused before any trial, exit 2,
/// naming the file and the row, as `backprop train` does: it used to fail every trial, exit 1.
/// With `data.path` swept, the point whose file it is is named too.
#[test]
fn data_no_trial_can_read_is_refused_before_any_trial() {
    let tmp = temp("bad-data");
    let dir = tmp.path();
    std::fs::write(dir.join("good.csv"), "x0,x1,y\n0.1,0.8,b\n0.7,0.2,a\n0.4,0.4,a\n0.6,0.7,b\n").unwrap();
    std::fs::write(dir.join("bad.csv"), "x0,x1,y\n0.1,0.8,b\n0.7,0.2,a\nnan,0.4,a\n0.6,0.7,b\n").unwrap();
    let config = |path: &str, sweep: &str| {
        let text = format!(
            "[data]\nsource = \"csv\"\npath = \"{path}\"\ntargets = [\"y\"]\ntask = \"classification\"\n\
             [model]\nhidden = [3]\noutput_activation = \"softmax\"\n[loss]\nkind = \"cross_entropy\"\n\
             [train]\nepochs = 3\nlog_every = 0\n[sweep]\n{sweep}\n"
        );
        let cfg = dir.join("sweep.toml");
        std::fs::write(&cfg, text).unwrap();
        cfg
    };
    let bad_row = "bad.csv: line 4 (data row 3), column `x0`";
    for (path, sweep, point) in [
        ("bad.csv", &"seeds = 3".to_string(), None),
        // Paths among the grid's values resolve against the config's folder, as its others do
        // (the working directory is the repository's root).
        (
            "good.csv",
            &"seeds = 2\ngrid = { \"data.path\" = [\"good.csv\", \"bad.csv\"] }".to_string(),
            Some("point 1 (data.path="),
        ),
    ] {
        let cfg = config(path, sweep);
        let out = dir.join("out");
        let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--out", s(&out)]);
        assert_eq!(code, 2, "{sweep}: {stderr}");
        assert!(stderr.contains(bad_row), "{sweep}: {stderr}");
        assert!(point.is_none_or(|p| stderr.contains(p) && stderr.contains("`sweep.grid`")), "{sweep}: {stderr}");
        assert!(!out.exists(), "{sweep}: nothing may run");
    }
    // The same sweep over good data runs.
    let cfg = config("good.csv", "seeds = 2");
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--out", s(&dir.join("good-out"))]);
    assert_eq!(code, 0, "{stderr}");
    // A grid of relative paths in the file, run from elsewhere (with another key set on the
    // command line or not: only a grid given there resolves against the working directory).
    let cfg = config("good.csv", "grid = { \"data.path\" = [\"good.csv\"] }");
    for (out, set) in [("grid-out", None), ("grid-set-out", Some("train.epochs=2"))] {
        let mut args = vec!["experiment", s(&cfg), "--out"];
        let out = dir.join(out);
        args.push(s(&out));
        if let Some(set) = set {
            args.extend(["--set", set]);
        }
        let (code, _, stderr) = xtask(&args);
        assert_eq!(code, 0, "{set:?}: {stderr}");
        let trial = std::fs::read_to_string(out.join("trials/00000/config.toml")).unwrap();
        assert!(trial.contains(&format!("path = {:?}", dir.join("good.csv"))), "{trial}");
    }
    // A grid given with --set is the command line's: its paths resolve against the working
    // directory, where there is no good.csv.
    let cfg = config("good.csv", "seeds = 1");
    let set = "sweep.grid={\"data.path\" = [\"good.csv\"]}";
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--set", set, "--out", s(&dir.join("set-out"))]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&root().join("good.csv").display().to_string()), "{stderr}");
}

/// A sweep whose standard output and error are pipes nobody reads (`| head -1` once it has its
/// line) finishes every trial and its result files, exit 0: it used to panic on the first
/// progress line after the reader left (exit 101), leaving the sweep half done.
#[test]
fn a_sweep_whose_output_is_gone_still_finishes() {
    let tmp = temp("closed-pipe");
    let out = tmp.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["experiment", "configs/half_adder_sweep.toml", "--out", s(&out)])
        .args(["--set", "sweep.seeds=2", "--set", "train.epochs=10"])
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    for file in ["trials.csv", "summary.csv", "summary.md"] {
        assert!(out.join(file).exists(), "{file}");
    }
}

#[test]
fn diverging_trials_are_recorded_and_the_sweep_completes() {
    let tmp = temp("diverge");
    let dir = tmp.path();
    let cfg = config_with(dir, "seeds = 2\ngrid = { \"optim.lr\" = [0.1, 1e6] }");
    let out = dir.join("out");
    let (code, stdout, stderr) = xtask(&[
        "experiment",
        s(&cfg),
        "--set",
        "model.activation=identity",
        "--set",
        "train.epochs=200",
        "--out",
        s(&out),
        "--jobs",
        "100000",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("4 to run, 0 already done; 4 at a time"), "no more jobs than trials: {stderr}");
    let trials = csv_without(&out.join("trials.csv"), &["seconds"]);
    let status: Vec<&str> = trials[1..].iter().map(|r| r[3].as_str()).collect();
    assert_eq!(status, ["ok", "ok", "diverged", "diverged"], "{trials:?}");
    assert!(
        trials[3]
            .last()
            .unwrap()
            .contains("epoch 3's update made the cost non-finite (first non-finite values in layer 2"),
        "{trials:?}"
    );
    assert!(stdout.contains("| 1000000.0 | 2 | 2 | 0 | 0% |"), "{stdout}");

    // A trial that failed after planning (no test can make one fail then: planning refuses all
    // it can foresee) leaves `failed.json` with its reason instead of `summary.json`. Collected,
    // it is counted and named, and the sweep's status is 1.
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(out.join("trials")).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    let ok =
        dirs.iter().find(|d| std::fs::read_to_string(d.join("summary.json")).unwrap().contains("completed")).unwrap();
    std::fs::remove_file(ok.join("summary.json")).unwrap();
    std::fs::write(ok.join("failed.json"), r#"{"status": "failed", "reason": "No space left on device"}"#).unwrap();
    let (code, stdout, stderr) = xtask(&["collect", s(&out)]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("warning: 1 trial failed; its reason is in trials.csv and its failed.json"), "{stderr}");
    let trials = csv_without(&out.join("trials.csv"), &["seconds"]);
    let failed: Vec<&Vec<String>> = trials[1..].iter().filter(|r| r[3] == "failed").collect();
    assert_eq!(failed.len(), 1, "{trials:?}");
    assert_eq!(failed[0].last().unwrap(), "No space left on device", "{trials:?}");
    assert!(stdout.contains("| 0.1 | 2 | 0 | 1 | "), "{stdout}");
}

#[test]
fn random_sweeps_draw_the_same_points_every_time() {
    let tmp = temp("random");
    let dir = tmp.path();
    let cfg = config_with(
        dir,
        "mode = \"random\"\nsamples = 3\nseeds = 1\n\
         grid = { \"optim.lr\" = { log_uniform = [0.01, 1.0] }, \"model.hidden\" = { choice = [[2], [3, 3]] } }",
    );
    let runs: Vec<Vec<Vec<String>>> = ["a", "b"]
        .iter()
        .map(|name| {
            let out = dir.join(name);
            let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--set", "train.epochs=20", "--out", s(&out)]);
            assert_eq!(code, 0, "{stderr}");
            csv_without(&out.join("trials.csv"), &["seconds"])
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0].len(), 1 + 3);
    for row in &runs[0][1..] {
        let lr: f64 = row[2].parse().unwrap();
        assert!((0.01..=1.0).contains(&lr) && (row[1] == "[2]" || row[1] == "[3, 3]"), "{row:?}");
    }
    // Drawn from choices alone, points repeat: said, as a grid would refuse them.
    let set = "sweep.grid={\"model.hidden\" = { choice = [[2], [3, 3]] }}";
    let out = dir.join("repeats");
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--set", "train.epochs=5", "--set", set, "--out", s(&out)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("random search drew 3 points, 2 of them repeating an earlier one (1 distinct)"),
        "{stderr}"
    );
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--set", "train.epochs=5", "--out", s(&dir.join("a"))]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("repeating an earlier one"), "{stderr}");
}

/// A background `cargo xtask ARGS` whose stderr goes to `log`, killed when dropped.
struct Background(std::process::Child);

impl Background {
    fn start(args: &[&str], log: &Path) -> Self {
        let stderr = std::fs::File::create(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .current_dir(root())
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        Background(child)
    }

    /// Waits (at most a minute) until `log` holds `text`; panics with the log if it never does.
    fn wait_for(&mut self, log: &Path, text: &str) {
        let t0 = Instant::now();
        while !std::fs::read_to_string(log).unwrap_or_default().contains(text) {
            let exited = self.0.try_wait().unwrap();
            assert!(
                exited.is_none() && t0.elapsed() < Duration::from_secs(60),
                "{}",
                std::fs::read_to_string(log).unwrap()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// While a sweep runs, a second one into its folder is refused (exit 2, naming it), shards of
/// it too; different shards of one sweep run side by side, and the same shard twice is refused.
#[test]
fn a_sweep_in_use_is_not_run_twice() {
    let tmp = temp("lock");
    let out = tmp.path().join("out");
    let config = config_with(tmp.path(), "seeds = 4");
    let args = |extra: &[&'static str]| {
        let mut a = vec!["experiment", s(&config), "--set", "train.epochs=2000000000", "--out", s(&out), "--jobs", "1"];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let start = |extra: &[&'static str], log: &Path| {
        Background::start(&args(extra).iter().map(String::as_str).collect::<Vec<_>>(), log)
    };
    // A run that should be refused at once: its exit code and stderr (a run that is not refused
    // trains for ever, and is killed after a minute).
    let refused_log = tmp.path().join("refused.log");
    let run = |extra: &[&'static str]| {
        let mut run = start(extra, &refused_log);
        let t0 = Instant::now();
        let code = loop {
            if let Some(status) = run.0.try_wait().unwrap() {
                break status.code().unwrap_or(-1);
            }
            assert!(t0.elapsed() < Duration::from_secs(60), "{extra:?} was not refused: it runs");
            std::thread::sleep(Duration::from_millis(5));
        };
        (code, std::fs::read_to_string(&refused_log).unwrap())
    };

    let log = tmp.path().join("first.log");
    let mut first = start(&[], &log);
    first.wait_for(&log, "to run");
    for extra in [&[][..], &["--shard", "1/2"][..]] {
        let (code, stderr) = run(extra);
        assert_eq!(code, 2, "{extra:?}: {stderr}");
        assert!(stderr.contains("is in use by another `cargo xtask experiment`"), "{stderr}");
    }
    // collect would write a partial report that the sweep's own, when it ends, could be
    // replaced by.
    let (code, _, stderr) = xtask(&["collect", s(&out)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("without --shard, which writes its own report when it ends"), "{stderr}");
    drop(first);

    let logs = [tmp.path().join("shard1.log"), tmp.path().join("shard2.log")];
    let mut one = start(&["--shard", "1/2"], &logs[0]);
    one.wait_for(&logs[0], "to run");
    let mut two = start(&["--shard", "2/2"], &logs[1]);
    two.wait_for(&logs[1], "to run");
    let (code, stderr) = run(&["--shard", "2/2"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("(shard 2/2)"), "{stderr}");
    let (code, stderr) = run(&[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("(a sweep or a shard of it)"), "{stderr}");
    // Beside shards, which write no report, collect runs: their trials are still missing.
    let (code, _, stderr) = xtask(&["collect", s(&out)]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("4 of 4 trials have no result yet"), "{stderr}");
    // A shard of another split would run trials of shards 1/2 and 2/2 (shard 3/3 runs 2 of 4).
    let (code, stderr) = run(&["--shard", "3/3"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(": the sweep is being run in 2 parts, not 3)"), "{stderr}");
    drop((one, two));
    // Once they are gone, their files hold no lock: another split may run.
    let log = tmp.path().join("three.log");
    let mut three = start(&["--shard", "3/3"], &log);
    three.wait_for(&log, "to run");
}

/// A trial's directory is locked while the sweep runs the trial, as `backprop train` locks its
/// run directory: a `--resume` of the trial is refused meanwhile, and a trial whose directory
/// such a run holds is not run, its directory left as that run writes it.
#[test]
fn a_trial_in_use_by_another_run_is_left_alone() {
    let tmp = temp("trial-lock");
    let out = tmp.path().join("out");
    let config = config_with(tmp.path(), "seeds = 2");
    let trial = out.join("trials/00000");
    std::fs::create_dir_all(&trial).unwrap();
    let other = std::fs::File::open(&trial).unwrap();
    other.try_lock().unwrap();
    let args = ["experiment", s(&config), "--set", "train.epochs=10", "--out", s(&out), "--jobs", "1"];
    let (code, _, stderr) = xtask(&args);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("00000 is in use by another run (a `backprop train --resume` of the trial?)"), "{stderr}");
    assert_eq!(std::fs::read_dir(&trial).unwrap().count(), 0, "the busy trial's directory was written");
    assert!(out.join("trials/00001/summary.json").exists());
    // Once that run ends, the same command runs the trial.
    drop(other);
    let (code, _, stderr) = xtask(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1 to run, 1 already done"), "{stderr}");

    // While the sweep trains a trial (its first checkpoint is written), the trial's directory is
    // held.
    let log = tmp.path().join("long.log");
    let long = tmp.path().join("long");
    let (epochs, every) = ("train.epochs=2000000000", "train.checkpoint_every=1000");
    let mut sweep = Background::start(
        &["experiment", s(&config), "--set", epochs, "--set", every, "--out", s(&long), "--jobs", "1"],
        &log,
    );
    let trial = long.join("trials/00000");
    let t0 = Instant::now();
    while !trial.join("checkpoint.json").exists() {
        assert!(sweep.0.try_wait().unwrap().is_none(), "{}", std::fs::read_to_string(&log).unwrap());
        assert!(t0.elapsed() < Duration::from_secs(60), "no checkpoint: {}", std::fs::read_to_string(&log).unwrap());
        std::thread::sleep(Duration::from_millis(5));
    }
    let held = std::fs::File::open(&trial).unwrap().try_lock();
    assert!(matches!(held, Err(std::fs::TryLockError::WouldBlock)), "{held:?}");
}

/// A sweep over `data.normalize_targets` compares points whose costs are in different units:
/// it says so when its metric is a cost, and ranks by the report's `r2` (the targets' own units)
/// when asked, which `trials.csv` lists beside `mse` and `mae`. A classification sweep cannot
/// ask for it.
#[test]
fn a_sweep_over_target_scaling_ranks_by_the_report() {
    let tmp = temp("target-units");
    let mut text = String::from("rooms,area,price\n");
    for i in 0..120 {
        let (rooms, area) = (1 + i % 5, 40.0 + 1.5 * i as f64);
        let price = 50_000.0 + 12_000.0 * rooms as f64 + 900.0 * area + 3_000.0 * backprop_tensor::math::sin(i as f64);
        text.push_str(&format!("{rooms},{area},{price:.2}\n"));
    }
    std::fs::write(tmp.path().join("houses.csv"), text).unwrap();
    let config = tmp.path().join("houses.toml");
    std::fs::write(
        &config,
        "[experiment]\nname = \"houses\"\nseed = 5\n[data]\nsource = \"csv\"\npath = \"houses.csv\"\n\
         targets = \"price\"\nvalidation = 0.25\nnormalize = \"standardize\"\n[model]\nhidden = []\n\
         output_activation = \"identity\"\n[loss]\nkind = \"mse\"\n[optim]\nkind = \"sgd\"\nlr = 0.01\n\
         [train]\nepochs = 200\nlog_every = 0\n[sweep]\ngrid = { \"data.normalize_targets\" = [\"none\", \"standardize\"] }\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let (code, _, stderr) = xtask(&["experiment", s(&config), "--out", s(&out)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("warning: the sweep varies data.normalize_targets, so its points' `final_cost` are in"));
    let (code, stdout, stderr) =
        xtask(&["experiment", s(&config), "--out", s(&out), "--set", "sweep.success={metric=\"r2\"}"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("warning: the sweep varies"), "{stderr}");
    let trials = csv_without(&out.join("trials.csv"), &["seconds"]);
    let col = |name: &str| trials[0].iter().position(|c| c == name).unwrap_or_else(|| panic!("{name}: {trials:?}"));
    let (r2, mse, val_cost) = (col("r2"), col("mse"), col("val_cost"));
    let number = |row: usize, c: usize| trials[row][c].parse::<f64>().unwrap();
    // Scaled, the validation cost is the report's MSE over the targets' variance: units apart.
    assert!(number(2, val_cost) < 1.0 && number(2, mse) > 1e5, "{trials:?}");
    assert_eq!(number(1, val_cost), number(1, mse), "unscaled, the cost is the report's MSE");
    assert!(number(2, r2) > number(1, r2), "{trials:?}");
    // Ranked by R², higher first: the scaled point.
    // (A string as its text, as trials.csv writes it.)
    let rows: Vec<&str> =
        stdout.lines().filter(|l| l.starts_with("| none") || l.starts_with("| standardize")).collect();
    assert!(rows.len() == 2 && rows[0].starts_with("| standardize |"), "{stdout}");

    let moons = std::fs::read_to_string(root().join("configs/moons.toml")).unwrap();
    let classes = tmp.path().join("moons.toml");
    std::fs::write(&classes, format!("{moons}\n[sweep]\nseeds = 1\nsuccess = {{ metric = \"r2\" }}\n")).unwrap();
    let (code, _, stderr) = xtask(&["experiment", s(&classes), "--out", s(&tmp.path().join("moons"))]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`r2` is the regression report's, and the config's data is classification"), "{stderr}");
}

/// A sweep clears the temporary files a killed sweep left in its folder, not those of a writer
/// still running (a shard's), nor other files.
#[test]
fn a_sweep_clears_what_killed_writers_left() {
    let tmp = temp("temps");
    let dir = tmp.path().join("out");
    std::fs::create_dir_all(&dir).unwrap();
    let config = config_with(tmp.path(), "seeds = 1");
    let left = [".trials.csv.4294967295.tmp", ".sweep.json.4294967294.tmp"];
    let running = format!(".summary.csv.{}.tmp", std::process::id());
    let other = ["notes.tmp", ".notes.tmp", running.as_str()];
    for name in left.iter().chain(&other) {
        std::fs::write(dir.join(name), "half").unwrap();
    }
    let (code, _, stderr) = xtask(&["experiment", s(&config), "--set", "train.epochs=5", "--out", s(&dir)]);
    assert_eq!(code, 0, "{stderr}");
    for name in left {
        assert!(!dir.join(name).exists(), "{name} is left by a killed writer");
    }
    for name in other {
        assert!(dir.join(name).exists(), "{name}");
    }
}

#[test]
fn no_sweep_runs_the_base_config_once() {
    let tmp = temp("nosweep");
    let dir = tmp.path();
    let (code, stdout, stderr) = xtask(&[
        "experiment",
        "configs/half_adder_sweep.toml",
        "--no-sweep",
        "--set",
        "train.epochs=50",
        "--out",
        s(dir),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Final cost:") && dir.join("summary.json").exists(), "{stdout}");
    assert!(!dir.join("sweep.json").exists());
    // A shard of a sweep turned off is refused, before anything is written.
    let shard = dir.join("shard");
    let (code, _, stderr) =
        xtask(&["experiment", "configs/half_adder_sweep.toml", "--no-sweep", "--shard", "1/2", "--out", s(&shard)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("error: --shard splits a sweep, and --no-sweep trains the base config once"), "{stderr}");
    assert!(!shard.exists());
}

#[test]
fn a_net_of_two_thread_products_trains_to_the_same_bits_with_one_job_or_two() {
    // Batches of 960 through 192-wide layers: the hidden layer's products (960·192·192 ≈ 3.5·10⁷
    // multiply-adds) run on two threads when the sweep's pool has two (`--jobs 2`), on one with
    // `--jobs 1`. The trained weights must not notice.
    let tmp = temp("threads");
    let dir = tmp.path();
    let cfg = dir.join("wide.toml");
    std::fs::write(
        &cfg,
        "[experiment]\nname = \"wide\"\nseed = 1\n\n\
         [data]\nsource = \"spirals\"\nclasses = 3\nsamples = 1200\nnoise = 0.1\nvalidation = 0.2\n\n\
         [model]\nhidden = [192, 192]\nactivation = \"relu\"\noutput_activation = \"softmax\"\n\n\
         [loss]\nkind = \"cross_entropy\"\n\n[optim]\nkind = \"sgd\"\nlr = 0.1\n\n\
         [train]\nepochs = 5\nbatch_size = 960\nlog_every = 0\n\n[sweep]\nseeds = 2\n",
    )
    .unwrap();
    let weights = |jobs: &str| {
        let out = dir.join(format!("jobs{jobs}"));
        let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--out", s(&out), "--jobs", jobs]);
        assert_eq!(code, 0, "{stderr}");
        (0..2)
            .map(|t| {
                let model = std::fs::read_to_string(out.join(format!("trials/{t:05}/model.json"))).unwrap();
                model.lines().filter(|l| !l.contains("train_seconds")).collect::<Vec<_>>().join("\n")
            })
            .collect::<Vec<_>>()
    };
    let (one, two) = (weights("1"), weights("2"));
    assert!(two[0].len() > 100_000, "the weights are in model.json");
    for (t, (one, two)) in one.iter().zip(&two).enumerate() {
        let first_difference = one.lines().zip(two.lines()).position(|(a, b)| a != b);
        assert!(one == two, "trial {t}: model.json differs from line {first_difference:?} on");
    }
}

/// A trial whose files cannot be written (its directory's path is taken by a file, as a full
/// disk would refuse them) is named as such after its progress line, and has no result.
#[test]
fn a_trial_whose_files_cannot_be_written_is_named_and_has_no_result() {
    let tmp = temp("unwritable");
    let dir = tmp.path();
    let cfg = config_with(dir, "seeds = 3");
    let out = dir.join("out");
    std::fs::create_dir_all(out.join("trials")).unwrap();
    std::fs::write(out.join("trials/00001"), "").unwrap();
    let (code, stdout, stderr) = xtask(&["experiment", s(&cfg), "--set", "train.epochs=20", "--out", s(&out)]);
    assert_eq!(code, 1, "{stderr}");
    let blocked =
        format!("{} trained, but its files were not written: cannot prepare", out.join("trials/00001").display());
    assert_eq!(count(&stderr, &blocked), 1, "{stderr}");
    assert_eq!(count(&stderr, "but its files were not written"), 1, "only that trial: {stderr}");
    assert!(stderr.contains("1 of 3 trials have no result yet"), "{stderr}");
    assert!(stdout.contains("2 of 3 trials finished"), "{stdout}");
    assert!(stdout.contains("Success: status ok (metric final_cost); "), "no threshold, nothing strict: {stdout}");
    // As a shard: the blocked trial alone runs (counted after the two done), fails again, and
    // the shard exits 1.
    let (code, _, stderr) =
        xtask(&["experiment", s(&cfg), "--set", "train.epochs=20", "--out", s(&out), "--shard", "1/1"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("1 to run, 2 already done") && stderr.contains("[3/3] trial 00001"), "{stderr}");
    assert!(stderr.contains("Shard 1/1 done (1 failed)"), "{stderr}");
}

/// A `sweep.json` cut short by hand (3 of its 20 trials left) is refused by `collect`, naming
/// the file, instead of being summarised as a sweep of 3 trials.
#[test]
fn collect_refuses_a_plan_edited_out_of_shape() {
    let tmp = temp("cutplan");
    let dir = tmp.path();
    let cfg = config_with(dir, "seeds = 5\ngrid = { \"optim.lr\" = [0.5, 1.0, 2.0, 3.0] }");
    let out = dir.join("out");
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--set", "train.epochs=20", "--out", s(&out)]);
    assert_eq!(code, 0, "{stderr}");
    let path = out.join("sweep.json");
    let mut plan: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    plan["trials"].as_array_mut().unwrap().truncate(3);
    std::fs::write(&path, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    let (code, stdout, stderr) = xtask(&["collect", s(&out)]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    let says = format!("{}: not a sweep plan: 3 trials, but 4 points × 5 seeds make 20", path.display());
    assert!(stderr.contains(&says), "{stderr}");
    assert!(!stdout.contains("trials finished"), "{stdout}");
}

/// Shards of two different configs run into one directory: the second says that it replaces
/// the first's plan, and `collect` counts the first's trials as missing rather than mixing them
/// in (as a plain rerun of the second config runs them again).
#[test]
fn trials_of_another_config_are_not_collected() {
    let tmp = temp("mixed");
    let dir = tmp.path();
    let configs: Vec<PathBuf> = [30, 10]
        .iter()
        .map(|epochs| {
            let sub = dir.join(format!("epochs{epochs}"));
            std::fs::create_dir_all(&sub).unwrap();
            let cfg = config_with(&sub, "seeds = 5");
            let text = std::fs::read_to_string(&cfg).unwrap();
            std::fs::write(&cfg, text.replace("epochs = 20000", &format!("epochs = {epochs}"))).unwrap();
            cfg
        })
        .collect();
    let out = dir.join("out");
    let shard = |cfg: &Path, part: &str| xtask(&["experiment", s(cfg), "--out", s(&out), "--shard", part]);
    let (code, _, stderr) = shard(&configs[0], "1/2");
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    // The same plan from another file: its trials are another config's, set aside. (A shard
    // alone in the folder may: none of the others runs.)
    let (code, _, stderr) = shard(&configs[1], "2/2");
    assert_eq!(code, 0, "{stderr}");
    let aside = format!("note: 3 finished trials in {} are of another config, plan or data", out.display());
    assert!(stderr.contains(&aside), "{stderr}");

    let (code, stdout, stderr) = xtask(&["collect", s(&out)]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("3 of 5 trials have no result yet"), "{stderr}");
    let trials = csv_without(&out.join("trials.csv"), &[]);
    let epochs: Vec<&str> = trials[1..].iter().map(|r| r[6].as_str()).collect();
    assert_eq!(epochs, ["10", "10"], "{trials:?}");

    // A plain rerun of the second config runs the first's trials again.
    let (code, _, stderr) = xtask(&["experiment", s(&configs[1]), "--out", s(&out)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("its plan (sweep.json) is replaced"), "the same plan: {stderr}");
    assert!(stderr.contains("3 to run, 2 already done"), "{stderr}");
    // Where a shard of another config left results the sweep did not set aside (another shard
    // running then), they count as another config's: said, and run again.
    let trial = out.join("trials/00000");
    let text = std::fs::read_to_string(trial.join("config.toml")).unwrap();
    std::fs::write(trial.join("config.toml"), text.replace("epochs = 10", "epochs = 30")).unwrap();
    let (code, stdout, stderr) = xtask(&["collect", s(&out)]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("1 of them because they ran under another config"), "{stderr}");
    let (code, _, stderr) = xtask(&["experiment", s(&configs[1]), "--out", s(&out)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1 to run, 4 already done"), "{stderr}");
    let (code, stdout, stderr) = xtask(&["collect", s(&out)]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("5 of 5 trials finished") && !stderr.contains("warning"), "{stdout}{stderr}");
}

/// A trial's `summary.json` without the fields a run writes, or with them of the wrong types,
/// is no result: `collect` says it is missing, and a rerun runs the trial again.
#[test]
fn a_summary_without_its_fields_is_no_result() {
    let tmp = temp("badsummary");
    let dir = tmp.path();
    let cfg = config_with(dir, "seeds = 3");
    let out = dir.join("out");
    let sweep = || xtask(&["experiment", s(&cfg), "--set", "train.epochs=20", "--out", s(&out)]);
    let (code, _, stderr) = sweep();
    assert_eq!(code, 0, "{stderr}");
    for bad in ["{}", r#"{"final_cost": "abc", "stop_reason": 5}"#] {
        std::fs::write(out.join("trials/00001/summary.json"), bad).unwrap();
        let (code, stdout, stderr) = xtask(&["collect", s(&out)]);
        assert_eq!(code, 1, "{bad}: {stdout}{stderr}");
        assert!(stderr.contains("1 of 3 trials have no result yet") && stdout.contains("2 of 3 trials finished"));
        let trials = csv_without(&out.join("trials.csv"), &["seconds"]);
        assert_eq!(trials.len(), 1 + 2, "{bad}: {trials:?}");
        let (code, _, stderr) = sweep();
        assert_eq!(code, 0, "{stderr}");
        assert!(stderr.contains("1 to run, 2 already done"), "{bad}: {stderr}");
    }
}

/// A grid over the whole `[data]` table is checked point by point against each point's own data,
/// as a grid over `data.*` keys: a point whose data no trial can read is refused before any
/// trial, and a success metric is measured on the points' data, not the base config's.
#[test]
fn a_grid_over_the_whole_data_table_checks_each_point_s_data() {
    let tmp = temp("data-table");
    let dir = tmp.path();
    let missing = config_with(dir, "grid = { data = [{ source = \"csv\", path = \"nope.csv\", targets = [\"y\"] }] }");
    let (code, _, stderr) = xtask(&["experiment", s(&missing), "--out", s(&dir.join("missing"))]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("nope.csv") && stderr.contains("sweep.grid"), "{stderr}");
    assert!(!dir.join("missing").join("trials").exists(), "nothing may run");
    // The half adder is regression, the moons are classes: accuracy is measured on the moons.
    let moons = config_with(
        dir,
        "grid = { data = [{ source = \"moons\", samples = 20 }] }\nsuccess = { metric = \"accuracy\", above = 0.0 }",
    );
    let sets =
        ["--set", "train.epochs=3", "--set", "model.output_activation=softmax", "--set", "loss.kind=cross_entropy"];
    let (code, _, stderr) =
        xtask(&[&["experiment", s(&moons), "--out", s(&dir.join("moons"))][..], &sets[..]].concat());
    assert_eq!(code, 0, "{stderr}");
}

/// Another config's sweep takes over a folder only when no shard of the old one is running (it
/// would waste that shard's work), and removes the old plan's tables and plots before any trial
/// runs, so that a run stopped early does not leave them looking like its own. A single run
/// does not write into a sweep's folder.
#[test]
fn another_config_replaces_a_sweep_only_when_it_is_idle() {
    let tmp = temp("replace");
    let dir = tmp.path();
    let out = dir.join("out");
    let config = config_with(dir, "seeds = 2");
    let run = |extra: &[&str]| {
        let base = ["experiment", s(&config), "--set", "train.epochs=5", "--out", s(&out)];
        xtask(&[&base[..], extra].concat())
    };
    let (code, _, stderr) = run(&[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(out.join("summary.md").exists() && out.join("curves.svg").exists());

    // A shard of another plan holds its lock (as while it runs; its file names its plan):
    // another config's shard waits.
    let lock_file = out.join(".sweep.shard-2-of-2.lock");
    std::fs::write(&lock_file, "the id of another plan").unwrap();
    let held = std::fs::File::open(&lock_file).unwrap();
    held.lock().unwrap();
    let (code, _, stderr) = run(&["--set", "sweep.seeds=3", "--shard", "1/2"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("holds the sweep of another config, and its shard 2/2 is running"), "{stderr}");
    assert!(out.join("summary.md").exists(), "nothing changed");
    drop(held);
    // A shard that has just started (its file still empty) counts as this config's.
    std::fs::write(&lock_file, "").unwrap();
    let held = std::fs::File::open(&lock_file).unwrap();
    held.lock().unwrap();
    let (code, _, stderr) = run(&["--set", "sweep.seeds=4", "--shard", "1/2"]);
    assert_eq!(code, 0, "{stderr}");
    // This shard wrote its plan's id into its own lock file; a shard of the same plan beside it
    // reads that id as its own and runs.
    let id = std::fs::read_to_string(out.join(".sweep.shard-1-of-2.lock")).unwrap();
    assert_eq!(id.len(), 16, "{id:?}");
    drop(held);
    let own = std::fs::File::open(out.join(".sweep.shard-1-of-2.lock")).unwrap();
    own.lock().unwrap();
    let (code, _, stderr) = run(&["--set", "sweep.seeds=4", "--shard", "2/2"]);
    assert_eq!(code, 0, "the same plan's shard runs beside it: {stderr}");
    drop(own);

    // Idle, it is replaced: the old tables and plots go first (a shard writes none of its own).
    let (code, _, stderr) = run(&["--set", "sweep.seeds=3", "--shard", "1/2"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("holds a sweep of another config"), "{stderr}");
    for gone in ["summary.md", "summary.csv", "trials.csv", "curves.svg"] {
        assert!(!out.join(gone).exists(), "{gone} of the old plan is still there");
    }

    let (code, _, stderr) =
        xtask(&["experiment", s(&config), "--no-sweep", "--set", "train.epochs=5", "--out", s(&out)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("holds a sweep (sweep.json); give this run another --out"), "{stderr}");
    assert!(!out.join("summary.json").exists() && !out.join("model.json").exists());
    // Nor into one of its trials, whose results are the sweep's.
    let trial = out.join("trials").join("00000");
    let before = std::fs::read_to_string(trial.join("summary.json")).unwrap();
    let (code, _, stderr) =
        xtask(&["experiment", s(&config), "--no-sweep", "--set", "train.epochs=5", "--out", s(&trial)]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("a trial of the sweep in"), "{stderr}");
    assert_eq!(std::fs::read_to_string(trial.join("summary.json")).unwrap(), before, "the trial's result");
}

/// A data file rewritten in place between two runs of a sweep: the trials that read it are
/// redone (their results were of the old file: each trial's summary keeps the
/// fingerprints of the files it read), said on stderr, and every trial's model then holds the
/// new data's hash; a third run with nothing changed redoes nothing. With the grid shrunk or
/// grown between the runs, and a file the last plan did not read, the tables are still those
/// of a fresh sweep on the data as it is.
#[test]
fn trials_are_redone_when_a_file_they_read_changed() {
    let tmp = temp("changed-data");
    let dir = tmp.path();
    let data = dir.join("d.csv");
    let other = dir.join("e.csv");
    std::fs::write(&data, "x0,x1,y\n0.1,0.8,b\n0.7,0.2,a\n0.4,0.4,a\n0.6,0.7,b\n").unwrap();
    std::fs::write(&other, "x0,x1,y\n0.2,0.8,b\n0.7,0.3,a\n0.4,0.5,a\n0.6,0.6,b\n").unwrap();
    let cfg = dir.join("sweep.toml");
    std::fs::write(
        &cfg,
        "[data]\nsource = \"csv\"\npath = \"d.csv\"\ntargets = [\"y\"]\ntask = \"classification\"\n\
         [model]\nhidden = [3]\noutput_activation = \"softmax\"\n[loss]\nkind = \"cross_entropy\"\n\
         [optim]\nkind = \"sgd\"\nlr = 0.5\n[train]\nepochs = 3\nlog_every = 0\n[sweep]\nseeds = 2\n",
    )
    .unwrap();
    let run = |sets: &[&str], out: &Path| {
        let mut args = vec!["experiment", s(&cfg), "--out", s(out)];
        sets.iter().for_each(|set| args.extend(["--set", set]));
        let (code, _, stderr) = xtask(&args);
        assert_eq!(code, 0, "{stderr}");
        stderr
    };
    let out = dir.join("out");
    let hashes = || -> Vec<String> {
        (0..2)
            .map(|i| {
                let model = std::fs::read_to_string(out.join(format!("trials/{i:05}/model.json"))).unwrap();
                let v: serde_json::Value = serde_json::from_str(&model).unwrap();
                v["provenance"]["data_hash"].as_str().unwrap().to_string()
            })
            .collect()
    };
    run(&[], &out);
    let before = hashes();
    std::fs::write(&data, "x0,x1,y\n0.9,0.8,b\n0.7,0.2,a\n0.4,0.4,a\n0.6,0.1,b\n").unwrap();
    let stderr = run(&[], &out);
    assert!(stderr.contains("note: 2 finished trials in") && stderr.contains("of another config, plan or data"));
    assert!(stderr.contains("2 to run, 0 already done"), "{stderr}");
    let after = hashes();
    assert!(before.iter().zip(&after).all(|(b, a)| b != a), "{before:?} {after:?}");
    let stderr = run(&[], &out);
    assert!(stderr.contains("0 to run, 2 already done") && !stderr.contains("note:"), "{stderr}");
    // The first data restored: its results, set aside, come back.
    std::fs::write(&data, "x0,x1,y\n0.1,0.8,b\n0.7,0.2,a\n0.4,0.4,a\n0.6,0.7,b\n").unwrap();
    let stderr = run(&[], &out);
    assert!(stderr.contains("Reused 2 finished trials") && stderr.contains("0 to run, 2 already done"), "{stderr}");
    assert_eq!(hashes(), before);

    // The same against a fresh sweep of the last plan, the plans changing between the runs.
    let table = |out: &Path| csv_without(&out.join("trials.csv"), &["seconds"]);
    let fresh = |sets: &[&str], name: &str| {
        let out = dir.join(name);
        run(sets, &out);
        table(&out)
    };
    let lrs = |lrs: &str| format!("sweep.grid={{\"optim.lr\" = {lrs}}}");
    // The grid shrunk after the data changed: the moved trials must be the new data's.
    let out = dir.join("shrunk");
    run(&[&lrs("[0.1, 0.5, 0.9]")], &out);
    std::fs::write(&data, "x0,x1,y\n0.1,0.8,a\n0.7,0.2,b\n0.4,0.4,b\n0.6,0.7,a\n0.2,0.9,a\n0.8,0.1,b\n").unwrap();
    run(&[&lrs("[0.9]")], &out);
    assert_eq!(table(&out), fresh(&[&lrs("[0.9]")], "shrunk-fresh"));
    // A file the last plan did not read, changed: its old trials are not taken back.
    // (Paths in a --set resolve against the working directory: given whole.)
    let both = format!("sweep.grid={{\"data.path\" = [{:?}, {:?}]}}", s(&data), s(&other));
    let one = format!("sweep.grid={{\"data.path\" = [{:?}]}}", s(&data));
    let out = dir.join("files");
    run(&[&both], &out);
    run(&[&one], &out);
    std::fs::write(&other, "x0,x1,y\n0.3,0.8,b\n0.9,0.2,a\n0.5,0.4,a\n0.6,0.9,b\n").unwrap();
    run(&[&both], &out);
    assert_eq!(table(&out), fresh(&[&both], "files-fresh"));
}

/// A sweep run again with more seeds, or another grid value, numbers its trials otherwise; the
/// trials it finished before are moved to their new numbers, not run again, and the tables are
/// those of a sweep run at once with the new plan.
#[test]
fn an_extended_sweep_reuses_the_trials_it_ran() {
    let tmp = temp("extend");
    let dir = tmp.path();
    let cfg = config_with(dir, "seeds = 2\ngrid = { \"optim.lr\" = [0.5, 2.0] }");
    let out = dir.join("out");
    let run = |sets: &[&str], out: &Path| {
        let mut args = vec!["experiment", s(&cfg), "--set", "train.epochs=30", "--out", s(out)];
        sets.iter().for_each(|set| args.extend(["--set", set]));
        let (code, _, stderr) = xtask(&args);
        assert_eq!(code, 0, "{stderr}");
        stderr
    };
    run(&[], &out);
    // Seeds 2 → 3: lr 2.0's trials 2, 3 become 3, 4.
    let stderr = run(&["sweep.seeds=3"], &out);
    assert!(stderr.contains("Reused 2 finished trials of an earlier plan"), "{stderr}");
    assert!(stderr.contains("2 to run, 4 already done"), "{stderr}");
    // A value before the others: every trial moves up by a point's three.
    let grid = "sweep.grid={\"optim.lr\" = [0.1, 0.5, 2.0]}";
    let stderr = run(&["sweep.seeds=3", grid], &out);
    assert!(stderr.contains("Reused 6 finished trials") && stderr.contains("3 to run, 6 already done"), "{stderr}");
    // The same tables as the new plan run at once.
    let fresh = dir.join("fresh");
    run(&["sweep.seeds=3", grid], &fresh);
    let table = |out: &Path| csv_without(&out.join("trials.csv"), &["seconds"]);
    assert_eq!(table(&out), table(&fresh));
    assert_eq!(
        std::fs::read_to_string(out.join("summary.csv")).unwrap(),
        std::fs::read_to_string(fresh.join("summary.csv")).unwrap()
    );
    // Nothing left aside, and a run with nothing changed moves nothing.
    let names: Vec<String> =
        std::fs::read_dir(out.join("trials")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(names.iter().all(|n| !n.starts_with(".moving")), "{names:?}");
    let stderr = run(&["sweep.seeds=3", grid], &out);
    assert!(!stderr.contains("Reused") && stderr.contains("0 to run, 9 already done"), "{stderr}");
    // Shrunk, then grown again: the trials the smaller plan had no use for were set aside, and
    // come back; a file where a trial's directory goes is replaced.
    run(&["sweep.seeds=3", "sweep.grid={\"optim.lr\" = [2.0]}"], &out);
    std::fs::write(out.join("trials/00008"), "not a directory").unwrap();
    // (And an unfinished attempt's directory where another trial moves.)
    std::fs::create_dir_all(out.join("trials/00007")).unwrap();
    std::fs::write(out.join("trials/00007/metrics.csv"), "epoch,cost\n0,1\n").unwrap();
    let stderr = run(&["sweep.seeds=3", grid], &out);
    assert!(stderr.contains("0 to run, 9 already done"), "{stderr}");
    assert_eq!(table(&out), table(&fresh));
}

/// A trial directory another run holds (a `backprop train --resume` of it) is neither moved,
/// set aside nor moved into; a shard while another shard runs moves nothing, and sets aside
/// only its own share's finished trials of another plan, for a later plan to take back.
#[test]
fn moves_leave_held_directories_and_other_shards_alone() {
    let tmp = temp("held");
    let dir = tmp.path();
    let cfg = config_with(dir, "seeds = 2\ngrid = { \"optim.lr\" = [0.1, 0.5] }");
    let out = dir.join("out");
    let run = |sets: &[&str], extra: &[&str]| {
        let mut args = vec!["experiment", s(&cfg), "--set", "train.epochs=20", "--out", s(&out)];
        sets.iter().for_each(|set| args.extend(["--set", set]));
        args.extend(extra);
        xtask(&args)
    };
    let (code, _, stderr) = run(&[], &[]);
    assert_eq!(code, 0, "{stderr}");
    let summary = |trial: &str| std::fs::read_to_string(out.join("trials").join(trial).join("summary.json")).unwrap();
    let first = summary("00000");
    // Held: trial 00000 (lr 0.1) is where lr 0.5's seed 0 would move.
    let held = std::fs::File::open(out.join("trials/00000")).unwrap();
    held.lock().unwrap();
    let only = "sweep.grid={\"optim.lr\" = [0.5]}";
    let (code, _, stderr) = run(&[only], &[]);
    assert_eq!(code, 1, "the held trial cannot run: {stderr}");
    assert_eq!(summary("00000"), first, "the held directory is as it was");
    drop(held);
    let (code, _, stderr) = run(&[only], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Reused 1 finished trials") && stderr.contains("0 to run, 2 already done"), "{stderr}");

    // Shard 1/2 while 2/2 runs (its lock held here): the plan of lr 0.1 and 0.5 again puts lr
    // 0.1's seed 0 at 00000, which holds lr 0.5's; shard 1 sets it aside and runs its share.
    let other = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(out.join(".sweep.shard-2-of-2.lock"))
        .unwrap();
    other.lock().unwrap();
    // (00000 and 00001 hold lr 0.5's seeds 0 and 1; lr 0.1's are set aside already.)
    let second = summary("00001");
    let (code, _, stderr) = run(&[], &["--shard", "1/2"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("Reused"), "nothing moves beside another shard: {stderr}");
    assert!(stderr.contains("note: 1 finished trials"), "00000 set aside, in its share: {stderr}");
    let aside: Vec<String> = std::fs::read_dir(out.join("trials"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".moving-"))
        .collect();
    assert!(aside.contains(&".moving-00000-1".to_string()), "{aside:?}: {stderr}");
    assert_eq!(summary("00001"), second, "the other shard's share is left as it is");
    drop(other);
    // Alone again, the whole plan: what was set aside comes back, and the tables are a fresh
    // sweep's.
    let (code, _, stderr) = run(&[], &[]);
    assert_eq!(code, 0, "{stderr}");
    let fresh = dir.join("fresh");
    let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--set", "train.epochs=20", "--out", s(&fresh)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        csv_without(&out.join("trials.csv"), &["seconds"]),
        csv_without(&fresh.join("trials.csv"), &["seconds"])
    );
}

/// A truth table's natural measure, every output of a row right (`exact_match`, with
/// `bit_accuracy` beside it), is a success metric and a `trials.csv` column; each trial succeeds
/// exactly when its own `exact_match` passes the threshold. Data whose targets are not bits, or a
/// classification, cannot ask for it.
#[test]
fn exact_match_is_a_sweep_metric_for_targets_of_bits() {
    let tmp = temp("exact-match");
    let config = config_with(tmp.path(), "seeds = 6\nsuccess = { metric = \"exact_match\", above = 0.99 }");
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = xtask(&["experiment", s(&config), "--set", "train.epochs=5000", "--out", s(&out)]);
    assert_eq!(code, 0, "{stderr}");
    let trials = csv_without(&out.join("trials.csv"), &["seconds"]);
    let col = |name: &str| trials[0].iter().position(|c| c == name).unwrap_or_else(|| panic!("{name}: {trials:?}"));
    let (exact, bits, success) = (col("exact_match"), col("bit_accuracy"), col("success"));
    let mut passed = 0;
    for row in &trials[1..] {
        let (e, b): (f64, f64) = (row[exact].parse().unwrap(), row[bits].parse().unwrap());
        // The half adder's 4 rows of 2 bits: quarters and eighths, a row right only with its bits.
        assert!((4.0 * e).fract() == 0.0 && (8.0 * b).fract() == 0.0 && e <= b, "{row:?}");
        assert_eq!(row[success] == "true", e > 0.99, "{row:?}");
        passed += usize::from(e > 0.99);
    }
    assert!(0 < passed && passed < 6, "5000 epochs leave some starts short of the table: {trials:?}");
    let rate = 100.0 * passed as f64 / 6.0;
    let rate = if passed % 3 == 0 { format!("{rate:.0}%") } else { format!("{rate:.1}%") };
    assert!(stdout.contains(&format!("| 6 | 0 | 0 | {rate} |")), "{stdout}");

    for (name, reason) in [
        ("sine", "`exact_match` reads the outputs as bits, for targets of 0s and 1s only, and the config's data"),
        ("moons", "`exact_match` is the regression report's, and the config's data is classification"),
    ] {
        let base = std::fs::read_to_string(root().join(format!("configs/{name}.toml"))).unwrap();
        let cfg = tmp.path().join(format!("{name}.toml"));
        std::fs::write(&cfg, format!("{base}\n[sweep]\nsuccess = {{ metric = \"exact_match\", above = 0.5 }}\n"))
            .unwrap();
        let (code, _, stderr) = xtask(&["experiment", s(&cfg), "--out", s(&tmp.path().join(name))]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(reason), "{stderr}");
        assert!(stderr.contains("key `sweep.success.metric`"), "{stderr}");
    }
}
