//! Helpers for the reliability and safety tests: small filesystems mounted by the test, the
//! binary run in the background, signals, and polling.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A filesystem mounted for one test (tmpfs with a size limit, ramfs...), unmounted and its
/// mount point removed when dropped. `None` when mounting is impossible here (not root): the
/// caller says so with `skip`.
pub struct Mount {
    pub dir: PathBuf,
}

impl Mount {
    pub fn new(name: &str, fstype: &str, options: &str) -> Option<Mount> {
        let dir = std::env::temp_dir().join(format!("iobench-test-mnt-{name}-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let mut cmd = Command::new("mount");
        cmd.args(["-t", fstype]);
        if !options.is_empty() {
            cmd.args(["-o", options]);
        }
        let ok = cmd.arg(fstype).arg(&dir).status().is_ok_and(|s| s.success());
        if !ok {
            let _ = std::fs::remove_dir(&dir);
            return None;
        }
        Some(Mount { dir })
    }
    pub fn path(&self) -> &Path {
        &self.dir
    }
    /// Every entry under the mount point, sorted (relative names).
    pub fn listing(&self) -> Vec<String> {
        let mut out = Vec::new();
        list(&self.dir, &self.dir, &mut out);
        out.sort();
        out
    }
}

fn list(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
        if p.is_dir() && !p.is_symlink() {
            list(root, &p, out);
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Starts the binary in the background with piped output.
pub fn spawn(args: &[&str]) -> Child {
    super::command()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("iobench binary starts")
}

pub fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, sig) };
}

/// Polls `cond` every 10 ms until it holds or `limit` passes; returns whether it held.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// Runs already in a results file that may be being rewritten (0 if absent or unreadable).
pub fn runs_in(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["runs"].as_array().map(|a| a.len()))
        .unwrap_or(0)
}

/// Every entry under `dir`, sorted (relative names).
pub fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    list(dir, dir, &mut out);
    out.sort();
    out
}
