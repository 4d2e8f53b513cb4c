//! Tuning settings of a workload (mmap advice, prefault, collapse, mapping kind, fadvise hints,
//! huge-page I/O buffers, system THP mode, readahead, dropping caches) and their validation.
//! Part of `plan`: `Plan::from_raw` calls `Tuning::from_raw`, so backends only see checked values.
//!
//! A setting that does not apply to the backend is handled as every such key is (see `applies`):
//! an error naming the key, except when the invocation runs several backends.

use super::applies::Applies;
use super::values::{choice, count, duration, on_off};
use crate::base::error::{Error, Result};
use crate::os::advice::{Advice, FadviseHint};
use crate::os::knobs::ThpMode;
use crate::workload::plan::Rw;
use crate::workload::raw::RawWorkload;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use toml::Value;

/// How the mapping is prefaulted before measurement (untimed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Populate {
    #[default]
    None,
    /// `MAP_POPULATE` at mmap time: errors are silently ignored by the kernel.
    MapPopulate,
    /// `MADV_POPULATE_READ` (5.14+).
    PopulateRead,
    /// `MADV_POPULATE_WRITE` (5.14+): needs a writable mapping.
    PopulateWrite,
}

/// Shared or private (copy-on-write) file mapping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MapKind {
    #[default]
    Shared,
    Private,
}

/// Backing of the I/O buffers of non-mmap backends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BufferKind {
    /// Page-aligned anonymous memory, huge pages as the system THP mode decides.
    #[default]
    Plain,
    /// A 2 MiB-aligned anonymous region with `MADV_HUGEPAGE`.
    Hugepage,
}

/// The validated tuning of one plan (serialized into every result as `workload.tuning`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tuning {
    /// mmap: `madvise` advice; null = none applied (the kernel's default read-around).
    pub advice: Option<Advice>,
    pub populate: Populate,
    /// mmap: `MADV_COLLAPSE` after mapping (and prefaulting), best effort.
    pub collapse: bool,
    pub map: MapKind,
    /// buffered, uring, tokio, tokio-pread: `posix_fadvise` hint; null = none applied.
    pub fadvise: Option<FadviseHint>,
    pub buffers: BufferKind,
    /// System THP mode set for the run and restored after it; null = left as found.
    pub thp_system: Option<ThpMode>,
    /// `read_ahead_kb` of the backing device set for the run and restored; null = left as found.
    pub read_ahead_kb: Option<u32>,
    /// Drop the whole machine's clean page cache before the cache state is established.
    pub drop_caches: bool,
}

impl Tuning {
    /// The settings that differ from the defaults, as `key=value` words (empty if none).
    pub(crate) fn label(&self) -> String {
        let mut words = Vec::new();
        if let Some(a) = self.advice {
            words.push(format!("advice={}", a.name()));
        }
        if self.populate != Populate::None {
            words.push(format!("populate={}", serde_name(&self.populate)));
        }
        if self.collapse {
            words.push("collapse".into());
        }
        if self.map == MapKind::Private {
            words.push("map=private".into());
        }
        if let Some(h) = self.fadvise {
            words.push(format!("fadvise={}", h.name()));
        }
        if self.buffers == BufferKind::Hugepage {
            words.push("buffers=hugepage".into());
        }
        if let Some(t) = self.thp_system {
            words.push(format!("thp_system={}", t.name()));
        }
        if let Some(kb) = self.read_ahead_kb {
            words.push(format!("read_ahead_kb={kb}"));
        }
        if self.drop_caches {
            words.push("drop_caches".into());
        }
        words.join(" ")
    }
}

fn serde_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// Shortest interval of the time series.
pub(crate) const MIN_SERIES_INTERVAL: Duration = Duration::from_millis(100);

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

