//! The run: a plan made ready (data file in its cache state, system knobs set, backends open,
//! buffers allocated), then the one loop every backend runs in.

pub mod checks;
pub mod completion;
pub mod offsets;
pub mod prepared;
pub mod system;

pub use prepared::{DEFAULT_SERIES_INTERVAL, Limit, Prepared, execute, execute_with};
