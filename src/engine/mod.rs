//! The run: a plan made ready (data file in its cache state, system knobs set, backends open,
//! buffers allocated), then the one loop every backend runs in.

pub mod checks;
pub mod system;
