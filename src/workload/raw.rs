//! Raw workloads as users write them (TOML suites and CLI flags), before validation.
//!
//! Any key may hold a list; a list expands to one workload per value (the cartesian product over
//! every listed key), with `backend` varying fastest so the same workload runs on each backend
//! one after another. `plan::Plan::from_raw` turns each expanded workload into a validated plan.

use crate::base::error::{Error, Result};
use serde::Deserialize;
use std::path::Path;
use toml::{Table, Value};

/// One workload with every key scalar. Field names follow fio's where fio has one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub name: Option<String>,
    pub backend: Option<String>,
    pub rw: Option<String>,
    pub rwmixread: Option<i64>,
    pub bs: Option<Value>,
    pub size: Option<Value>,
    pub runtime: Option<Value>,
    pub io_size: Option<Value>,
    pub ramp_time: Option<Value>,
    pub iodepth: Option<i64>,
    pub threads: Option<i64>,
    pub seed: Option<i64>,
    pub random_distribution: Option<String>,
    pub durability: Option<String>,
    pub cache: Option<String>,
    pub dir: Option<String>,
    pub filename: Option<String>,
    pub verify: Option<Value>,
    /// What the loop does with the bytes a read delivered: sum, touch, none, copy (see `plan::Consume`).
    pub consume: Option<String>,
    /// fio's `norandommap`: random offsets drawn with replacement instead of each block once per pass.
    pub norandommap: Option<Value>,
    /// Queue backends: operations handed to the kernel per submission (0: all queued).
    pub iodepth_batch_submit: Option<i64>,
    /// Queue backends: completions to wait for before refilling the queue.
    pub iodepth_batch_complete_min: Option<i64>,
    /// Queue backends: most completions handed back per wait (default: the min, as fio).
    pub iodepth_batch_complete_max: Option<i64>,
    /// io_uring: registered buffers, registered file, kernel submission thread and its idle time.
    pub fixedbufs: Option<Value>,
    pub registerfiles: Option<Value>,
    pub sqthread_poll: Option<Value>,
    pub sqthread_poll_idle: Option<Value>,
    // Tuning (validated in tuning.rs): mmap advice, prefault, collapse, mapping kind, fadvise,
    // I/O buffer backing, system THP mode, readahead, dropping caches; time-series interval.
    pub advice: Option<String>,
    pub populate: Option<String>,
    pub collapse: Option<Value>,
    pub map: Option<String>,
    pub fadvise: Option<String>,
    pub buffers: Option<String>,
    pub thp_system: Option<String>,
    pub read_ahead_kb: Option<i64>,
    pub drop_caches: Option<Value>,
    pub series_interval: Option<Value>,
    // Resource limits (validated in limits.rs): memory cgroup, RLIMIT_AS, mmap window.
    pub memory_limit: Option<Value>,
    pub address_space_limit: Option<Value>,
    pub window: Option<Value>,
    /// `i686`: run in a child process that is the 32-bit build of iobench (see `isolate`).
    pub arch: Option<String>,
    // rw = records / seqrecords (validated in kinds.rs): record size, and what descriptor
    // backends read and write back per update (record or page).
    pub record_size: Option<Value>,
    pub records_io: Option<String>,
}

/// A suite file: shared `[defaults]` and a list of `[[workload]]` tables. A file without
/// `[[workload]]` is a single workload written at the top level.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    pub name: String,
    pub description: Option<String>,
    pub repeat: u32,
    pub(crate) workloads: Vec<Table>,
}

const SUITE_KEYS: [&str; 4] = ["description", "repeat", "defaults", "workload"];

impl Suite {
    /// A suite of one workload made only of CLI flags and built-in defaults.
    pub fn single(name: &str) -> Suite {
        Suite { name: name.to_string(), description: None, repeat: 1, workloads: vec![Table::new()] }
    }

    pub fn load(path: &Path) -> Result<Suite> {
        let file_error = |message: String| Error::WorkloadFile { path: path.to_path_buf(), message };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(format!("cannot read workload file: {e}")))?;
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        Suite::parse(&name, &text).map_err(file_error)
    }

    pub fn parse(name: &str, text: &str) -> std::result::Result<Suite, String> {
        let mut doc: Table = text.parse().map_err(|e: toml::de::Error| one_line(&e.to_string()))?;
        let description = match doc.remove("description") {
            Some(Value::String(s)) => Some(s),
            Some(_) => return Err("description: must be a string".into()),
            None => None,
        };
        let repeat = match doc.remove("repeat") {
            Some(Value::Integer(n)) if (1..=1000).contains(&n) => n as u32,
            Some(v) => return Err(format!("repeat: must be a whole number from 1 to 1000, not {v}")),
            None => 1,
        };
        let defaults = match doc.remove("defaults") {
            Some(Value::Table(t)) => t,
            Some(_) => return Err("defaults: must be a table ([defaults])".into()),
            None => Table::new(),
        };
        let listed = match doc.remove("workload") {
            Some(Value::Array(items)) => {
                if !doc.is_empty() {
                    let key = doc.keys().next().cloned().unwrap_or_default();
                    return Err(format!(
                        "{key}: unknown suite key (suite keys are {}; put workload keys under [defaults])",
                        SUITE_KEYS.join(", ")
                    ));
                }
                let mut tables = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Value::Table(t) => tables.push(t),
                        _ => return Err(format!("workload[{i}]: must be a table ([[workload]])")),
                    }
                }
                tables
            }
            Some(_) => return Err("workload: must be an array of tables ([[workload]])".into()),
            None => vec![doc],
        };
        if listed.is_empty() {
            return Err("the suite has no [[workload]] tables".into());
        }
        let workloads = listed
            .into_iter()
            .map(|w| {
                let mut merged = defaults.clone();
                merged.extend(w);
                merged
            })
            .collect();
        Ok(Suite { name: name.to_string(), description, repeat, workloads })
    }

    /// Applies CLI overrides to every workload, then expands lists into scalar workloads.
    pub(crate) fn expand(&self, overrides: &Table) -> Result<Vec<RawWorkload>> {
        let mut out = Vec::new();
        for (i, w) in self.workloads.iter().enumerate() {
            let mut merged = w.clone();
            merged.extend(overrides.clone());
            crate::workload::diagnostics::check_lists(i + 1, &merged)?;
            for table in expand_lists(&merged) {
                let mut raw: RawWorkload = Value::Table(table.clone())
                    .try_into()
                    .map_err(|e: toml::de::Error| crate::workload::diagnostics::raw_error(i + 1, &table, &e))?;
                if raw.name.is_none() {
                    raw.name = Some(default_name(&raw));
                }
                out.push(raw);
            }
        }
        Ok(out)
    }
}

