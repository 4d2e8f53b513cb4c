//! The generated log of `rw = scan`, and counting its lines and matches.
//!
//! iobench writes a text log of exactly `size` bytes: a header line, then lines such as
//! `2026-01-01T00:00:07.104227Z WARN  [svc-03] GET /api/orders/81234 status=503 ... msg="..."`,
//! 60 to 400 bytes long (most 100 to 200), each with a timestamp and a level (DEBUG 15%,
//! INFO 70%, WARN 10%, ERROR 5%). A line *matches* when it contains ` ERROR `, which only the
//! level field can hold. The generator counts both as it writes and stores the counts in the
//! fixed-width header line, so a reused file carries its own expected figures.
//!
//! One operation of the run loop is one whole scan of the file (`OpKind::Scan`): the loop times
//! it, and checks the counts the backend stored in the slot's buffer against the header, so a
//! wrong count fails the run. Every memchr variant counts with `Counter`, which takes the file
//! in pieces of any size and still finds a match split across two pieces.

use crate::data::DataFile;
use crate::error::{Error, IoContext, Result};
use crate::genfile::{self, Found};
use crate::units::format_size;
use memchr::memmem;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::fs::File;
use std::os::fd::RawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What a matching line contains.
pub const NEEDLE: &[u8] = b" ERROR ";
/// The smallest log: the header and a few lines.
pub const MIN_SIZE: u64 = 64 << 10;
const MAX_LINE: usize = 400;
const CHUNK: usize = 1 << 20;
/// `Counter` pieces for in-memory scans: small enough to stay in L2 between the two searches.
pub const MEMORY_PIECE: usize = 256 << 10;

/// Lines (newlines) and matching lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub lines: u64,
    pub matches: u64,
}

impl Counts {
    /// Stores the counts in the first 16 bytes of a slot's buffer, where the loop reads them.
    pub fn store(self, buf: &mut [u8]) {
        buf[0..8].copy_from_slice(&self.lines.to_le_bytes());
        buf[8..16].copy_from_slice(&self.matches.to_le_bytes());
    }
    pub fn load(buf: &[u8]) -> Counts {
        let word = |i: usize| u64::from_le_bytes(buf[i..i + 8].try_into().expect("8 bytes"));
        Counts { lines: word(0), matches: word(8) }
    }
}

fn finder() -> &'static memmem::Finder<'static> {
    static FINDER: OnceLock<memmem::Finder<'static>> = OnceLock::new();
    FINDER.get_or_init(|| memmem::Finder::new(NEEDLE))
}

/// Counts newlines and `NEEDLE`s over a stream fed in pieces of any size. Matches are counted
/// without overlap; the generated log never holds two overlapping ones, so its counts do not
/// depend on where pieces end.
pub struct Counter {
    counts: Counts,
    /// The last `NEEDLE.len() - 1` bytes seen, for matches that span two pieces.
    tail: [u8; 16],
    tail_len: usize,
    finder: &'static memmem::Finder<'static>,
}

impl Default for Counter {
    fn default() -> Self {
        Counter { counts: Counts::default(), tail: [0; 16], tail_len: 0, finder: finder() }
    }
}

