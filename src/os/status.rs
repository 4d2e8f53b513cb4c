//! A process's own view of its memory from `/proc/self/status`: virtual size now and at its
//! peak (`VmSize`, `VmPeak`: the address space it has mapped, whether resident or not) and
//! resident set (`VmRSS`, `VmHWM`).

use serde::{Deserialize, Serialize};

/// Sizes from `/proc/self/status`, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct VmStatus {
    pub vm_peak_bytes: u64,
    pub vm_size_bytes: u64,
    pub vm_hwm_bytes: u64,
    pub vm_rss_bytes: u64,
}

/// This process's sizes now, if the file can be read.
pub(crate) fn own() -> Option<VmStatus> {
    parse(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// Parses the `Vm*` lines (in kB) of a status text; `None` without `VmSize`.
pub(crate) fn parse(text: &str) -> Option<VmStatus> {
    let field = |name: &str| {
        text.lines().find_map(|l| l.strip_prefix(name)?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
    };
    Some(VmStatus {
        vm_peak_bytes: field("VmPeak:").unwrap_or(0) * 1024,
        vm_size_bytes: field("VmSize:")? * 1024,
        vm_hwm_bytes: field("VmHWM:").unwrap_or(0) * 1024,
        vm_rss_bytes: field("VmRSS:").unwrap_or(0) * 1024,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_the_vm_lines() {
        let s =
            super::parse("Name:\tx\nVmPeak:\t  2000 kB\nVmSize:\t 1500 kB\nVmHWM:\t 30 kB\nVmRSS:\t 20 kB\n").unwrap();
        assert_eq!((s.vm_peak_bytes, s.vm_size_bytes, s.vm_hwm_bytes), (2_048_000, 1_536_000, 30_720));
        assert!(super::parse("Name:\tx\n").is_none());
    }
}
