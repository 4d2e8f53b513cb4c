//! The bottom layer: what every other layer may use and that uses nothing of the crate. Errors,
//! units (sizes and durations, each with its one text parser), the loop's clock, the stop flag,
//! and statistics (histograms, time series).

pub mod clock;
pub mod error;
pub mod stats;
pub mod stop;
pub mod units;
