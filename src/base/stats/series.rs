//! Per-interval figures (ops, bytes, p50/p99, major faults) so a collapse over time shows.
//! Each worker keeps one interval histogram and stores it encoded at every boundary, so
//! threads' series merge exactly and memory stays small. The worker's whole-run histogram is
//! the sum of its intervals, so each operation is recorded once. Major faults come from a reader
//! the caller passes (getrusage of the worker's thread, see `os::usage`): stats know no OS.

use super::{Hist, new_hist};
use serde::{Deserialize, Serialize};

/// One interval of the merged series.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IntervalPoint {
    /// End of the interval, from the start of measurement.
    pub t_ns: u64,
    pub ops: u64,
    pub bytes: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub major_faults: u64,
}

/// A worker's series in the making.
pub struct SeriesRecorder {
    interval_ns: u64,
    next_boundary_ns: u64,
    hist: Hist,
    /// Every closed interval added up: the worker's histogram for the whole run.
    pub(crate) total: Hist,
    ops: u64,
    bytes: u64,
    faults_at_start: u64,
    /// Reads the calling thread's major faults (once per interval, never per operation).
    major_faults: fn() -> u64,
    /// (ops, bytes, major faults, encoded histogram) per finished interval.
    pub(crate) intervals: Vec<(u64, u64, u64, Vec<u8>)>,
}

impl SeriesRecorder {
    pub(crate) fn new(interval_ns: u64, major_faults: fn() -> u64) -> Self {
        SeriesRecorder {
            interval_ns,
            next_boundary_ns: interval_ns,
            hist: new_hist(),
            total: new_hist(),
            ops: 0,
            bytes: 0,
            faults_at_start: major_faults(),
            major_faults,
            intervals: Vec::new(),
        }
    }

    /// Records one operation that completed `t_ns` after measurement started.
    #[inline]
    pub(crate) fn record(&mut self, t_ns: u64, latency_ns: u64, bytes: u64) {
        while t_ns >= self.next_boundary_ns {
            self.close_interval();
        }
        self.hist.saturating_record(latency_ns);
        self.ops += 1;
        self.bytes += bytes;
    }

    fn close_interval(&mut self) {
        let faults = (self.major_faults)();
        let mut encoded = Vec::new();
        hdrhistogram::serialization::Serializer::serialize(
            &mut hdrhistogram::serialization::V2Serializer::new(),
            &self.hist,
            &mut encoded,
        )
        .expect("serializing into a Vec cannot fail");
        self.intervals.push((self.ops, self.bytes, faults - self.faults_at_start, encoded));
        self.faults_at_start = faults;
        super::merge(&mut self.total, &self.hist);
        self.hist.reset();
        self.ops = 0;
        self.bytes = 0;
        self.next_boundary_ns += self.interval_ns;
    }

    /// Closes the last, partial interval if it saw any operation.
    pub(crate) fn finish(&mut self) {
        if self.ops > 0 {
            self.close_interval();
        }
    }
}

/// Merges the workers' interval lists position by position.
pub(crate) fn merge_series(interval_ns: u64, workers: &[&SeriesRecorder]) -> Vec<IntervalPoint> {
    let len = workers.iter().map(|w| w.intervals.len()).max().unwrap_or(0);
    (0..len)
        .map(|i| {
            let mut hist = new_hist();
            let mut point = IntervalPoint { t_ns: (i as u64 + 1) * interval_ns, ..Default::default() };
            for w in workers {
                if let Some((ops, bytes, faults, enc)) = w.intervals.get(i) {
                    point.ops += ops;
                    point.bytes += bytes;
                    point.major_faults += faults;
                    if let Ok(h) = super::decode_bytes(enc) {
                        super::merge(&mut hist, &h);
                    }
                }
            }
            if !hist.is_empty() {
                point.p50_ns = hist.value_at_quantile(0.5);
                point.p99_ns = hist.value_at_quantile(0.99);
            }
            point
        })
        .collect()
}
