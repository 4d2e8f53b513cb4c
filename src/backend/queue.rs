//! Pieces shared by the queue backends (io_uring, tokio): submit-side timing and a pointer to
//! a slot's buffer that may travel to another thread.

use crate::result::SubmitStats;
use crate::base::stats::{self, Hist};

/// Submit-side times a queue backend records (fio's slat): one record per hand-off of one or
/// more operations. The loop resets them when measurement starts and collects them at the end.
#[derive(Clone)]
pub struct SubmitTimes {
    /// What one record times, stored in results as `submit.measures`.
    pub measures: &'static str,
    pub hist: Hist,
    /// Operations handed over by the recorded calls.
    pub ops: u64,
}

impl SubmitTimes {
    pub fn new(measures: &'static str) -> Self {
        SubmitTimes { measures, hist: stats::new_hist(), ops: 0 }
    }

    #[inline]
    pub fn record(&mut self, ns: u64, ops: u64) {
        self.hist.saturating_record(ns.max(1));
        self.ops += ops;
    }

    pub fn reset(&mut self) {
        self.hist.reset();
        self.ops = 0;
    }

    /// Adds `other` (another worker's times) into `self`.
    pub fn merge(&mut self, other: &SubmitTimes) {
        stats::merge(&mut self.hist, &other.hist);
        self.ops += other.ops;
    }
}

/// A slot's buffer, sent to the thread that fills or stores it.
///
/// SAFETY (for whoever dereferences it): the run loop neither reads nor reuses a slot's buffer
/// between `submit` and the completion carrying that slot, and the buffer pool outlives the
/// backend (`Prepared` drops backends first, and each queue backend waits for its operations
/// in flight when dropped). So the memory stays valid and unaliased until the completion is sent.
#[derive(Clone, Copy)]
pub struct SlotBuf {
    pub ptr: *mut u8,
    pub len: usize,
}

// SAFETY: see the type's comment: exactly one thread uses the buffer between submit and completion.
unsafe impl Send for SlotBuf {}

impl SlotBuf {
    pub fn new(buf: &mut [u8], len: usize) -> SlotBuf {
        SlotBuf { ptr: buf.as_mut_ptr(), len: len.min(buf.len()) }
    }

    /// # Safety
    /// Only between the submit that made this `SlotBuf` and the completion of that operation.
    pub unsafe fn as_mut_slice<'a>(self) -> &'a mut [u8] {
        // SAFETY: guaranteed by the caller, as described on the type.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl SubmitTimes {
    /// The workers' times merged into the results' summary; `None` if nothing was recorded.
    pub fn merge_all<'a>(parts: impl Iterator<Item = &'a SubmitTimes>) -> Option<SubmitStats> {
        let mut total: Option<SubmitTimes> = None;
        for p in parts {
            match &mut total {
                Some(t) => t.merge(p),
                None => total = Some(p.clone()),
            }
        }
        let t = total.filter(|t| !t.hist.is_empty())?;
        Some(SubmitStats {
            measures: t.measures.to_string(),
            calls: t.hist.len(),
            ops: t.ops,
            latency_ns: stats::summarize(&t.hist),
            latency_histogram: stats::encode(&t.hist),
        })
    }
}
