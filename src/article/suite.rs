//! The suite behind `iobench reproduce` (`workloads/article.toml`, built in) and its quick form.

use crate::base::error::{Error, Result};
use crate::base::units::{parse_duration, parse_size};
use crate::workload::raw::Suite;
use std::time::Duration;
use toml::{Table, Value};

pub(crate) const TEXT: &str = include_str!("../../workloads/article.toml");

/// Workload names the rules look for.
pub(crate) const COPIES: &str = "copies";
pub(crate) const COPIES_COLD: &str = "copies-cold";
pub(crate) const RANDOM_WARM: &str = "random-warm";
pub(crate) const RANDOM_COLD: &str = "random-cold";
pub(crate) const SEQ_WARM: &str = "sequential-warm";
pub(crate) const SEQ_COLD: &str = "sequential-cold";
pub(crate) const MEMORY_LIMIT: &str = "memory-limit";
pub(crate) const DURABILITY: &str = "durability";
/// The RLIMIT_AS emulation of a 32-bit process (run only where no i686 build exists).
pub(crate) const ADDRESS_SPACE: &str = "address-space";
/// The real 32-bit process: `arch = "i686"`.
pub(crate) const ADDRESS_SPACE_32: &str = "address-space-32";
/// The device's own sequential ceiling, as `iobench probe` measures it.
pub(crate) const DEVICE_CEILING: &str = "device-ceiling";
pub(crate) const THP_SEQ: &str = "thp-sequential";
pub(crate) const THP_RANDOM: &str = "thp-random";

/// How far a run is scaled down from the full suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Full,
    /// `--quick`: sizes (files, io_size, limits, window) ÷ 8, so every ratio between them holds (the
    /// memory-limit file stays 4× the limit); runtimes ÷ 10, at least 300 ms; one repeat.
    Quick,
    /// For tests: sizes ÷ 64 (files of 64 MiB at most), runtimes of 300 ms; one repeat.
    Tiny,
}

impl Scale {
    fn size_divisor(self) -> u64 {
        match self {
            Scale::Full => 1,
            Scale::Quick => 8,
            Scale::Tiny => 64,
        }
    }
    fn runtime(self, d: Duration) -> Duration {
        match self {
            Scale::Full => d,
            Scale::Quick => (d / 10).max(MIN_RUNTIME),
            Scale::Tiny => MIN_RUNTIME,
        }
    }
}

const MIN_RUNTIME: Duration = Duration::from_millis(300);
const SIZE_KEYS: [&str; 5] = ["size", "io_size", "memory_limit", "address_space_limit", "window"];

/// The article suite at `scale`.
pub(crate) fn load(scale: Scale) -> Result<Suite> {
    let mut suite = Suite::parse("article", TEXT)
        .map_err(|message| Error::WorkloadFile { path: "workloads/article.toml".into(), message })?;
    if scale != Scale::Full {
        suite.name = if scale == Scale::Quick { "article-quick".into() } else { "article-tiny".into() };
        suite.repeat = 1;
        for w in &mut suite.workloads {
            rescale(w, scale)
                .map_err(|message| Error::WorkloadFile { path: "workloads/article.toml".into(), message })?;
        }
    }
    Ok(suite)
}

/// Scales one workload table. Sizes shrink together; a limit that would fall below what a
/// process needs (`limits::MIN_*`) is raised to it with every size of the workload, so the
/// ratios (file 4× the memory limit, file larger than the address space) hold at any scale.
/// A 32-bit child's (`arch`) file keeps its size: its address space does not scale; only
/// `--tiny` reads less of it.
pub(crate) fn rescale(table: &mut Table, scale: Scale) -> std::result::Result<(), String> {
    let mut divisor = scale.size_divisor() as f64;
    let keys: &[&str] =
        if table.contains_key("arch") { if scale == Scale::Tiny { &["io_size"] } else { &[] } } else { &SIZE_KEYS };
    for (key, min) in [
        ("memory_limit", crate::workload::resources::MIN_MEMORY_LIMIT),
        ("address_space_limit", crate::workload::resources::MIN_ADDRESS_SPACE),
    ] {
        if let Some(Value::String(s)) = table.get(key) {
            let bytes = parse_size(s).map_err(|m| format!("{key}: {m}"))? as f64;
            divisor = divisor.min(bytes / min as f64).max(1.0);
        }
    }
    for &key in keys {
        if let Some(v) = table.get_mut(key) {
            map_values(v, &mut |x| {
                let bytes = match x {
                    Value::Integer(n) => *n as u64,
                    Value::String(s) => parse_size(s).map_err(|m| format!("{key}: {m}"))?,
                    other => return Err(format!("{key}: {other} is not a size")),
                };
                // Whole MiB where possible, so windows stay multiples of the block size.
                let kib = ((bytes as f64 / divisor) / 1024.0) as u64;
                let kib = if kib >= 1024 { kib / 1024 * 1024 } else { kib.max(4) };
                *x = Value::String(format!("{kib}k"));
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
            *x = Value::String(format!("{}ms", scale.runtime(d).as_millis()));
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

    fn find(s: &Suite, name: &str, key: &str) -> String {
        let w = s.workloads.iter().find(|w| w.get("name").and_then(Value::as_str) == Some(name)).unwrap();
        w.get(key).unwrap().as_str().unwrap().to_string()
    }

    fn size(s: &Suite, name: &str, key: &str) -> u64 {
        parse_size(&find(s, name, key)).unwrap()
    }

    #[test]
    fn scaled_suites_keep_ratios_and_stay_valid() {
        let full = load(Scale::Full).unwrap();
        for scale in [Scale::Quick, Scale::Tiny] {
            let s = load(scale).unwrap();
            assert_eq!(s.repeat, 1);
            assert_eq!(size(&s, MEMORY_LIMIT, "size") / size(&s, MEMORY_LIMIT, "memory_limit"), 4);
            assert!(size(&s, ADDRESS_SPACE, "size") > size(&s, ADDRESS_SPACE, "address_space_limit"));
            assert!(s.expand(&Table::new()).is_ok());
        }
        assert!(full.expand(&Table::new()).is_ok());
        let quick = load(Scale::Quick).unwrap();
        assert_eq!(find(&quick, MEMORY_LIMIT, "runtime"), "3000ms");
        assert_eq!(find(&quick, COPIES, "size"), "131072k");
        let tiny = load(Scale::Tiny).unwrap();
        assert_eq!(size(&tiny, MEMORY_LIMIT, "memory_limit"), crate::workload::resources::MIN_MEMORY_LIMIT);
        // Every file is small but the 32-bit child's, which must outgrow a 32-bit address space
        // at every scale (only --tiny reads less of it).
        for w in &tiny.workloads {
            let bytes = parse_size(w.get("size").and_then(Value::as_str).unwrap()).unwrap();
            assert!(bytes <= 64 << 20 || w.contains_key("arch"), "{w:?}");
        }
        for s in [&quick, &tiny] {
            assert_eq!(size(s, ADDRESS_SPACE_32, "size"), size(&full, ADDRESS_SPACE_32, "size"));
        }
        assert_eq!(size(&quick, ADDRESS_SPACE_32, "io_size"), size(&full, ADDRESS_SPACE_32, "io_size"));
        assert!(size(&tiny, ADDRESS_SPACE_32, "io_size") < 64 << 20);
    }
}
