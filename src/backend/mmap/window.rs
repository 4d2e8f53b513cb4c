//! `mmap` with `window = "256m"`: the file is mapped at most `window` bytes at a time, and the
//! window slides to wherever the next operation lands (the article's "chunk mapping"). This is
//! how a process with a small address space (`address_space_limit`, a 32-bit process) still
//! reads a file larger than it could map whole.
//!
//! Each worker keeps its own window. Windows are aligned to multiples of `window` (which the
//! plan checked is a multiple of the block size and the page size), so an operation never
//! straddles two. Moving the window (munmap + mmap + advice) happens inside the operation that
//! needed it, so its cost shows in that operation's latency: it is part of the technique.
//!
//! Durability: `msync` only reaches the mapped range, so pages written through an earlier
//! window are made durable with `fdatasync` at the next sync point (and `fsync` at the end).

use crate::backend::{Backend, Completion, MappedRegion, Op, OpKind, Probes, Setup};
use crate::base::error::{Error, IoContext, Result};
use crate::datafile::blocks::DataFile;
use crate::os::sigbus;
use crate::workload::plan::{Durability, Plan};
use crate::workload::tuning::Tuning;
use memmap2::MmapRaw;
use std::fs::File;

/// The mapped part of the file.
struct Window {
    /// Declared first so it is dropped first: the handler forgets the range before it is unmapped.
    _sigbus: sigbus::Registration,
    map: MmapRaw,
    /// File offset of the window's first byte.
    start: u64,
    /// Written since the last sync point.
    dirty: bool,
}

pub(crate) struct WindowedMmap {
    file: File,
    size: u64,
    window: u64,
    writes: bool,
    durability: Durability,
    tuning: Tuning,
    current: Option<Window>,
    /// Pages written through a window that is gone and not yet synced.
    dirty_elsewhere: bool,
    pending: Option<Completion>,
    /// Windows mapped so far (evidence of how often the window moved).
    maps: u64,
    /// Setup notes of the first window (advice, prefault…), as the whole-file mapping reports them.
    first_notes: Vec<String>,
}

impl WindowedMmap {
    pub(crate) fn open(plan: &Plan, data: &DataFile, window: u64) -> Result<Self> {
        use crate::workload::plan::Rw;
        if !matches!(plan.rw, Rw::Read | Rw::Write | Rw::Randread | Rw::Randwrite | Rw::Rw | Rw::Randrw) {
            return Err(Error::invalid("window", "applies to read and write patterns only; remove it for this rw"));
        }
        let (file, writes) = super::open_for_mapping(plan, data)?;
        Ok(WindowedMmap {
            file,
            size: plan.size_bytes,
            window,
            writes,
            durability: plan.durability,
            tuning: plan.tuning.clone(),
            current: None,
            dirty_elsewhere: false,
            pending: None,
            maps: 0,
            first_notes: Vec::new(),
        })
    }

    /// Makes sure `[offset, offset + len)` is mapped and returns its address.
    fn locate(&mut self, offset: u64, len: u64) -> Result<*mut u8> {
        let inside = |w: &Window| offset >= w.start && offset + len <= w.start + w.map.len() as u64;
        if !self.current.as_ref().is_some_and(inside) {
            self.slide(offset, len)?;
        }
        let w = self.current.as_ref().ok_or_else(|| Error::Bug("mmap window missing".into()))?;
        // SAFETY: `inside` holds for the window just checked or mapped.
        Ok(unsafe { w.map.as_mut_ptr().add((offset - w.start) as usize) })
    }

    fn slide(&mut self, offset: u64, len: u64) -> Result<()> {
        if let Some(old) = self.current.take() {
            self.dirty_elsewhere |= old.dirty;
        }
        let mut start = offset / self.window * self.window;
        if offset + len > start + self.window {
            // Only for block sizes the plan did not check against the window: start at the page.
            start = offset & !(crate::os::fsinfo::page_size() as u64 - 1);
        }
        let map_len = self.window.max(offset + len - start).min(self.size - start);
        let what = || format!("{map_len} byte window at offset {start}");
        let range = (start, map_len as usize);
        let super::tuning::Mapped { sigbus: registration, map, notes } =
            super::tuning::map_range(&self.file, range, self.writes, &self.tuning, what, "")?;
        if self.maps == 0 {
            self.first_notes = notes;
        }
        self.maps += 1;
        self.current = Some(Window { _sigbus: registration, map, start, dirty: false });
        Ok(())
    }

