//! I/O buffers: one slot per operation in flight, page-aligned (enough for O_DIRECT on
//! common filesystems), in one anonymous mapping so queue backends can register it at once.

use crate::error::{Error, Result};
use memmap2::MmapMut;

pub struct BufferPool {
    map: MmapMut,
    slot_len: usize,
    slots: usize,
}

impl BufferPool {
    /// `slots` buffers of at least `len` bytes, each starting at a multiple of `align`.
    pub fn new(slots: usize, len: usize, align: usize) -> Result<Self> {
        let align = align.max(crate::os::page_size());
        let slot_len = len.next_multiple_of(align).max(align);
        let map = MmapMut::map_anon(slot_len * slots)
            .map_err(|e| Error::io(format!("cannot allocate {slots} I/O buffers of {slot_len} bytes"), e))?;
        Ok(BufferPool { map, slot_len, slots })
    }

    #[inline]
    pub fn slot(&self, i: u32) -> &[u8] {
        let start = i as usize * self.slot_len;
        &self.map[start..start + self.slot_len]
    }

    #[inline]
    pub fn slot_mut(&mut self, i: u32) -> &mut [u8] {
        let start = i as usize * self.slot_len;
        &mut self.map[start..start + self.slot_len]
    }

    pub fn slots(&self) -> usize {
        self.slots
    }

    pub fn slot_len(&self) -> usize {
        self.slot_len
    }

    /// Base address and total length, for registering the pool with the kernel.
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.map.as_mut_ptr()
    }
}
