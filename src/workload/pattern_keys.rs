//! The article's usage patterns as workload kinds beside fio's block patterns: in-place record
//! updates (`rw = records` / `seqrecords`, see `patterns::records`) and whole-log scans
//! (`rw = scan`, see `patterns::scan`). They run in the one run loop like any block workload;
//! this module validates the keys each adds (`finish`, called by `Plan::from_raw`) and sizes
//! what it needs (bytes per operation, slot buffers). Their data files are `datafile`'s, the
//! checks during and after a run `engine::checks`', their figures `result::patterns`'.
//!
//! How each fits the loop:
//! - records: an operation is one update (`OpKind::Update`) of the record at the drawn offset;
//!   `bs_bytes` is the record size, so `OpStream` draws record numbers (in order, uniform or
//!   zipf) and the loop's ops, latency and IOPS are updates, update latency and records/s.
//! - scan: an operation is one whole scan (`OpKind::Scan`) and `bs_bytes` the read size of the
//!   scans that read into a buffer; bytes per operation are the file's size, so the loop's
//!   throughput is the scan rate. The scan's read-ahead depth (uring) is `ScanOptions`'s, and the
//!   loop runs one scan at a time per worker.

use super::applies::Applies;
use super::values::SizeKey;
use crate::base::error::{Error, Result};
use crate::patterns::{records, scan};
use crate::workload::plan::{CacheState, Plan, Rw, rw_name};
use crate::workload::raw::RawWorkload;
use serde::{Deserialize, Serialize};

const RECORD_SIZE: SizeKey = SizeKey { key: "record_size", examples: "32, 128, 4k" };

