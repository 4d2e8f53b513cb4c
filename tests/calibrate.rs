//! `iobench calibrate`: exit codes, the cells it names, and the files it writes. Short runs
//! (1 pair of 200 ms on 64 MiB) keep each under a few seconds; every file goes to a temporary
//! directory. No timing is asserted: the ratios depend on the machine.

mod common;

use common::{TempDir, iobench, skip, stderr, stdout};
use std::process::{Command, Output};

const CELLS: [&str; 11] = [
    "null-4k",
    "direct-randread-4k-qd1",
    "uring-direct-randread-4k-qd32",
    "uring-direct-read-1m-qd8",
    "buffered-randread-4k-warm",
    "buffered-randread-4k-warm-2threads",
    "buffered-read-1m-warm",
    "mmap-randread-4k-warm",
    "mmap-read-1m-warm",
    "uring-randread-4k-warm-qd32",
    "buffered-randwrite-4k-fdatasync32-cold",
];

/// Whether fio is installed; says why the test skips if not, and fails under IOBENCH_REQUIRE_ALL=1.
fn fio_present(test: &str) -> bool {
    let found = Command::new("fio").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        skip(test, "fio is not installed (apt-get install fio)");
    }
    found
}

fn calibrate(tmp: &TempDir, min_ratio: &str) -> Output {
    let data = tmp.path().join("data");
    let out = tmp.path().join("out");
    let (data, out) = (data.to_str().unwrap(), out.to_str().unwrap());
    let args = [
        "calibrate",
        "--pairs",
        "1",
        "--runtime",
        "200ms",
        "--size",
        "64m",
        "--dir",
        data,
        "--out",
        out,
        "--min-ratio",
    ];
    iobench(&[&args[..], &[min_ratio]].concat())
}

/// Both files exist and parse; returns the JSON document.
fn written(tmp: &TempDir) -> serde_json::Value {
    let out = tmp.path().join("out");
    let md = std::fs::read_to_string(out.join("calibration.md")).expect("calibration.md written");
    assert!(md.contains("| cell | fio job | iobench | fio | ratio | p50 iobench | p50 fio | matched work |"), "{md}");
    for id in CELLS {
        assert!(md.contains(&format!("| {id} |")), "calibration.md names {id}:\n{md}");
    }
    let text = std::fs::read_to_string(out.join("calibration.json")).expect("calibration.json written");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("calibration.json parses");
    assert_eq!(doc["complete"], true);
    assert!(doc["environment"]["kernel"].is_string());
    let cells = doc["cells"].as_array().unwrap();
    let ids: Vec<&str> = cells.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, CELLS);
    for c in cells {
        let status = c["status"].as_str().unwrap();
        assert!(status == "ok" || status == "skipped", "{}: {status}: {}", c["id"], c["reason"]);
        if status == "ok" {
            assert!(c["ratio"].as_f64().unwrap() > 0.0, "{c}");
            let pair = &c["pairs"][0];
            for side in ["iobench", "fio"] {
                for key in ["iops", "bw_bytes_per_s", "p50_ns"] {
                    assert!(pair[side][key].is_number(), "{}: {side}.{key}", c["id"]);
                }
            }
            assert!(c["fio_args"].as_array().unwrap().iter().any(|a| a == "--output-format=json"));
        }
    }
    // The data files (iobench's and fio's write file) and their directory are removed.
    assert!(!tmp.path().join("data").exists(), "data files left behind");
    doc
}

#[test]
fn min_ratio_zero_passes_and_writes_both_files() {
    if !fio_present("min_ratio_zero_passes_and_writes_both_files") {
        return;
    }
    let tmp = TempDir::new("calibrate-pass");
    let o = calibrate(&tmp, "0");
    assert_eq!(o.status.code(), Some(0), "stdout:\n{}\nstderr:\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for id in CELLS {
        assert!(out.contains(id), "the table names {id}:\n{out}");
    }
    let doc = written(&tmp);
    let buffered = &doc["cells"][4];
    assert_eq!(buffered["iobench_workload"]["consume"], "none");
    assert_eq!(buffered["iobench_workload"]["tuning"]["fadvise"], "random");
    assert_eq!(doc["cells"][7]["iobench_workload"]["consume"], "copy");
}

#[test]
fn a_huge_min_ratio_fails_naming_every_cell() {
    if !fio_present("a_huge_min_ratio_fails_naming_every_cell") {
        return;
    }
    let tmp = TempDir::new("calibrate-fail");
    let o = calibrate(&tmp, "1000");
    assert_eq!(o.status.code(), Some(1), "stdout:\n{}\nstderr:\n{}", stdout(&o), stderr(&o));
    let doc = written(&tmp);
    let err = stderr(&o);
    let line = err.lines().find(|l| l.contains("below --min-ratio 1000")).unwrap_or_else(|| panic!("{err}"));
    let named: Vec<&str> =
        line.split_once("--min-ratio 1000: ").unwrap().1.split(", ").map(|e| e.split(' ').next().unwrap()).collect();
    let measured: Vec<&str> = doc["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "ok")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(named, measured, "{line}");
    assert!(measured.len() >= 8, "most cells run on any Linux: {measured:?}");
}

#[test]
fn without_fio_it_exits_2_saying_install_fio() {
    let tmp = TempDir::new("calibrate-nofio");
    let empty = tmp.path().join("bin");
    std::fs::create_dir_all(&empty).unwrap();
    let data = tmp.path().join("data");
    let o = common::command()
        .env("PATH", &empty)
        .args(["calibrate", "--quick", "--dir", data.to_str().unwrap(), "--out", tmp.str()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("install fio"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(!data.exists(), "nothing is created before fio is found");
}

#[test]
fn bad_arguments_exit_2_naming_the_flag() {
    let tmp = TempDir::new("calibrate-bad");
    for (args, key) in [
        (&["--size", "1x"][..], "--size"),
        (&["--size", "1000k"], "--size"),
        (&["--runtime", "10ms"], "--runtime"),
        (&["--runtime", "soon"], "--runtime"),
        (&["--min-ratio=-1"], "--min-ratio"),
        (&["--pairs", "0"], "--pairs"),
    ] {
        let o = iobench(&[&["calibrate", "--dir", tmp.str()][..], args].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(key) && err.trim().lines().count() == 1, "{args:?}: {err}");
    }
}
