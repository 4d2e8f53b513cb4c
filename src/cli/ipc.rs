//! `iobench ipc` and its hidden child: arguments, then the library's `ipc` module.

use anyhow::Context;
use clap::Args;
use iobench::app::ipc::{self, ChildArgs, Options};
use iobench::base::units::parse_duration;
use iobench::result::ipc::Mode;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct IpcArgs {
    /// Modes to run: mmap-spin, mmap-futex, pipe, socket [default: all]
    #[arg(long, value_name = "LIST")]
    pub modes: Option<String>,
    /// Round trips per mode, at most
    #[arg(long, default_value_t = 200_000)]
    pub exchanges: u64,
    /// Longest time per mode (whichever of exchanges and runtime ends first)
    #[arg(long, default_value = "1s")]
    pub runtime: String,
    /// Longest wait for the other process before the mode fails
    #[arg(long, default_value = "5s")]
    pub timeout: String,
    /// Stores timed with msync(MS_SYNC) each, for the msync claim (0 skips the claims)
    #[arg(long = "msync-updates", default_value_t = 200)]
    pub msync_updates: u64,
    /// Directory for the shared file (removed at the end)
    #[arg(long, default_value = iobench::workload::plan::DEFAULT_DIR)]
    pub dir: PathBuf,
    /// Results file [default: results/<time>-ipc/results.json]
    #[arg(long, short = 'o', value_name = "FILE.json")]
    pub output: Option<PathBuf>,
    /// Testing: the child exits abruptly after N round trips
    #[arg(long = "die-after", hide = true)]
    pub die_after: Option<u64>,
}

#[derive(Debug, Args)]
pub struct IpcChildArgs {
    #[arg(long)]
    pub mode: String,
    #[arg(long)]
    pub file: PathBuf,
    #[arg(long)]
    pub parent: u32,
    #[arg(long = "timeout-ms")]
    pub timeout_ms: u64,
    #[arg(long = "die-after")]
    pub die_after: Option<u64>,
    #[arg(long)]
    pub value: Option<u64>,
}

fn duration(key: &str, text: &str) -> anyhow::Result<std::time::Duration> {
    parse_duration(text).map_err(|m| iobench::Error::invalid(key, m).into())
}

pub fn ipc(args: IpcArgs) -> anyhow::Result<ExitCode> {
    let modes = match &args.modes {
        Some(list) => Mode::parse_list(list)?,
        None => Mode::ALL.to_vec(),
    };
    if args.exchanges == 0 || args.exchanges > 1_000_000_000 {
        return Err(iobench::Error::invalid("exchanges", "use 1 to 1000000000 round trips").into());
    }
    let opts = Options {
        exe: std::env::current_exe().context("cannot find the iobench binary to start the child")?,
        dir: args.dir.clone(),
        modes,
        exchanges: args.exchanges,
        runtime: duration("runtime", &args.runtime)?,
        timeout: duration("timeout", &args.timeout)?,
        msync_updates: args.msync_updates,
        die_after: args.die_after,
    };
    let report = ipc::run(&opts)?;
    print!("{}", iobench::report::ipc::render(&report));
    let output = args.output.clone().unwrap_or_else(|| crate::default_dir("ipc").join("results.json"));
    let mut results =
        iobench::result::Results::new("ipc", iobench::observe::environment::Environment::capture(&args.dir));
    let failed = report.failed();
    results.ipc = Some(report);
    results.write_atomic(&output)?;
    println!("results: {}", output.display());
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

pub fn ipc_child(args: IpcChildArgs) -> ExitCode {
    let a = ChildArgs {
        mode: args.mode,
        file: args.file,
        parent: args.parent,
        timeout: std::time::Duration::from_millis(args.timeout_ms),
        die_after: args.die_after,
        value: args.value,
    };
    ExitCode::from(ipc::child_main(&a) as u8)
}