impl Tuning {
    /// Validates the tuning keys of `raw` for the backend `applies` names and `rw`.
    pub(crate) fn from_raw(raw: &RawWorkload, rw: Rw, app: &mut Applies<'_>) -> Result<Tuning> {
        let caps = app.backend.capabilities();
        let (maps, page_cache_fd, has_buffers) = (caps.maps_file, caps.fadvise, caps.has_buffers());

        let advice = choice(
            "advice",
            raw.advice.as_deref(),
            &[
                ("normal", Advice::Normal),
                ("random", Advice::Random),
                ("sequential", Advice::Sequential),
                ("willneed", Advice::Willneed),
                ("hugepage", Advice::Hugepage),
                ("nohugepage", Advice::Nohugepage),
            ],
        )?;
        let advice = match advice {
            Some(a) if app.setting("advice", true, maps, "mmap")? => Some(a),
            _ => None,
        };
        let populate = choice(
            "populate",
            raw.populate.as_deref(),
            &[
                ("none", Populate::None),
                ("map-populate", Populate::MapPopulate),
                ("populate-read", Populate::PopulateRead),
                ("populate-write", Populate::PopulateWrite),
            ],
        )?;
        let populate = match populate {
            Some(p) if app.setting("populate", true, maps, "mmap")? => p,
            _ => Populate::None,
        };
        if populate == Populate::PopulateWrite && !rw.has_writes() {
            return Err(Error::invalid(
                "populate",
                "populate-write needs a writable mapping, and read patterns map the file read-only; use populate-read",
            ));
        }
        let collapse = on_off("collapse", raw.collapse.as_ref())?.unwrap_or(false);
        let collapse = app.setting("collapse", collapse, maps, "mmap")?;
        let map = choice("map", raw.map.as_deref(), &[("shared", MapKind::Shared), ("private", MapKind::Private)])?;
        let map = match map {
            Some(m) if app.setting("map", true, maps, "mmap")? => m,
            _ => MapKind::Shared,
        };
        if map == MapKind::Private && rw.has_writes() {
            return Err(Error::invalid(
                "map",
                "writes to a private mapping never reach the file; use map = shared for patterns with writes",
            ));
        }
        let fadvise = choice(
            "fadvise",
            raw.fadvise.as_deref(),
            &[
                ("normal", FadviseHint::Normal),
                ("random", FadviseHint::Random),
                ("sequential", FadviseHint::Sequential),
                ("noreuse", FadviseHint::Noreuse),
                ("willneed", FadviseHint::Willneed),
            ],
        )?;
        let fadvise = match fadvise {
            Some(h) if app.setting("fadvise", true, page_cache_fd, "buffered, uring, tokio or tokio-pread")? => Some(h),
            _ => None,
        };
        let kinds = [("plain", BufferKind::Plain), ("hugepage", BufferKind::Hugepage)];
        let buffers = choice("buffers", raw.buffers.as_deref(), &kinds)?;
        let buffers = match buffers {
            Some(b) if app.setting("buffers", true, has_buffers, "backends with I/O buffers (not mmap or null)")? => b,
            _ => BufferKind::Plain,
        };
        let system = system_settings(raw)?;
        Ok(Tuning { advice, populate, collapse, map, fadvise, buffers, ..system })
    }
}

/// The machine-wide settings (root): system THP mode, the device's readahead, dropping caches.
fn system_settings(raw: &RawWorkload) -> Result<Tuning> {
    let thp_system = choice(
        "thp_system",
        raw.thp_system.as_deref(),
        &[("always", ThpMode::Always), ("madvise", ThpMode::Madvise), ("never", ThpMode::Never)],
    )?;
    let read_ahead_kb = match raw.read_ahead_kb {
        None => None,
        Some(n) => Some(count("read_ahead_kb", Some(n), 0, 0, Some(65536))? as u32),
    };
    let drop_caches = on_off("drop_caches", raw.drop_caches.as_ref())?.unwrap_or(false);
    for (key, given, what) in [
        ("thp_system", thp_system.is_some(), "changing the system THP mode"),
        ("read_ahead_kb", read_ahead_kb.is_some(), "changing the device's readahead"),
        ("drop_caches", drop_caches, "dropping the page cache"),
    ] {
        if given && !is_root() {
            return Err(Error::invalid(key, format!("{what} needs root; run as root or leave it off")));
        }
    }
    Ok(Tuning { thp_system, read_ahead_kb, drop_caches, ..Tuning::default() })
}

/// The `series_interval` key: at least 100 ms; null means the session's default.
pub(crate) fn series_interval(value: Option<&Value>) -> Result<Option<u64>> {
    let Some(d) = duration("series_interval", value)? else { return Ok(None) };
    if d < MIN_SERIES_INTERVAL {
        return Err(Error::invalid("series_interval", format!("{d:?} is shorter than the minimum of 100ms")));
    }
    Ok(Some(d.as_nanos() as u64))
}
