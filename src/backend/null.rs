//! `null`: moves no bytes. What it measures is the harness itself: offset generation, two clock
//! reads, the histogram record and the loop, the floor under every other backend's latency.

use super::{Backend, Completion, Op};
use crate::base::error::Result;

#[derive(Default)]
pub(crate) struct NullBackend {
    pending: Option<Completion>,
}

impl Backend for NullBackend {
    #[inline]
    fn submit(&mut self, op: Op, _buf: &mut [u8]) -> Result<()> {
        self.pending = Some(Completion { slot: op.slot, result: op.len as i64 });
        Ok(())
    }

    #[inline]
    fn reap(&mut self, _min: usize, done: &mut Vec<Completion>) -> Result<()> {
        done.extend(self.pending.take());
        Ok(())
    }

    #[inline]
    fn view<'a>(&'a self, _op: &Op, _buf: &'a [u8]) -> &'a [u8] {
        &[]
    }

    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}