impl Counter {
    #[inline]
    pub fn feed(&mut self, piece: &[u8]) {
        let keep = NEEDLE.len() - 1;
        self.counts.lines += memchr::memchr_iter(b'\n', piece).count() as u64;
        self.counts.matches += self.finder.find_iter(piece).count() as u64;
        // Neither the tail nor the head is as long as the needle, so every match found in
        // their join spans the boundary, and is counted once.
        let head = piece.len().min(keep);
        let mut joined = [0u8; 32];
        joined[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
        joined[self.tail_len..self.tail_len + head].copy_from_slice(&piece[..head]);
        let joined = &joined[..self.tail_len + head];
        self.counts.matches += self.finder.find_iter(joined).count() as u64;
        // The new tail: the last `keep` bytes seen (the join holds them when the piece is short).
        let last = if piece.len() >= keep { &piece[piece.len() - keep..] } else { joined };
        let last = &last[last.len().saturating_sub(keep)..];
        self.tail[..last.len()].copy_from_slice(last);
        self.tail_len = last.len();
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }
}

/// Counts a log held in memory (a mapping), piece by piece.
pub fn count_memory(bytes: &[u8]) -> Counts {
    let mut c = Counter::default();
    for piece in bytes.chunks(MEMORY_PIECE) {
        c.feed(piece);
    }
    c.counts()
}

/// A scan through `pread` into `buf` until end of file: the `buffered` and `direct` scans.
/// Stores the counts in `buf` and returns the bytes read, or a negative errno.
pub fn scan_fd(fd: RawFd, buf: &mut [u8]) -> i64 {
    let mut c = Counter::default();
    let mut offset = 0i64;
    loop {
        // SAFETY: `buf` is valid for writes of its length for the duration of the call.
        let n = unsafe { libc::pread64(fd, buf.as_mut_ptr().cast(), buf.len(), offset) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return -(e.raw_os_error().unwrap_or(libc::EIO) as i64);
        }
        if n == 0 {
            break;
        }
        c.feed(&buf[..n as usize]);
        offset += n as i64;
    }
    c.counts().store(buf);
    offset
}

/// A scan over a mapping of the whole log: the `mmap` scan.
pub fn scan_mapped(all: &[u8], buf: &mut [u8]) -> i64 {
    count_memory(all).store(buf);
    all.len() as i64
}

/// The log of (size, seed) in `dir`.
pub fn path(dir: &Path, size: u64, seed: u64) -> PathBuf {
    dir.join(format!("iobench-log-{}-{seed:x}.log", format_size(size)))
}

const HEADER_LEN: usize = 95;

fn header(seed: u64, c: Counts) -> String {
    let h = format!("# iobench log seed={seed:016x} lines={:020} matches={:020} v1\n", c.lines, c.matches);
    debug_assert_eq!(h.len(), HEADER_LEN);
    h
}

/// The counts in the header of the log at `data`, if it is a complete iobench log of its seed.
fn read_header(data: &DataFile) -> Option<Counts> {
    let mut h = [0u8; HEADER_LEN];
    File::open(&data.path).and_then(|f| f.read_exact_at(&mut h, 0)).ok()?;
    let text = std::str::from_utf8(&h).ok()?;
    let field = |name: &str| text.split_whitespace().find_map(|w| w.strip_prefix(name));
    (field("seed=")? == format!("{:016x}", data.seed) && text.ends_with(" v1\n")).then_some(())?;
    Some(Counts { lines: field("lines=")?.parse().ok()?, matches: field("matches=")?.parse().ok()? })
}

/// The log for (size, seed) in `dir`: reused if its header is intact, generated otherwise.
/// Returns it with the counts every scan must find.
pub fn prepare(dir: &Path, size: u64, seed: u64) -> Result<(DataFile, Counts)> {
    crate::cleanup::create_dir_all(dir).context(|| format!("cannot create data directory {}", dir.display()))?;
    let data = DataFile { path: path(dir, size, seed), size, seed };
    if let Found::File(len) = genfile::look(&data.path)? {
        let header = read_header(&data);
        if let Some(c) = header
            && len == size
        {
            return Ok((data, c));
        }
        genfile::replaceable(&data.path, header.is_some())?;
    }
    let counts = generate(&data)?;
    Ok((data, counts))
}

/// The error when a scan's counts differ from the generated ones.
pub fn mismatch(data: &DataFile, got: Counts, want: Counts) -> Error {
    Error::Verify(format!(
        "scan of {} counted {} lines and {} matches, but {} and {} were generated (remove the file if it was edited)",
        data.path.display(),
        got.lines,
        got.matches,
        want.lines,
        want.matches
    ))
}

const LEVELS: [(&str, u32); 4] = [("DEBUG", 15), ("INFO ", 85), ("WARN ", 95), ("ERROR", 100)];
const WORDS: [&str; 24] = [
    "cache",
    "miss",
    "hit",
    "retry",
    "upstream",
    "timeout",
    "connection",
    "reset",
    "queue",
    "depth",
    "flushed",
    "segment",
    "compaction",
    "started",
    "finished",
    "user",
    "session",
    "expired",
    "token",
    "refresh",
    "slow",
    "request",
    "handled",
    "shard",
];
const PATHS: [&str; 6] = ["/api/orders/", "/api/items/", "/api/users/", "/health", "/metrics", "/api/cart/"];

/// Writes the log, returning its counts (also stored in its header).
fn generate(data: &DataFile) -> Result<Counts> {
    let mut counts = Counts::default();
    genfile::create(&data.path, data.size, |sink| {
        let mut rng = SmallRng::seed_from_u64(data.seed ^ 0x4c4f_4753_4341_4e31); // "LOGSCAN1"
        let mut clock = Timestamp::new(1_767_225_600 + data.seed % 10_000_000);
        let mut buf = Vec::with_capacity(CHUNK + MAX_LINE);
        buf.extend_from_slice(header(data.seed, counts).as_bytes());
        counts.lines += 1;
        let mut written = 0u64;
        let mut line = Vec::with_capacity(MAX_LINE);
        // Ordinary lines while at least two maximal lines' room is left; then two filler lines
        // end the file exactly at `size`.
        while written + (buf.len() + 2 * MAX_LINE) as u64 <= data.size {
            clock.advance(rng.random_range(0..2000));
            let roll = rng.random_range(0..100);
            let level = LEVELS.iter().find(|(_, upto)| roll < *upto).map_or("INFO ", |(l, _)| l);
            line.clear();
            clock.write(&mut line);
            line.extend_from_slice(format!(" {level} [svc-{:02}] ", rng.random_range(0..16)).as_bytes());
            message(&mut rng, &mut line);
            line.truncate(MAX_LINE - 1);
            line.push(b'\n');
            counts.lines += 1;
            counts.matches += (level == "ERROR") as u64;
            buf.extend_from_slice(&line);
            if buf.len() >= CHUNK {
                sink.write(&buf)?;
                written += buf.len() as u64;
                buf.clear();
            }
        }
        let rest = (data.size - written) as usize - buf.len();
        for len in [rest / 2, rest - rest / 2] {
            clock.advance(1000);
            line.clear();
            clock.write(&mut line);
            line.extend_from_slice(b" INFO  [svc-00] heartbeat pad=");
            line.resize(len - 1, b'.');
            line.push(b'\n');
            buf.extend_from_slice(&line);
            counts.lines += 1;
        }
        sink.write(&buf)?;
        sink.write_at(header(data.seed, counts).as_bytes(), 0)
    })?;
    Ok(counts)
}

/// The free text after the level: a request or an event, and a quoted message.
fn message(rng: &mut SmallRng, line: &mut Vec<u8>) {
    use std::io::Write;
    if rng.random_range(0..3) > 0 {
        let path = PATHS[rng.random_range(0..PATHS.len())];
        let status = [200, 200, 200, 201, 204, 304, 404, 500, 503][rng.random_range(0..9)];
        let _ = write!(
            line,
            "GET {path}{} status={status} bytes={} dur_ms={} user=u{}",
            rng.random_range(0..100_000),
            rng.random_range(0..65_536),
            rng.random_range(0..2_000),
            rng.random_range(0..1_000_000)
        );
    } else {
        let _ = write!(line, "event={} shard={}", WORDS[rng.random_range(0..WORDS.len())], rng.random_range(0..64));
    }
    // Message lengths: mostly short, sometimes long (stack-trace-like lines).
    let words = if rng.random_range(0..10) == 0 { rng.random_range(10..40) } else { rng.random_range(1..8) };
    line.extend_from_slice(b" msg=\"");
    for i in 0..words {
        if i > 0 {
            line.push(b' ');
        }
        line.extend_from_slice(WORDS[rng.random_range(0..WORDS.len())].as_bytes());
    }
    line.push(b'"');
}

/// ISO 8601 UTC timestamps with microseconds; the date part is formatted once per second.
struct Timestamp {
    micros: u64,
    second: u64,
    text: [u8; 19],
}

impl Timestamp {
    fn new(unix_s: u64) -> Self {
        let mut t = Timestamp { micros: unix_s * 1_000_000, second: u64::MAX, text: [0; 19] };
        t.advance(0);
        t
    }

