//! A backend from outside iobench, run next to `buffered` through iobench's own loop: the same
//! workloads, verification of every byte read, evidence, results and report.
//!
//! ```sh
//! cargo run --release --example custom_backend              # prints the comparison
//! cargo run --release --example custom_backend -- r.json    # and writes the results
//! iobench report r.json --out /tmp/report                   # which report and compare read
//! ```
//!
//! The backend moves bytes with `std::fs::File`'s `read_at`/`write_at`: a few dozen lines.
//! iobench draws the offsets, times each operation, keeps the statistics and checks what the
//! reads delivered; the backend only implements `Backend` and says what it can do.

use iobench::{
    Backend, Capabilities, Completion, DataFile, Error, Op, OpKind, OutsideBackend, Plan, Report, Result, Results,
    Session, Suite,
};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What plans name it by and what it can do: synchronous, through the page cache, no keys of
/// its own. Plans are validated against this before the backend is opened.
static STD_PREAD: OutsideBackend = OutsideBackend {
    name: "std-pread",
    describe: "std::fs::File read_at / write_at / sync_data, one call per operation",
    capabilities: Capabilities::SYNC,
};

/// One instance per worker thread; each operation completes inside `submit`.
struct StdPread {
    file: File,
    done: Option<Completion>,
}

/// The factory: opens one instance on the data file iobench prepared (untimed).
fn open(plan: &Plan, data: &DataFile) -> Result<Box<dyn Backend>> {
    let file = OpenOptions::new()
        .read(true)
        .write(plan.rw.has_writes())
        .open(&data.path)
        .map_err(|e| Error::io(format!("cannot open {}", data.path.display()), e))?;
    Ok(Box::new(StdPread { file, done: None }))
}

impl Backend for StdPread {
    fn submit(&mut self, op: Op, buf: &mut [u8]) -> Result<()> {
        let len = op.len as usize;
        let moved = match op.kind {
            OpKind::Read => self.file.read_exact_at(&mut buf[..len], op.offset).map(|()| len),
            OpKind::Write => self.file.write_all_at(&buf[..len], op.offset).map(|()| len),
            OpKind::Sync => self.file.sync_data().map(|()| 0),
            // Record updates reach a backend as reads and writes; scans are iobench's own readers'.
            OpKind::Update | OpKind::Scan => Err(std::io::ErrorKind::Unsupported.into()),
        };
        // Bytes moved, or a negative errno: the loop turns it into an error naming the operation.
        let result = moved.map_or_else(|e| -i64::from(e.raw_os_error().unwrap_or(5)), |n| n as i64);
        self.done = Some(Completion { slot: op.slot, result });
        Ok(())
    }

    fn reap(&mut self, _min: usize, done: &mut Vec<Completion>) -> Result<()> {
        done.extend(self.done.take());
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.file.sync_all().map_err(|e| Error::io("final fsync", e))
    }
}

/// One verified random-read workload on `buffered` and on `std-pread`, with its data file in
/// `dir` (removed afterwards): the results, and the terminal table and ranking that compare them.
fn compare(dir: &Path, runtime: &str) -> Result<(Results, String)> {
    let text = format!(
        "name = \"randread-4k-verified\"\nbackend = [\"buffered\", \"std-pread\"]\nrw = \"randread\"\nbs = \"4k\"\n\
         size = \"64m\"\nruntime = \"{runtime}\"\nverify = true\ndir = {:?}\n",
        dir.display().to_string()
    );
    let suite = Suite::parse("custom-backend", &text)
        .map_err(|message| Error::WorkloadFile { path: "custom_backend".into(), message })?;
    let session = Session { suite, ..Default::default() }.with_backend(&STD_PREAD, open);
    let results = session.run(|_| {})?;
    let report = Report::build(std::slice::from_ref(&results))?;
    let text = iobench::report::table::render(&results.runs) + &report.terminal_text();
    Ok((results, text))
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> ExitCode {
    let dir = std::env::temp_dir().join(format!("iobench-custom-backend-{}", std::process::id()));
    let output = std::env::args_os().nth(1).map(PathBuf::from);
    let outcome = compare(&dir, "2s").and_then(|(results, text)| {
        print!("{text}");
        match &output {
            Some(path) => results.write_atomic(path).map(|()| println!("results: {}", path.display())),
            None => Ok(()),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("custom_backend: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iobench::RunStatus;

    /// The example's own code: the outside backend's reads verify, and its results go through
    /// the results file and the report beside `buffered`'s, in one ranking.
    #[test]
    fn an_outside_backend_verifies_and_compares_against_buffered() {
        let dir = std::env::temp_dir().join(format!("iobench-test-custom-backend-{}", std::process::id()));
        let (results, text) = compare(&dir.join("data"), "300ms").unwrap();
        let run = |name: &str| results.runs.iter().find(|r| r.backend == name).unwrap();
        for name in ["buffered", "std-pread"] {
            assert_eq!(run(name).status, RunStatus::Ok, "{name}: {:?}", run(name).reason);
            let m = run(name).measured.as_ref().unwrap();
            assert!(m.ops > 0 && m.verified_blocks == m.read_ops, "{name}: every read verified");
        }
        // Through the results file: the outside backend keeps its name and capabilities.
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("results.json");
        results.write_atomic(&path).unwrap();
        let back = Results::read(&path).unwrap();
        assert_eq!(back.runs[1].workload.backend.capabilities(), Capabilities::SYNC);
        let report = Report::build(std::slice::from_ref(&back)).unwrap().terminal_text();
        let ranking: Vec<&str> = report.lines().filter(|l| l.contains("buffered") || l.contains("std-pread")).collect();
        assert_eq!(ranking.len(), 2, "one ranking holds both backends:\n{report}");
        assert!(text.contains("std-pread") && text.contains("randread-4k-verified"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!dir.join("data").exists(), "the data file and its folder were removed");
    }
}
