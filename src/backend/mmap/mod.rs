//! `mmap`: one shared mapping of the whole file for all worker threads. Reads are consumed in
//! place (the loop's checksum touches the mapped pages, so page faults land inside the timed
//! operation); writes copy the buffer into the mapping. Nothing is copied out on reads, unlike
//! fio's mmap engine, which memcpy's every block into an I/O buffer.

pub(crate) mod tuning;
pub(crate) mod window;

use crate::backend::{Backend, Completion, MappedRegion, Op, OpKind, Probes, Setup};
use crate::base::error::{Error, IoContext, Result};
use crate::datafile::blocks::DataFile;
use crate::os::sigbus;
use crate::workload::plan::{Durability, Plan};
use memmap2::MmapRaw;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;

pub(crate) struct SharedMap {
    /// Lets the SIGBUS handler turn a truncated file into a failed run (see os/sigbus.rs).
    sigbus: Arc<sigbus::Registration>,
    map: Arc<MmapRaw>,
    durability: Durability,
    /// What the tuning applied, for the result's evidence.
    setup: Arc<Vec<String>>,
}

/// Opens the data file for mapping (read-write only for write patterns) and checks that it covers
/// `size`, so no access through the mapping can fall past its end. Returns the file and whether the
/// plan writes.
fn open_for_mapping(plan: &Plan, data: &DataFile) -> Result<(std::fs::File, bool)> {
    let writes = plan.rw.has_writes();
    let file = OpenOptions::new()
        .read(true)
        .write(writes)
        // Writes never go through a symbolic link planted in place of the data file.
        .custom_flags(if writes { libc::O_NOFOLLOW } else { 0 })
        .open(&data.path)
        .context(|| format!("cannot open {}", data.path.display()))?;
    let len = crate::os::fsinfo::file_len(&file).context(|| format!("cannot stat {}", data.path.display()))?;
    if len < plan.size_bytes {
        return Err(Error::FileChanged(format!(
            "{} holds {len} bytes, less than size = {}; remove it so iobench recreates it",
            data.path.display(),
            plan.size_bytes
        )));
    }
    Ok((file, writes))
}

impl SharedMap {
    pub(crate) fn open(plan: &Plan, data: &DataFile) -> Result<Self> {
        let (file, writes) = open_for_mapping(plan, data)?;
        // A mapping is one Rust object, at most isize::MAX bytes: 2 GiB - 1 in a 32-bit process,
        // whatever the kernel could map (memmap2 refuses longer ones before calling mmap).
        let len = usize::try_from(plan.size_bytes).ok().filter(|l| *l <= isize::MAX as usize).ok_or_else(|| {
            Error::System(format!(
                "mmap failed: {} bytes of {} exceed the largest object a {}-bit process can address \
                 (isize::MAX = {} bytes); map it in pieces with window = \"256m\"",
                plan.size_bytes,
                data.path.display(),
                usize::BITS,
                isize::MAX
            ))
        })?;
        let what = || format!("{} bytes of {}", plan.size_bytes, data.path.display());
        let hint = "; map it in pieces with window = \"256m\"";
        let tuning::Mapped { sigbus, map, notes } =
            tuning::map_range(&file, (0, len), writes, &plan.tuning, what, hint)?;
        let (sigbus, setup) = (Arc::new(sigbus), Arc::new(notes));
        Ok(SharedMap { sigbus, map: Arc::new(map), durability: plan.durability, setup })
    }

    pub(crate) fn instance(&self) -> MmapBackend {
        MmapBackend {
            _sigbus: Arc::clone(&self.sigbus),
            map: Arc::clone(&self.map),
            durability: self.durability,
            pending: None,
            setup: Arc::clone(&self.setup),
        }
    }
}

pub(crate) struct MmapBackend {
    /// Declared first so it is dropped first: the handler forgets the range before it is unmapped.
    _sigbus: Arc<sigbus::Registration>,
    map: Arc<MmapRaw>,
    durability: Durability,
    pending: Option<Completion>,
    setup: Arc<Vec<String>>,
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
            // rw = records: the record's value is updated where it lies in the mapping.
            OpKind::Update => {
                // SAFETY: the record lies inside the mapping (offsets are drawn below size minus
                // the record size), which is writable for record workloads, and records run one worker.
                unsafe { crate::patterns::records::update_in_place(self.map.as_mut_ptr().add(op.offset as usize)) };
                op.len as i64
            }
            // rw = scan: memchr over the whole mapping in place; the counts go to the slot's buffer.
            OpKind::Scan => {
                // SAFETY: the mapping covers the file and lives as long as `self`; scans only read.
                let all = unsafe { std::slice::from_raw_parts(self.map.as_ptr(), self.map.len()) };
                crate::patterns::scan::scan_mapped(all, buf)
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

    fn describe(&self) -> Setup {
        Setup { notes: self.setup.to_vec(), ..Setup::default() }
    }

    fn probes(&mut self) -> Probes<'_> {
        Probes { mapped: Some(MappedRegion { addr: self.map.as_ptr() as usize, len: self.map.len() }), submit: None }
    }
}
