//! The data file a run prepares, and what its pattern checks: every scan's counts as it
//! completes, the record file's tally after the run. Block files are checked by `--verify` in
//! the loop itself.

use crate::base::error::{Error, Result};
use crate::datafile::blocks::DataFile;
use crate::patterns::records::Tally;
use crate::patterns::scan::{self, Counts};
use crate::result::Measured;
use crate::result::patterns::PatternFigures;
use crate::workload::pattern_keys::RecordsIo;
use crate::workload::plan::{Plan, Rw};

/// The data file a plan runs on, with what the pattern must check later.
pub(crate) enum FileKind {
    Blocks,
    Records { record_size: u64, before: Tally },
    Scan { want: Counts },
}

/// Prepares the plan's data file: the block pattern (see `safety`), a record file or a log.
pub(crate) fn prepare(plan: &Plan) -> Result<(DataFile, FileKind)> {
    match (plan.rw, plan.records) {
        (Rw::Scan, _) => {
            let (data, want) = crate::datafile::log::prepare(&plan.dir, plan.size_bytes, plan.seed)?;
            Ok((data, FileKind::Scan { want }))
        }
        (rw, Some(o)) if rw.is_records() => {
            let rs = o.record_size_bytes;
            let (data, before) = crate::datafile::records::prepare(&plan.dir, plan.size_bytes, rs, plan.seed)?;
            Ok((data, FileKind::Records { record_size: rs, before }))
        }
        _ => Ok((crate::datafile::safety::prepare(plan)?.0, FileKind::Blocks)),
    }
}

impl FileKind {
    /// Checks the counts a scan stored in its slot's buffer.
    #[inline]
    pub(crate) fn check_scan(&self, data: &DataFile, slot: &[u8]) -> Result<()> {
        if let FileKind::Scan { want } = self {
            let got = Counts::load(slot);
            if got != *want {
                return Err(scan::mismatch(&data.path, got, *want));
            }
        }
        Ok(())
    }

    /// After a run: checks the record file against the updates completed (ramp included) and
    /// returns the pattern's figures.
    pub(crate) fn after_run(
        &mut self,
        plan: &Plan,
        data: &DataFile,
        completed: u64,
        m: &Measured,
    ) -> Result<Option<PatternFigures>> {
        let secs = m.runtime_ns.max(1) as f64 / 1e9;
        match self {
            FileKind::Blocks => Ok(None),
            FileKind::Scan { want } => Ok(Some(PatternFigures::Scan {
                lines_per_scan: want.lines,
                matches_per_scan: want.matches,
                needle: String::from_utf8_lossy(scan::NEEDLE).into_owned(),
                scans: m.ops,
                scans_checked: completed,
                lines_per_s: (want.lines * m.ops) as f64 / secs,
                gb_per_s: m.bw_bytes_per_s / 1e9,
            })),
            FileKind::Records { record_size, before } => {
                let after = crate::datafile::records::tally(data, *record_size)?;
                let found = after.updates.checked_sub(before.updates);
                if found != Some(completed) {
                    return Err(Error::Verify(format!(
                        "{}: the records hold {} updates more than before the run, but {completed} completed \
                         (lost or duplicated updates)",
                        data.path.display(),
                        after.updates as i128 - before.updates as i128,
                    )));
                }
                *before = after;
                let unit = match plan.records.map(|o| o.io) {
                    _ if plan.backend == crate::workload::backends::BackendKind::Mmap => "in place",
                    Some(RecordsIo::Page) => "page",
                    _ if plan.backend.is_direct() => "aligned block",
                    _ => "record",
                };
                Ok(Some(PatternFigures::Records {
                    record_size_bytes: *record_size,
                    records: after.records,
                    io_unit: unit.to_string(),
                    updates: m.ops,
                    updates_checked: completed,
                    records_per_s: m.iops,
                    durable_records_per_s: m.final_sync_ns.map(|f| m.ops as f64 / ((m.runtime_ns + f) as f64 / 1e9)),
                    records_updated_ever: after.touched,
                    max_updates_one_record: after.max_updates,
                }))
            }
        }
    }
}
