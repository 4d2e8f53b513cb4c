//! Linux facilities std lacks, one file per facility. This layer uses only `base`; the layers
//! above take facts from it (page size, residency, alignment) and ask it to act (advice, knobs).

pub mod advice;
pub mod blockdev;
pub mod cgroup;
pub mod fsinfo;
pub mod io_uring;
pub mod knobs;
pub mod mounts;
pub mod procfs;
pub mod residency;
pub mod sigbus;
pub mod signals;
pub mod smaps;
pub mod usage;
pub mod vmstat;
