//! Bad input, table-driven: every case gets exit code 2 and exactly the message listed, on one
//! line that names the key and the fix. `{tmp}` (the case's working directory), `{toml}` (the
//! case's suite file), `{ro}` (a read-only filesystem) and `{tmpfs}` (a tmpfs, whose O_DIRECT
//! alignment iobench takes as 4096) are filled in before running.

mod common;

use common::safety::Mount;
use common::{TempDir, skip};
use iobench::result::Results;
use iobench::workload::backends::BackendKind;
use iobench::workload::plan::Rw;
use std::path::Path;

struct Case {
    name: &'static str,
    args: Vec<&'static str>,
    /// Written to `{toml}`, which is passed as the suite.
    toml: Option<&'static str>,
    expected: String,
}

fn cli(name: &'static str, args: &[&'static str], expected: impl Into<String>) -> Case {
    Case { name, args: args.to_vec(), toml: None, expected: expected.into() }
}

fn toml(name: &'static str, text: &'static str, expected: impl Into<String>) -> Case {
    Case { name, args: vec![], toml: Some(text), expected: expected.into() }
}

fn cases() -> Vec<Case> {
    let backends: Vec<_> = BackendKind::ALL.iter().map(|k| k.name()).collect();
    let mut v = vec![
        // Sizes.
        cli("zero size", &["--size", "0"], "size: must be greater than 0 (examples: 64m, 1g)"),
        cli("negative size", &["--size=-1m"], "size: '-1m' is not a size (examples: 4096, 4k, 1m, 2g)"),
        cli("zero bs", &["--bs", "0"], "bs: must be greater than 0 (examples: 4k, 1m)"),
        cli("bs not in sectors", &["--bs", "1000"], "bs: 1000 is not a multiple of 512 bytes"),
        cli(
            "bs larger than the file",
            &["--bs", "2m", "--size", "1m"],
            "size: 1048576 bytes is smaller than the block size bs = 2097152",
        ),
        cli("unknown size suffix", &["--bs", "4x"], "bs: '4x' has an unknown size suffix (use k, m, g or t)"),
        cli("size overflow", &["--size", "99999999999t"], "size: '99999999999t' is too large a size"),
        cli("zero io_size", &["--io-size", "0"], "io_size: must be greater than 0"),
        cli("io_size below a block", &["--io-size", "1k"], "io_size: 1024 bytes is less than one block (bs = 4096)"),
        cli(
            "unaligned direct bs",
            &["--backend", "direct", "--bs", "512", "--size", "1m", "--runtime", "100ms", "--dir", "{tmpfs}/d"],
            "bs: 512 bytes is not a multiple of 4096, the O_DIRECT alignment of {tmpfs}/d/iobench-1m-10bec4.dat; use a \
             block size such as 4k",
        ),
        // Names.
        cli(
            "unknown backend",
            &["--backend", "bogus"],
            format!("backend: unknown backend 'bogus' (expected one of {})", backends.join(", ")),
        ),
        cli(
            "unknown pattern",
            &["--rw", "sideways"],
            format!("rw: unknown pattern 'sideways' (expected one of {})", Rw::NAMES.join(", ")),
        ),
        cli(
            "unknown cache state",
            &["--cache", "lukewarm"],
            "cache: unknown state 'lukewarm' (expected warm, cold or as-is)",
        ),
        // Counts.
        cli(
            "huge iodepth",
            &["--backend", "uring", "--iodepth", "100000"],
            "iodepth: 100000 is out of range (1 to 4096)",
        ),
        cli("zero iodepth", &["--iodepth", "0"], "iodepth: 0 is out of range (1 to 4096)"),
        cli(
            "iodepth on a synchronous backend",
            &["--backend", "buffered", "--iodepth", "8"],
            "iodepth: buffered completes each operation before the next, so iodepth 8 cannot apply; use --threads 8 \
             for concurrency, or a queue backend (uring, uring-direct, tokio, tokio-pread)",
        ),
        cli("zero threads", &["--threads", "0"], "threads: 0 is out of range (1 to 256)"),
        cli("too many threads", &["--threads", "1000"], "threads: 1000 is out of range (1 to 256)"),
        cli("negative seed", &["--seed=-5"], "seed: -5 is negative; use a whole number from 0"),
        cli(
            "rwmixread above 100",
            &["--rw", "randrw", "--rwmixread", "150"],
            "rwmixread: 150 is not a percentage from 0 to 100",
        ),
        cli(
            "rwmixread on reads",
            &["--rw", "read", "--rwmixread", "50"],
            "rwmixread: applies only to rw = \"rw\" or \"randrw\"",
        ),
        // Durations.
        cli("runtime 0", &["--runtime", "0"], "runtime: must be greater than 0 (for example 5s)"),
        cli(
            "unknown time unit",
            &["--runtime", "5parsecs"],
            "runtime: '5parsecs' has an unknown duration unit (use ns, us, ms, s, m or h)",
        ),
        cli(
            "negative runtime",
            &["--runtime=-1"],
            "runtime: -1 is negative; durations are positive (examples: \"500ms\", \"5s\")",
        ),
        cli("negative ramp", &["--ramp=-1s"], "ramp_time: '-1s' is not a duration (examples: 500ms, 5s, 2m)"),
        cli(
            "series interval too short",
            &["--series-interval", "10ms"],
            "series_interval: 10ms is shorter than the minimum of 100ms",
        ),
        // Distributions and durability.
        cli(
            "zipf θ of 0",
            &["--random-distribution", "zipf:0"],
            "random_distribution: zipf θ must be greater than 0 (and at most 100), not 0",
        ),
        cli(
            "zipf θ not a number",
            &["--random-distribution", "zipf:abc"],
            "random_distribution: 'abc' is not a number in 'zipf:abc' (example: zipf:1.2)",
        ),
        cli(
            "zipf θ NaN",
            &["--random-distribution", "zipf:NaN"],
            "random_distribution: zipf θ must be greater than 0 (and at most 100), not NaN",
        ),
        cli(
            "unknown distribution",
            &["--random-distribution", "pareto"],
            "random_distribution: unknown distribution 'pareto' (expected uniform or zipf:θ, e.g. zipf:1.2)",
        ),
        cli(
            "sync every 0 writes",
            &["--rw", "randwrite", "--durability", "fsync:0"],
            "durability: '0' in 'fsync:0' is not a positive count of writes",
        ),
        cli(
            "msync off mmap",
            &["--rw", "randwrite", "--durability", "msync:4"],
            "durability: msync applies only to the mmap backend, not buffered; use fsync:N or fdatasync:N",
        ),
        cli(
            "durability on reads",
            &["--rw", "read", "--durability", "fsync:1"],
            "durability: applies only to patterns with writes, not rw = read",
        ),
        // Files and directories.
        cli("dir is a file", &["--dir", "afile"], "dir: afile is not a directory; choose another --dir"),
        cli(
            "read-only dir",
            &["--dir", "{ro}/d"],
            "dir: cannot write in {ro} (to create {ro}/d): Read-only file system (os error 30); choose another --dir",
        ),
        cli("empty filename", &["--filename", ""], "filename: is empty; name a file, or leave it out to use --dir"),
        cli(
            "write to a foreign file",
            &["--filename", "afile", "--rw", "write"],
            "filename: afile exists and was not written by iobench; a write workload would overwrite it: add \
             --allow-overwrite afile to permit that, or name a new file",
        ),
        cli(
            "missing suite file",
            &["missing.toml"],
            format!("missing.toml: no such file, and not a shipped suite (shipped: {})", shipped().join(", ")),
        ),
        // Suite files.
        toml("fio key name", "blocksize = '4k'\n", "workload 1: unknown field `blocksize` (iobench calls it `bs`)"),
        toml("misspelt key", "runtme = '5s'\n", "workload 1: unknown field `runtme` (did you mean `runtime`?)"),
        toml(
            "wrong type",
            "iodepth = 'deep'\n",
            "iodepth: \"deep\" is the wrong kind of value: expected a whole number",
        ),
        toml("negative bs in TOML", "bs = -4096\n", "bs: -4096 is negative; sizes are positive (examples: 4k, 1m)"),
        toml("zero size in TOML", "size = 0\n", "size: must be greater than 0 (examples: 64m, 1g)"),
        toml(
            "runtime of centuries",
            "runtime = 9223372036854775807\n",
            "runtime: 9223372036854775807 seconds is too long a duration",
        ),
        toml(
            "runtime not a duration",
            "runtime = true\n",
            "runtime: true is not a duration (examples: \"500ms\", \"5s\")",
        ),
        toml(
            "syntax error",
            "rw = [\n",
            "{toml}: TOML parse error at line 1, column 7 | 1 | rw = [ | ^ unclosed array, expected `]`",
        ),
        toml(
            "repeat 0",
            "repeat = 0\n[[workload]]\nrw = 'read'\n",
            "{toml}: repeat: must be a whole number from 1 to 1000, not 0",
        ),
        toml("no workloads", "workload = []\n", "{toml}: the suite has no [[workload]] tables"),
        toml(
            "unknown suite key",
            "bogus = 1\n[[workload]]\nrw = 'read'\n",
            "{toml}: bogus: unknown suite key (suite keys are description, repeat, defaults, workload; put workload \
             keys under [defaults])",
        ),
        toml("empty list", "bs = []\n", "bs: is an empty list, which gives no runs; give at least one value"),
        toml(
            "lists that explode",
            "bs = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288]\n\
             threads = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\nseed = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n\
             rwmixread = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n",
            "workload 1: its lists multiply to 14641 runs, more than 10000; split it into several workloads",
        ),
    ];
    for c in &mut v {
        c.expected = format!("iobench: {}", c.expected);
    }
    v
}

