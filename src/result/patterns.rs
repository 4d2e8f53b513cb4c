//! What a record or scan run adds to its result (`pattern` in the results document).

use serde::{Deserialize, Serialize};

/// What a record or scan run adds to its result (`pattern` in the results document).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PatternFigures {
    Records {
        record_size_bytes: u64,
        records: u64,
        /// What a descriptor backend read and wrote back per update: record, page, aligned block.
        io_unit: String,
        /// Updates in the measured interval (= ops); records_per_s is their rate (= iops).
        updates: u64,
        /// Updates the file was checked against: every one completed, ramp included.
        updates_checked: u64,
        records_per_s: f64,
        /// Updates ÷ (runtime + final sync), when the run synced.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        durable_records_per_s: Option<f64>,
        /// Records updated at least once since the file was generated, and the hottest one's count.
        records_updated_ever: u64,
        max_updates_one_record: u64,
    },
    Scan {
        lines_per_scan: u64,
        matches_per_scan: u64,
        needle: String,
        /// Scans in the measured interval (= ops), and all scans whose counts were checked.
        scans: u64,
        scans_checked: u64,
        lines_per_s: f64,
        gb_per_s: f64,
    },
}
