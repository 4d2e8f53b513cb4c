//! Workload keys that bound a run's resources: `memory_limit` (a fresh memory cgroup),
//! `address_space_limit` (`RLIMIT_AS`, an emulation of a 32-bit process's view), `arch = "i686"`
//! (a real 32-bit process: the i686 build of iobench runs the plan) and the mmap `window` (map
//! the file in sliding windows instead of whole, the remedy for a small address space).
//!
//! Part of `plan`: `Plan::from_raw` calls `ResourceLimits::from_raw`. The limits and `arch` make
//! the run go to a child process (see `app::isolate`); the window is read by the mmap backend.

use super::applies::Applies;
use super::values::SizeKey;
use crate::base::error::{Error, Result};
use crate::base::units::format_size;
use crate::workload::raw::RawWorkload;
use serde::{Deserialize, Serialize};

/// Smallest memory limit accepted: below it the child cannot even start reliably.
pub(crate) const MIN_MEMORY_LIMIT: u64 = 16 << 20;
/// Smallest address-space limit accepted: the binary, thread stacks and malloc arenas need it.
pub(crate) const MIN_ADDRESS_SPACE: u64 = 32 << 20;

/// The validated limits of one plan (`workload.limits` in results).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResourceLimits {
    /// Run in a child process inside a fresh memory cgroup with this limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_limit_bytes: Option<u64>,
    /// Run in a child process with `RLIMIT_AS` set to this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_space_limit_bytes: Option<u64>,
    /// mmap only: map at most this many bytes of the file at a time, sliding along.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_bytes: Option<u64>,
    /// Run in a child process that is the iobench build for this architecture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_arch: Option<ChildArch>,
}

/// The architectures a child process can be built for (`arch` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChildArch {
    /// 32-bit x86: pointers and (without large-file support) `off_t` of 32 bits.
    I686,
}

impl ChildArch {
    /// The Rust target its binary is built for.
    pub fn target(self) -> &'static str {
        match self {
            ChildArch::I686 => "i686-unknown-linux-gnu",
        }
    }
}

impl ResourceLimits {
    /// True if the run must happen in a child process.
    pub(crate) fn needs_child(&self) -> bool {
        self.memory_limit_bytes.is_some() || self.address_space_limit_bytes.is_some() || self.child_arch.is_some()
    }

    /// Validates the resource keys of `raw` for the backend `app` names; `bs` is the block size.
    pub(crate) fn from_raw(raw: &RawWorkload, bs: u64, app: &mut Applies<'_>) -> Result<ResourceLimits> {
        let backend = app.backend;
        let memory_limit_bytes = LIMIT.with_key("memory_limit").read_positive(raw.memory_limit.as_ref())?;
        if let Some(m) = memory_limit_bytes
            && m < MIN_MEMORY_LIMIT
        {
            return Err(Error::invalid(
                "memory_limit",
                format!("{} is too small for the run's own process; use at least 16m", format_size(m)),
            ));
        }
        let address_space_limit_bytes =
            LIMIT.with_key("address_space_limit").read_positive(raw.address_space_limit.as_ref())?;
        if let Some(a) = address_space_limit_bytes
            && a < MIN_ADDRESS_SPACE
        {
            return Err(Error::invalid(
                "address_space_limit",
                format!("{} leaves no room for the program itself; use at least 32m", format_size(a)),
            ));
        }
        for (key, given) in [
            ("memory_limit", memory_limit_bytes.is_some()),
            ("address_space_limit", address_space_limit_bytes.is_some()),
        ] {
            if given && backend.is_outside() {
                return Err(Error::invalid(
                    key,
                    format!("runs the workload in a child iobench process, which cannot load {backend}; leave it off"),
                ));
            }
        }
        let window = LIMIT.with_key("window").read_positive(raw.window.as_ref())?;
        let kept = app.setting("window", window.is_some(), backend.capabilities().maps_file, "mmap")?;
        let window_bytes = window.filter(|_| kept);
        if let Some(w) = window_bytes {
            let page = crate::os::fsinfo::page_size() as u64;
            if w < bs || !w.is_multiple_of(bs) || !w.is_multiple_of(page) {
                return Err(Error::invalid(
                    "window",
                    format!(
                        "{} must be a multiple of the block size ({}) and of the page size ({page}); e.g. \"256m\"",
                        format_size(w),
                        format_size(bs)
                    ),
                ));
            }
        }
        let child_arch = match raw.arch.as_deref() {
            None | Some("native") => None,
            Some("i686") => Some(ChildArch::I686),
            Some(other) => {
                return Err(Error::invalid("arch", format!("{other:?} is not known; use \"i686\" or \"native\"")));
            }
        };
        if child_arch.is_some() && backend.is_outside() {
            return Err(Error::invalid(
                "arch",
                format!("runs the workload in a child iobench process, which cannot load {backend}; leave it off"),
            ));
        }
        Ok(ResourceLimits { memory_limit_bytes, address_space_limit_bytes, window_bytes, child_arch })
    }
}

/// Memory and address-space limits and the window are sizes with these examples.
const LIMIT: SizeKey = SizeKey { key: "", examples: "512m, 2g" };
