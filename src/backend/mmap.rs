//! `mmap`: one shared mapping of the whole file for all worker threads. Reads are consumed in
//! place (the loop's checksum touches the mapped pages, so page faults land inside the timed
//! operation); writes copy the buffer into the mapping. Nothing is copied out on reads, unlike
//! fio's mmap engine, which memcpy's every block into an I/O buffer.

use super::{Backend, Completion, Op, OpKind};
use crate::data::DataFile;
use crate::error::{Error, IoContext, Result};
use crate::plan::{Durability, Plan};
use memmap2::{MmapOptions, MmapRaw};
use std::fs::OpenOptions;
use std::sync::Arc;

pub struct SharedMap {
    map: Arc<MmapRaw>,
    durability: Durability,
}

impl SharedMap {
    pub fn open(plan: &Plan, data: &DataFile) -> Result<Self> {
        let writes = plan.rw.has_writes();
        let file = OpenOptions::new()
            .read(true)
            .write(writes)
            .open(&data.path)
            .context(|| format!("cannot open {}", data.path.display()))?;
        let len = file.metadata().context(|| format!("cannot stat {}", data.path.display()))?.len();
        if len < plan.size_bytes {
            return Err(Error::Precondition(format!(
                "{} holds {len} bytes, less than size = {}; remove it so iobench recreates it",
                data.path.display(),
                plan.size_bytes
            )));
        }
        let mut options = MmapOptions::new();
        options.len(plan.size_bytes as usize);
        // SAFETY: the file is iobench's own and was checked above to cover the whole mapping.
        // Another process truncating it during the run would make accesses fault with SIGBUS.
        let map = if writes { options.map_raw(&file) } else { options.map_raw_read_only(&file) };
        let map = map
            .map_err(|e| Error::io(format!("mmap of {} ({} bytes) failed", data.path.display(), plan.size_bytes), e))?;
        Ok(SharedMap { map: Arc::new(map), durability: plan.durability })
    }

    pub fn instance(&self) -> MmapBackend {
        MmapBackend { map: Arc::clone(&self.map), durability: self.durability, pending: None }
    }
}

pub struct MmapBackend {
    map: Arc<MmapRaw>,
    durability: Durability,
    pending: Option<Completion>,
}

impl Backend for MmapBackend {
    #[inline]
    fn submit(&mut self, op: Op, buf: &mut [u8]) -> Result<()> {
        let result = match op.kind {
            // Nothing to do until the loop consumes the view.
            OpKind::Read => op.len as i64,
            OpKind::Write => {
                // SAFETY: offset + len lies inside the mapping (the loop draws offsets below
                // size - bs), and the mapping is writable for write workloads.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        buf.as_ptr(),
                        self.map.as_mut_ptr().add(op.offset as usize),
                        op.len as usize,
                    )
                };
                op.len as i64
            }
            OpKind::Sync => {
                let r = match self.durability {
                    Durability::MsyncAsync { .. } => self.map.flush_async(),
                    _ => self.map.flush(),
                };
                match r {
                    Ok(()) => 0,
                    Err(e) => -(e.raw_os_error().unwrap_or(libc::EIO) as i64),
                }
            }
        };
        self.pending = Some(Completion { slot: op.slot, result });
        Ok(())
    }

    #[inline]
    fn reap(&mut self, _min: usize, done: &mut Vec<Completion>) -> Result<()> {
        done.extend(self.pending.take());
        Ok(())
    }

    #[inline]
    fn view<'a>(&'a self, op: &Op, _buf: &'a [u8]) -> &'a [u8] {
        // SAFETY: the range lies inside the mapping, which lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(op.offset as usize), op.len as usize) }
    }

    fn flush(&mut self) -> Result<()> {
        self.map.flush().context(|| "final msync(MS_SYNC)".into())
    }
}