fn shipped() -> Vec<&'static str> {
    iobench::workload::shipped::SHIPPED.iter().map(|(name, _)| *name).collect()
}

#[test]
fn every_bad_input_gets_its_message_and_exit_code_2() {
    let ro = Mount::new("bad-input-ro", "tmpfs", "ro,size=1m");
    let tmpfs = Mount::new("bad-input-tmpfs", "tmpfs", "size=4m");
    let table = cases();
    assert!(table.len() >= 30, "{} cases", table.len());
    let mut failures = Vec::new();
    for (i, case) in table.iter().enumerate() {
        let dir = TempDir::new(&format!("bad-input-{i}"));
        std::fs::write(dir.path().join("afile"), b"not iobench's").unwrap();
        let toml_path = dir.path().join("case.toml");
        let fill = |s: &str| {
            s.replace("{tmp}", dir.str())
                .replace("{toml}", toml_path.to_str().unwrap())
                .replace("{ro}", ro.as_ref().map_or("/nonexistent", |m| m.dir.to_str().unwrap()))
                .replace("{tmpfs}", tmpfs.as_ref().map_or("/nonexistent", |m| m.dir.to_str().unwrap()))
        };
        if (case.args.iter().any(|a| a.contains("{ro}")) && ro.is_none())
            || (case.args.iter().any(|a| a.contains("{tmpfs}")) && tmpfs.is_none())
        {
            skip(case.name, "cannot mount a tmpfs for it (needs root)");
            continue;
        }
        let mut args = vec!["run".to_string()];
        if let Some(text) = case.toml {
            std::fs::write(&toml_path, text).unwrap();
            args.push(toml_path.to_str().unwrap().to_string());
        }
        args.extend(case.args.iter().map(|a| fill(a)));
        args.extend(["--output".to_string(), dir.path().join("r.json").to_str().unwrap().to_string()]);
        let out = common::command().args(&args).current_dir(dir.path()).output().unwrap();
        // The error is the one line starting with "iobench: " (a run that got as far as starting
        // may have printed its progress before it).
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("iobench: ")).collect();
        let stderr = errors.join("\n");
        let expected = fill(&case.expected);
        if out.status.code() != Some(2) || stderr != expected {
            failures.push(format!(
                "{}: {args:?}\n  exit {:?}\n  got      {stderr}\n  expected {expected}",
                case.name,
                out.status.code()
            ));
        }
        assert!(!dir.path().join("r.json").exists(), "{}: nothing ran", case.name);
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), table.len(), failures.join("\n"));
}

