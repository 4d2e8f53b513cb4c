//! The operation stream of one worker: direction (read or write, by rwmixread) and offset
//! (sequential, uniform or zipf), drawn the same way whatever the backend.

use crate::backend::OpKind;
use crate::plan::{Distribution, Plan, Rw};
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use rand_distr::{Distribution as _, Zipf};

/// 2^61 - 1, a prime larger than any block count: multiplying ranks by it modulo the block
/// count is a bijection that scatters zipf's hot ranks over the whole file, as fio does.
const SCATTER: u128 = (1 << 61) - 1;

pub struct OpStream {
    random: bool,
    /// Every operation's kind, for patterns with one kind (record updates, scans).
    fixed: Option<OpKind>,
    read_pct: u32,
    bs: u64,
    blocks: u64,
    next_block: u64,
    rng: SmallRng,
    zipf: Option<Zipf<f64>>,
}

impl OpStream {
    /// The stream of worker `worker` of `workers`. Sequential workers start at evenly spaced
    /// blocks; random ones use their own seeds, so workers do not all hit the same blocks.
    pub fn new(plan: &Plan, worker: u32, workers: u32) -> Self {
        // A scan always covers the whole file from offset 0; records are blocks of record size.
        let blocks = if plan.rw == Rw::Scan { 1 } else { plan.blocks() };
        let fixed = match plan.rw {
            Rw::Scan => Some(OpKind::Scan),
            rw if rw.is_records() => Some(OpKind::Update),
            _ => None,
        };
        let zipf = match plan.distribution {
            Distribution::Uniform => None,
            Distribution::Zipf { theta } => Some(Zipf::new(blocks as f64, theta).expect("plan validated theta")),
        };
        OpStream {
            random: plan.rw.is_random(),
            fixed,
            read_pct: plan.rwmixread_pct,
            bs: plan.bs_bytes,
            blocks,
            next_block: blocks * worker as u64 / workers.max(1) as u64,
            rng: SmallRng::seed_from_u64(plan.seed ^ (worker as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            zipf,
        }
    }

    /// The next operation's direction and offset.
    #[inline]
    pub fn next_op(&mut self) -> (OpKind, u64) {
        let kind = match (self.fixed, self.read_pct) {
            (Some(k), _) => k,
            (None, 100) => OpKind::Read,
            (None, 0) => OpKind::Write,
            (None, p) => {
                if self.rng.random_range(0..100) < p {
                    OpKind::Read
                } else {
                    OpKind::Write
                }
            }
        };
        let block = if !self.random {
            let b = self.next_block;
            self.next_block = if b + 1 == self.blocks { 0 } else { b + 1 };
            b
        } else if let Some(z) = &self.zipf {
            let rank = z.sample(&mut self.rng) as u64 - 1;
            ((rank as u128 * SCATTER) % self.blocks as u128) as u64
        } else {
            // Lemire's multiply-shift: uniform in [0, blocks) without a division.
            ((self.rng.next_u64() as u128 * self.blocks as u128) >> 64) as u64
        };
        (kind, block * self.bs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Plan, PlanContext};
    use crate::workload::{RawWorkload, cli_value};

    fn plan(rw: &str, dist: Option<&str>) -> Plan {
        let raw = RawWorkload {
            rw: Some(rw.into()),
            bs: Some(cli_value("4k")),
            size: Some(cli_value("1m")),
            random_distribution: dist.map(String::from),
            ..Default::default()
        };
        Plan::from_raw(&raw, PlanContext::default()).unwrap().0
    }

    #[test]
    fn sequential_wraps_and_workers_start_apart() {
        let p = plan("read", None);
        let mut s = OpStream::new(&p, 1, 2);
        assert_eq!(s.next_op().1, 128 * 4096);
        for _ in 0..127 {
            s.next_op();
        }
        assert_eq!(s.next_op().1, 0, "wraps to the start of the file");
    }

    #[test]
    fn random_offsets_are_aligned_and_in_range() {
        for dist in [None, Some("zipf:1.2")] {
            let p = plan("randread", dist);
            let mut s = OpStream::new(&p, 0, 1);
            let mut seen = std::collections::HashSet::new();
            for _ in 0..10_000 {
                let (k, off) = s.next_op();
                assert_eq!(k, OpKind::Read);
                assert!(off % 4096 == 0 && off + 4096 <= 1 << 20);
                seen.insert(off);
            }
            assert!(seen.len() > 50, "{dist:?} covers many blocks");
        }
    }

    #[test]
    fn mix_follows_rwmixread() {
        let raw = RawWorkload { rw: Some("randrw".into()), rwmixread: Some(70), ..Default::default() };
        let p = Plan::from_raw(&raw, PlanContext::default()).unwrap().0;
        let mut s = OpStream::new(&p, 0, 1);
        let reads = (0..10_000).filter(|_| s.next_op().0 == OpKind::Read).count();
        assert!((6500..7500).contains(&reads), "{reads}");
    }
}
