//! Command-line definitions (clap). Only parsing lives here; `main` hands the values on.

pub mod ipc;

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
    /// Write report.md and report.html (with plots) from one or more results files
    Report(ReportArgs),
    /// Compare two results per cell: throughput and p99 ratios, faster/slower/within noise
    Compare(CompareArgs),
    /// Merge runs of the same cell from several results files, exactly through their histograms
    Merge(MergeArgs),
    /// Reproduce the article's mmap vs read()/write() table: run workloads/article.toml and write
    /// ARTICLE.md with a measured verdict per claim, plus the report and plots
    Reproduce(ReproduceArgs),
    /// Two processes passing a counter through a MAP_SHARED file (spinning, futex), a pipe and a
    /// Unix socket; then the article's claims: visibility without msync, the cost of msync
    Ipc(crate::cli::ipc::IpcArgs),
    /// Internal: the other process of `iobench ipc`
    #[command(name = "ipc-child", hide = true)]
    IpcChild(crate::cli::ipc::IpcChildArgs),
    /// Internal: run one plan in a child process (memory_limit, address_space_limit)
    #[command(name = "__run-child", hide = true)]
    RunChild {
        /// The job the parent wrote (plan, notes, permissions)
        job: PathBuf,
        /// Where the child writes its run result (JSON)
        result: PathBuf,
    },
    /// Run iobench and fio on the same file, alternating, for every backend fio also has, with the
    /// same work on both sides; print the ratios and write calibration.json and calibration.md
    Calibrate(CalibrateArgs),
    /// Print the environment results are measured in
    Env {
        /// Directory whose filesystem and device to describe
        #[arg(long, default_value = crate_dir())]
        dir: PathBuf,
        /// Print the environment as JSON (as stored in results)
        #[arg(long)]
        json: bool,
    },
    /// The environment plus the device's ceilings: O_DIRECT sequential read at depth 32 and
    /// 4 KiB random-read IOPS at depth 128 (io_uring, or O_DIRECT threads without it)
    Probe {
        /// Directory on the device to measure (a data file of --size is created there)
        #[arg(long, default_value = crate_dir())]
        dir: PathBuf,
        /// Data file size
        #[arg(long, default_value = "1g")]
        size: String,
        /// Time per measurement
        #[arg(long, default_value = "2s")]
        runtime: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

const fn crate_dir() -> &'static str {
    iobench::workload::plan::DEFAULT_DIR
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Suite file, or a shipped suite's name (see `iobench list`); without it and without
    /// flags, the quick suite runs
    pub suite: Option<PathBuf>,
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Results folder: results.json (rewritten after every run), report.md, report.html, plots/
    /// [default: results/<time>-<suite>/, and results/latest points at it]
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    pub out: Option<PathBuf>,
    /// Write only this results file (rewritten after every run), no report
    #[arg(long, short = 'o', value_name = "FILE.json")]
    pub output: Option<PathBuf>,
    /// Keep the data files this run created (they are removed at the end by default)
    #[arg(long = "keep-files")]
    pub keep_files: bool,
    /// Let write workloads overwrite FILE although iobench did not create it (repeatable)
    #[arg(long = "allow-overwrite", value_name = "FILE")]
    pub allow_overwrite: Vec<PathBuf>,
    /// Let --filename name a block or character device
    #[arg(long = "allow-device")]
    pub allow_device: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Exit status: 0 every ratio is at least --min-ratio; 1 some are below (or a run failed), \
                        named on one line; 2 bad input, or fio is not installed.")]
pub struct CalibrateArgs {
    /// Directory for the data files: iobench's (which fio reads too) and fio's write file
    #[arg(long, default_value = crate_dir())]
    pub dir: PathBuf,
    /// iobench/fio pairs per cell; the ratio is the median of the pairs' ratios [default: 3]
    #[arg(long, value_name = "N")]
    pub pairs: Option<u32>,
    /// Measured time of each run, e.g. 5s, 500ms [default: 5s; with --quick 1s]
    #[arg(long, value_name = "T")]
    pub runtime: Option<String>,
    /// Data file size, e.g. 1g [default: 1g; with --quick 256m]
    #[arg(long, value_name = "S")]
    pub size: Option<String>,
    /// 3 pairs of 1 s on a 256 MiB file: under 2 minutes (what CI runs)
    #[arg(long)]
    pub quick: bool,
    /// Exit 1 when a cell's ratio (iobench ÷ fio) is below this
    #[arg(long, value_name = "R", default_value_t = 0.9)]
    pub min_ratio: f64,
    /// Folder for calibration.json and calibration.md [default: results/<yyyy-mm-dd>-<cpu>/]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Keep the data files this calibration created (they are removed at the end by default)
    #[arg(long = "keep-files")]
    pub keep_files: bool,
}

impl CalibrateArgs {
    pub fn flags(self) -> iobench::app::calibrate::Flags {
        iobench::app::calibrate::Flags {
            dir: self.dir,
            pairs: self.pairs,
            runtime: self.runtime,
            size: self.size,
            quick: self.quick,
            min_ratio: self.min_ratio,
            out: self.out,
            keep_files: self.keep_files,
        }
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Results files (or results folders); their runs are reported together
    #[arg(required = true, value_name = "RESULTS.json")]
    pub results: Vec<PathBuf>,
    /// Folder for report.md, report.html and plots/ [default: the first results file's folder]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Baseline results file (or folder)
    pub base: PathBuf,
    /// New results file (or folder)
    pub new: PathBuf,
    /// Exit 1 when a cell's throughput drops by more than this beyond noise (e.g. 5%)
    #[arg(long, value_name = "PCT", default_value = "5%")]
    pub fail_above: String,
    /// Noise band for cells with one run per side, whose spread is unknown (e.g. 10%)
    #[arg(long, value_name = "PCT", default_value = "10%")]
    pub noise: String,
}

#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// Small files and short runs (sizes ÷ 8, runtimes ÷ 10, one repeat): a few minutes
    #[arg(long)]
    pub quick: bool,
    /// Tests only: sizes ÷ 64 (files of 64 MiB at most), 300 ms runs
    #[arg(long, hide = true, conflicts_with = "quick")]
    pub tiny: bool,
    /// Directory for the data files (up to 7.5 GiB for the full run) [default: ./iobench-data]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Results folder [default: results/<yyyy-mm-dd>-<hostname>, with -quick for --quick]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Do not run: write ARTICLE.md again from this results file (or folder)
    #[arg(long, value_name = "RESULTS.json", conflicts_with_all = ["quick", "tiny", "dir"])]
    pub from: Option<PathBuf>,
    /// Keep the data files this run created
    #[arg(long = "keep-files")]
    pub keep_files: bool,
    /// Seed of the shuffled cell order (each repeat is shuffled) [default: from the clock; the
    /// seed is recorded in every run's notes]
    #[arg(long = "order-seed", value_name = "N", conflicts_with = "from")]
    pub order_seed: Option<u64>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Results files (or folders) to merge
    #[arg(required = true, value_name = "RESULTS.json")]
    pub inputs: Vec<PathBuf>,
    /// Merged results file
    #[arg(long, short = 'o', value_name = "ALL.json")]
    pub output: PathBuf,
}

/// Workload flags. Each overrides the same key of every workload in a suite.
#[derive(Debug, Args, Default)]
pub struct WorkloadArgs {
    /// Backends, one run each on the identical workload: buffered, direct, mmap, uring,
    /// uring-direct, tokio, tokio-pread, null; lines (rw = scan only: naive BufReader::lines)
    #[arg(long, value_name = "LIST")]
    pub backend: Option<String>,
    /// Pattern: read, write, randread, randwrite, rw, randrw; the article's: records (random record
    /// updates), seqrecords (in file order), scan (whole-log scans counting lines and matches)
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
    /// Use this file instead of iobench's own in --dir; an existing file iobench did not write is
    /// only read, unless --allow-overwrite names it
    #[arg(long)]
    pub filename: Option<String>,
    /// Check every block read against the data pattern; the first mismatch fails the run
    #[arg(long)]
    pub verify: bool,
    /// What each read's bytes go through: sum (every byte, the default), touch (one byte per
    /// 4 KiB page), none (left alone, as fio; mmap touches), copy (mmap copies each block out, as
    /// fio's mmap engine) [default: sum]
    #[arg(long)]
    pub consume: Option<String>,
    /// Random offsets drawn with replacement instead of every block once per pass (fio's norandommap)
    #[arg(long)]
    pub norandommap: bool,
    /// Queue backends: completions to wait for before refilling the queue [default: 1]
    #[arg(long = "iodepth-batch-complete-min", alias = "iodepth_batch_complete_min", value_name = "N")]
    pub iodepth_batch_complete_min: Option<String>,
    /// Queue backends: most completions taken per wait before refilling [default: the min, as fio]
    #[arg(long = "iodepth-batch-complete-max", alias = "iodepth_batch_complete_max", value_name = "N")]
    pub iodepth_batch_complete_max: Option<String>,
    /// io_uring: operations per submitting io_uring_enter; 0 submits all queued (faster on cached reads) [default: 1]
    #[arg(long = "iodepth-batch-submit", alias = "iodepth_batch_submit", value_name = "N")]
    pub iodepth_batch_submit: Option<String>,
    /// io_uring: register the I/O buffers once and use READ/WRITE_FIXED (--fixedbufs=true,false compares)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub fixedbufs: Option<String>,
    /// io_uring: register the data file once (no per-operation file lookup)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub registerfiles: Option<String>,
    /// io_uring: a kernel thread polls the submission queue (SQPOLL; it keeps a CPU busy)
    #[arg(
        long = "sqthread-poll",
        alias = "sqthread_poll",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_name = "BOOL"
    )]
    pub sqthread_poll: Option<String>,
    /// io_uring: idle time before the SQPOLL thread sleeps, e.g. 100ms [default: 1s]
    #[arg(long = "sqthread-poll-idle", alias = "sqthread_poll_idle")]
    pub sqthread_poll_idle: Option<String>,
    /// mmap: madvise advice: normal, random, sequential, willneed, hugepage, nohugepage
    #[arg(long)]
    pub advice: Option<String>,
    /// mmap: prefault before measuring: none, map-populate, populate-read, populate-write
    #[arg(long)]
    pub populate: Option<String>,
    /// mmap: MADV_COLLAPSE the mapping into huge pages before measuring (best effort)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub collapse: Option<String>,
    /// mmap: shared or private mapping (private for read patterns only) [default: shared]
    #[arg(long)]
    pub map: Option<String>,
    /// buffered/uring/tokio: posix_fadvise hint: normal, random, sequential, noreuse, willneed
    #[arg(long)]
    pub fadvise: Option<String>,
    /// I/O buffers of non-mmap backends: plain or hugepage (2 MiB-aligned, MADV_HUGEPAGE) [default: plain]
    #[arg(long)]
    pub buffers: Option<String>,
    /// Set the system THP mode for the run (root; restored afterwards): always, madvise, never
    #[arg(long = "thp-system", alias = "thp_system")]
    pub thp_system: Option<String>,
    /// Set the backing device's read_ahead_kb for the run (root; restored afterwards)
    #[arg(long = "read-ahead-kb", alias = "read_ahead_kb", value_name = "KB")]
    pub read_ahead_kb: Option<String>,
    /// Drop the whole page cache (sync + drop_caches, root) before setting up the cache state
    #[arg(long = "drop-caches", alias = "drop_caches")]
    pub drop_caches: bool,
    /// Interval of the time series, at least 100ms [default: runtime/10, 100ms to 1s]
    #[arg(long = "series-interval", alias = "series_interval")]
    pub series_interval: Option<String>,
    /// Run each workload in a child process inside a fresh memory cgroup of this size, e.g. 512m
    /// (the file is dropped from the page cache first; root)
    #[arg(long = "memory-limit", alias = "memory_limit")]
    pub memory_limit: Option<String>,
    /// Run each workload in a child process with RLIMIT_AS set to this, e.g. 2g (a 32-bit process)
    #[arg(long = "address-space-limit", alias = "address_space_limit")]
    pub address_space_limit: Option<String>,
    /// mmap: map the file in sliding windows of this size instead of whole, e.g. 256m
    #[arg(long)]
    pub window: Option<String>,
    /// records: size of one record, a multiple of 8 from 16 [default: 32, the article's record]
    #[arg(long = "record-size", alias = "record_size")]
    pub record_size: Option<String>,
    /// records: what buffered/direct/uring/tokio read and write back per update: record or page
    /// (O_DIRECT: at least the aligned block) [default: record]
    #[arg(long = "records-io", alias = "records_io")]
    pub records_io: Option<String>,
}

