//! `/proc/self/smaps_rollup` and `/proc/self/smaps`: what the process's memory actually is,
//! including how much is mapped with huge pages (`AnonHugePages`, `FilePmdMapped`). Sizes come
//! in kB and are returned in bytes, under snake_case keys (`Shared_Clean` → `shared_clean_bytes`).

use std::collections::BTreeMap;

/// `AnonHugePages` → `anon_huge_pages`, `Shared_Clean` → `shared_clean`.
fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A `Name:   123 kB` line as (`name_bytes`, bytes).
fn size_line(line: &str) -> Option<(String, u64)> {
    let (name, rest) = line.split_once(':')?;
    let mut parts = rest.split_whitespace();
    let n: u64 = parts.next()?.parse().ok()?;
    (parts.next()? == "kB").then(|| (format!("{}_bytes", snake(name)), n * 1024))
}

/// The process's whole-memory summary, or empty if the kernel lacks smaps_rollup (< 4.14).
pub(crate) fn rollup() -> BTreeMap<String, u64> {
    std::fs::read_to_string("/proc/self/smaps_rollup")
        .map(|t| t.lines().filter_map(size_line).collect())
        .unwrap_or_default()
}

/// A smaps header line: `start-end perms offset dev inode [path]`.
fn header_range(line: &str) -> Option<(usize, usize)> {
    let range = line.split_whitespace().next()?;
    let (s, e) = range.split_once('-')?;
    Some((usize::from_str_radix(s, 16).ok()?, usize::from_str_radix(e, 16).ok()?))
}

/// The smaps entries of one address range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Range {
    /// Sizes in bytes, summed over the range's VMAs.
    pub(crate) sizes: BTreeMap<String, u64>,
    /// Union of the VMAs' `VmFlags` (`rr` MADV_RANDOM, `sr` MADV_SEQUENTIAL, `hg` MADV_HUGEPAGE,
    /// `nh` MADV_NOHUGEPAGE): proof that an advice reached the kernel.
    pub(crate) vm_flags: Vec<String>,
    /// `THPeligible` of any VMA in the range (null if the kernel does not say).
    pub(crate) thp_eligible: Option<bool>,
}

/// The entries of every VMA inside `[addr, addr + len)` (madvise may split one mapping into
/// several), from `smaps` text. `None` if no VMA lies in the range.
pub(crate) fn parse_range(text: &str, addr: usize, len: usize) -> Option<Range> {
    let end = addr + len;
    let mut out = Range::default();
    let mut inside = false;
    let mut found = false;
    for line in text.lines() {
        // Header lines start with a hex range; field lines with a name and a colon.
        let first = line.split_whitespace().next().unwrap_or("");
        if !first.ends_with(':')
            && let Some((s, e)) = header_range(line)
        {
            inside = s >= addr && e <= end;
            found |= inside;
            continue;
        }
        if !inside {
            continue;
        }
        if let Some((k, v)) = size_line(line) {
            *out.sizes.entry(k).or_default() += v;
        } else if let Some(flags) = line.strip_prefix("VmFlags:") {
            for f in flags.split_whitespace() {
                if !out.vm_flags.iter().any(|g| g == f) {
                    out.vm_flags.push(f.to_string());
                }
            }
        } else if let Some(v) = line.strip_prefix("THPeligible:") {
            out.thp_eligible = Some(out.thp_eligible.unwrap_or(false) || v.trim() == "1");
        }
    }
    found.then_some(out)
}

/// `parse_range` on this process's smaps.
pub(crate) fn range(addr: usize, len: usize) -> Option<Range> {
    parse_range(&std::fs::read_to_string("/proc/self/smaps").ok()?, addr, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_snake_case_bytes() {
        assert_eq!(size_line("AnonHugePages:      2048 kB"), Some(("anon_huge_pages_bytes".into(), 2 << 20)));
        assert_eq!(size_line("Shared_Clean:  4 kB"), Some(("shared_clean_bytes".into(), 4096)));
        assert_eq!(size_line("FilePmdMapped: 0 kB"), Some(("file_pmd_mapped_bytes".into(), 0)));
        assert_eq!(size_line("VmFlags: rd mr"), None);
    }

    #[test]
    fn ranges_sum_the_vmas_inside() {
        let text = "\
7f0000000000-7f0000200000 r--s 00000000 fe:00 12 /data/f
Size:               2048 kB
Rss:                2048 kB
FilePmdMapped:      2048 kB
VmFlags: rd sh mr mw me ms
7f0000200000-7f0000400000 r--s 00200000 fe:00 12 /data/f
Size:               2048 kB
Rss:                 512 kB
FilePmdMapped:         0 kB
7f0000400000-7f0000600000 rw-p 00000000 00:00 0
Size:               2048 kB
Rss:                2048 kB
";
        let r = parse_range(text, 0x7f00_0000_0000, 0x40_0000).unwrap();
        assert_eq!(r.vm_flags, ["rd", "sh", "mr", "mw", "me", "ms"]);
        let m = r.sizes;
        assert_eq!(m["size_bytes"], 4 << 20);
        assert_eq!(m["rss_bytes"], (2048 + 512) * 1024);
        assert_eq!(m["file_pmd_mapped_bytes"], 2 << 20);
        assert!(parse_range(text, 0x1000, 0x1000).is_none());
    }
}
