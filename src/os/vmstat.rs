//! `/proc/vmstat`: system-wide memory-management counters. Deltas over a run show what the
//! kernel did (faults, huge-page allocations, reclaim, refaults); being system-wide, they also
//! count other processes' activity, so compare runs side by side on a quiet machine.

use std::collections::BTreeMap;

/// Event counters kept as deltas: exact names, then name prefixes.
const COUNTERS: [&str; 10] = [
    "pgfault",
    "pgmajfault",
    "thp_fault_alloc",
    "thp_fault_fallback",
    "thp_file_alloc",
    "thp_file_fallback",
    "thp_file_mapped",
    "thp_collapse_alloc",
    "thp_collapse_alloc_failed",
    "thp_split_page",
];
const COUNTER_PREFIXES: [&str; 3] = ["pgscan_", "pgsteal_", "workingset_refault_"];

/// One reading of /proc/vmstat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct VmStat(pub(crate) BTreeMap<String, u64>);

impl VmStat {
    pub(crate) fn read() -> VmStat {
        VmStat::parse(&std::fs::read_to_string("/proc/vmstat").unwrap_or_default())
    }

    pub(crate) fn parse(text: &str) -> VmStat {
        VmStat(
            text.lines()
                .filter_map(|l| {
                    let (k, v) = l.split_once(' ')?;
                    Some((k.to_string(), v.trim().parse().ok()?))
                })
                .collect(),
        )
    }

    pub(crate) fn get(&self, key: &str) -> Option<u64> {
        self.0.get(key).copied()
    }

    /// The tracked event counters' increase from `earlier` to `self` (counters this kernel
    /// lacks are left out).
    pub(crate) fn deltas_since(&self, earlier: &VmStat) -> BTreeMap<String, u64> {
        self.0
            .iter()
            .filter(|(k, _)| COUNTERS.contains(&k.as_str()) || COUNTER_PREFIXES.iter().any(|p| k.starts_with(p)))
            .map(|(k, v)| (k.clone(), v.saturating_sub(earlier.get(k).unwrap_or(*v))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_keep_tracked_counters_only() {
        let a = VmStat::parse("pgfault 10\npgmajfault 1\nnr_dirty 5\npgscan_file 0\nfoo 3\n");
        let b = VmStat::parse("pgfault 25\npgmajfault 4\nnr_dirty 9\npgscan_file 7\nfoo 9\n");
        let d = b.deltas_since(&a);
        assert_eq!(d.get("pgfault"), Some(&15));
        assert_eq!(d.get("pgmajfault"), Some(&3));
        assert_eq!(d.get("pgscan_file"), Some(&7));
        assert!(!d.contains_key("nr_dirty") && !d.contains_key("foo"));
    }
}
