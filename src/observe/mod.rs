//! What surrounds a measurement: the environment it ran in, the evidence of what the kernel
//! did during it, what a (32-bit or limited) process's address space allows, and the memory
//! ceilings warm-cache runs are bounded by.

pub mod addrspace;
pub mod ceilings;
pub mod environment;
pub mod evidence;