/// How a descriptor backend reads and writes back the record it updates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordsIo {
    /// Just the record's bytes (O_DIRECT backends: the aligned block around it).
    #[default]
    Record,
    /// The 4 KiB page holding it.
    Page,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordOptions {
    pub record_size_bytes: u64,
    pub io: RecordsIo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanOptions {
    /// Reads in flight during one scan (uring, uring-direct only): the workload's `iodepth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readahead: Option<u32>,
    /// What a matching line contains.
    pub needle: String,
}

/// Validates the record and scan keys and adapts the generic plan to the pattern. Called at the
/// end of `Plan::from_raw`, after the generic checks.
pub(crate) fn finish(plan: &mut Plan, raw: &RawWorkload, app: &mut Applies<'_>) -> Result<()> {
    if !plan.rw.is_records() {
        let given = [("record_size", raw.record_size.is_some()), ("records_io", raw.records_io.is_some())];
        app.options(&given, "rw = records or seqrecords", &format!("rw = {}", rw_name(plan.rw)));
    }
    if plan.rw.is_blocks() {
        return Ok(());
    }
    if plan.filename.is_some() {
        return Err(Error::invalid(
            "filename",
            "records and scan use a file iobench generates in --dir; leave filename out",
        ));
    }
    if plan.rw == Rw::Scan { finish_scan(plan, raw, app) } else { finish_records(plan, raw, app) }
}

fn finish_records(plan: &mut Plan, raw: &RawWorkload, app: &mut Applies<'_>) -> Result<()> {
    if raw.bs.is_some() {
        return Err(Error::invalid(
            "bs",
            "records are read and written whole: set their size with record_size (default 32), not bs",
        ));
    }
    let rs = RECORD_SIZE.read_positive(raw.record_size.as_ref())?.unwrap_or(records::DEFAULT_RECORD_SIZE);
    if !rs.is_multiple_of(8) || !(records::MIN_RECORD_SIZE..=records::MAX_RECORD_SIZE).contains(&rs) {
        return Err(Error::invalid(
            "record_size",
            format!("{rs} bytes: use a multiple of 8 from 16 to 64k (the article's record is 32)"),
        ));
    }
    if !plan.size_bytes.is_multiple_of(4096) || plan.size_bytes < rs.max(4096) {
        return Err(Error::invalid("size", "a record file is whole 4 KiB pages: use a multiple of 4k, e.g. 256m"));
    }
    if plan.threads > 1 {
        return Err(Error::invalid(
            "threads",
            "record updates are read-modify-writes, so concurrent workers would lose each other's updates; \
             use threads = 1 (and iodepth on uring for updates in flight)",
        ));
    }
    let io = match raw.records_io.as_deref() {
        None | Some("record") => RecordsIo::Record,
        Some("page") => RecordsIo::Page,
        Some(other) => {
            return Err(Error::invalid("records_io", format!("unknown value '{other}' (expected record or page)")));
        }
    };
    let in_place = raw.records_io.is_some() && plan.backend.capabilities().maps_file;
    let here = format!("{} (it updates each record in place)", plan.backend);
    app.options(&[("records_io", in_place)], "backends that read and write records back", &here);
    if let Some(n) = plan.io_size_bytes
        && n < rs
    {
        return Err(Error::invalid("io_size", format!("{n} bytes is less than one record (record_size = {rs})")));
    }
    plan.bs_bytes = rs;
    plan.records = Some(RecordOptions { record_size_bytes: rs, io });
    Ok(())
}

fn finish_scan(plan: &mut Plan, raw: &RawWorkload, app: &mut Applies<'_>) -> Result<()> {
    if plan.size_bytes < scan::MIN_SIZE {
        return Err(Error::invalid("size", "a scanned log is at least 64k; use e.g. 256m"));
    }
    if raw.bs.is_none() {
        plan.bs_bytes = (64 << 10u64).min(plan.size_bytes);
    }
    match plan.io_size_bytes {
        Some(n) if n < plan.size_bytes => {
            return Err(Error::invalid(
                "io_size",
                format!("one scan reads the whole file ({} bytes): use a multiple of size", plan.size_bytes),
            ));
        }
        None if plan.cache == CacheState::Cold => {
            plan.io_size_bytes = Some(plan.size_bytes);
            app.notes.push("cache = cold: one scan per run (the scan itself leaves the file cached)".into());
        }
        _ => {}
    }
    let uring = plan.backend.capabilities().io_uring && !plan.backend.is_outside();
    let readahead = uring.then_some(plan.iodepth);
    let backend = plan.backend.to_string();
    app.options(&[("iodepth", plan.iodepth > 1 && !uring)], "the uring scan's read-ahead", &backend);
    if let Some(u) = plan.uring {
        let given =
            [("fixedbufs", u.fixedbufs), ("registerfiles", u.registerfiles), ("sqthread_poll", u.sqthread_poll)];
        app.options(&given, "block patterns", "the scan's io_uring ring");
    }
    // One scan at a time per worker; the read-ahead lives inside the uring scan.
    plan.iodepth = 1;
    plan.iodepth_batch_complete_min = 1;
    plan.scan = Some(ScanOptions { readahead, needle: String::from_utf8_lossy(scan::NEEDLE).into_owned() });
    Ok(())
}

/// Slot buffer size a plan's loop needs: a block, a record's read-modify-write window, or the
/// scan's read buffer.
pub(crate) fn buffer_len(plan: &Plan, align: u64) -> usize {
    match plan.records {
        Some(o) if plan.rw.is_records() => {
            let unit = o.io_unit(align);
            // A record may straddle a unit boundary: one more unit than it covers.
            (o.record_size_bytes.next_multiple_of(unit) + if unit > 1 { unit } else { 0 }) as usize
        }
        _ => plan.bs_bytes as usize,
    }
}

impl RecordOptions {
    /// The unit a descriptor backend reads and writes to update a record (1: the record itself).
    pub(crate) fn io_unit(self, align: u64) -> u64 {
        let unit = if self.io == RecordsIo::Page { 4096 } else { 1 };
        unit.max(align)
    }
}
