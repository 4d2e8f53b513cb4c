//! Thin binary: parse arguments, call the library, map errors to exit codes
//! (0 ok, 1 a run failed or a regression was found, 2 bad input).

mod cli;

use anyhow::Context;
use clap::Parser;
use cli::{Cli, Command, RunArgs};
use iobench::backend::BackendKind;
use iobench::result::RunStatus;
use iobench::session::Session;
use iobench::workload::Suite;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The suite a bare `iobench run` runs.
const QUICK_SUITE: &str = include_str!("../workloads/quick.toml");

fn main() -> ExitCode {
    iobench::os::signals::install();
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            let bad_input = e.downcast_ref::<iobench::Error>().is_some_and(|e| e.is_bad_input());
            eprintln!("iobench: {e:#}");
            ExitCode::from(if bad_input { 2 } else { 1 })
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run(*args),
        Command::List => {
            println!("Backends:");
            for k in BackendKind::ALL {
                println!("  {:<13} {}", k.name(), k.describe());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Env { dir } => {
            let env = iobench::env::Environment::capture(&dir);
            println!("{}", serde_json::to_string_pretty(&env)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let overrides = args.workload.overrides();
    let suite = match &args.suite {
        Some(path) => Suite::load(path)?,
        None if overrides.is_empty() => {
            Suite::parse("quick", QUICK_SUITE).map_err(|m| anyhow::anyhow!("quick suite: {m}"))?
        }
        None => Suite::single("cli"),
    };
    let output = args.output.clone().unwrap_or_else(|| default_output(&suite.name));
    let session = Session { suite, overrides, output: Some(output.clone()) };
    let total = session.plans()?.len();
    let mut n = 0;
    let results = session.run(|r| {
        n += 1;
        let status = match r.status {
            RunStatus::Ok => "done".to_string(),
            RunStatus::Skipped => format!("skipped: {}", r.reason.as_deref().unwrap_or("")),
            RunStatus::Failed => format!("FAILED: {}", r.reason.as_deref().unwrap_or("")),
        };
        eprintln!("[{n}/{total}] {} on {}: {status}", r.workload.name, r.backend);
    })?;
    print!("{}", iobench::report::table::render(&results.runs));
    if args.output.is_none() {
        link_latest(&output);
    }
    println!("\nresults: {}", output.display());
    let failed = results.runs.iter().any(|r| r.status == RunStatus::Failed);
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// `results/<UTC time>-<suite>/results.json`.
fn default_output(suite: &str) -> PathBuf {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    Path::new("results").join(format!("{}-{suite}", utc_stamp(now))).join("results.json")
}

fn utc_stamp(unix_s: u64) -> String {
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}-{:02}{:02}{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Points `results/latest` at the newest results folder (best effort).
fn link_latest(output: &Path) {
    let (Some(dir), Some(parent)) = (output.parent(), output.parent().and_then(Path::parent)) else { return };
    let Some(name) = dir.file_name() else { return };
    let link = parent.join("latest");
    let tmp = parent.join(".latest.tmp");
    let _ = std::fs::remove_file(&tmp);
    if std::os::unix::fs::symlink(name, &tmp).context("symlink").is_ok() {
        let _ = std::fs::rename(&tmp, &link);
    }
}
