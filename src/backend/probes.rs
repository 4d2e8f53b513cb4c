//! What the loop and the evidence observe of a backend besides its bytes: the region it mapped
//! (its smaps entry is read before it is unmapped) and the submit-side times of queue backends
//! (fio's slat).

use crate::base::stats::{self, Hist};

/// A backend's observation hooks (`Backend::probes`).
#[derive(Default)]
pub struct Probes<'a> {
    /// A region the backend mapped: its smaps entry is read as evidence before it is unmapped.
    pub(crate) mapped: Option<MappedRegion>,
    /// Submit-side times, for queue backends.
    pub(crate) submit: Option<&'a mut SubmitTimes>,
}

/// A region a backend mapped, so its smaps entry can be read before it is unmapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappedRegion {
    pub(crate) addr: usize,
    pub(crate) len: usize,
}

/// Submit-side times a queue backend records (fio's slat): one record per hand-off of one or
/// more operations. The loop resets them when measurement starts and collects them at the end.
#[derive(Clone)]
pub struct SubmitTimes {
    /// What one record times, stored in results as `submit.measures`.
    pub(crate) measures: &'static str,
    pub(crate) hist: Hist,
    /// Operations handed over by the recorded calls.
    pub(crate) ops: u64,
}

impl SubmitTimes {
    pub(crate) fn new(measures: &'static str) -> Self {
        SubmitTimes { measures, hist: stats::new_hist(), ops: 0 }
    }

    #[inline]
    pub(crate) fn record(&mut self, ns: u64, ops: u64) {
        self.hist.saturating_record(ns.max(1));
        self.ops += ops;
    }

    pub(crate) fn reset(&mut self) {
        self.hist.reset();
        self.ops = 0;
    }

    /// Adds `other` (another worker's times) into `self`.
    pub(crate) fn merge(&mut self, other: &SubmitTimes) {
        stats::merge(&mut self.hist, &other.hist);
        self.ops += other.ops;
    }
}