    /// The sync operation of the durability policy: msync of the mapped window, plus fdatasync
    /// for what earlier windows left dirty (msync cannot reach pages no longer mapped).
    fn sync(&mut self) -> std::io::Result<()> {
        let asynchronous = matches!(self.durability, Durability::MsyncAsync { .. });
        if let Some(w) = self.current.as_mut() {
            if asynchronous {
                w.map.flush_async()?
            } else {
                w.map.flush()?
            }
            w.dirty = false;
        }
        if !asynchronous && self.dirty_elsewhere {
            self.file.sync_data()?;
            self.dirty_elsewhere = false;
        }
        Ok(())
    }
}

fn errno_of(e: &std::io::Error) -> i64 {
    -(e.raw_os_error().unwrap_or(libc::EIO) as i64)
}

impl Backend for WindowedMmap {
    fn submit(&mut self, op: Op, buf: &mut [u8]) -> Result<()> {
        let result = match op.kind {
            OpKind::Read => {
                self.locate(op.offset, op.len as u64)?;
                op.len as i64
            }
            OpKind::Write => {
                let dst = self.locate(op.offset, op.len as u64)?;
                // SAFETY: `locate` mapped [offset, offset + len) writable (write patterns map
                // read-write), and `buf` holds at least `len` bytes.
                unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), dst, op.len as usize) };
                if let Some(w) = self.current.as_mut() {
                    w.dirty = true;
                }
                op.len as i64
            }
            OpKind::Sync => match self.sync() {
                Ok(()) => 0,
                Err(e) => errno_of(&e),
            },
            // Refused when the backend was opened; never issued for read/write patterns.
            OpKind::Update | OpKind::Scan => -(libc::EOPNOTSUPP as i64),
        };
        self.pending = Some(Completion { slot: op.slot, result });
        Ok(())
    }

    fn reap(&mut self, _min: usize, done: &mut Vec<Completion>) -> Result<()> {
        done.extend(self.pending.take());
        Ok(())
    }

    fn view<'a>(&'a self, op: &Op, buf: &'a [u8]) -> &'a [u8] {
        match &self.current {
            // SAFETY: the read's `submit` mapped this range, and nothing moves the window
            // before the loop has consumed the view (one operation in flight).
            Some(w) if op.offset >= w.start && op.offset + op.len as u64 <= w.start + w.map.len() as u64 => unsafe {
                std::slice::from_raw_parts(w.map.as_ptr().add((op.offset - w.start) as usize), op.len as usize)
            },
            _ => &buf[..0],
        }
    }

    fn flush(&mut self) -> Result<()> {
        if let Some(w) = self.current.as_mut() {
            w.map.flush().context(|| "final msync(MS_SYNC) of the window".into())?;
        }
        self.file.sync_all().context(|| "final fsync (pages written through earlier windows)".into())?;
        self.dirty_elsewhere = false;
        Ok(())
    }

    fn describe(&self) -> Setup {
        let mut notes = self.first_notes.clone();
        notes.push(format!("mmap window: {} per mapping", crate::base::units::format_size(self.window)));
        let mut in_force = serde_json::Map::new();
        in_force.insert("window_bytes".into(), self.window.into());
        in_force.insert("windows_mapped".into(), self.maps.into());
        Setup { in_force, notes }
    }

    fn probes(&mut self) -> Probes<'_> {
        let mapped = self.current.as_ref().map(|w| MappedRegion { addr: w.map.as_ptr() as usize, len: w.map.len() });
        Probes { mapped, submit: None }
    }
}