/// The cartesian product over every key whose value is a list; `backend` varies fastest.
pub(crate) fn expand_lists(table: &Table) -> Vec<Table> {
    let mut keys: Vec<&String> = table.keys().filter(|k| matches!(table[*k], Value::Array(_))).collect();
    // Expand backend last so it varies fastest.
    keys.sort_by_key(|k| k.as_str() == "backend");
    let mut rows = vec![table.clone()];
    for key in keys {
        let Value::Array(values) = &table[key] else { continue };
        rows = rows
            .into_iter()
            .flat_map(|row| {
                values.iter().map(move |v| {
                    let mut r = row.clone();
                    r.insert(key.clone(), v.clone());
                    r
                })
            })
            .collect();
    }
    rows
}

fn default_name(raw: &RawWorkload) -> String {
    let rw = raw.rw.as_deref().unwrap_or("randread");
    // Records are named by their record size; scans by their read size.
    let (bs, fallback) = match rw {
        "records" | "seqrecords" => (&raw.record_size, "32"),
        "scan" => (&raw.bs, "64k"),
        _ => (&raw.bs, "4k"),
    };
    let bs = match bs {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Integer(n)) => crate::base::units::format_size(*n as u64),
        _ => fallback.into(),
    };
    let cache = raw.cache.as_deref().unwrap_or("warm");
    format!("{rw}-{bs}-{cache}")
}

/// Converts a CLI value of a text key (`mmap,buffered`) into a TOML string or list of strings.
pub fn cli_text(text: &str) -> Value {
    if text.contains(',') {
        Value::Array(text.split(',').map(|s| Value::String(s.trim().to_string())).collect())
    } else {
        Value::String(text.trim().to_string())
    }
}

/// Converts a CLI value (`4k,64k` or `32`) into a TOML value: a list when it has commas.
pub fn cli_value(text: &str) -> Value {
    let scalar = |s: &str| -> Value {
        let s = s.trim();
        if let Ok(n) = s.parse::<i64>() {
            Value::Integer(n)
        } else if s == "true" || s == "false" {
            Value::Boolean(s == "true")
        } else {
            Value::String(s.to_string())
        }
    };
    if text.contains(',') { Value::Array(text.split(',').map(scalar).collect()) } else { scalar(text) }
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_expand_with_backend_fastest() {
        let suite = Suite::parse("t", "bs = ['4k', '1m']\nbackend = ['a', 'b']\n").unwrap();
        let rows = suite.expand(&Table::new()).unwrap();
        let got: Vec<_> = rows
            .iter()
            .map(|r| format!("{}:{}", r.bs.as_ref().unwrap().as_str().unwrap(), r.backend.as_deref().unwrap()))
            .collect();
        assert_eq!(got, ["4k:a", "4k:b", "1m:a", "1m:b"]);
    }

    #[test]
    fn defaults_and_overrides_merge() {
        let text =
            "[defaults]\nbs = '4k'\nsize = '1m'\n[[workload]]\nrw = 'read'\n[[workload]]\nrw = 'write'\nbs = '8k'\n";
        let suite = Suite::parse("t", text).unwrap();
        let mut over = Table::new();
        over.insert("size".into(), cli_value("2m"));
        let rows = suite.expand(&over).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].bs.as_ref().unwrap().as_str(), Some("4k"));
        assert_eq!(rows[1].bs.as_ref().unwrap().as_str(), Some("8k"));
        assert!(rows.iter().all(|r| r.size.as_ref().unwrap().as_str() == Some("2m")));
    }

    #[test]
    fn unknown_keys_are_named() {
        let suite = Suite::parse("t", "blocksize = '4k'\n").unwrap();
        let err = suite.expand(&Table::new()).unwrap_err().to_string();
        assert!(err.contains("unknown field `blocksize`"), "{err}");
        let err = Suite::parse("t", "bogus = 1\n[[workload]]\nrw='read'\n").unwrap_err();
        assert!(err.starts_with("bogus: unknown suite key"), "{err}");
    }

    #[test]
    fn cli_values() {
        assert_eq!(cli_value("32"), Value::Integer(32));
        assert_eq!(cli_value("4k,1m"), Value::Array(vec!["4k".into(), "1m".into()]));
    }
}
