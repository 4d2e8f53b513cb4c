//! Turning results into things people read: the terminal table (and, later, reports and plots).

pub mod table;
