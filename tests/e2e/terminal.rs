//! The progress bars, which are drawn only when stderr is a terminal: the binary run with its
//! stderr (and for one test its stdout) on a pseudo-terminal whose other end the test reads.

use std::process::Command;

use crate::pty::{self, TermRun};
use crate::util::{root, scratch};

/// `backprop ARGS…` from the repository root, on a terminal ([`pty::on_terminal`]).
fn on_terminal(args: &[&str], stdout_on_terminal: bool) -> TermRun {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backprop-e2e"));
    cmd.args(args).current_dir(root());
    pty::on_terminal(cmd, stdout_on_terminal)
}

/// The lines the half adder's config logs every `log_every = 1000` epochs.
fn epoch_lines(text: &str) -> usize {
    text.lines().filter(|l| l.starts_with(" Epoch: ")).count()
}

#[test]
fn a_terminal_gets_a_bar_and_a_redirected_stdout_keeps_every_log_line() {
    let dir = scratch("bar-pipe");
    let out = dir.path().to_str().expect("scratch paths are UTF-8");
    let run = on_terminal(&["train", "configs/half_adder.toml", "--out", out], false);
    assert_eq!(run.code, 0, "stdout:\n{}\nterminal:\n{}", run.stdout, run.terminal);
    // The bar, with its template's words, counted in epochs of the config's 20000.
    assert!(run.terminal.contains("/20000") && run.terminal.contains("ETA"), "no bar drawn:\n{}", run.terminal);
    // The log went to the pipe whole: the bar takes no line out of a file.
    assert_eq!(epoch_lines(&run.stdout), 20, "stdout:\n{}", run.stdout);
    assert!(run.stdout.starts_with("Initial cost: "), "stdout:\n{}", run.stdout);
    assert!(run.stdout.contains("Training finished in "), "stdout:\n{}", run.stdout);
    assert_eq!(epoch_lines(&run.terminal), 0, "log lines on the terminal:\n{}", run.terminal);
}

#[test]
fn on_one_terminal_the_bar_stands_in_for_the_epoch_lines() {
    let dir = scratch("bar-tty");
    let out = dir.path().to_str().expect("scratch paths are UTF-8");
    let run = on_terminal(&["train", "configs/half_adder.toml", "--out", out], true);
    assert_eq!(run.code, 0, "terminal:\n{}", run.terminal);
    assert!(run.terminal.contains("/20000") && run.terminal.contains("ETA"), "no bar drawn:\n{}", run.terminal);
    // The initial cost, before the bar, and the end, after it is cleared, are still lines.
    assert!(run.terminal.contains("Initial cost: "), "terminal:\n{}", run.terminal);
    assert!(run.terminal.contains("Training finished in "), "terminal:\n{}", run.terminal);
    assert_eq!(epoch_lines(&run.terminal.replace('\r', "\n")), 0, "epoch lines beside the bar:\n{}", run.terminal);
    // The bar is cleared at the end: the last thing on the terminal is the run's last line.
    let last = run.terminal.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("Run directory: "), "the terminal ends with {last:?}:\n{}", run.terminal);
}

#[test]
fn gradcheck_draws_a_bar_over_the_parameters() {
    let run = on_terminal(&["gradcheck", "configs/half_adder.toml"], false);
    assert_eq!(run.code, 0, "stdout:\n{}\nterminal:\n{}", run.stdout, run.terminal);
    // The 2-2-2-2 net has 3 · (2·2 + 2) = 18 parameters.
    assert!(run.terminal.contains("parameter") && run.terminal.contains("/18"), "no bar:\n{}", run.terminal);
    assert!(run.stdout.starts_with("gradient check (f64"), "stdout:\n{}", run.stdout);
}
