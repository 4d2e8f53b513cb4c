//! `iobench ipc`: two processes sharing a file mapping, against a pipe and a Unix socket.
//!
//! The parent (this process) creates a 1 MiB file in `--dir`, then for each mode starts a child
//! (the iobench binary itself, re-executed as the hidden `ipc-child` subcommand) and passes a
//! counter back and forth, timing each round trip into an HdrHistogram:
//! - `mmap-spin`: both map the file `MAP_SHARED`; atomics in the mapping, busy-waiting;
//! - `mmap-futex`: the same, sleeping in futex wait until woken;
//! - `pipe`: the child's stdin and stdout; `socket`: a Unix socket pair as the child's stdin.
//!
//! Then it shows the article's synchronisation claims (see `claims`): a writer that exits
//! without msync leaves its data visible to a fresh reader, and a durable update costs an
//! `msync(MS_SYNC)`.
//!
//! Both sides end cleanly when the other dies: the child asks the kernel to kill it when the
//! parent exits (PR_SET_PDEATHSIG) and checks its parent, every wait has a deadline, and the
//! parent checks its child while waiting and kills it when it drops the handle.

pub(crate) mod claims;
mod shared;
mod stream;

use crate::base::error::{Error, IoContext, Result};
use crate::base::stats;
use crate::result::RunStatus;
use crate::result::ipc::{IpcReport, Mode, ModeResult, Visibility};
use shared::{Shared, WaitKind};
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What `iobench ipc` runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The iobench binary to start as the child.
    pub exe: PathBuf,
    pub dir: PathBuf,
    pub modes: Vec<Mode>,
    /// Round trips per mode, at most; each mode also ends after `runtime`.
    pub exchanges: u64,
    pub runtime: Duration,
    /// Longest wait for the other side before giving up.
    pub timeout: Duration,
    /// Stores followed by msync(MS_SYNC); 0 skips the claims.
    pub msync_updates: u64,
    /// Tests: the child exits abruptly after this many round trips.
    pub die_after: Option<u64>,
}

/// A child process, killed and reaped if still running when dropped.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

impl ChildGuard {
    /// Why the child is gone, if it is.
    fn gone(&mut self) -> Option<String> {
        self.0.try_wait().ok().flatten().map(|s| format!("the child process exited ({s})"))
    }

    /// Waits (bounded) for the child to exit; returns its exit code and what it wrote to stderr.
    fn finish(mut self, timeout: Duration) -> (Option<i32>, String) {
        let end = Instant::now() + timeout;
        let status = loop {
            match self.0.try_wait() {
                Ok(Some(s)) => break s.code(),
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(2)),
                _ => {
                    let _ = self.0.kill();
                    break None;
                }
            }
        };
        let mut err = String::new();
        if let Some(mut e) = self.0.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        (status, err)
    }
}

fn spawn(opts: &Options, mode: &str, file: &Path, stdin: Stdio, stdout: Stdio, extra: &[String]) -> Result<ChildGuard> {
    let mut cmd = Command::new(&opts.exe);
    cmd.arg("ipc-child")
        .args(["--mode", mode, "--file"])
        .arg(file)
        .args(["--parent", &std::process::id().to_string()])
        .args(["--timeout-ms", &opts.timeout.as_millis().to_string()])
        .args(extra)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::piped());
    if let Some(n) = opts.die_after {
        cmd.args(["--die-after", &n.to_string()]);
    }
    cmd.spawn().map(ChildGuard).context(|| format!("cannot start {} ipc-child", opts.exe.display()))
}

/// Runs every mode, then the claims. Fails only when nothing could be set up; a mode whose
/// child died comes back failed.
pub fn run(opts: &Options) -> Result<IpcReport> {
    let _files = crate::datafile::cleanup::Scope::enter(false);
    crate::datafile::cleanup::create_dir_all(&opts.dir).context(|| format!("cannot create {}", opts.dir.display()))?;
    let file = opts.dir.join(format!("iobench-ipc-{}.shm", std::process::id()));
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&file)
        .context(|| format!("cannot create {}", file.display()))?;
    crate::datafile::cleanup::record_created(&file);
    crate::datafile::marks::mark(&f);
    f.set_len(shared::FILE_LEN).context(|| format!("cannot size {}", file.display()))?;
    let shared = Shared::open(&file)?;
    let mut report = IpcReport {
        exchanges_requested: opts.exchanges,
        runtime_limit_ns: opts.runtime.as_nanos() as u64,
        modes: Vec::new(),
        visibility: None,
        msync: None,
    };
    for &mode in &opts.modes {
        if crate::base::stop::requested() {
            break;
        }
        report.modes.push(run_mode(opts, mode, &file, &shared));
    }
    if opts.msync_updates > 0 {
        report.visibility = Some(visibility(opts, &file)?);
        report.msync = Some(claims::msync_cost(&shared, opts.msync_updates, opts.runtime.max(Duration::from_secs(1))));
    }
    Ok(report)
}

fn run_mode(opts: &Options, mode: Mode, file: &Path, shared: &Shared) -> ModeResult {
    let mut hist = stats::new_hist();
    let warmup = opts.exchanges.min(1_000_000) / 100;
    let mut record = |k: u64, ns: u64| {
        if k >= warmup {
            hist.saturating_record(ns.max(1));
        }
    };
    let outcome = exchange(opts, mode, file, shared, &mut record);
    let (status, reason, trips, child_trips) = match outcome {
        Ok((n, c)) if c == Some(n) => (RunStatus::Ok, None, n, c),
        Ok((n, c)) => (RunStatus::Failed, Some(format!("the parent counted {n} round trips, the child {c:?}")), n, c),
        Err(e) => (RunStatus::Failed, Some(e.to_string()), hist.len(), None),
    };
    ModeResult {
        mode,
        what: mode.describe().to_string(),
        status,
        reason,
        round_trips: trips,
        child_round_trips: child_trips,
        // Back-to-back round trips: the rate is the inverse of their mean (child start-up excluded).
        round_trips_per_s: if hist.is_empty() { 0.0 } else { 1e9 / hist.mean() },
        round_trip_ns: stats::summarize(&hist),
        latency_histogram: stats::encode(&hist),
    }
}

