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

    /// Ctrl-C or SIGTERM stopped the work in progress (`during` names it, if it was not a run).
    #[error("interrupted{}", .during.as_ref().map(|d| format!(" while {d}")).unwrap_or_default())]
    Interrupted { during: Option<String> },

    /// A file iobench will not use or touch: not its own, not a regular file, smaller than the
    /// run needs, or changed into one of those between validation and the run.
    #[error("{0}")]
    Refused(String),

    /// The page-cache state the plan asks for (`cache = warm` or `cold`) was not reached.
    #[error("{0}")]
    CacheState(String),

    /// The data file changed under the run: truncated (a short read or write, SIGBUS on a
    /// mapping), or an I/O error under a mapped page.
    #[error("{0}")]
    FileChanged(String),

    /// The system lacks or refuses what the run needs: a limit (descriptors, mappings, locked
    /// memory, disk space), a cgroup, a child process, a signal handler.
    #[error("{0}")]
    System(String),

    /// The other process of a two-process run (ipc) stopped answering or answered wrongly.
    #[error("{0}")]
    Peer(String),

    /// A document iobench wrote itself (a results file, a histogram, a child's job or result)
    /// cannot be read back.
    #[error("{0}")]
    Damaged(String),

    /// The measured interval ended without one completed operation.
    #[error("no operation completed in the measured interval of {backend} (runtime shorter than one operation?)")]
    NothingMeasured { backend: String },

    /// Something iobench itself got wrong: the message says what, and that it is a bug.
    #[error("{0}")]
    Bug(String),
}

impl Error {
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid { key: key.into(), message: message.into() }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }

    /// Ctrl-C or SIGTERM stopped a run.
    pub(crate) fn interrupted() -> Self {
        Error::Interrupted { during: None }
    }

    /// Ctrl-C or SIGTERM stopped `during` (`creating iobench-1g-0.dat`).
    pub(crate) fn interrupted_while(during: impl Into<String>) -> Self {
        Error::Interrupted { during: Some(during.into()) }
    }

    /// The last OS error, with context.
    pub(crate) fn last_os(context: impl Into<String>) -> Self {
        Error::io(context, std::io::Error::last_os_error())
    }

    /// True for mistakes in what the user asked for: the CLI exits with code 2 for these.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Error::Invalid { .. } | Error::WorkloadFile { .. })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds file or step context to `std::io::Result`s.
pub(crate) trait IoContext<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(context(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_exit_classes() {
        assert_eq!(Error::interrupted().to_string(), "interrupted");
        assert_eq!(Error::interrupted_while("creating f.dat").to_string(), "interrupted while creating f.dat");
        assert_eq!(
            Error::NothingMeasured { backend: "null".into() }.to_string(),
            "no operation completed in the measured interval of null (runtime shorter than one operation?)"
        );
        // Only the user's mistakes are bad input (exit 2); everything else fails the run (exit 1).
        assert!(Error::invalid("bs", "x").is_bad_input());
        for e in [
            Error::interrupted(),
            Error::Refused("r".into()),
            Error::CacheState("c".into()),
            Error::FileChanged("f".into()),
            Error::System("s".into()),
            Error::Peer("p".into()),
            Error::Damaged("d".into()),
            Error::Bug("b".into()),
        ] {
            assert!(!e.is_bad_input(), "{e:?}");
        }
    }
}
