//! Linux facilities std lacks, one file per facility. This layer uses only `base`; the layers
//! above take facts from it (page size, residency, alignment) and ask it to act (advice, knobs).

pub mod advice;
pub mod blockdev;
pub mod cgroup;
pub mod errno;
pub mod freemem;
pub(crate) mod fsinfo;
pub mod io_uring;
pub mod knobs;
pub(crate) mod mounts;
pub(crate) mod procfs;
pub mod procstat;
pub(crate) mod residency;
pub(crate) mod sigbus;
pub mod signals;
pub(crate) mod smaps;
pub mod status;
pub mod usage;
pub(crate) mod vmstat;
