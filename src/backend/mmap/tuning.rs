//! The mmap backend's tuning: shared or private mapping, `MAP_POPULATE`, and right after
//! mapping the `madvise` advice, `MADV_POPULATE_*` prefault and `MADV_COLLAPSE`, in that order
//! (collapse works on what is already resident). All of it is untimed setup; each step's
//! outcome and duration goes into the result's evidence.

use crate::base::error::Result;
use crate::base::units::{format_ns, format_size};
use crate::os::advice;
use crate::workload::tuning::{MapKind, Populate, Tuning};
use memmap2::{MmapOptions, MmapRaw};
use std::fs::File;
use std::time::Instant;

/// Maps `file` as the tuning says: shared (read-write for writes, read-only otherwise) or
/// private read-only, with `MAP_POPULATE` if asked.
pub(crate) fn map(options: &mut MmapOptions, file: &File, writes: bool, tuning: &Tuning) -> std::io::Result<MmapRaw> {
    if tuning.populate == Populate::MapPopulate {
        options.populate();
    }
    if writes {
        options.map_raw(file)
    } else if tuning.map == MapKind::Private {
        // SAFETY: as for the shared mapping (see mmap.rs); a private read-only mapping sees
        // the file's pages until written, and it is never written.
        unsafe { options.map_copy_read_only(file) }.map(MmapRaw::from)
    } else {
        options.map_raw_read_only(file)
    }
}

/// Applies advice, prefault and collapse to the whole mapping; returns what was done.
pub(crate) fn apply(map: &MmapRaw, tuning: &Tuning) -> Result<Vec<String>> {
    let (addr, len) = (map.as_mut_ptr(), map.len());
    let kind = if tuning.map == MapKind::Private { "private" } else { "shared" };
    let mut notes = vec![format!("mmap: {kind} mapping")];
    if let Some(a) = tuning.advice {
        advice::apply_madvise(addr, len, a)?;
        notes.push(format!("madvise {}: applied", a.name()));
    }
    let timed = |what: &str, t: Instant| {
        format!("{what}: {} in {}", format_size(len as u64), format_ns(t.elapsed().as_nanos() as f64))
    };
    match tuning.populate {
        Populate::None => {}
        Populate::MapPopulate => notes.push("MAP_POPULATE at mmap (the kernel reports no errors for it)".into()),
        Populate::PopulateRead | Populate::PopulateWrite => {
            let write = tuning.populate == Populate::PopulateWrite;
            let t = Instant::now();
            advice::populate(addr, len, write)?;
            notes.push(timed(if write { "MADV_POPULATE_WRITE" } else { "MADV_POPULATE_READ" }, t));
        }
    }
    if tuning.collapse {
        let t = Instant::now();
        let outcome = advice::collapse(addr, len)?;
        notes.push(format!("{outcome} (took {})", format_ns(t.elapsed().as_nanos() as f64)));
    }
    Ok(notes)
}
