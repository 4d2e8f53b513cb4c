//! The mmap backend's tuning: shared or private mapping, `MAP_POPULATE`, and right after
//! mapping the `madvise` advice, `MADV_POPULATE_*` prefault and `MADV_COLLAPSE`, in that order
//! (collapse works on what is already resident). All of it is untimed setup; each step's
//! outcome and duration goes into the result's evidence. `map_range` is how both the whole-file
//! mapping and the sliding windows map, register and tune a range.

use crate::base::error::{Error, Result};
use crate::base::units::{format_ns, format_size};
use crate::os::{advice, sigbus};
use crate::workload::tuning::{MapKind, Populate, Tuning};
use memmap2::{MmapOptions, MmapRaw};
use std::fs::File;
use std::time::Instant;

/// A range of the file mapped as the tuning says, known to the SIGBUS handler, with advice,
/// prefault and collapse applied.
pub(crate) struct Mapped {
    pub(crate) sigbus: sigbus::Registration,
    pub(crate) map: MmapRaw,
    /// What the tuning did, for the evidence.
    pub(crate) notes: Vec<String>,
}

/// Maps `len` bytes of `file` from `offset` (read-write for `writes`), registers them with the
/// SIGBUS handler, then applies the tuning. An error reads `mmap failed: ENOMEM (WHAT)HINT`,
/// with `hint` added only for ENOMEM (the expected outcome under `address_space_limit`).
pub(crate) fn map_range(
    file: &File,
    (offset, len): (u64, usize),
    writes: bool,
    tuning: &Tuning,
    what: impl FnOnce() -> String,
    enomem_hint: &str,
) -> Result<Mapped> {
    let mut options = MmapOptions::new();
    options.offset(offset).len(len);
    // SAFETY (of the mapping's later use): the file is iobench's own and was checked to cover
    // the range. Another process truncating it during the run makes accesses fault with SIGBUS:
    // the registration below makes that a failed run instead of a dead process.
    let map = map(&mut options, file, writes, tuning).map_err(|e| {
        let hint = if e.raw_os_error() == Some(libc::ENOMEM) { enomem_hint } else { "" };
        Error::io(
            format!(
                "mmap failed: {} ({}){hint}",
                crate::os::errno::name(&e).map_or_else(|| e.to_string(), String::from),
                what()
            ),
            e,
        )
    })?;
    let sigbus = sigbus::Registration::new_at(map.as_ptr(), len, offset)?;
    // Advice, prefault and collapse, after the SIGBUS registration.
    let notes = apply(&map, tuning)?;
    Ok(Mapped { sigbus, map, notes })
}

/// Maps `file` as the tuning says: shared (read-write for writes, read-only otherwise) or
/// private read-only, with `MAP_POPULATE` if asked.
fn map(options: &mut MmapOptions, file: &File, writes: bool, tuning: &Tuning) -> std::io::Result<MmapRaw> {
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
fn apply(map: &MmapRaw, tuning: &Tuning) -> Result<Vec<String>> {
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
