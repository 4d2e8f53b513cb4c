//! Clear messages for workload tables that do not deserialize or would expand to absurd suites:
//! serde names the type it wanted, not the key, and lists every known field on an unknown one.

use crate::base::error::Error;
use crate::workload::raw::RawWorkload;
use toml::{Table, Value};

/// At most this many runs from one workload's lists (they multiply: 4 lists of 10 are 10 000).
pub(crate) const MAX_CELLS: usize = 10_000;

/// fio's names (and common slips) for iobench's keys.
const ALIASES: [(&str, &str); 9] = [
    ("blocksize", "bs"),
    ("block_size", "bs"),
    ("numjobs", "threads"),
    ("ioengine", "backend"),
    ("engine", "backend"),
    ("directory", "dir"),
    ("ramp", "ramp_time"),
    ("file", "filename"),
    ("readwrite", "rw"),
];

/// Refuses empty lists (no runs) and lists whose product exceeds `MAX_CELLS`.
pub(crate) fn check_lists(index: usize, table: &Table) -> Result<(), Error> {
    let mut cells = 1usize;
    for (key, value) in table {
        if let Value::Array(values) = value {
            if values.is_empty() {
                return Err(Error::invalid(
                    key.clone(),
                    "is an empty list, which gives no runs; give at least one value",
                ));
            }
            cells = cells.saturating_mul(values.len());
        }
    }
    if cells > MAX_CELLS {
        return Err(Error::invalid(
            format!("workload {index}"),
            format!("its lists multiply to {cells} runs, more than {MAX_CELLS}; split it into several workloads"),
        ));
    }
    Ok(())
}

/// The error for a workload table (number `index`, from 1) that does not deserialize: the
/// failing key is found by trying each key alone.
pub(crate) fn raw_error(index: usize, table: &Table, e: &toml::de::Error) -> Error {
    for (key, value) in table {
        let mut single = Table::new();
        single.insert(key.clone(), value.clone());
        let Err(err) = Value::Table(single).try_into::<RawWorkload>() else { continue };
        let message = one_line(err.message());
        if message.starts_with("unknown field") {
            let known = known_keys(&message);
            let hint = ALIASES
                .iter()
                .find(|(alias, _)| alias == key)
                .map(|(_, k)| format!(" (iobench calls it `{k}`)"))
                .or_else(|| closest(key, &known).map(|k| format!(" (did you mean `{k}`?)")))
                .unwrap_or_else(|| " (the keys are listed in the README and `iobench run --help`)".into());
            return Error::invalid(format!("workload {index}"), format!("unknown field `{key}`{hint}"));
        }
        let wanted = message.split_once(", expected ").map(|(_, w)| w.to_string());
        return Error::invalid(
            key.clone(),
            match wanted {
                Some(w) => format!("{value} is the wrong kind of value: expected {}", plain_type(&w)),
                None => message,
            },
        );
    }
    Error::invalid(format!("workload {index}"), one_line(e.message()))
}

/// serde's type names as a user would say them.
fn plain_type(wanted: &str) -> String {
    match wanted {
        "i64" | "u32" | "u64" | "i32" => "a whole number".into(),
        "a boolean" | "bool" => "true or false".into(),
        "a string" => "a string in quotes".into(),
        other => other.into(),
    }
}

/// The keys serde lists after "expected one of" in an unknown-field message.
fn known_keys(message: &str) -> Vec<String> {
    let Some((_, list)) = message.split_once("expected one of") else { return Vec::new() };
    list.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

/// The known key within edit distance 2 of `key`, if exactly one is nearest.
fn closest<'a>(key: &str, known: &'a [String]) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for k in known {
        let d = distance(key, k);
        if d <= 2 && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    best.map(|(_, k)| k)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        let table: Table = text.parse().unwrap();
        let e = Value::Table(table.clone()).try_into::<RawWorkload>().unwrap_err();
        raw_error(1, &table, &e).to_string()
    }

    #[test]
    fn messages_name_the_key() {
        assert_eq!(err("blocksize = '4k'"), "workload 1: unknown field `blocksize` (iobench calls it `bs`)");
        assert_eq!(err("bs = '4k'\nsise = '1m'"), "workload 1: unknown field `sise` (did you mean `size`?)");
        assert_eq!(err("iodepth = 'deep'"), "iodepth: \"deep\" is the wrong kind of value: expected a whole number");
        assert!(err("zzzzzz = 1").contains("the keys are listed in the README"));
    }

    #[test]
    fn lists_are_bounded() {
        let t: Table = "bs = []".parse().unwrap();
        assert!(check_lists(1, &t).unwrap_err().to_string().starts_with("bs: is an empty list"));
        let t: Table =
            format!("bs = [{}]\nsize = [{}]", vec!["1"; 101].join(","), vec!["1"; 100].join(",")).parse().unwrap();
        assert!(check_lists(1, &t).unwrap_err().to_string().contains("multiply to 10100 runs"));
    }
}
