//! Command-line definitions (clap). Only parsing lives here; `main` hands the values on.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "iobench",
    version,
    about = "Compare mmap, buffered read()/write(), O_DIRECT, io_uring and tokio on identical file workloads",
    long_about = "Compare mmap, buffered read()/write(), O_DIRECT, io_uring and tokio on identical file workloads.\n\n\
                  `iobench run` with no arguments runs the quick suite on every backend and prints a table.\n\
                  Flags use fio's vocabulary; any flag takes a comma-separated list (--bs 4k,64k), which runs every combination."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a suite file, or the workload the flags describe, on one or more backends
    Run(Box<RunArgs>),
    /// List the backends and shipped suites
    List,
    /// Print the environment results are measured in
    Env {
        /// Directory whose filesystem and device to describe
        #[arg(long, default_value = crate_dir())]
        dir: PathBuf,
    },
}

const fn crate_dir() -> &'static str {
    iobench::plan::DEFAULT_DIR
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Suite file (workloads/NAME.toml); without it and without flags, the quick suite runs
    pub suite: Option<PathBuf>,
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Results file, rewritten after every run [default: results/<time>-<suite>/results.json]
    #[arg(long, short = 'o', value_name = "FILE.json")]
    pub output: Option<PathBuf>,
}

/// Workload flags. Each overrides the same key of every workload in a suite.
#[derive(Debug, Args, Default)]
pub struct WorkloadArgs {
    /// Backends, one run each on the identical workload: buffered, direct, mmap, uring,
    /// uring-direct, tokio, tokio-pread, null
    #[arg(long, value_name = "LIST")]
    pub backend: Option<String>,
    /// Pattern: read, write, randread, randwrite, rw, randrw
    #[arg(long)]
    pub rw: Option<String>,
    /// Percentage of reads for rw/randrw [default: 50]
    #[arg(long, value_name = "PCT")]
    pub rwmixread: Option<String>,
    /// Block size per operation, e.g. 4k, 1m [default: 4k]
    #[arg(long)]
    pub bs: Option<String>,
    /// Data file size, e.g. 256m, 2g [default: 256m]
    #[arg(long)]
    pub size: Option<String>,
    /// Measured time, e.g. 500ms, 5s [default: 5s unless --io-size is given]
    #[arg(long)]
    pub runtime: Option<String>,
    /// Measured bytes per thread; the run ends at whichever of runtime and io-size comes first
    #[arg(long = "io-size", alias = "io_size")]
    pub io_size: Option<String>,
    /// Warm-up time excluded from every statistic, e.g. 1s [default: 0]
    #[arg(long = "ramp", alias = "ramp_time", alias = "ramp-time")]
    pub ramp_time: Option<String>,
    /// Operations in flight (queue backends only; use --threads for synchronous ones) [default: 1]
    #[arg(long)]
    pub iodepth: Option<String>,
    /// Worker threads, each with its own backend instance on the same file [default: 1]
    #[arg(long, alias = "numjobs")]
    pub threads: Option<String>,
    /// Seed of the data pattern and of random offsets
    #[arg(long)]
    pub seed: Option<String>,
    /// Random offsets: uniform or zipf:θ (e.g. zipf:1.2) [default: uniform]
    #[arg(long = "random-distribution", alias = "random_distribution")]
    pub random_distribution: Option<String>,
    /// none, fsync:N, fdatasync:N, odsync (O_DSYNC), msync:N, msync-async:N (mmap) [default: none]
    #[arg(long)]
    pub durability: Option<String>,
    /// Page-cache state at the start: warm (file read first), cold (evicted), as-is [default: warm]
    #[arg(long)]
    pub cache: Option<String>,
    /// Directory for data files [default: ./iobench-data]
    #[arg(long)]
    pub dir: Option<String>,
    /// Check every block read against the data pattern; the first mismatch fails the run
    #[arg(long)]
    pub verify: bool,
}

impl WorkloadArgs {
    /// The flags that were given, as TOML keys and values (lists for comma-separated values).
    pub fn overrides(&self) -> toml::Table {
        use iobench::workload::{cli_text, cli_value};
        let mut t = toml::Table::new();
        let texts = [
            ("backend", &self.backend),
            ("rw", &self.rw),
            ("random_distribution", &self.random_distribution),
            ("durability", &self.durability),
            ("cache", &self.cache),
            ("dir", &self.dir),
        ];
        for (key, value) in texts {
            if let Some(v) = value {
                t.insert(key.to_string(), cli_text(v));
            }
        }
        let values = [
            ("rwmixread", &self.rwmixread),
            ("bs", &self.bs),
            ("size", &self.size),
            ("runtime", &self.runtime),
            ("io_size", &self.io_size),
            ("ramp_time", &self.ramp_time),
            ("iodepth", &self.iodepth),
            ("threads", &self.threads),
            ("seed", &self.seed),
        ];
        for (key, value) in values {
            if let Some(v) = value {
                t.insert(key.to_string(), cli_value(v));
            }
        }
        if self.verify {
            t.insert("verify".into(), toml::Value::Boolean(true));
        }
        t
    }
}
