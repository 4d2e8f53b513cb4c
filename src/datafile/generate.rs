//! How every data file is generated (block files, record files, logs): written under a
//! temporary `.NAME.iobench-partial` name opened with O_EXCL and marked as iobench's, synced,
//! then renamed into place, so a partial file (disk full, interrupted) never passes for a
//! complete one. A file found at such a name is reused only when its own check says it is
//! intact, and replaced only when it is known to be iobench's.

use crate::base::error::{Error, IoContext, Result};
use crate::base::units::format_size;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The temporary file a generator writes into.
pub(crate) struct Sink {
    file: File,
    path: PathBuf,
    size: u64,
}

impl Sink {
    /// Appends `bytes`; fails at once after Ctrl-C, and names the fix when the disk is full.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<()> {
        if crate::base::stop::requested() {
            return Err(Error::interrupted_while(format!("creating {}", self.path.display())));
        }
        self.file.write_all(bytes).map_err(|e| self.error(e))
    }

    /// Overwrites `bytes` at `offset` (a header whose figures are known only at the end).
    pub(crate) fn write_at(&self, bytes: &[u8], offset: u64) -> Result<()> {
        self.file.write_all_at(bytes, offset).map_err(|e| self.error(e))
    }

    fn error(&self, e: std::io::Error) -> Error {
        if e.raw_os_error() == Some(libc::ENOSPC) {
            Error::System(format!(
                "disk full while creating {} ({}): the partial file was removed; use a smaller --size or another --dir",
                self.path.display(),
                format_size(self.size)
            ))
        } else {
            Error::io(format!("cannot write {}", self.path.display()), e)
        }
    }
}

/// Creates `path` (about `size` bytes) atomically with `generate`, replacing what was there.
pub(crate) fn create(path: &Path, size: u64, generate: impl FnOnce(&mut Sink) -> Result<()>) -> Result<()> {
    let existed = std::fs::symlink_metadata(path).is_ok();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.iobench-partial"));
    let _ = std::fs::remove_file(&tmp);
    crate::datafile::cleanup::record_created(&tmp);
    let result = (|| {
        // create_new (O_EXCL) never follows a symbolic link planted at the temporary name.
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .context(|| format!("cannot create {}", tmp.display()))?;
        crate::datafile::marks::mark(&file);
        let mut sink = Sink { file, path: path.to_path_buf(), size };
        generate(&mut sink)?;
        sink.file.sync_all().map_err(|e| sink.error(e))?;
        std::fs::rename(&tmp, path).context(|| format!("cannot rename {} into place", tmp.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    } else if !existed {
        crate::datafile::cleanup::record_created(path);
    }
    result
}

/// What is at the path of a generated file.
pub(crate) enum Found {
    Missing,
    /// A regular file of this length; its owner's check decides whether it is intact.
    File(u64),
}

/// Looks at `path` without following a link: a directory, device or link there is refused.
pub(crate) fn look(path: &Path) -> Result<Found> {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return Ok(Found::Missing) };
    if !meta.file_type().is_file() {
        return Err(Error::Refused(format!(
            "{} exists and is not a regular file; iobench only uses files it created: remove it or choose another --dir",
            path.display()
        )));
    }
    Ok(Found::File(meta.len()))
}

/// A damaged file at `path` may be replaced only if its start still looks like iobench's
/// (`looks_ours`) or it carries iobench's marker.
pub(crate) fn replaceable(path: &Path, looks_ours: bool) -> Result<()> {
    if looks_ours || crate::datafile::marks::is_marked(path) {
        Ok(())
    } else {
        Err(Error::Refused(format!(
            "{} exists and was not written by iobench; remove it or choose another --dir",
            path.display()
        )))
    }
}
