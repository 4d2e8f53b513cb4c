//! The operation stream of one worker: direction (read or write, by rwmixread) and offset
//! (sequential, uniform or zipf), drawn the same way whatever the backend.

use crate::backend::OpKind;
use crate::workload::plan::{Distribution, Plan, Rw};
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use rand_distr::{Distribution as _, Zipf};

/// 2^61 - 1, a prime larger than any block count: multiplying ranks by it modulo the block
/// count is a bijection that scatters zipf's hot ranks over the whole file, as fio does.
const SCATTER: u128 = (1 << 61) - 1;

pub(crate) struct OpStream {
    random: bool,
    /// Uniform random offsets without repeats within a pass (fio's random map).
    map: Option<RandomMap>,
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
    pub(crate) fn new(plan: &Plan, worker: u32, workers: u32) -> Self {
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
        let map = plan.randommap.then(|| RandomMap::new(blocks, plan.seed, worker as u64, workers.max(1) as u64));
        OpStream {
            random: plan.rw.is_random(),
            map,
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
    pub(crate) fn next_op(&mut self) -> (OpKind, u64) {
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
        } else if let Some(m) = &mut self.map {
            m.next()
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

/// Every block once per pass, in an order that looks random, with no memory per block: the
/// pass's index runs through a keyed bijection of [0, 2^k) (k the bits of the block count),
/// and values past the last block are walked on through the bijection until one falls inside
/// (fewer than two steps on average). fio keeps a bitmap instead and takes the next free block
/// after a taken one; both visit each block exactly once per pass. Workers share the pass's
/// order and take every `stride`-th index from their own start, so together they also read
/// each block once per pass.
struct RandomMap {
    blocks: u64,
    mask: u64,
    shift: u32,
    seed: u64,
    pass: u64,
    key: u64,
    index: u64,
    start: u64,
    stride: u64,
}

impl RandomMap {
    fn new(blocks: u64, seed: u64, start: u64, stride: u64) -> RandomMap {
        let bits = 64 - (blocks.max(2) - 1).leading_zeros();
        let mut m = RandomMap {
            blocks,
            mask: if bits == 64 { u64::MAX } else { (1 << bits) - 1 },
            shift: (bits / 2).max(1),
            seed,
            pass: 0,
            key: 0,
            index: start,
            start,
            stride,
        };
        m.key = m.pass_key();
        m
    }

    fn pass_key(&self) -> u64 {
        crate::patterns::mix(self.seed ^ 0x7261_6e64_6d61_7021 ^ self.pass.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// A bijection of [0, mask]: each step (add, odd multiply, xorshift) is one modulo 2^k.
    #[inline]
    fn permute(&self, mut x: u64) -> u64 {
        for round in 0..3u64 {
            x = x.wrapping_add(self.key.rotate_left(round as u32 * 21)) & self.mask;
            x = x.wrapping_mul((self.key >> 1 | 1) ^ (round << 1)) & self.mask;
            x ^= x >> self.shift;
        }
        x
    }

    #[inline]
    fn next(&mut self) -> u64 {
        if self.index >= self.blocks {
            self.pass += 1;
            self.key = self.pass_key();
            self.index = self.start % self.blocks;
        }
        let mut b = self.permute(self.index);
        while b >= self.blocks {
            b = self.permute(b);
        }
        self.index += self.stride;
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::plan::{Plan, PlanContext};
    use crate::workload::raw::{RawWorkload, cli_value};

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
    fn random_map_visits_every_block_once_per_pass() {
        for blocks in [1u64, 2, 3, 7, 64, 1000, 4097] {
            for workers in [1u64, 2, 3] {
                let mut maps: Vec<RandomMap> = (0..workers).map(|w| RandomMap::new(blocks, 9, w, workers)).collect();
                for pass in 0..2 {
                    let mut seen = vec![0u32; blocks as usize];
                    for (w, m) in maps.iter_mut().enumerate() {
                        for _ in (w as u64..blocks).step_by(workers as usize) {
                            seen[m.next() as usize] += 1;
                        }
                    }
                    assert!(seen.iter().all(|&n| n == 1), "{blocks} blocks, {workers} workers, pass {pass}: {seen:?}");
                }
            }
        }
    }

    #[test]
    fn random_map_order_is_not_sequential_and_changes_per_pass() {
        let mut m = RandomMap::new(1 << 16, 1, 0, 1);
        let first: Vec<u64> = (0..1 << 16).map(|_| m.next()).collect();
        let second: Vec<u64> = (0..1 << 16).map(|_| m.next()).collect();
        let ascending = first.windows(2).filter(|w| w[1] == w[0] + 1).count();
        assert!(ascending < 100, "{ascending} consecutive neighbours: the order is not scattered");
        assert_ne!(first[..100], second[..100], "each pass has its own order");
        // The first tenth of a pass spreads over the whole file, as uniform draws do.
        let tenth = &first[..first.len() / 10];
        let upper = tenth.iter().filter(|&&b| b >= 1 << 15).count() as f64 / tenth.len() as f64;
        assert!((0.45..0.55).contains(&upper), "{upper}");
    }

    #[test]
    fn plans_keep_a_random_map_for_uniform_random_blocks_only() {
        assert!(plan("randread", None).randommap);
        assert!(!plan("randread", Some("zipf:1.2")).randommap);
        assert!(!plan("read", None).randommap);
        let raw = RawWorkload { rw: Some("randread".into()), norandommap: Some(true.into()), ..Default::default() };
        assert!(!Plan::from_raw(&raw, PlanContext::default()).unwrap().0.randommap);
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