    fn advance(&mut self, micros: u64) {
        self.micros += micros;
        let s = self.micros / 1_000_000;
        if s != self.second {
            self.second = s;
            let (y, m, d) = crate::units::civil_date(s / 86_400);
            let text = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", s / 3600 % 24, s / 60 % 60, s % 60);
            self.text.copy_from_slice(text.as_bytes());
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.text);
        out.push(b'.');
        let mut frac = [b'0'; 6];
        let mut us = self.micros % 1_000_000;
        for d in frac.iter_mut().rev() {
            *d = b'0' + (us % 10) as u8;
            us /= 10;
        }
        out.extend_from_slice(&frac);
        out.push(b'Z');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(text: &[u8]) -> Counts {
        let s = std::str::from_utf8(text).unwrap();
        Counts {
            lines: s.matches('\n').count() as u64,
            matches: s.lines().filter(|l| l.contains(" ERROR ")).count() as u64,
        }
    }

    #[test]
    fn pieces_of_any_size_count_alike() {
        let text = b"a ERROR b\nx ERROR \n ERROR  ERROR\nno\n".repeat(7);
        let want = Counts { lines: 28, matches: 7 * 3 };
        for piece in [1usize, 2, 3, 5, 6, 7, 8, 13, 1000] {
            let mut c = Counter::default();
            for p in text.chunks(piece) {
                c.feed(p);
            }
            assert_eq!(c.counts(), want, "pieces of {piece}");
        }
        assert_eq!(count_memory(&text), want);
    }

    #[test]
    fn generated_log_has_exact_size_and_counts() {
        let dir = std::env::temp_dir().join(format!("iobench-test-logscan-{}", std::process::id()));
        let size = 300_001;
        let (data, counts) = prepare(&dir, size, 42).unwrap();
        let text = std::fs::read(&data.path).unwrap();
        assert_eq!(text.len() as u64, size);
        assert_eq!(naive(&text), counts);
        assert!(counts.matches > 20 && counts.lines > 1000, "{counts:?}");
        let lens: Vec<usize> = text.split(|b| *b == b'\n').map(|l| l.len()).collect();
        assert!(lens.iter().all(|l| *l < MAX_LINE), "line lengths bounded");
        assert_eq!(header(42, counts).len(), HEADER_LEN);
        // Reused from its header, not written again.
        let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
        let before = inode(&data.path);
        assert_eq!(prepare(&dir, size, 42).unwrap().1, counts);
        assert_eq!(inode(&data.path), before);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
