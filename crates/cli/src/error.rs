//! The errors a command can end with, and the exit code each maps to.

use std::path::PathBuf;

/// Why a command failed. [`CliError::exit_code`] is the process exit status: 2 for bad usage or
/// input (nothing was trained), 1 for a training run that failed (diverged, gradient check over
/// tolerance), 130 for a run stopped by Ctrl-C.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A config that does not parse or holds an invalid value; the message names the file, the
    /// line and column, and the key.
    #[error("{0}")]
    Config(String),
    /// A data set or model file that cannot be used; the message names the file.
    #[error("{0}")]
    Input(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Training stopped on a non-finite cost, or a check failed.
    #[error("{0}")]
    Failed(String),
    /// Ctrl-C stopped training (exit 130, as a shell reports SIGINT).
    #[error("interrupted")]
    Interrupted,
}

impl CliError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Failed(_) => 1,
            CliError::Interrupted => 130,
            CliError::Config(_) | CliError::Input(_) | CliError::Io { .. } => 2,
        }
    }

    /// A directory `path` that cannot be created: said as such (the OS's words alone,
    /// `Operation not permitted`, did not say what was tried).
    pub fn create_dir(path: &std::path::Path, source: &std::io::Error) -> Self {
        CliError::Input(format!("{}: cannot create the directory: {source}", path.display()))
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CliError::Io { path: path.into(), source }
    }
}
