//! Running one plan in a child process, for limits that must apply to a whole process:
//! `memory_limit` (a fresh memory cgroup), `address_space_limit` (`RLIMIT_AS`) and `arch`
//! (the child is the iobench build for another architecture: i686, a real 32-bit process).
//!
//! The parent prepares the data file (so creating it is neither limited nor charged to the
//! cgroup), drops it from the page cache when a memory limit is set (pages already cached stay
//! charged to whoever faulted them in, and would make the limit meaningless), creates the cgroup,
//! and re-executes the iobench binary with a hidden subcommand. The child joins the cgroup and
//! sets the rlimit between fork and exec, so it lives under both from its first instruction;
//! it runs the plan through the same loop as any other run and writes its `RunResult` as JSON to
//! a file. The parent reaps it (with its peak RSS), reads the cgroup's peak and OOM counters,
//! removes the cgroup and returns the result, with what was in force under
//! `backend_setup.isolation`. A child the OOM killer killed, or one that died otherwise, comes
//! back as a failed result saying so.
//!
//! Every child also records its own `/proc/self/status` sizes (`VmPeak`: the most address
//! space it ever mapped, the memory-pressure row's figure), and a child with a small address
//! space (`arch`, `address_space_limit`) probes it after the run (`os::addrspace`).

pub(crate) mod arch;

use crate::backend::BackendFactory;
use crate::base::error::{Error, IoContext, Result};
use crate::base::units::format_size;
use crate::engine;
use crate::os::cgroup;
use crate::result::RunResult;
use crate::workload::plan::{CacheState, Plan};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The hidden subcommand the child runs: `iobench __run-child JOB.json RESULT.json`.
pub(crate) const CHILD_COMMAND: &str = "__run-child";
/// Overrides the binary re-executed for the child (library users and tests).
pub(crate) const EXE_ENV: &str = "IOBENCH_EXE";

/// What the parent hands the child.
#[derive(Debug, Serialize, Deserialize)]
struct Job {
    plan: Plan,
    notes: Vec<String>,
    series_interval_ns: u64,
    /// `Plan::permit` is not serialized; what `safety::admit` allowed travels here.
    permit_overwrite: bool,
    permit_device: bool,
}

/// Runs `plan`: in a child process if its limits need one, else right here.
pub(crate) fn execute(
    plan: &Plan,
    notes: Vec<String>,
    series_interval: Duration,
    factory: &dyn BackendFactory,
) -> Result<RunResult> {
    if !plan.limits.needs_child() {
        return engine::run_on(plan, notes, series_interval, factory);
    }
    run_in_child(plan, notes, series_interval)
}

fn exe() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(EXE_ENV) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().context(|| "cannot find the iobench binary to run the child".into())?;
    let stem = exe.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if !stem.starts_with("iobench") {
        return Err(Error::System(format!(
            "memory_limit and address_space_limit re-run the iobench binary, but this program is {}; set {EXE_ENV} \
             to the iobench binary",
            exe.display()
        )));
    }
    // The running image itself, even if the file at `exe` is rebuilt during a long session: after
    // the fork, /proc/self/exe is still the parent's binary.
    Ok(PathBuf::from("/proc/self/exe"))
}

