//! io_uring as this process can use it: availability (the io_uring_disabled sysctl, a trial
//! ring) and the setup flags this kernel accepts.

use serde::{Deserialize, Serialize};

/// io_uring as this process can use it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UringSupport {
    /// `/proc/sys/kernel/io_uring_disabled` (0 allowed, 1 group only, 2 disabled; null if absent).
    pub disabled_sysctl: Option<u32>,
    /// A plain `io_uring_setup` succeeded.
    pub available: bool,
    /// Why it did not, if it did not (errno text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Setup flags a trial ring accepted (SQPOLL needs root on old kernels; IOPOLL is accepted
    /// at setup and refused later by devices without polled queues).
    pub setup_flags: Vec<String>,
}

/// Tries `io_uring_setup` plain and with each setup flag iobench may use.
#[cfg(feature = "uring")]
pub(crate) fn probe_uring() -> UringSupport {
    let disabled_sysctl =
        std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled").ok().and_then(|s| s.trim().parse().ok());
    let mut out = UringSupport { disabled_sysctl, ..Default::default() };
    if let Err(e) = io_uring::IoUring::new(4) {
        out.error = Some(e.to_string());
        return out;
    }
    out.available = true;
    type Setup = fn(&mut io_uring::Builder) -> &mut io_uring::Builder;
    let trials: [(&str, Setup); 8] = [
        ("IOPOLL", |b| b.setup_iopoll()),
        ("SQPOLL", |b| b.setup_sqpoll(100)),
        ("SUBMIT_ALL", |b| b.setup_submit_all()),
        ("COOP_TASKRUN", |b| b.setup_coop_taskrun()),
        ("TASKRUN_FLAG", |b| b.setup_coop_taskrun().setup_taskrun_flag()),
        ("SINGLE_ISSUER", |b| b.setup_single_issuer()),
        ("DEFER_TASKRUN", |b| b.setup_single_issuer().setup_defer_taskrun()),
        ("NO_SQARRAY", |b| b.setup_no_sqarray()),
    ];
    for (name, setup) in trials {
        let mut builder = io_uring::IoUring::builder();
        if setup(&mut builder).build(4).is_ok() {
            out.setup_flags.push(name.to_string());
        }
    }
    out
}

/// Without the `uring` feature this build has no io_uring to probe.
#[cfg(not(feature = "uring"))]
pub(crate) fn probe_uring() -> UringSupport {
    UringSupport { error: Some("built without io_uring (cargo feature `uring`)".into()), ..Default::default() }
}
