//! Stand-in for `uring.rs` in builds without the `uring` cargo feature (the 32-bit child of
//! the address-space row: io-uring 0.7 needs bindgen on i686). Every io_uring run is skipped.

use super::{Backend, Completion, Op};
use crate::base::error::{Error, Result};
use crate::datafile::blocks::DataFile;
use crate::workload::plan::Plan;

/// Kept so the name resolves in every build (tests of the skip path set it).
#[allow(dead_code)]
pub(crate) const INJECT_ENV: &str = "IOBENCH_INJECT_URING_FAILURE";

/// The reason every io_uring run gives in this build.
pub(crate) fn unsupported(backend: &str) -> Error {
    Error::Unsupported {
        backend: backend.into(),
        reason: "this iobench was built without io_uring (cargo feature `uring`); use a default build".into(),
    }
}

/// Never constructed: `open` always refuses.
pub(crate) enum UringBackend {}

impl UringBackend {
    pub(crate) fn open(plan: &Plan, _data: &DataFile) -> Result<Self> {
        Err(unsupported(&plan.backend.to_string()))
    }
}

impl Backend for UringBackend {
    fn submit(&mut self, _op: Op, _buf: &mut [u8]) -> Result<()> {
        match *self {}
    }
    fn reap(&mut self, _min: usize, _done: &mut Vec<Completion>) -> Result<()> {
        match *self {}
    }
    fn flush(&mut self) -> Result<()> {
        match *self {}
    }
}