fn run_in_child(plan: &Plan, notes: Vec<String>, series_interval: Duration) -> Result<RunResult> {
    let exe = match plan.limits.child_arch {
        None => exe()?,
        Some(a) => match arch::binary(a) {
            Ok(p) => p,
            Err(reason) => return Ok(RunResult::skipped(plan, notes, reason)),
        },
    };
    let (data, _created) = crate::datafile::safety::prepare(plan)?;
    let limits = plan.limits;
    if limits.memory_limit_bytes.is_some() {
        data.set_cache_state(CacheState::Cold)?;
    }
    // Outside the cgroup and before the child exists, so it neither raises the child's VmPeak
    // nor is charged to its limit (see engine::prepared::recycle_before_cold_start).
    let recycled = engine::prepared::recycle_before_cold_start(plan);
    let cgroup = limits.memory_limit_bytes.map(cgroup::Cgroup::create).transpose()?;
    let procs = cgroup.as_ref().map(|c| c.procs_file()).transpose()?;

    let (job_path, out_path) = write_job(plan, &notes, series_interval)?;
    let _files = RemoveOnDrop(vec![job_path.clone(), out_path.clone()]);

    let mut cmd = std::process::Command::new(&exe);
    cmd.arg(CHILD_COMMAND).arg(&job_path).arg(&out_path).stdin(std::process::Stdio::null());
    let procs_fd = procs.as_ref().map(|f| f.as_raw_fd());
    let rlimit = limits.address_space_limit_bytes;
    // SAFETY: between fork and exec only async-signal-safe calls: write(2) on a descriptor
    // opened before the fork, setrlimit(2); nothing allocates.
    unsafe {
        cmd.pre_exec(move || {
            if let Some(fd) = procs_fd
                && libc::write(fd, b"0".as_ptr().cast(), 1) != 1
            {
                return Err(std::io::Error::last_os_error());
            }
            if let Some(bytes) = rlimit {
                let lim = libc::rlimit { rlim_cur: bytes as libc::rlim_t, rlim_max: bytes as libc::rlim_t };
                if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        })
    };
    let child = cmd.spawn().map_err(|e| {
        Error::System(format!(
            "cannot start the child process {} ({e}); as root this needs a writable cgroup and setrlimit",
            exe.display()
        ))
    })?;
    drop(procs);
    let (status, max_rss) = wait_with_rusage(child.id() as libc::pid_t)?;

    let mut iso = parent_view(cgroup.as_ref(), &limits, &exe);
    iso.insert("child_max_rss_bytes".into(), max_rss.into());
    let oom_kills = cgroup.as_ref().map_or(0, |c| c.oom_kills());
    let version = cgroup.as_ref().map(|c| c.version.name());
    // The cgroup goes now: the result reports whether that worked.
    if let Some(cg) = cgroup {
        let dir = cg.dir.clone();
        drop(cg);
        iso.insert("cgroup_removed".into(), (!dir.exists()).into());
    }

    let oom = (oom_kills > 0).then(|| version.unwrap_or_default());
    let mut result = child_result(status, &out_path, plan, notes, oom);
    result.notes.push(format!("ran in a child process under {}", describe_limits(&iso)));

    if let (Some(m), Some(r)) = (result.measured.as_mut(), &recycled) {
        engine::prepared::record_recycling(r, &mut m.evidence);
    }
    if let Some(m) = result.measured.as_mut() {
        // The child recorded what it saw in force; the parent adds what only it can see.
        let seen = match m.backend_setup.remove("isolation") {
            Some(Value::Object(o)) => o,
            _ => Map::new(),
        };
        let mut merged = seen;
        merged.extend(iso);
        m.backend_setup.insert("isolation".into(), Value::Object(merged));
    }
    Ok(result)
}

/// Writes the child's job to a fresh file and names the file for its result.
fn write_job(plan: &Plan, notes: &[String], series_interval: Duration) -> Result<(PathBuf, PathBuf)> {
    let tmp = std::env::temp_dir();
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let stem = format!("iobench-child-{}-{n}", std::process::id());
    let job_path = tmp.join(format!("{stem}.job.json"));
    let out_path = tmp.join(format!("{stem}.result.json"));
    let job = Job {
        plan: plan.clone(),
        notes: notes.to_vec(),
        series_interval_ns: series_interval.as_nanos() as u64,
        permit_overwrite: plan.permit.overwrite,
        permit_device: plan.permit.device,
    };
    let text = serde_json::to_vec(&job).map_err(|e| Error::Bug(format!("cannot encode the child's job: {e}")))?;
    crate::result::write_atomic(&job_path, &text)?;
    Ok((job_path, out_path))
}

/// What only the parent sees of the child's limits: the cgroup's figures, the rlimit set, the
/// binary run.
fn parent_view(
    cgroup: Option<&cgroup::Cgroup>,
    limits: &crate::workload::resources::ResourceLimits,
    exe: &Path,
) -> Map<String, Value> {
    let mut iso = Map::new();
    if let Some(cg) = cgroup {
        iso.insert("memory_limit_bytes".into(), cg.limit.into());
        iso.insert("cgroup".into(), cg.dir.display().to_string().into());
        iso.insert("cgroup_version".into(), cg.version.name().into());
        iso.insert("peak_usage_bytes".into(), json!(cg.peak()));
        iso.insert("limit_hits".into(), json!(cg.limit_hits()));
        iso.insert("oom_kills".into(), cg.oom_kills().into());
    }
    if let Some(a) = limits.address_space_limit_bytes {
        iso.insert("address_space_limit_bytes".into(), a.into());
    }
    if let Some(a) = limits.child_arch {
        iso.insert("child_arch".into(), json!(a));
        iso.insert("child_exe".into(), exe.display().to_string().into());
    }
    iso
}

/// The child's result, or a failed one saying how it ended; `oom` names the cgroup version if
/// the OOM killer killed in its cgroup.
fn child_result(status: Exit, out_path: &Path, plan: &Plan, notes: Vec<String>, oom: Option<&str>) -> RunResult {
    let limits = plan.limits;
    match status {
        Exit::Code(0) => match read_result(out_path) {
            Ok(r) => r,
            Err(e) => RunResult::failed(plan, notes, format!("the child process left no result: {e}")),
        },
        Exit::Signal(libc::SIGKILL) if oom.is_some() => RunResult::failed(
            plan,
            notes,
            format!(
                "killed by the OOM killer: the run needed more than memory_limit = {} (memory cgroup {}); raise \
                 memory_limit",
                mib(limits.memory_limit_bytes.unwrap_or(0)),
                oom.unwrap_or_default()
            ),
        ),
        Exit::Signal(sig) => {
            let hint = match limits.address_space_limit_bytes {
                Some(a) => format!(
                    "; under address_space_limit = {} an allocation that does not fit aborts it: raise the limit",
                    format_size(a)
                ),
                None => String::new(),
            };
            RunResult::failed(
                plan,
                notes,
                format!("the child process died from signal {sig} ({}){hint}", signal_name(sig)),
            )
        }
        Exit::Code(code) => match read_result(out_path) {
            Ok(r) => r,
            Err(_) => RunResult::failed(
                plan,
                notes,
                format!("the child process exited with status {code}; see its message above"),
            ),
        },
    }
}

/// "memory_limit 512 MiB (cgroup v1, peak 511.9 MiB), address_space_limit 2 GiB, peak RSS 40 MiB".
fn describe_limits(iso: &Map<String, Value>) -> String {
    let size = |k: &str| iso.get(k).and_then(Value::as_u64).map(mib);
    let mut parts = Vec::new();
    if let Some(m) = size("memory_limit_bytes") {
        let v = iso.get("cgroup_version").and_then(Value::as_str).unwrap_or("");
        let peak = size("peak_usage_bytes").map(|p| format!(", peak {p}")).unwrap_or_default();
        parts.push(format!("memory_limit {m} (cgroup {v}{peak})"));
    }
    if let Some(a) = size("address_space_limit_bytes") {
        parts.push(format!("address_space_limit {a}"));
    }
    if let Some(a) = iso.get("child_arch").and_then(Value::as_str) {
        parts.push(format!("an {a} build of iobench"));
    }
    if let Some(r) = size("child_max_rss_bytes") {
        parts.push(format!("peak RSS {r}"));
    }
    parts.join(", ")
}

/// Sizes in MiB with one decimal: limits and peaks read better that way than in KiB.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

fn read_result(path: &Path) -> Result<RunResult> {
    let text = std::fs::read(path).context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&text).map_err(|e| Error::Damaged(format!("{} is not a run result: {e}", path.display())))
}

