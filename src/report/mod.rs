//! Turning results into things people read: the terminal table, ranking tables, warnings,
//! report.md and report.html with plots, and the `compare` and `merge` commands.

pub mod cells;
pub mod table;
pub mod plots;
pub mod ranking;
pub mod warnings;
pub mod document;
pub mod html;
pub mod markdown;
pub mod compare;
pub mod merge;
pub mod progress;
pub mod listing;
