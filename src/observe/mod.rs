//! What surrounds a measurement: the environment it ran in, the evidence of what the kernel
//! did during it, and the memory ceilings warm-cache runs are bounded by.

pub mod ceilings;
pub mod environment;
pub mod evidence;