struct RemoveOnDrop(Vec<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

enum Exit {
    Code(i32),
    Signal(i32),
}

/// Waits for `pid` and returns how it ended and its peak resident set size in bytes.
fn wait_with_rusage(pid: libc::pid_t) -> Result<(Exit, u64)> {
    loop {
        let mut status = 0;
        // SAFETY: wait4 fills the status and the zeroed rusage we own.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            let rss = ru.ru_maxrss as u64 * 1024;
            let exit = if libc::WIFSIGNALED(status) {
                Exit::Signal(libc::WTERMSIG(status))
            } else {
                Exit::Code(libc::WEXITSTATUS(status))
            };
            return Ok((exit, rss));
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(Error::io("waiting for the child process", e));
        }
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGKILL => "SIGKILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "signal",
    }
}

/// The child's side: `iobench __run-child JOB RESULT`. Runs the job's plan and writes its
/// result, also when the run fails, so the parent always gets a result to report.
pub fn child_main(job_path: &Path, out_path: &Path) -> Result<()> {
    let text = std::fs::read(job_path).context(|| format!("cannot read {}", job_path.display()))?;
    let job: Job = serde_json::from_slice(&text)
        .map_err(|e| Error::Damaged(format!("{} is not a child job: {e}", job_path.display())))?;
    check_same_build(&text, &job.plan)?;
    let mut plan = job.plan;
    plan.permit = crate::workload::plan::Permit { overwrite: job.permit_overwrite, device: job.permit_device };
    let interval = Duration::from_nanos(job.series_interval_ns.max(1));
    let start = crate::os::status::own();
    let mut result = match engine::execute_with(&plan, job.notes.clone(), interval) {
        Ok(r) => r,
        Err(e) => RunResult::failed(&plan, job.notes, e.to_string()),
    };
    let mut seen = in_force(&plan);
    // After the run, so the probe's own trial mappings cannot raise the run's VmPeak.
    seen.extend(own_sizes(start));
    if plan.limits.child_arch.is_some() || plan.limits.address_space_limit_bytes.is_some() {
        let data = crate::datafile::blocks::DataFile::default_path(&plan.dir, plan.size_bytes, plan.seed);
        let path = plan.filename.clone().unwrap_or(data);
        let probe = crate::observe::addrspace::probe(&path, plan.size_bytes, plan.seed);
        result.notes.push(describe_probe(&probe));
        seen.insert("address_space_probe".into(), json!(probe));
    }
    if let Some(m) = result.measured.as_mut() {
        m.backend_setup.insert("isolation".into(), Value::Object(seen));
    }
    let text = serde_json::to_vec(&result).map_err(|e| Error::Bug(format!("cannot encode the result: {e}")))?;
    crate::result::write_atomic(out_path, &text)
}

