//! Memory ceilings measured by iobench itself, so results can be read against them: one core's
//! memory read bandwidth (the loop's own `patterns::consume` over a buffer much larger than the
//! caches) and memcpy bandwidth bound warm-cache runs. (The device's ceilings, which bound cold
//! runs, are measured through the run loop by `app::probe`.)

use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::time::Instant;

/// One core's memory bandwidth, best of a few passes over `buffer_bytes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryCeilings {
    pub buffer_bytes: u64,
    /// Read and sum every 8-byte word of the buffer (what every read path does with its bytes).
    pub read_bytes_per_s: f64,
    /// memcpy from one half of the buffer to the other: bytes copied per second.
    pub memcpy_bytes_per_s: f64,
}

/// Measures both memory ceilings on the calling thread over one anonymous buffer of
/// `buffer_bytes` (huge pages where THP allows: faster to set up, and no TLB misses lower the
/// ceiling). About 0.15 s for 256 MiB, most of it faulting the buffer in.
pub fn measure_memory(buffer_bytes: usize, passes: u32) -> MemoryCeilings {
    let buffer_bytes = buffer_bytes.max(2 * crate::os::fsinfo::page_size());
    let Ok(mut map) = memmap2::MmapMut::map_anon(buffer_bytes) else { return MemoryCeilings::default() };
    // Best effort: without THP the pages are simply 4 KiB.
    let _ = crate::os::advice::apply_madvise(map.as_mut_ptr(), buffer_bytes, crate::os::advice::Advice::Hugepage);
    map.fill(0x5a);
    let mut best_read = f64::INFINITY;
    for _ in 0..passes.max(1) {
        let t = Instant::now();
        black_box(crate::patterns::consume::consume(black_box(&map[..])));
        best_read = best_read.min(t.elapsed().as_secs_f64());
    }
    let half = buffer_bytes / 2;
    let mut best_copy = f64::INFINITY;
    for _ in 0..passes.max(1) {
        let (src, dst) = map.split_at_mut(half);
        let t = Instant::now();
        dst[..half].copy_from_slice(black_box(&src[..]));
        black_box(&mut dst[..]);
        best_copy = best_copy.min(t.elapsed().as_secs_f64());
    }
    let rate = |bytes: usize, secs: f64| if secs > 0.0 { bytes as f64 / secs } else { 0.0 };
    MemoryCeilings {
        buffer_bytes: buffer_bytes as u64,
        read_bytes_per_s: rate(buffer_bytes, best_read),
        memcpy_bytes_per_s: rate(half, best_copy),
    }
}
