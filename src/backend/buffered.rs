//! `buffered` and `direct`: pread/pwrite on one descriptor, through the page cache or with
//! O_DIRECT. Both complete inline; O_DIRECT additionally needs aligned buffers, offsets and
//! lengths (the loop provides them from `direct_alignment`).

use super::{Backend, Completion, Op, OpKind};
use crate::base::error::{Error, IoContext, Result};
use crate::datafile::blocks::DataFile;
use crate::os;
use crate::workload::plan::{Durability, Plan};
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

pub(crate) struct PreadBackend {
    file: File,
    durability: Durability,
    pending: Option<Completion>,
}

/// Opens `data` for `plan`'s backend with the flags its durability and directness need.
pub(crate) fn open_data_file(plan: &Plan, data: &DataFile, direct: bool) -> Result<File> {
    let mut flags = 0;
    if direct {
        flags |= libc::O_DIRECT;
    }
    if plan.durability == Durability::Odsync {
        flags |= libc::O_DSYNC;
    }
    if plan.rw.has_writes() {
        // Writes never go through a symbolic link planted in place of the data file.
        flags |= libc::O_NOFOLLOW;
    }
    let opened = OpenOptions::new().read(true).write(plan.rw.has_writes()).custom_flags(flags).open(&data.path);
    let file = opened.map_err(|e| {
        if direct && e.raw_os_error() == Some(libc::EINVAL) {
            let fs = os::mounts::mount_of(&data.path).map(|m| m.fs_type).unwrap_or_else(|| "unknown".into());
            Error::Unsupported {
                backend: plan.backend.to_string(),
                reason: format!(
                    "the {fs} filesystem holding {} refuses O_DIRECT; use --backend buffered",
                    data.path.display()
                ),
            }
        } else {
            Error::io(format!("cannot open {}", data.path.display()), e)
        }
    })?;
    // The hint belongs to this open file (readahead mode is per descriptor), so every
    // worker's descriptor gets it.
    if let Some(hint) = plan.tuning.fadvise {
        os::advice::apply_fadvise(&file, hint, plan.backend.name())?;
    }
    Ok(file)
}

/// The O_DIRECT alignment for `data`, checked against the plan's block size.
pub(crate) fn direct_alignment(plan: &Plan, data: &DataFile) -> Result<u64> {
    let (mem, offset) = match os::fsinfo::dio_align(&data.path) {
        Some((m, o)) => (m as u64, o as u64),
        None => {
            let b = os::fsinfo::fs_block_size(&data.path).unwrap_or(4096);
            (b, b)
        }
    };
    let align = mem.max(offset);
    if !plan.bs_bytes.is_multiple_of(offset) {
        return Err(Error::invalid(
            "bs",
            format!(
                "{} bytes is not a multiple of {offset}, the O_DIRECT alignment of {}; use a block size such as 4k",
                plan.bs_bytes,
                data.path.display()
            ),
        ));
    }
    Ok(align)
}

impl PreadBackend {
    pub(crate) fn open(plan: &Plan, data: &DataFile) -> Result<Self> {
        let file = open_data_file(plan, data, plan.backend.is_direct())?;
        Ok(PreadBackend { file, durability: plan.durability, pending: None })
    }
}

fn result_of(rc: libc::ssize_t) -> i64 {
    if rc < 0 { -(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO) as i64) } else { rc as i64 }
}

impl Backend for PreadBackend {
    #[inline]
    fn submit(&mut self, op: Op, buf: &mut [u8]) -> Result<()> {
        let fd = self.file.as_raw_fd();
        let len = op.len as usize;
        // SAFETY: `buf` holds at least `len` bytes for the duration of the call.
        let result = match op.kind {
            OpKind::Read => result_of(unsafe { libc::pread64(fd, buf.as_mut_ptr().cast(), len, op.offset as i64) }),
            OpKind::Write => result_of(unsafe { libc::pwrite64(fd, buf.as_ptr().cast(), len, op.offset as i64) }),
            OpKind::Sync => {
                let rc = match self.durability {
                    Durability::Fdatasync { .. } => unsafe { libc::fdatasync(fd) },
                    _ => unsafe { libc::fsync(fd) },
                };
                result_of(rc as libc::ssize_t)
            }
            // rw = scan: read() the whole log through the slot's buffer (see crate::patterns::scan).
            OpKind::Scan => crate::patterns::scan::scan_fd(fd, buf),
            // Record updates reach this backend as a read and a write (backend/rmw.rs).
            OpKind::Update => -(libc::EOPNOTSUPP as i64),
        };
        self.pending = Some(Completion { slot: op.slot, result });
        Ok(())
    }

    #[inline]
    fn reap(&mut self, _min: usize, done: &mut Vec<Completion>) -> Result<()> {
        done.extend(self.pending.take());
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.file.sync_all().context(|| "final fsync".into())
    }
}
