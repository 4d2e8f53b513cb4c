//! Small text files of /proc and /sys: one value per file (`read_trim`), the `[selected]` word of a
//! choice file, and the few machine facts read that way (kernel release, CPU governor).

use std::path::Path;

/// The trimmed contents of a small text file, or `None` if it cannot be read.
pub(crate) fn read_trim(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// The `[selected]` word of a sysfs choice file such as THP's `always [madvise] never`, or the
/// whole text when it has none.
pub(crate) fn selected(choices: &str) -> String {
    choices
        .split_whitespace()
        .find(|w| w.starts_with('['))
        .map(|w| w.trim_matches(|c| c == '[' || c == ']').to_string())
        .unwrap_or_else(|| choices.to_string())
}

/// The running kernel's release, e.g. `6.18.4` (empty if unknown).
pub(crate) fn kernel_release() -> String {
    read_trim("/proc/sys/kernel/osrelease").unwrap_or_default()
}

/// The CPU frequency governor of cpu0 (empty when the kernel has no cpufreq, as in most VMs).
pub(crate) fn cpu_governor() -> String {
    read_trim("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor").unwrap_or_default()
}
