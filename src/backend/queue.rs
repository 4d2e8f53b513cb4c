//! A piece shared by the queue backends (io_uring, tokio, the read-modify-write adapter): a
//! pointer to a slot's buffer that may travel to another thread.

/// A slot's buffer, sent to the thread that fills or stores it.
///
/// SAFETY (for whoever dereferences it): the run loop neither reads nor reuses a slot's buffer
/// between `submit` and the completion carrying that slot, and the buffer pool outlives the
/// backend (`Prepared` drops backends first, and each queue backend waits for its operations
/// in flight when dropped). So the memory stays valid and unaliased until the completion is sent.
#[derive(Clone, Copy)]
pub(crate) struct SlotBuf {
    pub(crate) ptr: *mut u8,
    pub(crate) len: usize,
}

// SAFETY: see the type's comment: exactly one thread uses the buffer between submit and completion.
unsafe impl Send for SlotBuf {}

impl SlotBuf {
    pub(crate) fn new(buf: &mut [u8], len: usize) -> SlotBuf {
        SlotBuf { ptr: buf.as_mut_ptr(), len: len.min(buf.len()) }
    }

    /// # Safety
    /// Only between the submit that made this `SlotBuf` and the completion of that operation.
    pub(crate) unsafe fn as_mut_slice<'a>(self) -> &'a mut [u8] {
        // SAFETY: guaranteed by the caller, as described on the type.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}
