//! Reading a workload key's value: one reader per kind of value (size, duration, count,
//! percentage, on/off, one of a few names), each with one set of edge cases and messages. The
//! text forms (`4k`, `500ms`) are parsed by `base::units`; a TOML number is bytes or seconds.
//!
//! Every reader takes the key (named in the error) and returns `None` for a key not given.

use crate::base::error::{Error, Result};
use crate::base::units::{parse_duration, parse_size};
use std::time::Duration;
use toml::Value;

/// A size key, with the examples its messages give (`"4k, 1m"`; empty for none).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SizeKey {
    pub(crate) key: &'static str,
    pub(crate) examples: &'static str,
}

impl SizeKey {
    /// The same examples for another key.
    pub(crate) const fn with_key(self, key: &'static str) -> SizeKey {
        SizeKey { key, examples: self.examples }
    }

    fn examples(self) -> String {
        if self.examples.is_empty() { String::new() } else { format!(" (examples: {})", self.examples) }
    }

    /// A whole number of bytes, or text with a suffix (`4k`, `1m`). 0 is a size; a negative
    /// number or another kind of value is not.
    pub(crate) fn read(self, value: Option<&Value>) -> Result<Option<u64>> {
        match value {
            None => Ok(None),
            Some(Value::Integer(n)) if *n < 0 => {
                Err(Error::invalid(self.key, format!("{n} is negative; sizes are positive{}", self.examples())))
            }
            Some(Value::Integer(n)) => Ok(Some(*n as u64)),
            Some(Value::String(s)) => parse_size(s).map(Some).map_err(|m| Error::invalid(self.key, m)),
            Some(v) => Err(Error::invalid(self.key, format!("{v} is not a size{}", self.examples()))),
        }
    }

    /// `read`, refusing 0.
    pub(crate) fn read_positive(self, value: Option<&Value>) -> Result<Option<u64>> {
        match self.read(value)? {
            Some(0) => Err(Error::invalid(self.key, format!("must be greater than 0{}", self.examples()))),
            n => Ok(n),
        }
    }
}

/// A duration: a whole number of seconds, or text with a unit (`500ms`, `5s`). 0 is a
/// duration; a negative number, one too long for u64 nanoseconds (584 years) or another kind
/// of value is not.
pub(crate) fn duration(key: &str, value: Option<&Value>) -> Result<Option<Duration>> {
    match value {
        None => Ok(None),
        Some(Value::Integer(n)) if *n < 0 => {
            Err(Error::invalid(key, format!("{n} is negative; durations are positive (examples: \"500ms\", \"5s\")")))
        }
        // Nanoseconds are kept in a u64: about 584 years.
        Some(Value::Integer(n)) if *n as u64 > u64::MAX / 1_000_000_000 => {
            Err(Error::invalid(key, format!("{n} seconds is too long a duration")))
        }
        Some(Value::Integer(n)) => Ok(Some(Duration::from_secs(*n as u64))),
        Some(Value::String(s)) => parse_duration(s).map(Some).map_err(|m| Error::invalid(key, m)),
        Some(v) => Err(Error::invalid(key, format!("{v} is not a duration (examples: \"500ms\", \"5s\")"))),
    }
}

/// A whole number from `min` to `max` (`None`: no upper bound), `default` when not given.
pub(crate) fn count(key: &str, value: Option<i64>, default: i64, min: i64, max: Option<i64>) -> Result<i64> {
    let v = value.unwrap_or(default);
    match max {
        Some(max) if v < min || v > max => Err(Error::invalid(key, format!("{v} is out of range ({min} to {max})"))),
        None if v < min => {
            let below = if min == 0 { "is negative" } else { "is too small" };
            Err(Error::invalid(key, format!("{v} {below}; use a whole number from {min}")))
        }
        _ => Ok(v),
    }
}

