//! A pseudo-terminal for tests of what a program draws only on a terminal (progress bars): run a
//! command with its stderr, and its stdout too if asked, on one, and read back what it drew.
//! Shared by the end-to-end tests and xtask's (`#[path]`), each a separate test crate.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;

use rustix::fs::{Mode, OFlags};
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

/// A new pseudo-terminal: its controlling side, and a handle on the terminal a program writes to.
fn pty() -> (OwnedFd, OwnedFd) {
    let control = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("a pseudo-terminal opens");
    grantpt(&control).expect("grantpt");
    unlockpt(&control).expect("unlockpt");
    let name = ptsname(&control, Vec::new()).expect("ptsname");
    let terminal = rustix::fs::open(name.as_c_str(), OFlags::RDWR | OFlags::NOCTTY, Mode::empty())
        .expect("the terminal side opens");
    (control, terminal)
}

/// Reads everything written to the terminal until its last writer closes it (Linux then
/// answers EIO rather than end of file).
fn read_all(control: OwnedFd) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let (mut file, mut bytes, mut buf) = (File::from(control), Vec::new(), [0u8; 4096]);
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// What one run wrote: to stdout (empty when it went to the terminal), to the terminal, and its
/// exit code.
pub struct TermRun {
    pub code: i32,
    pub stdout: String,
    pub terminal: String,
}

/// Runs `cmd` with stderr on a terminal, and stdout too when `stdout_on_terminal` (else a pipe);
/// stdin is empty. Fails the test if the program panicked.
pub fn on_terminal(mut cmd: Command, stdout_on_terminal: bool) -> TermRun {
    let (control, terminal) = pty();
    let stdout = if stdout_on_terminal {
        Stdio::from(terminal.try_clone().expect("the terminal's handle duplicates"))
    } else {
        Stdio::piped()
    };
    let child =
        cmd.stdin(Stdio::null()).stdout(stdout).stderr(Stdio::from(terminal)).spawn().expect("the program runs");
    // `cmd` still holds the terminal's handles: drop them, so that the child's end closes it.
    drop(cmd);
    let reader = read_all(control);
    let out = child.wait_with_output().expect("the program finishes");
    let terminal = reader.join().expect("the reader thread");
    assert!(!terminal.contains("panicked"), "the program panicked:\n{terminal}");
    TermRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        terminal,
    }
}
