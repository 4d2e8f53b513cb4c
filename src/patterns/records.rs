//! The records of `rw = records` (random records) and `rw = seqrecords` (file order): their
//! layout, the update, and the check of one record (the files themselves: `datafile::records`).
//!
//! A record file holds fixed-size binary records, by default the article's
//! `struct { uint32_t id; double value; char label[16]; }`: 32 bytes, because the compiler pads
//! `id` to the alignment of `value`. iobench keeps that layout for any `record_size` (a multiple
//! of 8 from 16 bytes): id at 0, a check word in the padding at 4, the value at 8, the label
//! `item-NNNNNNNNNN\0` at 16 (cut short in records under 32 bytes), then filler words. Everything
//! but the value is derived from (seed, record number), so a record written to the wrong place
//! or torn is found.
//!
//! The update. The article multiplies (`value *= 1.5`), but repeated multiplication rounds after
//! 33 updates of one record and overflows f64 after about 1750, and zipf's hottest record gets
//! millions of updates in a few seconds: no update count could be read back. iobench adds
//! instead: `value += 1.5` is the same read-modify-write of one f64 in place, and it stays exact
//! while the value is below 2^52 (about 3·10^15 updates of one record). So after a run each
//! record's update count is exactly `(value - initial) / 1.5`, and checking a file needs no
//! memory beyond one chunk: every record must hold its fixed fields unchanged and a value that
//! is its initial value plus a whole number of steps, and the counts must add up to the updates
//! the run completed (see `Tally`).

use super::mix;

/// The article's record: `{ u32 id; f64 value; char label[16] }` with its padding.
pub(crate) const DEFAULT_RECORD_SIZE: u64 = 32;
pub(crate) const MIN_RECORD_SIZE: u64 = 16;
pub(crate) const MAX_RECORD_SIZE: u64 = 64 << 10;
/// What one update adds to a record's value.
pub(crate) const STEP: f64 = 1.5;
/// Where the value lies in a record.
pub(crate) const VALUE_OFFSET: usize = 8;
/// Values stay exact below this (every multiple of 0.5 under 2^52 is an f64).
const EXACT_LIMIT: f64 = (1u64 << 52) as f64;

fn key(seed: u64, index: u64) -> u64 {
    mix(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5245_434f_5244_5331) // "RECORDS1"
}

/// Record `index`'s value before any update: a multiple of 0.5 from 0 to 1023.5.
pub(crate) fn initial_value(seed: u64, index: u64) -> f64 {
    (key(seed, index) % 2048) as f64 * 0.5
}

/// Writes record `index` as generated into `rec` (one record's bytes).
pub(crate) fn fill(seed: u64, index: u64, rec: &mut [u8]) {
    let k = key(seed, index);
    let mut fixed = [0u8; 32];
    fixed[0..4].copy_from_slice(&(index as u32).to_le_bytes());
    fixed[4..8].copy_from_slice(&((k >> 32) as u32).to_le_bytes());
    fixed[8..16].copy_from_slice(&initial_value(seed, index).to_le_bytes());
    fixed[16..21].copy_from_slice(b"item-");
    let mut n = index;
    for d in (21..31).rev() {
        fixed[d] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let head = rec.len().min(32);
    rec[..head].copy_from_slice(&fixed[..head]);
    for (w, word) in rec[head..].chunks_exact_mut(8).enumerate() {
        word.copy_from_slice(&mix(k ^ w as u64).to_le_bytes());
    }
}

/// One update of a record held in memory (little-endian, as in the file).
#[inline]
pub fn update(rec: &mut [u8]) {
    let field = &mut rec[VALUE_OFFSET..VALUE_OFFSET + 8];
    let v = f64::from_le_bytes(field.try_into().expect("an 8-byte field")) + STEP;
    field.copy_from_slice(&v.to_le_bytes());
}

/// One update of the record at `rec`, in place (through a mapping).
///
/// # Safety
/// `rec` must point to a whole record in writable memory that no other thread accesses now.
#[inline]
pub(crate) unsafe fn update_in_place(rec: *mut u8) {
    // SAFETY: guaranteed by the caller; unaligned accesses, so no alignment is assumed.
    unsafe {
        let p = rec.add(VALUE_OFFSET).cast::<u64>();
        let v = f64::from_bits(u64::from_le(p.read_unaligned())) + STEP;
        p.write_unaligned(v.to_bits().to_le());
    }
}

/// Updates found in a record file by reading every record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub records: u64,
    /// Sum over all records of the updates each one's value shows.
    pub updates: u64,
    /// Records updated at least once, and the most updates any one record got.
    pub touched: u64,
    pub max_updates: u64,
}

/// The updates `rec` (record `index`) has had, or what is wrong with it.
pub(crate) fn updates_of(seed: u64, index: u64, rec: &[u8], scratch: &mut [u8]) -> std::result::Result<u64, String> {
    fill(seed, index, scratch);
    if rec[..VALUE_OFFSET] != scratch[..VALUE_OFFSET] || rec[VALUE_OFFSET + 8..] != scratch[VALUE_OFFSET + 8..] {
        let id = u32::from_le_bytes(rec[0..4].try_into().expect("4 bytes"));
        return Err(if id as u64 != index & 0xffff_ffff {
            format!("holds record id {id} (misplaced or foreign data)")
        } else {
            "its id, check word, label or filler changed (torn or misplaced write)".into()
        });
    }
    let v = f64::from_le_bytes(rec[VALUE_OFFSET..VALUE_OFFSET + 8].try_into().expect("8 bytes"));
    let v0 = initial_value(seed, index);
    let d = v - v0;
    let k = d / STEP;
    let whole_steps = d >= 0.0 && v < EXACT_LIMIT && k.fract() == 0.0 && k * STEP == d;
    if !whole_steps {
        return Err(format!(
            "value {v} is not its initial value {v0} plus a whole number of updates of {STEP} (a lost or torn update)"
        ));
    }
    Ok(k as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_are_counted_exactly_and_damage_is_named() {
        let mut scratch = [0u8; 32];
        let mut rec = [0u8; 32];
        fill(7, 1234, &mut rec);
        assert_eq!(&rec[16..32], b"item-0000001234\0");
        assert_eq!(updates_of(7, 1234, &rec, &mut scratch), Ok(0));
        for _ in 0..1_000_000 {
            update(&mut rec);
        }
        assert_eq!(updates_of(7, 1234, &rec, &mut scratch), Ok(1_000_000));
        // SAFETY: `rec` is a whole record on this stack.
        unsafe { update_in_place(rec.as_mut_ptr()) };
        assert_eq!(updates_of(7, 1234, &rec, &mut scratch), Ok(1_000_001));
        assert!(updates_of(7, 1235, &rec, &mut scratch).unwrap_err().contains("record id 1234"));
        let mut torn = rec;
        torn[VALUE_OFFSET] ^= 1;
        assert!(updates_of(7, 1234, &torn, &mut scratch).unwrap_err().contains("lost or torn"));
    }

    #[test]
    fn short_and_long_records_keep_the_layout() {
        for rs in [16usize, 24, 48, 72] {
            let mut rec = vec![0u8; rs];
            let mut scratch = rec.clone();
            fill(3, 9, &mut rec);
            update(&mut rec);
            assert_eq!(updates_of(3, 9, &rec, &mut scratch), Ok(1), "record size {rs}");
        }
    }
}
