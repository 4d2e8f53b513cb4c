//! The data pattern: every 4 KiB page of a data file checks on its own.
//!
//! Page layout, in little-endian u64 words: word 0 is the page's file offset, word 1 is a tag
//! derived from the seed, and the other words come from a hash of (seed, offset, word index).
//! Writes store a second generation whose body does not depend on the offset, so a write buffer
//! is prepared once and only word 0 is patched per page (see `WriteTemplate`). Verification works
//! per 512-byte sector: a sector must match generation 0 (as filled) or generation 1 (as written).

use super::mix;

/// Verification works on 512-byte sectors, the smallest unit any backend moves.
pub(crate) const SECTOR: u64 = 512;
pub(crate) const PAGE: u64 = 4096;
const TAG: u64 = 0x494f_4245_4e43_4831; // "IOBENCH1"
const GEN1: u64 = 0x5752_4954_5445_4e31; // "WRITTEN1"

/// The expected value of word `idx` of the page at `page_offset`, for generation `gen`.
#[inline(always)]
fn word(seed: u64, page_offset: u64, generation: u64, idx: usize) -> u64 {
    match idx {
        0 => page_offset,
        1 => TAG ^ seed,
        _ => {
            let key = if generation == 0 { mix(seed ^ page_offset.rotate_left(17)) } else { mix(seed ^ GEN1) };
            mix(key.wrapping_add((idx as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)))
        }
    }
}

/// Fills `buf`, which will sit at `file_offset`, with generation 0 (the pattern of a new file).
pub(crate) fn fill(seed: u64, file_offset: u64, buf: &mut [u8]) {
    fill_generation(seed, file_offset, 0, buf);
}

fn fill_generation(seed: u64, file_offset: u64, generation: u64, buf: &mut [u8]) {
    debug_assert!(file_offset.is_multiple_of(8) && buf.len().is_multiple_of(8));
    for (i, chunk) in buf.chunks_exact_mut(8).enumerate() {
        let pos = file_offset + 8 * i as u64;
        let page = pos - pos % PAGE;
        let idx = ((pos % PAGE) / 8) as usize;
        chunk.copy_from_slice(&word(seed, page, generation, idx).to_le_bytes());
    }
}

/// Checks `buf`, read from `file_offset`, sector by sector against both generations.
/// Returns the file offset and a description of the first mismatch.
pub fn verify(seed: u64, file_offset: u64, buf: &[u8]) -> Result<(), String> {
    debug_assert!(file_offset.is_multiple_of(SECTOR) && (buf.len() as u64).is_multiple_of(SECTOR));
    for (s, sector) in buf.chunks_exact(SECTOR as usize).enumerate() {
        let sector_offset = file_offset + s as u64 * SECTOR;
        let page = sector_offset - sector_offset % PAGE;
        let first = ((sector_offset % PAGE) / 8) as usize;
        let words = || sector.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap()));
        let matches = |generation| words().enumerate().all(|(i, w)| w == word(seed, page, generation, first + i));
        if matches(0) || matches(1) {
            continue;
        }
        // Name the first word that fits neither generation.
        for (i, w) in words().enumerate() {
            let idx = first + i;
            let (g0, g1) = (word(seed, page, 0, idx), word(seed, page, 1, idx));
            if w != g0 && w != g1 {
                let at = sector_offset + 8 * i as u64;
                let hint = if idx == 0 && w % PAGE == 0 && w != page {
                    format!(" (this is the page at offset {w}: the wrong block was delivered)")
                } else {
                    String::new()
                };
                return Err(format!("mismatch at file offset {at}: expected {g0:#018x}, found {w:#018x}{hint}"));
            }
        }
        return Err(format!("sector at file offset {sector_offset} mixes written and original data"));
    }
    Ok(())
}

/// A write buffer's contents: generation 1 for one in-page phase, with word 0 of each page
/// patched per operation. Keeps pattern generation off the timed path.
pub struct WriteTemplate {
    page: Vec<u8>,
}

impl WriteTemplate {
    pub fn new(seed: u64) -> Self {
        let mut page = vec![0u8; PAGE as usize];
        fill_generation(seed, 0, 1, &mut page);
        WriteTemplate { page }
    }

    /// Prepares `buf` to be written at `file_offset`. `phase` caches the in-page phase the buffer
    /// was last laid out for, so the body is copied only when the phase changes.
    #[inline]
    pub fn prepare(&self, file_offset: u64, buf: &mut [u8], phase: &mut Option<u64>) {
        let want = file_offset % PAGE;
        if *phase != Some(want) {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = self.page[((want as usize) + i) % PAGE as usize];
            }
            *phase = Some(want);
        }
        // Patch word 0 of every page that starts inside the buffer.
        let mut page_start = file_offset.next_multiple_of(PAGE);
        while page_start < file_offset + buf.len() as u64 {
            let at = (page_start - file_offset) as usize;
            buf[at..at + 8].copy_from_slice(&page_start.to_le_bytes());
            page_start += PAGE;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_data_verifies_and_corruption_is_named() {
        let mut buf = vec![0u8; 3 * PAGE as usize];
        fill(7, 8192, &mut buf);
        assert_eq!(verify(7, 8192, &buf), Ok(()));
        assert!(verify(8, 8192, &buf).is_err(), "another seed must not verify");
        assert!(verify(7, 4096, &buf).is_err(), "another offset must not verify");
        buf[5000] ^= 1;
        let err = verify(7, 8192, &buf).unwrap_err();
        assert!(err.starts_with("mismatch at file offset 13192"), "{err}");
    }

    #[test]
    fn misplaced_page_is_explained() {
        let mut buf = vec![0u8; PAGE as usize];
        fill(7, 40960, &mut buf);
        let err = verify(7, 4096, &buf).unwrap_err();
        assert!(err.contains("page at offset 40960"), "{err}");
    }

    #[test]
    fn written_generation_verifies_for_every_phase() {
        let t = WriteTemplate::new(3);
        for (off, len) in [(0u64, 4096usize), (4096, 8192), (512, 1024), (3584, 1024), (1024, 512)] {
            let mut buf = vec![0u8; len];
            let mut phase = None;
            t.prepare(off, &mut buf, &mut phase);
            assert_eq!(verify(3, off, &buf), Ok(()), "offset {off} len {len}");
            t.prepare(off + 16384, &mut buf, &mut phase);
            assert_eq!(verify(3, off + 16384, &buf), Ok(()), "patched offset {off}");
        }
    }
}
