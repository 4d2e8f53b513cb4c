//! Thin binary: parse arguments, call the library, map errors to exit codes
//! (0 ok, 1 a run failed or a regression was found, 2 bad input).

mod cli;

use anyhow::Context;
use clap::Parser;
use cli::{CalibrateArgs, Cli, Command, CompareArgs, MergeArgs, ReportArgs, ReproduceArgs, RunArgs};
use iobench::app::session::Session;
use iobench::report::{compare, document};
use iobench::result::RunStatus;
use iobench::workload::raw::Suite;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
            print!("{}", iobench::report::listing::render());
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) => report(args),
        Command::Compare(args) => compare(args),
        Command::Merge(args) => merge(args),
        Command::Reproduce(args) => reproduce(args),
        Command::Calibrate(args) => calibrate(args),
        Command::Ipc(args) => cli::ipc::ipc(args),
        Command::IpcChild(args) => Ok(cli::ipc::ipc_child(args)),
        Command::RunChild { job, result } => {
            iobench::app::isolate::child_main(&job, &result)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Env { dir, json } => {
            let env = iobench::observe::environment::Environment::capture_with_ceilings(&dir);
            if json {
                println!("{}", serde_json::to_string_pretty(&env)?);
            } else {
                print!("{}", iobench::report::environment::render(&env));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Probe { dir, size, runtime, json } => {
            let env = iobench::observe::environment::Environment::capture_with_ceilings(&dir);
            let device = iobench::app::probe::measure_device(&dir, &size, &runtime)?;
            if json {
                let doc = serde_json::json!({ "environment": env, "device_ceilings": device });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                print!(
                    "{}{}",
                    iobench::report::environment::render(&env),
                    iobench::report::environment::render_device(&device)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let overrides = args.workload.overrides();
    let suite = match &args.suite {
        Some(path) => iobench::workload::shipped::resolve(path)?,
        None if overrides.is_empty() => {
            iobench::workload::shipped::resolve(Path::new(iobench::workload::shipped::DEFAULT))?
        }
        None => Suite::single("cli"),
    };
    // --output FILE: only that file; otherwise a folder with the results and the report.
    let dir = match (&args.output, &args.out) {
        (Some(_), _) => None,
        (None, Some(d)) => Some(d.clone()),
        (None, None) => Some(default_dir(&suite.name)),
    };
    let output = args.output.clone().or_else(|| dir.as_ref().map(|d| d.join("results.json"))).unwrap_or_default();
    let safety = iobench::datafile::safety::Policy {
        allow_overwrite: args.allow_overwrite.clone(),
        allow_device: args.allow_device,
        keep_files: args.keep_files,
    };
    // Results carry the memory ceilings warm runs are bounded by (about 0.5 s, once).
    let session = Session {
        suite,
        overrides,
        output: Some(output.clone()),
        safety,
        measure_ceilings: true,
        ..Default::default()
    };
    let plans = session.plans()?;
    let mut progress = iobench::report::progress::Reporter::new(plans.iter().map(|(p, _)| p));
    let results = session.run_with(|event| progress.event(event));
    progress.finish();
    let results = results?;
    // Also when Ctrl-C came before the first cell finished: the file then exists, empty.
    results.write_atomic(&output)?;
    print!("{}", iobench::report::table::render(&results.runs));
    let report = document::Report::build(std::slice::from_ref(&results))?;
    print!("{}", report.terminal_text());
    if let Some(dir) = &dir {
        let written = report.write(dir)?;
        println!("\nreport: {} ({} plots)", written.html.display(), written.plots);
    }
    if args.output.is_none() && args.out.is_none() {
        link_latest(&output);
    }
    println!("results: {}", output.display());
    let interrupted = iobench::base::stop::requested();
    if interrupted {
        eprintln!("iobench: interrupted; the {} finished runs are kept in {}", results.runs.len(), output.display());
    }
    let failed = results.runs.iter().any(|r| r.status == RunStatus::Failed);
    Ok(if failed || interrupted { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn calibrate(args: CalibrateArgs) -> anyhow::Result<ExitCode> {
    use iobench::app::calibrate::{Calibrate, Options, render};
    use std::io::Write;
    let calibration = Calibrate::new(Options::from_flags(args.flags())?)?;
    let o = calibration.options();
    let (fio, cells) = (&calibration.fio().version, calibration.cells());
    let measuring_s = cells as u64 * o.pairs as u64 * 2 * o.runtime_ms / 1000;
    println!(
        "{}: {cells} cells, {} of {} ms each (iobench, then {fio}): about {measuring_s} s of measuring",
        o.command(),
        render::pairs(o.pairs),
        o.runtime_ms
    );
    println!("{}", render::header());
    let cal = calibration.run(|cell| {
        println!("{}", render::line(cell));
        let _ = std::io::stdout().flush();
    })?;
    let (json, md) = render::write(&cal)?;
    println!("\ncalibration: {} and {}", md.display(), json.display());
    if !cal.complete {
        eprintln!("iobench: interrupted; the files cover the {} cells that finished", cal.finished());
        return Ok(ExitCode::from(1));
    }
    match render::below_line(&cal) {
        Some(line) => {
            eprintln!("iobench: {line}");
            Ok(ExitCode::from(1))
        }
        None => {
            println!("every ratio is at least {} (--min-ratio)", cal.min_ratio);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn reproduce(args: ReproduceArgs) -> anyhow::Result<ExitCode> {
    use iobench::article::reproduce as article;
    use iobench::article::suite::Scale;
    let scale = match (args.quick, args.tiny) {
        (_, true) => Scale::Tiny,
        (true, _) => Scale::Quick,
        _ => Scale::Full,
    };
    let out = args.out.clone().unwrap_or_else(|| match &args.from {
        Some(from) => document::results_path(from).parent().map(Path::to_path_buf).unwrap_or_default(),
        None => article::default_out(scale),
    });
    let opts = article::Options {
        scale,
        data_dir: args.dir.clone(),
        out,
        keep_files: args.keep_files,
        order_seed: args.order_seed,
    };
    let outcome = match &args.from {
        Some(from) => {
            let results = iobench::result::Results::read(&document::results_path(from))?;
            article::write(&opts.out, &article::command(article::scale_of(&results)), &results)?
        }
        None => {
            let session = article::session(&opts)?;
            let plans = article::plans(&session, opts.order_seed)?;
            let mut progress = iobench::report::progress::Reporter::new(plans.iter().map(|(p, _)| p));
            let outcome = article::run(&opts, &session, plans, |event| progress.event(event));
            progress.finish();
            outcome?
        }
    };
    println!();
    for (i, f) in outcome.findings.iter().enumerate() {
        let detail = f.verdict.detail().map(|d| format!(": {d}")).unwrap_or_default();
        println!("{}. {:<32} {}{detail}", i + 1, f.title, f.verdict.label());
    }
    if let Some(e) = &outcome.report_error {
        eprintln!("iobench: the general report could not be written ({e}); ARTICLE.md was");
    }
    println!("\narticle: {} ({} plots)", outcome.article.display(), outcome.plots);
    if iobench::base::stop::requested() {
        eprintln!("iobench: interrupted; ARTICLE.md covers the runs that finished");
        return Ok(ExitCode::from(1));
    }
    let unmeasured = outcome.findings.iter().filter(|f| matches!(f.verdict, iobench::article::Verdict::NotMeasured(_)));
    Ok(if unmeasured.count() > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let docs = document::read_all(&args.results)?;
    let dir = match args.out {
        Some(d) => d,
        None => document::results_path(&args.results[0]).parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let report = document::Report::build(&docs)?;
    let written = report.write(&dir)?;
    print!("{}", report.terminal_text());
    println!("\nreport: {} and {} ({} plots)", written.markdown.display(), written.html.display(), written.plots);
    Ok(ExitCode::SUCCESS)
}

fn compare(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let options = compare::Options {
        fail_above: compare::parse_fraction("--fail-above", &args.fail_above)?,
        noise: compare::parse_fraction("--noise", &args.noise)?,
    };
    let base = document::read_all(std::slice::from_ref(&args.base))?.remove(0);
    let new = document::read_all(std::slice::from_ref(&args.new))?.remove(0);
    let c = compare::compare(&base, &new, options);
    print!("{}", compare::render_text(&c, &describe(&args.base, &base), &describe(&args.new, &new)));
    Ok(if c.regressions() > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn describe(path: &Path, r: &iobench::result::Results) -> String {
    let when = document::utc(r.created_unix_s);
    format!("{} (suite {}, {when}, host {})", path.display(), r.suite, r.environment.hostname)
}

fn merge(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let docs = document::read_all(&args.inputs)?;
    let merged = iobench::report::merge::merge(&docs)?;
    merged.write_atomic(&args.output)?;
    let runs: usize = docs.iter().map(|d| d.runs.len()).sum();
    println!("merged {runs} runs into {} cells: {}", merged.runs.len(), args.output.display());
    Ok(ExitCode::SUCCESS)
}

/// `results/<UTC time>-<suite>/`.
fn default_dir(suite: &str) -> PathBuf {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    Path::new("results").join(format!("{}-{suite}", utc_stamp(now)))
}

fn utc_stamp(unix_s: u64) -> String {
    let (y, m, d, hh, mm, ss) = iobench::base::units::utc_parts(unix_s);
    format!("{y:04}{m:02}{d:02}-{hh:02}{mm:02}{ss:02}")
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
