//! The whole machine's CPU time from `/proc/stat`, for the share a hypervisor stole from this
//! VM's vCPUs during a run (`steal`: time a vCPU was runnable but the host ran something else).

/// The `cpu` line of `/proc/stat`, in USER_HZ ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CpuTimes {
    /// user + nice + system + idle + iowait + irq + softirq + steal (guest time is inside user).
    pub(crate) total: u64,
    pub(crate) steal: u64,
}

/// The machine's CPU times now, if `/proc/stat` can be read.
pub(crate) fn read() -> Option<CpuTimes> {
    parse(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// Parses the aggregate `cpu` line of a `/proc/stat` text.
pub(crate) fn parse(text: &str) -> Option<CpuTimes> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line.split_whitespace().skip(1).take(8).map(|f| f.parse().ok()).collect::<Option<_>>()?;
    // Kernels before 2.6.11 have no steal column: nothing stolen can be seen there.
    let steal = fields.get(7).copied().unwrap_or(0);
    Some(CpuTimes { total: fields.iter().sum(), steal })
}

/// Percent of all CPU time stolen between two readings; `None` if no tick passed.
pub(crate) fn steal_pct(start: CpuTimes, end: CpuTimes) -> Option<f64> {
    let total = end.total.checked_sub(start.total)?;
    let steal = end.steal.saturating_sub(start.steal);
    (total > 0).then(|| steal as f64 * 100.0 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steal_share_of_the_cpu_line() {
        let a = parse("cpu  100 0 50 800 10 0 5 35 7 0\ncpu0 1 2 3 4 5 6 7 8\n").unwrap();
        assert_eq!(a, CpuTimes { total: 1000, steal: 35 });
        let b = parse("cpu  180 0 50 800 10 0 5 55 9 0\n").unwrap();
        assert_eq!(steal_pct(a, b), Some(20.0));
        assert_eq!(steal_pct(a, a), None);
        assert!(parse("intr 1 2 3\n").is_none());
    }
}
