//! What iobench may touch.
//!
//! iobench writes only to files it created: data files carry the pattern (every 4 KiB page is
//! tagged with the seed, see `pattern`) and, where the filesystem keeps extended attributes, a
//! `user.iobench` marker that survives truncation and damage. Anything else is *foreign*:
//! - a workload may read a foreign regular file named with `filename`, but never verify it;
//! - a write workload on a foreign file is refused unless `--allow-overwrite FILE` names it;
//! - block and character devices are refused unless `--allow-device` (and writes to one also
//!   need `--allow-overwrite`);
//! - symbolic links are never followed for writes (checked here, and O_NOFOLLOW at open).
//!
//! `admit` applies these rules to every plan before anything runs (bad input, exit 2) and
//! records the permission in `Plan::permit`; `prepare` applies them again when the file is
//! opened, since the file may have changed in between.

use crate::base::error::{Error, IoContext, Result};
use crate::datafile::blocks::DataFile;
use crate::patterns::block;
use crate::workload::plan::Plan;
use std::fs::File;
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The invocation's permissions (`iobench run --allow-overwrite FILE --allow-device --keep-files`).
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Foreign files and devices a write workload may overwrite.
    pub allow_overwrite: Vec<PathBuf>,
    /// Block and character devices may be used at all.
    pub allow_device: bool,
    /// Files created by this invocation are kept instead of removed at the end.
    pub keep_files: bool,
}

/// What is at a target path, looked at without following a symbolic link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Missing,
    /// Written by iobench with this seed and complete.
    Ours,
    /// Written by iobench, but of another size or damaged: recreated before use.
    Stale,
    Foreign {
        len: u64,
    },
    Device {
        block: bool,
        len: Option<u64>,
    },
    Symlink,
    /// A directory, FIFO or socket.
    Other(&'static str),
}

/// Looks at `path` for a data file of `size` bytes made with `seed`.
pub(crate) fn classify(path: &Path, size: u64, seed: u64) -> Target {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return Target::Missing };
    let ft = meta.file_type();
    if ft.is_symlink() {
        return Target::Symlink;
    }
    if ft.is_block_device() || ft.is_char_device() {
        let len =
            File::open(path).ok().and_then(|f| crate::os::fsinfo::file_len(&f).ok()).filter(|_| ft.is_block_device());
        return Target::Device { block: ft.is_block_device(), len };
    }
    if ft.is_dir() {
        return Target::Other("directory");
    }
    if !ft.is_file() {
        return Target::Other(if ft.is_fifo() { "FIFO" } else { "socket" });
    }
    match (DataFile { path: path.to_path_buf(), size, seed }).looks_intact(meta.len()) {
        Ok(true) => Target::Ours,
        Ok(false) => Target::Stale,
        Err(()) => Target::Foreign { len: meta.len() },
    }
}

/// Checks `plan`'s target against `policy` before anything runs, and records what was allowed.
pub(crate) fn admit(plan: &mut Plan, policy: &Policy) -> Result<()> {
    let Some(path) = plan.filename.clone() else { return admit_own_file(plan) };
    let writes = plan.rw.has_writes();
    let named = names(policy, &path);
    let target = named_target(plan, &path, writes)?;
    let shown = path.display();
    match target {
        Target::Missing => {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            if !parent.is_dir() {
                return Err(Error::invalid(
                    "filename",
                    format!("the directory of {shown} does not exist; create {} first", parent.display()),
                ));
            }
            check_dir(parent, "filename")?;
        }
        Target::Ours | Target::Stale | Target::Symlink => {}
        Target::Foreign { len } => {
            if writes && !named {
                return Err(Error::invalid(
                    "filename",
                    format!(
                        "{shown} exists and was not written by iobench; a write workload would overwrite it: add \
                         --allow-overwrite {shown} to permit that, or name a new file"
                    ),
                ));
            }
            if !writes {
                refuse_verify(plan, &path, "a file")?;
                check_len(plan, &path, Some(len))?;
            }
        }
        Target::Device { block, len } => {
            let kind = if block { "block device" } else { "character device" };
            if !policy.allow_device {
                return Err(Error::invalid(
                    "filename",
                    format!("{shown} is a {kind}; iobench uses devices only with --allow-device"),
                ));
            }
            if writes && !named {
                return Err(Error::invalid(
                    "filename",
                    format!(
                        "{shown} is a {kind} and a write workload would destroy its contents: add \
                         --allow-overwrite {shown} to permit that"
                    ),
                ));
            }
            if !writes {
                refuse_verify(plan, &path, &format!("a {kind}"))?;
            }
            check_len(plan, &path, len)?;
        }
        Target::Other(kind) => {
            return Err(Error::invalid("filename", format!("{shown} is a {kind}; name a regular file")));
        }
    }
    plan.permit = crate::workload::plan::Permit { overwrite: named, device: policy.allow_device };
    Ok(())
}

/// iobench's own file in `dir`: the directory must be usable, and a file at the name must be
/// iobench's.
fn admit_own_file(plan: &Plan) -> Result<()> {
    check_dir(&plan.dir, "dir")?;
    let path = DataFile::default_path(&plan.dir, plan.size_bytes, plan.seed);
    match classify(&path, plan.size_bytes, plan.seed) {
        Target::Missing | Target::Ours | Target::Stale => Ok(()),
        Target::Foreign { .. } => Err(Error::invalid(
            "dir",
            format!("{} exists and was not written by iobench; remove it or choose another --dir", path.display()),
        )),
        _ => Err(Error::invalid(
            "dir",
            format!(
                "{} exists and is not a regular file; iobench only uses files it created: remove it or choose \
                 another --dir",
                path.display()
            ),
        )),
    }
}

