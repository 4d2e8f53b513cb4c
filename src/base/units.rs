//! Sizes (`4k`, `1m`, `1g`) and durations (`500ms`, `5s`) as fio users write them.
//!
//! Sizes are binary (k = 1024), as in fio's default `kb_base=1024`.

use std::time::Duration;

/// Parses `4096`, `4k`, `4K`, `4kb`, `4KiB`, `1m`, `2g`, `1t` into bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, suffix) = t.split_at(split);
    if digits.is_empty() {
        return Err(format!("'{text}' is not a size (examples: 4096, 4k, 1m, 2g)"));
    }
    let n: u64 = digits.parse().map_err(|_| format!("'{text}' is too large a size"))?;
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(format!("'{text}' has an unknown size suffix (use k, m, g or t)")),
    };
    n.checked_mul(1u64 << shift).ok_or_else(|| format!("'{text}' is too large a size"))
}

/// Parses `500ms`, `5s`, `2m`, `1h`, `250us`, `100ns`; a bare number is seconds, as in fio.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, suffix) = t.split_at(split);
    if digits.is_empty() {
        return Err(format!("'{text}' is not a duration (examples: 500ms, 5s, 2m)"));
    }
    let n: u64 = digits.parse().map_err(|_| format!("'{text}' is too long a duration"))?;
    let ns_per_unit: u64 = match suffix {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "" | "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return Err(format!("'{text}' has an unknown duration unit (use ns, us, ms, s, m or h)")),
    };
    n.checked_mul(ns_per_unit).map(Duration::from_nanos).ok_or_else(|| format!("'{text}' is too long a duration"))
}

/// `4096` → `4k`, `1048576` → `1m`; exact when possible, otherwise bytes.
pub fn format_size(bytes: u64) -> String {
    for (shift, suffix) in [(40, "t"), (30, "g"), (20, "m"), (10, "k")] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{}", bytes >> shift, suffix);
        }
    }
    bytes.to_string()
}

/// Bytes as a short human figure with three significant digits: `3.76 GB`, `512 MB`, `4.10 kB`.
pub(crate) fn format_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    let (v, unit) = match bytes {
        0..1_000 => return format!("{bytes} B"),
        1_000..1_000_000 => (b / 1e3, "kB"),
        1_000_000..1_000_000_000 => (b / 1e6, "MB"),
        1_000_000_000..1_000_000_000_000 => (b / 1e9, "GB"),
        _ => (b / 1e12, "TB"),
    };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {unit}")
}

/// Nanoseconds as a short human figure: `812ns`, `61.8µs`, `2.41ms`, `1.20s`.
pub fn format_ns(ns: f64) -> String {
    let trimmed = |v: f64, unit: &str| {
        let t = format!("{v:.3}");
        format!("{}{unit}", t.trim_end_matches('0').trim_end_matches('.'))
    };
    if ns < 1e3 {
        format!("{ns:.0}ns")
    } else if ns < 1e6 {
        trimmed(ns / 1e3, "µs")
    } else if ns < 1e9 {
        trimmed(ns / 1e6, "ms")
    } else {
        format!("{:.2}s", ns / 1e9)
    }
}

/// Civil date (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub(crate) fn civil_date(days: u64) -> (i64, u32, u32) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `(year, month, day, hour, minute, second)` in UTC of Unix seconds.
pub fn utc_parts(unix_s: u64) -> (i64, u32, u32, u64, u64, u64) {
    let (y, m, d) = civil_date(unix_s / 86_400);
    let secs = unix_s % 86_400;
    (y, m, d, secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("1m"), Ok(1 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert!(parse_size("-4k").is_err());
        assert!(parse_size("4x").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("99999999999t").is_err());
        assert_eq!(format_size(4096), "4k");
        assert_eq!(format_size(3 << 30), "3g");
        assert_eq!(format_size(1000), "1000");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("s").is_err());
        assert_eq!(format_ns(812.0), "812ns");
        assert_eq!(format_ns(61_800.0), "61.8µs");
    }
}
