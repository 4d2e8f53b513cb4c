//! The loop's clock: the CPU's invariant TSC through `quanta`, calibrated against
//! CLOCK_MONOTONIC, or CLOCK_MONOTONIC itself where the TSC is not trustworthy.
//!
//! Why: two `clock_gettime` calls per operation were half of the harness's own cost (about
//! 20 ns each through the vDSO on this VM); a TSC read costs a few nanoseconds.

use std::sync::OnceLock;

/// Raw clock readings; convert differences with `ns`.
#[derive(Clone)]
pub(crate) struct Clock(quanta::Clock);

impl Clock {
    /// The process-wide clock (calibrated once, on first use).
    pub(crate) fn get() -> &'static Clock {
        static CLOCK: OnceLock<Clock> = OnceLock::new();
        CLOCK.get_or_init(|| Clock(quanta::Clock::new()))
    }

    /// A raw reading: ticks of the fastest reliable source.
    #[inline(always)]
    pub(crate) fn raw(&self) -> u64 {
        self.0.raw()
    }

    /// Nanoseconds between two raw readings (0 if `end` is not after `start`).
    #[inline(always)]
    pub(crate) fn ns(&self, start: u64, end: u64) -> u64 {
        self.0.delta_as_nanos(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_monotonic_clock() {
        let c = Clock::get();
        let (t0, i0) = (c.raw(), std::time::Instant::now());
        std::thread::sleep(std::time::Duration::from_millis(50));
        let (t1, i1) = (c.raw(), std::time::Instant::now());
        let ours = c.ns(t0, t1) as f64;
        let theirs = i1.duration_since(i0).as_nanos() as f64;
        assert!((ours / theirs - 1.0).abs() < 0.02, "tsc {ours} ns vs monotonic {theirs} ns");
    }
}