/// What `filename` names, a symbolic link followed for reads (never for writes).
fn named_target(plan: &Plan, path: &Path, writes: bool) -> Result<Target> {
    let target = classify(path, plan.size_bytes, plan.seed);
    if target != Target::Symlink {
        return Ok(target);
    }
    let shown = path.display();
    if writes {
        return Err(Error::invalid(
            "filename",
            format!("{shown} is a symbolic link, which iobench never follows for writes; name the file it points to"),
        ));
    }
    let real = std::fs::canonicalize(path)
        .map_err(|e| Error::invalid("filename", format!("{shown} is a symbolic link that leads nowhere ({e})")))?;
    Ok(classify(&real, plan.size_bytes, plan.seed))
}

/// A file or device iobench did not write (`what`) holds no pattern to verify.
fn refuse_verify(plan: &Plan, path: &Path, what: &str) -> Result<()> {
    if !plan.verify {
        return Ok(());
    }
    Err(Error::invalid(
        "verify",
        format!(
            "{} is {what} that iobench did not write, so it holds no pattern to check; drop --verify",
            path.display()
        ),
    ))
}

/// A file or device of `len` bytes (if known) must hold `size`.
fn check_len(plan: &Plan, path: &Path, len: Option<u64>) -> Result<()> {
    match len {
        Some(len) if len < plan.size_bytes => Err(Error::invalid(
            "size",
            format!(
                "{} holds {len} bytes, less than size = {}; use --size {len} or less",
                path.display(),
                plan.size_bytes
            ),
        )),
        _ => Ok(()),
    }
}

/// The data file for `plan`: its own file in `dir`, or the file `filename` names, under the
/// rules above. Returns the file and whether iobench wrote it now.
pub(crate) fn prepare(plan: &Plan) -> Result<(DataFile, bool)> {
    let Some(path) = &plan.filename else { return DataFile::prepare(&plan.dir, plan.size_bytes, plan.seed) };
    let (size, seed, writes) = (plan.size_bytes, plan.seed, plan.rw.has_writes());
    let data = DataFile { path: path.clone(), size, seed };
    let refused = |why: &str| Error::Refused(format!("{} {why}; iobench did not touch it", path.display()));
    match classify(path, size, seed) {
        Target::Missing => {
            data.create()?;
            crate::datafile::cleanup::record_created(path);
            Ok((data, true))
        }
        Target::Stale => data.create().map(|()| (data, true)),
        Target::Ours => Ok((data, false)),
        Target::Foreign { .. } if writes && !plan.permit.overwrite => {
            Err(refused("was replaced by a file iobench did not write"))
        }
        Target::Foreign { .. } if writes => data.create().map(|()| (data, true)),
        Target::Foreign { len } if len < size => Err(refused("is smaller than size")),
        Target::Foreign { .. } => Ok((data, false)),
        Target::Device { .. } if !plan.permit.device => Err(refused("is a device")),
        Target::Device { .. } if writes && !plan.permit.overwrite => Err(refused("is a device")),
        Target::Device { .. } if writes => {
            if data.looks_intact(size) != Ok(true) {
                fill_in_place(&data)?;
            }
            Ok((data, true))
        }
        Target::Device { .. } => Ok((data, false)),
        Target::Symlink if writes => Err(refused("became a symbolic link")),
        Target::Symlink => {
            let real = std::fs::canonicalize(path).context(|| format!("cannot resolve {}", path.display()))?;
            let real_plan = Plan { filename: Some(real), ..plan.clone() };
            prepare(&real_plan)
        }
        Target::Other(kind) => Err(refused(&format!("is a {kind}"))),
    }
}

/// Writes the pattern over the first `size` bytes of a device, in place (it cannot be renamed).
fn fill_in_place(data: &DataFile) -> Result<()> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&data.path)
        .context(|| format!("cannot open {} for writing", data.path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut offset = 0u64;
    while offset < data.size {
        let n = buf.len().min((data.size - offset) as usize);
        block::fill(data.seed, offset, &mut buf[..n]);
        file.write_all_at(&buf[..n], offset).context(|| format!("cannot write {}", data.path.display()))?;
        offset += n as u64;
    }
    file.sync_all().context(|| format!("cannot sync {}", data.path.display()))
}

/// True if `--allow-overwrite` names the file at `path` (same device and inode).
fn names(policy: &Policy, path: &Path) -> bool {
    let Ok(target) = std::fs::symlink_metadata(path) else { return false };
    policy
        .allow_overwrite
        .iter()
        .any(|a| std::fs::metadata(a).is_ok_and(|m| m.dev() == target.dev() && m.ino() == target.ino()))
}

/// A directory iobench will create files in must be a writable directory, or creatable.
fn check_dir(dir: &Path, key: &str) -> Result<()> {
    let mut existing = dir;
    while std::fs::symlink_metadata(existing).is_err() {
        match existing.parent() {
            Some(p) if !p.as_os_str().is_empty() => existing = p,
            _ => return Ok(()), // relative to the working directory, checked when created
        }
    }
    if !existing.is_dir() {
        return Err(Error::invalid(key, format!("{} is not a directory; choose another --dir", existing.display())));
    }
    let c = std::ffi::CString::new(existing.as_os_str().as_encoded_bytes())
        .map_err(|_| Error::invalid(key, format!("{} contains a NUL byte", existing.display())))?;
    // SAFETY: access(2) on a NUL-terminated path.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } != 0 {
        let e = std::io::Error::last_os_error();
        let what = if existing == dir { String::new() } else { format!(" (to create {})", dir.display()) };
        return Err(Error::invalid(
            key,
            format!("cannot write in {}{what}: {e}; choose another --dir", existing.display()),
        ));
    }
    Ok(())
}
