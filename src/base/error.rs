//! The library's errors. Each message is one line that says what went wrong and what to do.

use std::path::PathBuf;

/// Everything the library can report. `is_bad_input` separates the user's mistakes (exit 2)
/// from failures during a run (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A workload key (TOML or CLI) has a value iobench cannot use.
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },

    /// A workload file that is not valid TOML or has an unknown key.
    #[error("{path}: {message}")]
    WorkloadFile { path: PathBuf, message: String },

    /// A backend cannot run here (kernel feature missing, disabled, refused). The suite goes on.
    #[error("{backend} skipped: {reason}")]
    Unsupported { backend: String, reason: String },

    /// A block read back did not match the data pattern.
    #[error("verify failed: {0}")]
    Verify(String),

    /// A system call failed; `context` names the file or step.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// A precondition of the run did not hold (cache state, refused file).
    #[error("{0}")]
    Precondition(String),
}

impl Error {
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid { key: key.into(), message: message.into() }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }

    /// The last OS error, with context.
    pub fn last_os(context: impl Into<String>) -> Self {
        Error::io(context, std::io::Error::last_os_error())
    }

    /// True for mistakes in what the user asked for: the CLI exits with code 2 for these.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Error::Invalid { .. } | Error::WorkloadFile { .. })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds file or step context to `std::io::Result`s.
pub trait IoContext<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(context(), e))
    }
}
