//! getrusage(2): CPU time, page faults and context switches of the process or of one thread.

/// Resource usage of the process (all threads, io-wq and runtime workers included).
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub user_ns: u64,
    pub sys_ns: u64,
    pub(crate) minor_faults: u64,
    pub(crate) major_faults: u64,
    pub(crate) vol_ctx_switches: u64,
    pub(crate) invol_ctx_switches: u64,
}

impl Usage {
    pub fn process() -> Usage {
        Self::get(libc::RUSAGE_SELF)
    }
    pub(crate) fn thread() -> Usage {
        Self::get(libc::RUSAGE_THREAD)
    }
    fn get(who: libc::c_int) -> Usage {
        // SAFETY: getrusage writes one rusage into the zeroed struct we own.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut ru) };
        let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
        Usage {
            user_ns: ns(ru.ru_utime),
            sys_ns: ns(ru.ru_stime),
            minor_faults: ru.ru_minflt as u64,
            major_faults: ru.ru_majflt as u64,
            vol_ctx_switches: ru.ru_nvcsw as u64,
            invol_ctx_switches: ru.ru_nivcsw as u64,
        }
    }
    /// The usage between `earlier` and `self`.
    pub fn since(&self, earlier: &Usage) -> Usage {
        Usage {
            user_ns: self.user_ns.saturating_sub(earlier.user_ns),
            sys_ns: self.sys_ns.saturating_sub(earlier.sys_ns),
            minor_faults: self.minor_faults.saturating_sub(earlier.minor_faults),
            major_faults: self.major_faults.saturating_sub(earlier.major_faults),
            vol_ctx_switches: self.vol_ctx_switches.saturating_sub(earlier.vol_ctx_switches),
            invol_ctx_switches: self.invol_ctx_switches.saturating_sub(earlier.invol_ctx_switches),
        }
    }
}
