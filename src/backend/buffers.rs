//! I/O buffers: one slot per operation in flight, page-aligned (enough for O_DIRECT on
//! common filesystems), in one anonymous mapping so queue backends can register it at once.

use crate::base::error::{Error, Result};
use crate::os::advice::Advice;
use crate::workload::tuning::BufferKind;
use memmap2::MmapMut;

pub struct BufferPool {
    map: MmapMut,
    slot_len: usize,
    slots: usize,
    /// Where the slots start inside `map` (non-zero only for huge-page pools, aligned to 2 MiB).
    base: usize,
    kind: BufferKind,
}

/// Huge-page (PMD) size on x86-64 and arm64 with 4 KiB pages.
const HUGE: usize = 2 << 20;

impl BufferPool {
    /// `slots` buffers of at least `len` bytes, each starting at a multiple of `align`.
    pub fn new(slots: usize, len: usize, align: usize) -> Result<Self> {
        let align = align.max(crate::os::fsinfo::page_size());
        let slot_len = len.next_multiple_of(align).max(align);
        let map = MmapMut::map_anon(slot_len * slots)
            .map_err(|e| Error::io(format!("cannot allocate {slots} I/O buffers of {slot_len} bytes"), e))?;
        Ok(BufferPool { map, slot_len, slots, base: 0, kind: BufferKind::Plain })
    }

    /// As `new`, backed as `kind` says. Huge-page pools are 2 MiB-aligned regions with
    /// `MADV_HUGEPAGE`, touched once here so the huge pages are allocated before measurement.
    pub(crate) fn with_kind(slots: usize, len: usize, align: usize, kind: BufferKind) -> Result<Self> {
        if kind == BufferKind::Plain {
            return BufferPool::new(slots, len, align);
        }
        let align = align.max(crate::os::fsinfo::page_size());
        let slot_len = len.next_multiple_of(align).max(align);
        let used = (slot_len * slots).next_multiple_of(HUGE);
        let mut map = MmapMut::map_anon(used + HUGE)
            .map_err(|e| Error::io(format!("cannot allocate {} of huge-page I/O buffers", used + HUGE), e))?;
        let addr = map.as_mut_ptr() as usize;
        let base = (HUGE - addr % HUGE) % HUGE;
        // SAFETY: base + used lies inside the mapping (one spare huge page was added for it).
        let start = unsafe { map.as_mut_ptr().add(base) };
        crate::os::advice::apply_madvise(start, used, Advice::Hugepage)?;
        let page = crate::os::fsinfo::page_size();
        for off in (base..base + used).step_by(page) {
            map[off] = 0;
        }
        Ok(BufferPool { map, slot_len, slots, base, kind })
    }

    /// For evidence: how the pool is backed and, for huge-page pools, how much of it the
    /// kernel actually gave huge pages (`AnonHugePages` of its smaps entry).
    pub(crate) fn describe(&self) -> Option<String> {
        if self.kind == BufferKind::Plain {
            return None;
        }
        let used = (self.slot_len * self.slots).next_multiple_of(HUGE);
        let addr = self.map.as_ptr() as usize + self.base;
        let huge = crate::os::smaps::range(addr, used).and_then(|r| r.sizes.get("anon_huge_pages_bytes").copied());
        Some(match huge {
            Some(h) => format!(
                "I/O buffers: hugepage, {} region, AnonHugePages {} ({:.0}%)",
                crate::base::units::format_size(used as u64),
                crate::base::units::format_size(h),
                h as f64 * 100.0 / used as f64
            ),
            None => "I/O buffers: hugepage (smaps entry not found)".into(),
        })
    }

    #[inline]
    pub fn slot(&self, i: u32) -> &[u8] {
        let start = self.base + i as usize * self.slot_len;
        &self.map[start..start + self.slot_len]
    }

    #[inline]
    pub fn slot_mut(&mut self, i: u32) -> &mut [u8] {
        let start = self.base + i as usize * self.slot_len;
        &mut self.map[start..start + self.slot_len]
    }

    // Without the `uring` feature nothing registers buffers with the kernel.
    #[cfg_attr(not(feature = "uring"), allow(dead_code))]
    pub(crate) fn slots(&self) -> usize {
        self.slots
    }

    #[cfg_attr(not(feature = "uring"), allow(dead_code))]
    pub(crate) fn slot_len(&self) -> usize {
        self.slot_len
    }

    /// Base address and total length, for registering the pool with the kernel.
    #[cfg_attr(not(feature = "uring"), allow(dead_code))]
    pub(crate) fn as_mut_ptr(&mut self) -> *mut u8 {
        // SAFETY: `base` lies inside the mapping.
        unsafe { self.map.as_mut_ptr().add(self.base) }
    }
}
