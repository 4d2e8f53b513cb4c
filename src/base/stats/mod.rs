//! Latency histograms (HdrHistogram, nanoseconds, 3 significant digits) and their summaries.

pub mod series;

use crate::base::error::{Error, Result};
use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};

pub use series::{IntervalPoint, SeriesRecorder};

pub type Hist = Histogram<u64>;

/// Largest latency recorded exactly: one hour. Longer values are clamped to it. With u64
/// counts a histogram cannot overflow before 2^64 operations (584 years at 1 G ops/s).
pub(crate) const MAX_LATENCY_NS: u64 = 3_600_000_000_000;

pub fn new_hist() -> Hist {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("constant histogram bounds are valid")
}

/// The percentiles every result reports, in nanoseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
    pub p99_99: u64,
    pub max: u64,
}

pub fn summarize(h: &Hist) -> LatencySummary {
    if h.is_empty() {
        return LatencySummary::default();
    }
    LatencySummary {
        min: h.min(),
        mean: h.mean(),
        p50: h.value_at_quantile(0.50),
        p90: h.value_at_quantile(0.90),
        p99: h.value_at_quantile(0.99),
        p99_9: h.value_at_quantile(0.999),
        p99_99: h.value_at_quantile(0.9999),
        max: h.max(),
    }
}

/// HdrHistogram V2 encoding, base64: the format other HdrHistogram tools read.
pub fn encode(h: &Hist) -> String {
    let mut bytes = Vec::new();
    V2Serializer::new().serialize(h, &mut bytes).expect("serializing into a Vec cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn decode(text: &str) -> Result<Hist> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| Error::Damaged(format!("histogram is not valid base64: {e}")))?;
    decode_bytes(&bytes)
}

pub(crate) fn decode_bytes(bytes: &[u8]) -> Result<Hist> {
    let h: Hist = Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|e| Error::Damaged(format!("histogram is not HdrHistogram V2: {e:?}")))?;
    // Re-home into our bounds so merges never fail on range.
    let mut out = new_hist();
    out.add(&h).map_err(|e| Error::Damaged(format!("histogram out of range: {e:?}")))?;
    Ok(out)
}

/// Adds `other` into `into`; both come from `new_hist`, so this cannot fail.
pub fn merge(into: &mut Hist, other: &Hist) {
    into.add(other).expect("histograms with the same bounds always merge");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_merge_are_exact() {
        let mut a = new_hist();
        let mut b = new_hist();
        for v in 1..1000u64 {
            a.record(v * 37).unwrap();
            b.record(v * 91).unwrap();
        }
        let back = decode(&encode(&a)).unwrap();
        assert_eq!(back, a);
        let mut m = a.clone();
        merge(&mut m, &b);
        assert_eq!(m.len(), a.len() + b.len());
        assert_eq!(m.max(), a.max().max(b.max()));
        assert!(decode("not base64!").is_err());
    }
}
