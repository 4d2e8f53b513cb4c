//! A criterion `Measurement` for what wall time hides: CPU time (user + system, every thread of
//! the process, io_uring and tokio workers included) spent per iteration, from getrusage.

use criterion::Throughput;
use criterion::measurement::{Measurement, ValueFormatter};
use iobench::os::usage::Usage;

pub struct CpuTime;

impl Measurement for CpuTime {
    type Intermediate = Usage;
    type Value = u64;

    fn start(&self) -> Usage {
        Usage::process()
    }
    fn end(&self, start: Usage) -> u64 {
        let d = Usage::process().since(&start);
        d.user_ns + d.sys_ns
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = match typical {
            t if t < 1e3 => (1.0, "ns cpu"),
            t if t < 1e6 => (1e3, "µs cpu"),
            t if t < 1e9 => (1e6, "ms cpu"),
            _ => (1e9, "s cpu"),
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }

    fn scale_throughputs(&self, typical: f64, throughput: &Throughput, values: &mut [f64]) -> &'static str {
        let per_cpu_s = |n: f64, v: f64| n * 1e9 / v;
        let (n, unit) = match throughput {
            Throughput::Bytes(b) | Throughput::BytesDecimal(b) => (*b as f64 / 1e6, "MB/cpu-s"),
            Throughput::Elements(e) | Throughput::ElementsAndBytes { elements: e, .. } => (*e as f64, "ops/cpu-s"),
            Throughput::Bits(b) => (*b as f64 / 1e6, "Mbit/cpu-s"),
        };
        let _ = typical;
        values.iter_mut().for_each(|v| *v = per_cpu_s(n, *v));
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns cpu"
    }
}
