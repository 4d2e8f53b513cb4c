//! Fuzzing what users type: the size and duration parsers, the TOML loader and plan validation.
//! Nothing may panic, and every rejection is one line. The corpus in tests/corpus/ holds inputs
//! worth keeping (edge cases found while writing these, and the shipped suites) with their
//! expected outcome; it runs every time.

use iobench::app::session::Session;
use iobench::base::units::{format_size, parse_duration, parse_size};
use iobench::workload::raw::Suite;
use proptest::prelude::*;
use std::path::Path;
use std::time::Duration;
use toml::{Table, Value};

fn config(cases: u32) -> ProptestConfig {
    // Failures are reported with the shrunk input; add it to tests/corpus/ to keep it.
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Parses, expands and validates a suite text the way `iobench run FILE` does before any run
/// (reading only file metadata). Returns the number of plans, or the one-line error.
fn validate(text: &str) -> Result<usize, String> {
    let suite = Suite::parse("fuzz", text)?;
    let session =
        Session { suite, overrides: Table::new(), output: None, safety: Default::default(), ..Default::default() };
    session.plans().map(|p| p.len()).map_err(|e| e.to_string())
}

fn one_line(r: &Result<usize, String>) -> bool {
    r.as_ref().err().is_none_or(|e| !e.contains('\n') && !e.is_empty())
}

const KEYS: &[&str] = &[
    "name",
    "backend",
    "rw",
    "rwmixread",
    "bs",
    "size",
    "runtime",
    "io_size",
    "ramp_time",
    "iodepth",
    "threads",
    "seed",
    "random_distribution",
    "durability",
    "cache",
    "verify",
    "filename",
    "dir",
    "series_interval",
    "blocksize",
];

const WORDS: &[&str] = &[
    "",
    "0",
    "-1",
    "4k",
    "4K",
    "512",
    "1m",
    "2g",
    "1t",
    "4kib",
    "-4k",
    "4x",
    "1e9",
    "99999999999999999999t",
    "18446744073709551615",
    "500ms",
    "5s",
    "0s",
    "1h",
    "100ns",
    "5 parsecs",
    "µs",
    "read",
    "write",
    "randread",
    "randrw",
    "mmap",
    "buffered",
    "direct",
    "uring",
    "null",
    "bogus",
    "warm",
    "cold",
    "as-is",
    "zipf:1.2",
    "zipf:0",
    "zipf:-1",
    "zipf:nan",
    "zipf:inf",
    "zipf:",
    "uniform",
    "fsync:0",
    "fsync:4",
    "msync:4294967296",
    "odsync",
    "none",
    "/dev/null",
    "..",
    " 4k ",
    "4k,1m",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(WORDS).prop_map(|w| Value::String(w.to_string())),
        prop::sample::select(vec![0i64, -1, 1, 511, 512, 4096, 4097, 1 << 40, i64::MAX, i64::MIN])
            .prop_map(Value::Integer),
        any::<i64>().prop_map(Value::Integer),
        any::<f64>().prop_map(Value::Float),
        any::<bool>().prop_map(Value::Boolean),
        "[a-z0-9:.,-]{0,12}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![4 => scalar(), 1 => prop::collection::vec(scalar(), 0..3).prop_map(Value::Array)]
}

fn workload() -> impl Strategy<Value = Table> {
    prop::collection::btree_map(prop::sample::select(KEYS), value(), 0..8)
        .prop_map(|m| m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn size_parser_never_panics_and_explains(text in "\\PC{0,24}") {
        if let Err(e) = parse_size(&text) {
            prop_assert!(!e.contains('\n') && e.contains(&format!("'{text}'")), "{e}");
        }
    }

    #[test]
    fn sizes_parse_exactly_or_say_too_large(n in any::<u64>(), unit in 0usize..5, spelling in 0usize..3) {
        let suffixes = [["", "b", "B"], ["k", "KB", "KiB"], ["m", "MB", "mib"], ["g", "G", "GiB"], ["t", "TB", "tib"]];
        let n = n >> (unit * 8); // keep many in range
        let text = format!("{n}{}", suffixes[unit][spelling]);
        match parse_size(&text) {
            Ok(v) => prop_assert_eq!(v, n << (10 * unit)),
            Err(e) => {
                prop_assert!(n.checked_mul(1 << (10 * unit)).is_none(), "{text}: {e}");
                prop_assert!(e.contains("too large"), "{e}");
            }
        }
    }

    #[test]
    fn formatted_sizes_parse_back(n in any::<u64>()) {
        prop_assert_eq!(parse_size(&format_size(n)), Ok(n));
    }

    #[test]
    fn duration_parser_never_panics_and_explains(text in "\\PC{0,24}") {
        if let Err(e) = parse_duration(&text) {
            prop_assert!(!e.contains('\n') && e.contains(&format!("'{text}'")), "{e}");
        }
    }

    #[test]
    fn durations_parse_exactly_or_say_too_long(n in any::<u64>(), unit in 0usize..7) {
        let units = [("ns", 1u64), ("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000), ("", 1_000_000_000),
            ("m", 60_000_000_000), ("h", 3_600_000_000_000)];
        let (suffix, ns) = units[unit];
        let n = n >> (unit * 6);
        match parse_duration(&format!("{n}{suffix}")) {
            Ok(d) => prop_assert_eq!(d, Duration::from_nanos(n * ns)),
            Err(e) => prop_assert!(n.checked_mul(ns).is_none() && e.contains("too long"), "{e}"),
        }
    }

    #[test]
    fn any_text_as_a_suite_never_panics(text in "\\PC{0,160}") {
        let r = validate(&text);
        prop_assert!(one_line(&r), "{r:?}");
    }

    #[test]
    fn structured_suites_never_panic(defaults in workload(), workloads in prop::collection::vec(workload(), 0..3),
                                     repeat in prop::option::of(-2i64..5)) {
        let mut doc = Table::new();
        if !defaults.is_empty() {
            doc.insert("defaults".into(), Value::Table(defaults));
        }
        if let Some(r) = repeat {
            doc.insert("repeat".into(), Value::Integer(r));
        }
        doc.insert("workload".into(), Value::Array(workloads.into_iter().map(Value::Table).collect()));
        let text = toml::to_string(&doc).expect("a TOML table serializes");
        let r = validate(&text);
        prop_assert!(one_line(&r), "{text}\n=> {r:?}");
    }
}

proptest! {
    #![proptest_config(config(500))]

    /// Random bytes mutated into a valid suite: the loader's error paths, not just the happy one.
    #[test]
    fn mutated_shipped_suites_never_panic(
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
    ) {
        let text = include_str!("../workloads/quick.toml");
        let mut bytes = text.as_bytes().to_vec();
        let i = pos.index(bytes.len());
        if cut { bytes.truncate(i) } else { bytes[i] = byte }
        let text = String::from_utf8_lossy(&bytes);
        let r = validate(&text);
        prop_assert!(one_line(&r), "{r:?}");
    }
}

/// `input<TAB>expected` lines; expected is a number, or `err: <start of the message>`.
fn corpus_lines(name: &str) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (input, expected) = l.split_once('\t').unwrap_or_else(|| panic!("no tab in corpus line {l:?}"));
            (input.to_string(), expected.to_string())
        })
        .collect()
}