/// One mode's ping-pong; returns the parent's and the child's round-trip counts.
fn exchange(
    opts: &Options,
    mode: Mode,
    file: &Path,
    shared: &Shared,
    record: &mut dyn FnMut(u64, u64),
) -> Result<(u64, Option<u64>)> {
    let (n, child) = match mode {
        Mode::MmapSpin | Mode::MmapFutex => {
            let how = if mode == Mode::MmapSpin { WaitKind::Spin } else { WaitKind::Futex };
            let arg = if how == WaitKind::Spin { "spin" } else { "futex" };
            shared.reset();
            let mut child = spawn(opts, arg, file, Stdio::null(), Stdio::null(), &[])?;
            let n =
                shared::parent(shared, how, opts.exchanges, opts.runtime, opts.timeout, &mut || child.gone(), record)?;
            (n, child)
        }
        Mode::Pipe => {
            let mut child = spawn(opts, "pipe", file, Stdio::piped(), Stdio::piped(), &[])?;
            let (Some(wr), Some(rd)) = (child.0.stdin.take(), child.0.stdout.take()) else {
                return Err(Error::Bug("the child's pipes were not set up".into()));
            };
            let n = stream::parent(wr.as_raw_fd(), rd.as_raw_fd(), opts.exchanges, opts.runtime, opts.timeout, record)?;
            drop(wr); // end of file for the child
            (n, child)
        }
        Mode::Socket => {
            let (ours, theirs) =
                std::os::unix::net::UnixStream::pair().context(|| "cannot create a socket pair".into())?;
            let child = spawn(opts, "socket", file, Stdio::from(OwnedFd::from(theirs)), Stdio::null(), &[])?;
            let fd = ours.as_raw_fd();
            let n = stream::parent(fd, fd, opts.exchanges, opts.runtime, opts.timeout, record)?;
            let _ = ours.shutdown(std::net::Shutdown::Write);
            (n, child)
        }
    };
    let (code, err) = child.finish(opts.timeout);
    let counted = err.lines().find_map(|l| l.strip_prefix("round_trips=")).and_then(|v| v.trim().parse().ok());
    match code {
        Some(0) => Ok((n, counted)),
        _ => Err(Error::Peer(format!(
            "the child ended with {code:?} after {n} round trips: {}",
            err.lines().last().unwrap_or("no message")
        ))),
    }
}

fn visibility(opts: &Options, file: &Path) -> Result<Visibility> {
    claims::clear(file)?;
    let value = 0x1dea_0000_0000_0000 | std::process::id() as u64;
    let extra = ["--value".to_string(), value.to_string()];
    let writer = spawn(opts, "write-exit", file, Stdio::null(), Stdio::null(), &extra)?;
    let (writer_exit_code, _) = writer.finish(opts.timeout);
    let reader = spawn(opts, "read", file, Stdio::null(), Stdio::piped(), &[])?;
    let mut out = String::new();
    let mut reader = reader;
    if let Some(mut o) = reader.0.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    let _ = reader.finish(opts.timeout);
    let seen: Option<u64> = out.trim().strip_prefix("value=").and_then(|v| v.parse().ok());
    Ok(Visibility {
        value_written: value,
        writer_exit_code,
        seen_by_fresh_mapping: seen == Some(value),
        seen_by_read: claims::read_plain(file)? == value,
    })
}

/// The hidden `ipc-child` subcommand's arguments.
#[derive(Debug, Clone)]
pub struct ChildArgs {
    pub mode: String,
    pub file: PathBuf,
    pub parent: u32,
    pub timeout: Duration,
    pub die_after: Option<u64>,
    pub value: Option<u64>,
}

/// The child's side; returns its exit code (0: every round trip answered).
pub fn child_main(a: &ChildArgs) -> i32 {
    // SAFETY: prctl and getppid have no memory-safety preconditions.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0);
        // The parent may have died before the request took effect.
        if libc::getppid() as u32 != a.parent {
            return 3;
        }
    }
    let parent = a.parent;
    let mut gone = move || {
        // SAFETY: getppid has no preconditions.
        (unsafe { libc::getppid() } as u32 != parent).then(|| "the parent process exited".to_string())
    };
    let outcome = match a.mode.as_str() {
        "spin" | "futex" => Shared::open(&a.file).map_err(|e| e.to_string()).and_then(|s| {
            let how = if a.mode == "spin" { WaitKind::Spin } else { WaitKind::Futex };
            shared::child(&s, how, a.timeout, a.die_after, &mut gone)
        }),
        "pipe" => stream::child(0, 1, a.timeout, a.die_after),
        "socket" => stream::child(0, 0, a.timeout, a.die_after),
        "write-exit" => claims::write_and_exit(&a.file, a.value.unwrap_or(0)),
        "read" => match claims::read_mapped(&a.file) {
            Ok(v) => {
                println!("value={v}");
                Ok(0)
            }
            Err(e) => Err(e.to_string()),
        },
        other => Err(format!("unknown mode {other}")),
    };
    match outcome {
        Ok(n) => {
            eprintln!("round_trips={n}");
            0
        }
        Err(why) => {
            eprintln!("iobench ipc-child: {why}");
            1
        }
    }
}
