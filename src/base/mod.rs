//! The bottom layer: what every other layer may use and that uses nothing of the crate. Errors,
//! units (sizes and durations, each with its one text parser), the loop's clock, the stop flag,
//! and statistics (histograms, time series).

pub(crate) mod clock;
pub mod error;
pub mod stats;
pub mod stop;
pub mod units;

/// A unit test (or part of one) that cannot run here says why on stderr; with
/// `IOBENCH_REQUIRE_ALL=1` (set by CI) it fails instead, naming what was missing. The unit
/// tests' twin of `tests/common::skip`.
#[cfg(test)]
pub(crate) fn skip(test: &str, missing: &str) {
    if std::env::var("IOBENCH_REQUIRE_ALL").is_ok_and(|v| v == "1") {
        panic!("{test}: {missing} (IOBENCH_REQUIRE_ALL=1 forbids skipping)");
    }
    eprintln!("{test}: skipped: {missing}");
}
