//! Turning results into things people read: the terminal table, ranking tables, warnings,
//! report.md and report.html with plots, and the `compare` and `merge` commands.

pub mod cells;
pub mod compare;
pub mod document;
pub mod environment;
pub(crate) mod evidence;
pub(crate) mod html;
pub mod ipc;
pub mod listing;
pub(crate) mod markdown;
pub mod merge;
pub mod plots;
pub mod progress;
pub(crate) mod ranking;
pub mod table;
pub mod warnings;