fn check<T: std::fmt::Debug>(input: &str, expected: &str, got: Result<T, String>, show: impl Fn(&T) -> String) {
    match (expected.strip_prefix("err: "), got) {
        (Some(msg), Err(e)) => assert!(e.starts_with(msg), "{input:?}: expected {msg:?}, got {e:?}"),
        (None, Ok(v)) => assert_eq!(show(&v), expected, "{input:?}"),
        (_, got) => panic!("{input:?}: expected {expected:?}, got {got:?}"),
    }
}

#[test]
fn size_corpus() {
    for (input, expected) in corpus_lines("sizes.tsv") {
        check(&input, &expected, parse_size(&input), |v| v.to_string());
    }
}

#[test]
fn duration_corpus() {
    for (input, expected) in corpus_lines("durations.tsv") {
        check(&input, &expected, parse_duration(&input), |d| d.as_nanos().to_string());
    }
}

/// Each TOML file's first line says `# expect: N plans` or `# expect: err: <start of the message>`.
#[test]
fn suite_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/suites");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 10, "the corpus holds its files");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text.lines().next().and_then(|l| l.strip_prefix("# expect: ")).unwrap_or_else(|| {
            panic!("{}: first line must be '# expect: ...'", path.display());
        });
        let got = validate(&text);
        assert!(one_line(&got), "{}: {got:?}", path.display());
        let name = path.display().to_string();
        check(&name, expect, got, |n| format!("{n} plans"));
    }
    // The shipped suites are part of the corpus too: all valid.
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads");
    for e in std::fs::read_dir(shipped).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml") {
            let r = validate(&std::fs::read_to_string(&path).unwrap());
            assert!(r.is_ok(), "{}: {r:?}", path.display());
        }
    }
}