/// A percentage: a whole number from 0 to 100.
pub(crate) fn percentage(key: &str, value: Option<i64>) -> Result<Option<u32>> {
    match value {
        None => Ok(None),
        Some(p) if !(0..=100).contains(&p) => {
            Err(Error::invalid(key, format!("{p} is not a percentage from 0 to 100")))
        }
        Some(p) => Ok(Some(p as u32)),
    }
}

/// On or off: true/false, or fio's 1/0.
pub(crate) fn on_off(key: &str, value: Option<&Value>) -> Result<Option<bool>> {
    match value {
        None => Ok(None),
        Some(Value::Boolean(b)) => Ok(Some(*b)),
        Some(Value::Integer(0)) => Ok(Some(false)),
        Some(Value::Integer(1)) => Ok(Some(true)),
        Some(v) => Err(Error::invalid(key, format!("{v} is not on or off; use true or false (or 1 or 0)"))),
    }
}

/// One of a few names (`advice = "random"`).
pub(crate) fn choice<T: Copy>(key: &str, text: Option<&str>, options: &[(&str, T)]) -> Result<Option<T>> {
    let Some(text) = text else { return Ok(None) };
    match options.iter().find(|(name, _)| *name == text) {
        Some((_, v)) => Ok(Some(*v)),
        None => {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            Err(Error::invalid(key, format!("unknown value '{text}' (expected one of {})", names.join(", "))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BS: SizeKey = SizeKey { key: "bs", examples: "4k, 1m" };

    fn msg<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn sizes_have_one_set_of_edges() {
        assert_eq!(BS.read(None).unwrap(), None);
        assert_eq!(BS.read(Some(&Value::Integer(4096))).unwrap(), Some(4096));
        assert_eq!(BS.read(Some(&Value::String("4k".into()))).unwrap(), Some(4096));
        assert_eq!(BS.read(Some(&Value::Integer(0))).unwrap(), Some(0));
        assert_eq!(msg(BS.read_positive(Some(&Value::Integer(0)))), "bs: must be greater than 0 (examples: 4k, 1m)");
        assert_eq!(
            msg(BS.read(Some(&Value::Integer(-1)))),
            "bs: -1 is negative; sizes are positive (examples: 4k, 1m)"
        );
        assert_eq!(msg(BS.read(Some(&Value::Float(1.5)))), "bs: 1.5 is not a size (examples: 4k, 1m)");
        let plain = SizeKey { key: "io_size", examples: "" };
        assert_eq!(msg(plain.read_positive(Some(&Value::String("0".into())))), "io_size: must be greater than 0");
    }

    #[test]
    fn durations_counts_percentages_and_switches() {
        assert_eq!(duration("runtime", Some(&Value::Integer(5))).unwrap(), Some(Duration::from_secs(5)));
        assert_eq!(duration("runtime", Some(&Value::String("5ms".into()))).unwrap(), Some(Duration::from_millis(5)));
        assert!(msg(duration("runtime", Some(&Value::Integer(-1)))).contains("-1 is negative"));
        assert!(msg(duration("runtime", Some(&Value::Integer(i64::MAX)))).contains("too long a duration"));
        assert_eq!(count("threads", None, 1, 1, Some(256)).unwrap(), 1);
        assert_eq!(msg(count("threads", Some(0), 1, 1, Some(256))), "threads: 0 is out of range (1 to 256)");
        assert_eq!(msg(count("seed", Some(-5), 0, 0, None)), "seed: -5 is negative; use a whole number from 0");
        assert_eq!(msg(percentage("rwmixread", Some(150))), "rwmixread: 150 is not a percentage from 0 to 100");
        assert_eq!(on_off("fixedbufs", Some(&Value::Integer(1))).unwrap(), Some(true));
        assert!(msg(on_off("fixedbufs", Some(&Value::String("yes".into())))).contains("is not on or off"));
        assert_eq!(choice("map", Some("private"), &[("shared", 0), ("private", 1)]).unwrap(), Some(1));
        assert_eq!(
            msg(choice("map", Some("x"), &[("shared", 0), ("private", 1)])),
            "map: unknown value 'x' (expected one of shared, private)"
        );
    }
}
