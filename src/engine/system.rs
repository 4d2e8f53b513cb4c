//! The system settings a plan changes for its run (THP mode, the device's readahead, dropping
//! the page cache), undone when the guard drops.

use crate::base::error::{Error, Result};
use crate::workload::tuning::Tuning;

/// System settings changed for one run; dropping it restores them (see `os::knobs`).
#[derive(Debug, Default)]
pub(crate) struct SystemGuard {
    knobs: Vec<crate::os::knobs::KnobGuard>,
}

impl SystemGuard {
    /// Applies the plan's system settings for a run on `data_path`: THP mode, the backing
    /// device's readahead, then dropping the page cache. Each change is undone when the guard
    /// drops (on error too: knobs already set are restored as the partial guard drops).
    pub(crate) fn apply(tuning: &Tuning, data_path: &std::path::Path) -> Result<SystemGuard> {
        use crate::os::knobs::{self, KnobGuard};
        let mut guard = SystemGuard::default();
        if let Some(mode) = tuning.thp_system {
            guard.knobs.push(KnobGuard::set(std::path::Path::new(knobs::THP_ENABLED), mode.name())?);
        }
        if let Some(kb) = tuning.read_ahead_kb {
            let dev = crate::os::blockdev::of_path(data_path).ok_or_else(|| {
                Error::System(format!(
                    "read_ahead_kb: {} is on no single block device (tmpfs, overlayfs?); use a --dir on a disk",
                    data_path.display()
                ))
            })?;
            guard.knobs.push(KnobGuard::set(&dev.read_ahead_kb_path(), &kb.to_string())?);
        }
        if tuning.drop_caches {
            knobs::drop_page_cache()?;
        }
        Ok(guard)
    }
}
