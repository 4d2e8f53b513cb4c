//! What the loop does with a read's bytes inside the timed operation (`consume = sum | touch`):
//! byte kernels that cannot be optimised away once their result is `black_box`ed.

use super::block::PAGE;

/// The user-side work every read path does on the bytes it got: a sum over every 8-byte word,
/// which touches each byte once at memory speed and cannot be optimised away once `black_box`ed.
#[inline]
pub(crate) fn consume(buf: &[u8]) -> u64 {
    let mut lanes = [0u64; 4];
    let mut chunks = buf.chunks_exact(32);
    for c in &mut chunks {
        for (l, w) in lanes.iter_mut().zip(c.chunks_exact(8)) {
            *l = l.wrapping_add(u64::from_le_bytes(w.try_into().unwrap()));
        }
    }
    let mut sum = lanes.iter().fold(0u64, |a, b| a.wrapping_add(*b));
    for &b in chunks.remainder() {
        sum = sum.wrapping_add(b as u64);
    }
    sum
}

/// The least work that still reads every page a block spans: one byte per 4 KiB page (what
/// makes an mmap read fault), read volatile so it cannot be skipped.
#[inline]
pub(crate) fn touch(buf: &[u8]) -> u64 {
    let mut sum = 0u64;
    for i in (0..buf.len()).step_by(PAGE as usize) {
        // SAFETY: `i` is inside `buf`.
        sum = sum.wrapping_add(unsafe { std::ptr::read_volatile(buf.as_ptr().add(i)) } as u64);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consume_sums_every_byte() {
        let buf: Vec<u8> = (0..100u8).collect();
        let a = consume(&buf);
        let mut b = buf.clone();
        b[99] ^= 0x40;
        assert_ne!(a, consume(&b));
    }
}
