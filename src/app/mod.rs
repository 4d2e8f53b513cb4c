//! What an invocation does with runs: a session (every workload validated first, then run in
//! order, results written after each), isolation in a child process (memory cgroup, RLIMIT_AS),
//! the device probe, the two-process ipc benchmark, and the calibration against fio.

pub mod calibrate;
pub mod ipc;
pub mod isolate;
pub mod probe;
pub mod session;
