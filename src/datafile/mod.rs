//! Data files on disk: the block-pattern file (created, reused, put in its cache state), the
//! record files and logs of the article's patterns, the partial-file protocol they share, the
//! marks and the safety policy that say what iobench may touch, and the cleanup of what an
//! invocation created.

pub mod blocks;
pub(crate) mod cleanup;
pub(crate) mod generate;
pub mod log;
pub(crate) mod marks;
pub mod records;
pub mod safety;
