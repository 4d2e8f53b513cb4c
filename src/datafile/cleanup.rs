//! Removing what this invocation created, and only that.
//!
//! A `Scope` covers one `iobench run` (a `Session`). While it is active on a thread, every file
//! and directory iobench creates there is recorded (`record_created`, `create_dir_all`), and
//! dropping the scope removes them, newest first, directories only if empty, unless
//! `--keep-files`. The drop runs on normal return, on error and after a first Ctrl-C or SIGTERM
//! (the session stops and returns). Whatever existed before is never recorded, so never removed.
//!
//! A second Ctrl-C exits at once from the signal handler: every recorded path is also registered
//! with `os::signals`, which unlinks it then. SIGKILL leaves the files (nothing can run).
//!
//! Without a scope (library users, benches) nothing is recorded and files stay, as before.

use crate::os::signals;
use std::cell::RefCell;
use std::io;
use std::path::{Path, PathBuf};

/// Recorded paths in creation order, each with its signal slot.
type Recorded = Vec<(PathBuf, Option<usize>)>;

thread_local! {
    /// The paths recorded by the active scope of this thread.
    static RECORDED: RefCell<Option<Recorded>> = const { RefCell::new(None) };
}

/// Removes, when dropped, everything recorded while it was active (unless `keep`).
#[must_use = "files are removed when the scope is dropped"]
pub(crate) struct Scope {
    keep: bool,
    outer: Option<Recorded>,
}

impl Scope {
    /// Starts recording on this thread. `keep` (`--keep-files`) records but removes nothing.
    pub(crate) fn enter(keep: bool) -> Scope {
        signals::keep_files(keep);
        let outer = RECORDED.with(|r| r.borrow_mut().replace(Vec::new()));
        Scope { keep, outer }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let recorded = RECORDED.with(|r| std::mem::replace(&mut *r.borrow_mut(), self.outer.take()));
        for (path, slot) in recorded.unwrap_or_default().into_iter().rev() {
            if let Some(slot) = slot {
                signals::forget(slot);
            }
            if self.keep {
                continue;
            }
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => {
                    let _ = std::fs::remove_dir(&path); // only if empty: anything else in it is not ours
                }
                Ok(_) => {
                    let _ = std::fs::remove_file(&path);
                }
                Err(_) => {}
            }
        }
    }
}

/// Records `path` (a file or directory iobench just created) for removal at the end of the
/// active scope. Does nothing without a scope.
pub(crate) fn record_created(path: &Path) {
    RECORDED.with(|r| {
        let mut r = r.borrow_mut();
        let Some(list) = r.as_mut() else { return };
        if list.iter().any(|(p, _)| p == path) {
            return;
        }
        let slot = signals::unlink_on_second_signal(path);
        list.push((path.to_path_buf(), slot));
    });
}

/// `std::fs::create_dir_all`, recording every directory level it had to create.
pub(crate) fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut p = dir;
    while !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_err() {
        missing.push(p.to_path_buf());
        match p.parent() {
            Some(parent) => p = parent,
            None => break,
        }
    }
    std::fs::create_dir_all(dir)?;
    for m in missing.iter().rev() {
        record_created(m);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_removes_what_it_created_and_nothing_else() {
        let base = std::env::temp_dir().join(format!("iobench-cleanup-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        std::fs::write(base.join("before"), b"x").unwrap();
        {
            let _scope = Scope::enter(false);
            create_dir_all(&base.join("a/b")).unwrap();
            std::fs::write(base.join("a/b/f"), b"x").unwrap();
            record_created(&base.join("a/b/f"));
            std::fs::write(base.join("a/other"), b"x").unwrap(); // not recorded: must stay
        }
        assert!(base.join("before").exists());
        assert!(!base.join("a/b").exists(), "created directory removed");
        assert!(base.join("a/other").exists(), "a directory holding someone else's file stays");
        let _ = std::fs::remove_dir_all(&base);
    }
}
