//! Byte formats and kernels, with no file I/O: the block pattern every data file carries, the
//! record layout and its update, the scan's line and match counter, and what the loop does with
//! a read's bytes. The files on disk built from them live in `datafile`; the loop that runs
//! them, in `engine`.

pub mod block;
pub(crate) mod consume;
pub mod records;
pub mod scan;

/// splitmix64's finaliser, shared by the block pattern, the records and the offset stream:
/// cheap, and every input bit changes the output.
#[inline(always)]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
