//! Workload keys that bound a run's resources: `memory_limit` (a fresh memory cgroup),
//! `address_space_limit` (`RLIMIT_AS`, an emulation of a 32-bit process's view), `arch = "i686"`
//! (a real 32-bit process: the i686 build of iobench runs the plan) and the mmap `window` (map
//! the file in sliding windows instead of whole, the remedy for a small address space).
//!
//! Part of `plan`: `Plan::from_raw` calls `Limits::from_raw`. The limits and `arch` make the run
//! go to a child process (see `isolate`); the window is read by the mmap backend.

use crate::backend::BackendKind;
use crate::error::{Error, Result};
use crate::plan::PlanContext;
use crate::units::{format_size, parse_size};
use crate::workload::RawWorkload;
use serde::{Deserialize, Serialize};
use toml::Value;

/// Smallest memory limit accepted: below it the child cannot even start reliably.
pub const MIN_MEMORY_LIMIT: u64 = 16 << 20;
/// Smallest address-space limit accepted: the binary, thread stacks and malloc arenas need it.
pub const MIN_ADDRESS_SPACE: u64 = 32 << 20;

/// The validated limits of one plan (`workload.limits` in results).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
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

impl Limits {
    /// True if the run must happen in a child process.
    pub fn needs_child(&self) -> bool {
        self.memory_limit_bytes.is_some() || self.address_space_limit_bytes.is_some() || self.child_arch.is_some()
    }

    pub fn from_raw(
        raw: &RawWorkload,
        backend: BackendKind,
        bs: u64,
        ctx: PlanContext,
        notes: &mut Vec<String>,
    ) -> Result<Limits> {
        let memory_limit_bytes = size_key("memory_limit", raw.memory_limit.as_ref())?;
        if let Some(m) = memory_limit_bytes
            && m < MIN_MEMORY_LIMIT
        {
            return Err(Error::invalid(
                "memory_limit",
                format!("{} is too small for the run's own process; use at least 16m", format_size(m)),
            ));
        }
        let address_space_limit_bytes = size_key("address_space_limit", raw.address_space_limit.as_ref())?;
        if let Some(a) = address_space_limit_bytes
            && a < MIN_ADDRESS_SPACE
        {
            return Err(Error::invalid(
                "address_space_limit",
                format!("{} leaves no room for the program itself; use at least 32m", format_size(a)),
            ));
        }
        let mut window_bytes = size_key("window", raw.window.as_ref())?;
        if window_bytes.is_some() && backend != BackendKind::Mmap {
            if !ctx.several_backends {
                return Err(Error::invalid(
                    "window",
                    format!("applies only to mmap, not {backend}; remove it or use --backend mmap"),
                ));
            }
            notes.push(format!("window applies only to mmap: not applicable to {backend}"));
            window_bytes = None;
        }
        if let Some(w) = window_bytes {
            let page = crate::os::page_size() as u64;
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
        Ok(Limits { memory_limit_bytes, address_space_limit_bytes, window_bytes, child_arch })
    }
}

fn size_key(key: &str, value: Option<&Value>) -> Result<Option<u64>> {
    let bytes = match value {
        None => return Ok(None),
        Some(Value::Integer(n)) if *n > 0 => *n as u64,
        Some(Value::String(s)) => parse_size(s).map_err(|m| Error::invalid(key, m))?,
        Some(v) => return Err(Error::invalid(key, format!("{v} is not a positive size (examples: \"512m\", \"2g\")"))),
    };
    if bytes == 0 {
        return Err(Error::invalid(key, "must be greater than 0 (examples: \"512m\", \"2g\")"));
    }
    Ok(Some(bytes))
}
