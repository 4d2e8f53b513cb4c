//! Helpers of the benches: a criterion measurement of CPU time.

pub mod cpu_time;
