//! `iobench list`: shipped suites with their descriptions, backends and the options each takes.

use crate::workload::backends::BackendKind;

/// Options that apply to a backend beyond the common workload keys.
fn options(kind: BackendKind) -> &'static str {
    // By name, so backends added later still list (with their description only).
    match kind.name() {
        "buffered" => "durability fsync:N|fdatasync:N|odsync; fadvise; buffers; threads for concurrency",
        "direct" => "durability fsync:N|fdatasync:N|odsync; buffers; threads (bs and offsets aligned)",
        "mmap" => "durability msync:N|msync-async:N; advice; populate; collapse; map shared|private; threads",
        "uring" | "uring-direct" => {
            "iodepth; iodepth_batch_submit; iodepth_batch_complete_min; fixedbufs; registerfiles; sqthread_poll; \
             durability fsync:N|fdatasync:N|odsync"
        }
        "tokio" | "tokio-pread" => {
            "iodepth (tasks in flight); iodepth_batch_complete_min; durability fsync:N|fdatasync:N|odsync; fadvise"
        }
        "null" => "none: measures the harness itself",
        _ => "see `iobench run --help`",
    }
}

pub fn render() -> String {
    let mut out = String::from("Suites (iobench run NAME; files in workloads/):\n");
    for (name, description) in crate::workload::shipped::list() {
        out.push_str(&format!("  {name:<18} {description}\n"));
    }
    out.push_str("\nBackends (--backend a,b,...):\n");
    for k in BackendKind::ALL {
        out.push_str(&format!("  {:<13} {}\n  {:<13}   options: {}\n", k.name(), k.describe(), "", options(k)));
    }
    out.push_str(
        "\nEvery workload key takes a list (--bs 4k,64k or bs = [\"4k\", \"64k\"]) and runs each combination;\n\
         `repeat = N` in a suite runs every cell N times, interleaved. See `iobench run --help` for the keys.\n",
    );
    out
}