#[test]
fn unknown_flags_are_refused_by_the_parser_with_exit_code_2() {
    let out = common::command().args(["run", "--blocksize", "4k"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().next(), Some("error: unexpected argument '--blocksize' found"), "{stderr}");
}

/// Results files that are not what `report` and `compare` need: the library's message, and the
/// binary's exit code 2 with that message.
#[test]
fn bad_results_files_are_named_with_exit_code_2() {
    let dir = TempDir::new("bad-results");
    let good = dir.path().join("good.json");
    let o = common::command()
        .args(["run", "--backend", "null", "--size", "1m", "--runtime", "50ms", "--dir", dir.str(), "--output"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&good).unwrap();
    let mut newer: serde_json::Value = serde_json::from_str(&text).unwrap();
    newer["schema_version"] = 99.into();
    let files: [(&str, String, &str); 5] = [
        (
            "not-json.json",
            "hello\n".into(),
            "is not JSON (expected value at line 1 column 1); name a results.json written by iobench run",
        ),
        ("truncated.json", text[..text.len() / 2].to_string(), "ends too early (EOF while parsing"),
        ("other.json", "{\"a\": 1}".into(), "is not an iobench results file (no schema_version)"),
        (
            "newer.json",
            newer.to_string(),
            "has schema_version 99, newer than this iobench understands (2); upgrade iobench",
        ),
        ("bad-shape.json", "{\"schema_version\": 1, \"runs\": 5}".into(), "is not a valid iobench results file: "),
    ];
    for (name, content, message) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let expected = format!("{}: {message}", path.display());
        let err = Results::read(&path).unwrap_err();
        assert!(err.is_bad_input(), "{name}");
        assert!(err.to_string().starts_with(&expected), "{name}: {err}");
        for args in
            [vec!["report", path.to_str().unwrap()], vec!["compare", good.to_str().unwrap(), path.to_str().unwrap()]]
        {
            let o = common::command().args(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.trim().starts_with(&format!("iobench: {expected}")), "{args:?}: {stderr}");
            assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: one line: {stderr}");
        }
    }
    assert!(!Path::new(&dir.path().join("report.md")).exists());
}