impl WorkloadArgs {
    /// The flags that were given, as TOML keys and values (lists for comma-separated values).
    pub fn overrides(&self) -> toml::Table {
        use iobench::workload::raw::{cli_text, cli_value};
        let mut t = toml::Table::new();
        let texts = [
            ("backend", &self.backend),
            ("rw", &self.rw),
            ("random_distribution", &self.random_distribution),
            ("durability", &self.durability),
            ("cache", &self.cache),
            ("dir", &self.dir),
            ("filename", &self.filename),
            ("advice", &self.advice),
            ("populate", &self.populate),
            ("map", &self.map),
            ("fadvise", &self.fadvise),
            ("buffers", &self.buffers),
            ("thp_system", &self.thp_system),
            ("records_io", &self.records_io),
            ("consume", &self.consume),
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
            ("iodepth_batch_complete_min", &self.iodepth_batch_complete_min),
            ("iodepth_batch_complete_max", &self.iodepth_batch_complete_max),
            ("iodepth_batch_submit", &self.iodepth_batch_submit),
            ("fixedbufs", &self.fixedbufs),
            ("registerfiles", &self.registerfiles),
            ("sqthread_poll", &self.sqthread_poll),
            ("sqthread_poll_idle", &self.sqthread_poll_idle),
            ("collapse", &self.collapse),
            ("read_ahead_kb", &self.read_ahead_kb),
            ("series_interval", &self.series_interval),
            ("memory_limit", &self.memory_limit),
            ("address_space_limit", &self.address_space_limit),
            ("window", &self.window),
            ("record_size", &self.record_size),
        ];
        for (key, value) in values {
            if let Some(v) = value {
                t.insert(key.to_string(), cli_value(v));
            }
        }
        if self.verify {
            t.insert("verify".into(), toml::Value::Boolean(true));
        }
        if self.norandommap {
            t.insert("norandommap".into(), toml::Value::Boolean(true));
        }
        if self.drop_caches {
            t.insert("drop_caches".into(), toml::Value::Boolean(true));
        }
        t
    }
}
