//! Data files: created by iobench, filled with the pattern, reused when size and seed match,
//! and put in the requested page-cache state before a run.

use crate::base::error::{Error, IoContext, Result};
use crate::base::units::format_size;
use crate::os;
use crate::patterns::block::{self, PAGE};
use crate::workload::plan::CacheState;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const CHUNK: usize = 1 << 20;

/// A pattern-filled file of `size` bytes made with `seed`.
#[derive(Debug, Clone)]
pub struct DataFile {
    pub path: PathBuf,
    pub size: u64,
    pub seed: u64,
}

impl DataFile {
    /// The file for (size, seed) in `dir`: reused if it is intact, created otherwise.
    /// Returns the file and whether it was created now.
    pub fn prepare(dir: &Path, size: u64, seed: u64) -> Result<(DataFile, bool)> {
        crate::datafile::cleanup::create_dir_all(dir)
            .context(|| format!("cannot create data directory {}", dir.display()))?;
        let data = DataFile { path: DataFile::default_path(dir, size, seed), size, seed };
        let existed = std::fs::symlink_metadata(&data.path).is_ok();
        if let Ok(meta) = std::fs::symlink_metadata(&data.path) {
            if !meta.file_type().is_file() {
                return Err(Error::Refused(format!(
                    "{} exists and is not a regular file; iobench only uses files it created: remove it or choose another --dir",
                    data.path.display()
                )));
            }
            match data.looks_intact(meta.len()) {
                Ok(true) => return Ok((data, false)),
                Ok(false) => {}
                Err(_) => {
                    return Err(Error::Refused(format!(
                        "{} exists and was not written by iobench; remove it or choose another --dir",
                        data.path.display()
                    )));
                }
            }
        }
        data.create()?;
        if !existed {
            crate::datafile::cleanup::record_created(&data.path);
        }
        Ok((data, true))
    }

    /// Where the file for (size, seed) lives in `dir`.
    pub(crate) fn default_path(dir: &Path, size: u64, seed: u64) -> PathBuf {
        dir.join(format!("iobench-{}-{seed:x}.dat", format_size(size)))
    }

    /// Ok(true): ours and complete; Ok(false): ours but stale (wrong size or damaged);
    /// Err: not ours. A file whose first page was damaged (or that was truncated) is still
    /// known as ours by its `user.iobench` extended attribute, where the filesystem keeps one.
    pub(crate) fn looks_intact(&self, len: u64) -> std::result::Result<bool, ()> {
        let file = File::open(&self.path).map_err(|_| ())?;
        let mut page = vec![0u8; PAGE as usize];
        if file.read_exact_at(&mut page, 0).is_err() || block::verify(self.seed, 0, &page).is_err() {
            return if crate::datafile::marks::is_marked(&self.path) { Ok(false) } else { Err(()) };
        }
        if len != self.size {
            return Ok(false);
        }
        let last = (self.size - 1) / PAGE * PAGE;
        let tail = (self.size - last) as usize;
        let mut buf = vec![0u8; tail - tail % 512];
        Ok(file.read_exact_at(&mut buf, last).is_ok() && block::verify(self.seed, last, &buf).is_ok())
    }

    /// Writes the whole file under a temporary name and renames it into place, so a partial
    /// file (disk full, interrupted) never passes for a complete one. The temporary name ends in
    /// `.iobench-partial`, so a leftover of an interrupted run is known as iobench's own.
    pub(crate) fn create(&self) -> Result<()> {
        super::generate::create(&self.path, self.size, |sink| {
            let mut buf = vec![0u8; CHUNK];
            let mut offset = 0u64;
            while offset < self.size {
                let n = CHUNK.min((self.size - offset) as usize);
                block::fill(self.seed, offset, &mut buf[..n]);
                sink.write(&buf[..n])?;
                offset += n as u64;
            }
            Ok(())
        })
    }

    /// Puts the file in the requested cache state and returns its residency (0–1) afterwards.
    pub fn set_cache_state(&self, state: CacheState) -> Result<f64> {
        let file = File::open(&self.path).context(|| format!("cannot open {}", self.path.display()))?;
        match state {
            CacheState::AsIs => {}
            CacheState::Warm => {
                let mut buf = vec![0u8; CHUNK];
                let mut offset = 0;
                while offset < self.size {
                    let n =
                        file.read_at(&mut buf, offset).context(|| format!("cannot read {}", self.path.display()))?;
                    if n == 0 {
                        break;
                    }
                    offset += n as u64;
                }
            }
            CacheState::Cold => {
                // DONTNEED drops only clean pages, so write back first.
                file.sync_all().context(|| format!("cannot fsync {}", self.path.display()))?;
                os::residency::fadvise(&file, libc::POSIX_FADV_DONTNEED)?;
            }
        }
        let resident = os::residency::residency_of(&file, self.size)?;
        match state {
            CacheState::Warm if resident < 0.99 => Err(Error::CacheState(format!(
                "cache = warm: only {:.1}% of {} stayed in the page cache after reading it (memory limit?); \
                 use a smaller --size, or free memory, e.g. with --drop-caches (root)",
                resident * 100.0,
                self.path.display()
            ))),
            CacheState::Cold if resident > 0.01 => Err(Error::CacheState(format!(
                "cache = cold: {:.1}% of {} is still cached after posix_fadvise(DONTNEED): another process maps or \
                 reads it; stop it and retry (--drop-caches, root, cannot evict pages a process maps either)",
                resident * 100.0,
                self.path.display()
            ))),
            _ => Ok(resident),
        }
    }

    /// Reads the whole file back and checks every sector against the pattern.
    pub fn verify_all(&self) -> Result<()> {
        let file = File::open(&self.path).context(|| format!("cannot open {}", self.path.display()))?;
        let mut buf = vec![0u8; CHUNK];
        let mut offset = 0u64;
        while offset < self.size {
            let n = CHUNK.min((self.size - offset) as usize);
            file.read_exact_at(&mut buf[..n], offset).context(|| format!("cannot read {}", self.path.display()))?;
            block::verify(self.seed, offset, &buf[..n - n % 512])
                .map_err(|m| Error::Verify(format!("{}: {m}", self.path.display())))?;
            offset += n as u64;
        }
        Ok(())
    }
}
