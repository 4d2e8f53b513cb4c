//! The calibration's options: defaults (`--quick` or full), their checks, and where the files go.

use crate::base::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the user asked for, validated.
#[derive(Debug, Clone)]
pub struct Options {
    pub(crate) dir: PathBuf,
    pub pairs: u32,
    pub runtime_ms: u64,
    pub(crate) size_bytes: u64,
    pub(crate) min_ratio: f64,
    /// Where calibration.json and calibration.md go; None: `results/<date>-<cpu>/`.
    pub out: Option<PathBuf>,
    pub(crate) keep_files: bool,
}

/// The flags as given (`None`: not given), before validation.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub dir: PathBuf,
    pub pairs: Option<u32>,
    pub runtime: Option<String>,
    pub size: Option<String>,
    pub quick: bool,
    pub min_ratio: f64,
    pub out: Option<PathBuf>,
    pub keep_files: bool,
}

impl Options {
    /// Applies the defaults (`--quick`: 3 pairs of 1 s on 256 MiB; else 3 pairs of 5 s on 1 GiB;
    /// flags given override either) and checks every value.
    pub fn from_flags(f: Flags) -> Result<Options> {
        let (runtime, size) = if f.quick { ("1s", "256m") } else { ("5s", "1g") };
        let runtime = f.runtime.as_deref().unwrap_or(runtime);
        let runtime = crate::base::units::parse_duration(runtime).map_err(|m| Error::invalid("--runtime", m))?;
        if runtime < Duration::from_millis(100) {
            return Err(Error::invalid(
                "--runtime",
                format!("{runtime:?} is too short for fio's start-up to stay negligible; use at least 100ms"),
            ));
        }
        let size = f.size.as_deref().unwrap_or(size);
        let size_bytes = crate::base::units::parse_size(size).map_err(|m| Error::invalid("--size", m))?;
        if size_bytes < 16 << 20 || !size_bytes.is_multiple_of(1 << 20) {
            return Err(Error::invalid(
                "--size",
                format!("'{size}': use a whole number of MiB from 16m, so the 1 MiB cells read whole blocks (e.g. 1g)"),
            ));
        }
        if !f.min_ratio.is_finite() || f.min_ratio < 0.0 {
            return Err(Error::invalid(
                "--min-ratio",
                format!("{} is not a ratio; use a number from 0, e.g. 0.9", f.min_ratio),
            ));
        }
        let pairs = f.pairs.unwrap_or(3);
        if pairs == 0 {
            return Err(Error::invalid("--pairs", "must be at least 1 (default 3)"));
        }
        if let Some(out) = &f.out
            && out.exists()
            && !out.is_dir()
        {
            return Err(Error::invalid("--out", format!("{} is not a directory; name a directory", out.display())));
        }
        Ok(Options {
            dir: f.dir,
            pairs,
            runtime_ms: runtime.as_millis() as u64,
            size_bytes,
            min_ratio: f.min_ratio,
            out: f.out,
            keep_files: f.keep_files,
        })
    }

    /// The equivalent command line, for the files.
    pub fn command(&self) -> String {
        format!(
            "iobench calibrate --pairs {} --runtime {}ms --size {} --min-ratio {}",
            self.pairs,
            self.runtime_ms,
            crate::base::units::format_size(self.size_bytes),
            self.min_ratio
        )
    }
}

/// `results/<yyyy-mm-dd>-<cpu>/`, the date in UTC.
pub(crate) fn default_out(cpu_model: &str, unix_s: u64) -> PathBuf {
    let (y, m, d, ..) = crate::base::units::utc_parts(unix_s);
    Path::new("results").join(format!("{y:04}-{m:02}-{d:02}-{}", cpu_slug(cpu_model)))
}

/// A short name for a CPU model: its vendor and family. `Intel(R) Xeon(R) Platinum 8375C CPU @
/// 2.90GHz` → `intel-xeon`, `AMD EPYC 7B13` → `amd-epyc`.
pub(crate) fn cpu_slug(model: &str) -> String {
    let words: Vec<String> = model
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '(' && c != ')')
        .map(|w| w.split('(').next().unwrap_or_default().to_ascii_lowercase())
        .filter(|w| !w.is_empty())
        .take(2)
        .collect();
    if words.is_empty() { "cpu".into() } else { words.join("-") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_slugs_are_vendor_and_family() {
        assert_eq!(cpu_slug("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"), "intel-xeon");
        assert_eq!(cpu_slug("AMD EPYC 7B13"), "amd-epyc");
        assert_eq!(cpu_slug("AMD EPYC"), "amd-epyc");
        assert_eq!(cpu_slug(""), "cpu");
        assert_eq!(default_out("AMD EPYC", 86_400 * 365), Path::new("results/1971-01-01-amd-epyc"));
    }

    #[test]
    fn flags_are_checked() {
        let flags = |f: fn(&mut Flags)| {
            let mut x = Flags { dir: "d".into(), min_ratio: 0.9, ..Default::default() };
            f(&mut x);
            Options::from_flags(x)
        };
        let quick = flags(|f| f.quick = true).unwrap();
        assert_eq!((quick.pairs, quick.runtime_ms, quick.size_bytes), (3, 1000, 256 << 20));
        let full = flags(|_| {}).unwrap();
        assert_eq!((full.pairs, full.runtime_ms, full.size_bytes), (3, 5000, 1 << 30));
        for (bad, key) in [
            (flags(|f| f.runtime = Some("10ms".into())), "--runtime"),
            (flags(|f| f.size = Some("1000k".into())), "--size"),
            (flags(|f| f.min_ratio = f64::NAN), "--min-ratio"),
            (flags(|f| f.pairs = Some(0)), "--pairs"),
        ] {
            let e = bad.unwrap_err();
            assert!(e.is_bad_input() && e.to_string().starts_with(key), "{e}");
        }
    }
}
