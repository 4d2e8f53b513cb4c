//! Keys given where they do not apply: one way of handling them, for every key.
//!
//! A key belongs to some backends or patterns (`advice` to mmap, `fixedbufs` to io_uring,
//! `record_size` to the record patterns). Given elsewhere it is never silently dropped:
//! - a *setting* (it changes what is measured: mmap advice, fadvise, buffers, window) is an
//!   error naming the key, except when the invocation runs several backends: then it is left
//!   off for the backends it does not apply to, with a note, so one command line can compare
//!   backends that understand different settings;
//! - an *option* (it only tunes how a backend or pattern works: io_uring's submission and
//!   registration options, the record I/O unit, what reads consume) is left off with a note.
//!
//! Errors read `KEY: applies only to WHAT, not WHERE; remove it or use --backend WHAT`, notes
//! `KEY applies only to WHAT: not used by WHERE`.

use crate::base::error::{Error, Result};
use crate::workload::backends::BackendKind;

/// Where the key was given and what the invocation looks like; collects the notes.
pub(crate) struct Applies<'a> {
    pub(crate) backend: BackendKind,
    /// The invocation runs more than one backend (see `PlanContext::several_backends`).
    pub(crate) several_backends: bool,
    pub(crate) notes: &'a mut Vec<String>,
}

impl Applies<'_> {
    /// A setting given for `backend`: `Ok(true)` if it applies; `Ok(false)` (with a note) if it
    /// is left off in a several-backend invocation; an error naming `key` otherwise. `to` names
    /// the backends it applies to, as `--backend` takes them.
    pub(crate) fn setting(&mut self, key: &str, given: bool, applies: bool, to: &str) -> Result<bool> {
        if !given || applies {
            return Ok(given);
        }
        if self.several_backends {
            self.note(key, to, &self.backend.to_string());
            return Ok(false);
        }
        Err(Error::invalid(key, format!("applies only to {to}, not {}; remove it or use --backend {to}", self.backend)))
    }

    /// Options given where they do not apply: left off, with one note per key. `to` names what
    /// they apply to, `here` where they were given (`tokio`, `rw = scan`).
    pub(crate) fn options(&mut self, keys: &[(&str, bool)], to: &str, here: &str) {
        for (key, given) in keys {
            if *given {
                self.note(key, to, here);
            }
        }
    }

    fn note(&mut self, key: &str, to: &str, here: &str) {
        self.notes.push(format!("{key} applies only to {to}: not used by {here}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_refused_alone_and_left_off_beside_other_backends() {
        let mut notes = Vec::new();
        let mut alone = Applies { backend: BackendKind::Buffered, several_backends: false, notes: &mut notes };
        assert!(alone.setting("advice", true, true, "mmap").unwrap());
        assert!(!alone.setting("advice", false, false, "mmap").unwrap());
        let err = alone.setting("advice", true, false, "mmap").unwrap_err().to_string();
        assert_eq!(err, "advice: applies only to mmap, not buffered; remove it or use --backend mmap");
        let mut several = Applies { backend: BackendKind::Buffered, several_backends: true, notes: &mut notes };
        assert!(!several.setting("advice", true, false, "mmap").unwrap());
        several.options(&[("fixedbufs", true), ("registerfiles", false)], "uring and uring-direct", "buffered");
        assert_eq!(
            notes,
            [
                "advice applies only to mmap: not used by buffered",
                "fixedbufs applies only to uring and uring-direct: not used by buffered"
            ]
        );
    }
}