/// A child built from other sources (an old i686 build) could drop plan fields it does not
/// know and run something else: the plan must read back exactly as the parent wrote it.
fn check_same_build(job_text: &[u8], plan: &Plan) -> Result<()> {
    let sent = serde_json::from_slice::<Value>(job_text).ok().and_then(|v| v.get("plan").cloned());
    let read = serde_json::to_value(plan).ok();
    if sent != read {
        let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
        return Err(Error::System(format!(
            "the child binary {exe} reads the plan differently from its parent (built from other sources): rebuild it"
        )));
    }
    Ok(())
}

/// `VmSize` when the child started, and `VmPeak`, `VmSize`, `VmHWM` now, in bytes.
fn own_sizes(start: Option<crate::os::status::VmStatus>) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(s) = start {
        m.insert("vm_size_start_bytes".into(), s.vm_size_bytes.into());
    }
    if let Some(s) = crate::os::status::own() {
        m.insert("vm_peak_bytes".into(), s.vm_peak_bytes.into());
        m.insert("vm_size_end_bytes".into(), s.vm_size_bytes.into());
        m.insert("vm_hwm_bytes".into(), s.vm_hwm_bytes.into());
    }
    m
}

/// One line for the run's notes (failed runs keep no figures, only notes).
fn describe_probe(p: &crate::observe::addrspace::Probe) -> String {
    let mut s = format!(
        "address-space probe ({}-bit process, {}-bit off_t): largest mapping {}{}; whole file ({}): {}",
        p.pointer_bits,
        p.off_t_bits,
        format_size(p.largest_mapping_bytes),
        if p.largest_mapping_capped { " or more" } else { "" },
        format_size(p.file_bytes),
        p.whole_file.detail
    );
    for (what, o) in [("open", &p.open_plain), ("pread", &p.pread_off_t), ("pread64", &p.pread64)] {
        if let Some(o) = o {
            s.push_str(&format!("; {what}: {}", o.detail));
        }
    }
    s
}

/// The limits this process runs under, as the kernel reports them.
fn in_force(plan: &Plan) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("pointer_bits".into(), usize::BITS.into());
    if plan.limits.memory_limit_bytes.is_some()
        && let Some((dir, limit)) = cgroup::own_limit()
    {
        m.insert("cgroup_seen".into(), dir.display().to_string().into());
        m.insert("memory_limit_in_force_bytes".into(), limit.into());
    }
    // SAFETY: getrlimit fills the struct we own.
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) } == 0 && lim.rlim_cur != libc::RLIM_INFINITY {
        m.insert("address_space_limit_in_force_bytes".into(), lim.rlim_cur.into());
    }
    m
}
