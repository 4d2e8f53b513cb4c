//! The suite behind `iobench reproduce` (`workloads/article.toml`, built in) and its quick form.

use crate::error::{Error, Result};
use crate::units::{parse_duration, parse_size};
use crate::workload::Suite;
use std::time::Duration;
use toml::{Table, Value};

pub const TEXT: &str = include_str!("../../workloads/article.toml");

/// Workload names the rules look for.
pub const COPIES: &str = "copies";
pub const COPIES_COLD: &str = "copies-cold";
pub const RANDOM_WARM: &str = "random-warm";
pub const RANDOM_COLD: &str = "random-cold";
pub const SEQ_WARM: &str = "sequential-warm";
pub const SEQ_COLD: &str = "sequential-cold";
pub const MEMORY_LIMIT: &str = "memory-limit";
pub const DURABILITY: &str = "durability";
pub const ADDRESS_SPACE: &str = "address-space";
pub const THP_SEQ: &str = "thp-sequential";
pub const THP_RANDOM: &str = "thp-random";

/// `--quick`: sizes (file, io_size, limits, window) ÷ 8, so every ratio between them holds
/// (the memory-limit file stays 4× the limit); runtimes ÷ 10, at least 300 ms; one repeat.
pub const QUICK_SIZE_DIVISOR: u64 = 8;
pub const QUICK_RUNTIME_DIVISOR: u32 = 10;
const QUICK_MIN_RUNTIME: Duration = Duration::from_millis(300);
const SIZE_KEYS: [&str; 5] = ["size", "io_size", "memory_limit", "address_space_limit", "window"];

/// The article suite, full or quick.
pub fn load(quick: bool) -> Result<Suite> {
    let mut suite = Suite::parse("article", TEXT)
        .map_err(|message| Error::WorkloadFile { path: "workloads/article.toml".into(), message })?;
    if quick {
        suite.name = "article-quick".into();
        suite.repeat = 1;
        for w in &mut suite.workloads {
            scale(w).map_err(|message| Error::WorkloadFile { path: "workloads/article.toml".into(), message })?;
        }
    }
    Ok(suite)
}

/// Scales one workload table for `--quick`.
pub fn scale(table: &mut Table) -> std::result::Result<(), String> {
    for key in SIZE_KEYS {
        if let Some(v) = table.get_mut(key) {
            map_values(v, &mut |x| {
                let bytes = match x {
                    Value::Integer(n) => *n as u64,
                    Value::String(s) => parse_size(s).map_err(|m| format!("{key}: {m}"))?,
                    other => return Err(format!("{key}: {other} is not a size")),
                };
                *x = Value::String(format!("{}k", (bytes / QUICK_SIZE_DIVISOR / 1024).max(4)));
                Ok(())
            })?;
        }
    }
    if let Some(v) = table.get_mut("runtime") {
        map_values(v, &mut |x| {
            let d = match x {
                Value::Integer(n) => Duration::from_secs(*n as u64),
                Value::String(s) => parse_duration(s).map_err(|m| format!("runtime: {m}"))?,
                other => return Err(format!("runtime: {other} is not a duration")),
            };
            let quick = (d / QUICK_RUNTIME_DIVISOR).max(QUICK_MIN_RUNTIME);
            *x = Value::String(format!("{}ms", quick.as_millis()));
            Ok(())
        })?;
    }
    Ok(())
}

fn map_values(
    v: &mut Value,
    f: &mut impl FnMut(&mut Value) -> std::result::Result<(), String>,
) -> std::result::Result<(), String> {
    match v {
        Value::Array(items) => items.iter_mut().try_for_each(f),
        other => f(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_keeps_ratios_and_shortens() {
        let full = load(false).unwrap();
        let quick = load(true).unwrap();
        assert_eq!(quick.repeat, 1);
        let find = |s: &Suite, name: &str, key: &str| -> String {
            let w = s.workloads.iter().find(|w| w.get("name").and_then(Value::as_str) == Some(name)).unwrap();
            w.get(key).unwrap().as_str().unwrap().to_string()
        };
        let size = |t: String| parse_size(&t).unwrap();
        let (f_size, f_lim) = (size(find(&full, MEMORY_LIMIT, "size")), size(find(&full, MEMORY_LIMIT, "memory_limit")));
        let (q_size, q_lim) = (size(find(&quick, MEMORY_LIMIT, "size")), size(find(&quick, MEMORY_LIMIT, "memory_limit")));
        assert_eq!(f_size / f_lim, q_size / q_lim);
        assert_eq!(find(&quick, MEMORY_LIMIT, "runtime"), "3000ms");
        assert_eq!(find(&quick, COPIES, "runtime"), "400ms");
        // Every workload of both forms is valid.
        for s in [&full, &quick] {
            assert!(s.expand(&Table::new()).is_ok());
        }
    }
}
