//! What the user asks for, validated: raw workloads as TOML suites and CLI flags, the
//! diagnostics for tables that do not deserialize, the shipped suites, and the checks that turn a
//! raw workload into a `Plan` (with its tuning, resource limits, record and scan keys) for a
//! backend kind whose capabilities are known here, before anything is opened.

pub(crate) mod applies;
pub mod backends;
pub(crate) mod diagnostics;
pub mod pattern_keys;
pub mod plan;
pub mod raw;
pub mod resources;
pub mod shipped;
pub mod tuning;
pub(crate) mod validate;
pub(crate) mod values;
