//! Reproducing the article's mmap vs read()/write() table: `iobench reproduce` runs the suite
//! `workloads/article.toml` and turns its results into ARTICLE.md, one verdict per claim.
//!
//! `evaluate` is a pure function from a results document to findings: each finding names what
//! the article says, the figures measured here, and a verdict computed by a rule that is stated
//! beside it. Nothing is written by hand, so the same document always gives the same verdicts,
//! and the rules can be tested on fixed inputs.

pub mod figures;
pub mod guard;
pub(crate) mod plots;
pub(crate) mod render;
pub mod reproduce;
mod rules_addr;
mod rules_io;
mod rules_memory;
mod rules_seq;
pub mod suite;

use crate::result::Results;
use serde::Serialize;

/// The outcome of one claim on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "detail", rename_all = "kebab-case")]
pub enum Verdict {
    Holds,
    /// Holds only under the named condition.
    HoldsIf(String),
    /// The measurements contradict it; says which figures and how.
    DoesNotHold(String),
    /// The runs that decide it are missing (skipped or failed); says which and why.
    NotMeasured(String),
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::HoldsIf(_) => "holds with a condition",
            Verdict::DoesNotHold(_) => "does not hold here",
            Verdict::NotMeasured(_) => "not measured",
        }
    }

    /// The condition, or why it was not measured.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Verdict::HoldsIf(d) | Verdict::DoesNotHold(d) | Verdict::NotMeasured(d) => Some(d),
            _ => None,
        }
    }
}

/// One claim of the article, tested.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable identifier: `copies`, `random-access`, … (also the anchor in ARTICLE.md).
    pub id: &'static str,
    /// The row or claim, as the article names it.
    pub title: &'static str,
    /// What the article says about it.
    pub article: &'static str,
    /// (figure, value with unit) pairs: what was measured here.
    pub measured: Vec<(String, String)>,
    /// What the figures show, in sentences computed from them.
    pub observations: Vec<String>,
    pub verdict: Verdict,
    /// How the verdict follows from the figures.
    pub rule: String,
    /// Workload names (in the suite) whose runs decided it.
    pub workloads: Vec<&'static str>,
    /// Verdicts of the row's parts where it has several (memory pressure: one per advice).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<(String, Verdict)>,
    /// Cells the anomaly guard left out, each with why: they decide nothing here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
    /// Cells whose runs lost more than `STEAL_SHOWN` percent of the machine's CPU to the host.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steal: Vec<String>,
}

/// Steal time (percent of the machine's CPU) above which a cell's runs are named.
pub(crate) const STEAL_SHOWN: f64 = 2.0;

impl Finding {
    fn new(id: &'static str, title: &'static str, article: &'static str, workloads: Vec<&'static str>) -> Finding {
        Finding {
            id,
            title,
            article,
            measured: Vec::new(),
            observations: Vec::new(),
            verdict: Verdict::NotMeasured("not evaluated".into()),
            rule: String::new(),
            workloads,
            parts: Vec::new(),
            left_out: Vec::new(),
            steal: Vec::new(),
        }
    }

    /// Notes what the guard left out of `cell` and its steal time, under `label`; returns the
    /// cell so rules can register cells as they pick them.
    fn track<'a>(&mut self, label: &str, cell: figures::Cell<'a>) -> figures::Cell<'a> {
        if let Some(note) = cell.guard_note() {
            let entry = format!("{label}: {note}");
            if !self.left_out.contains(&entry) {
                self.left_out.push(entry);
            }
        }
        if let Some(s) = cell.steal_max().filter(|s| *s > STEAL_SHOWN) {
            let entry = format!("{label}: up to {s:.1}% of the machine's CPU stolen by the host during its runs");
            if !self.steal.contains(&entry) {
                self.steal.push(entry);
            }
        }
        cell
    }

    fn figure(&mut self, label: impl Into<String>, value: impl Into<String>) {
        self.measured.push((label.into(), value.into()));
    }

    fn observe(&mut self, text: impl Into<String>) {
        self.observations.push(text.into());
    }
}

/// Every claim of the article, in the article's order: the six table rows, then the two claims
/// from its text.
pub fn evaluate(results: &Results) -> Vec<Finding> {
    vec![
        rules_io::copies(results),
        rules_io::random_access(results),
        rules_seq::sequential(results),
        rules_memory::memory_pressure(results),
        rules_io::write_persistence(results),
        rules_addr::address_space(results),
        rules_seq::uring_sequential(results),
        rules_memory::huge_pages(results),
    ]
}

/// One verdict for a row of parts: the parts' common verdict if they agree, else a condition
/// naming each part's outcome. Parts not measured are named but do not decide.
fn combine(parts: &[(String, Verdict)]) -> Verdict {
    let measured: Vec<&(String, Verdict)> =
        parts.iter().filter(|(_, v)| !matches!(v, Verdict::NotMeasured(_))).collect();
    let describe = |(label, v): &(String, Verdict)| match v.detail() {
        Some(d) => format!("{label}: {} ({d})", v.label()),
        None => format!("{label}: {}", v.label()),
    };
    if measured.is_empty() {
        // One reason for all parts when they share it.
        let details: Vec<&str> = parts.iter().filter_map(|(_, v)| v.detail()).collect();
        if details.windows(2).all(|w| w[0] == w[1])
            && let Some(d) = details.first()
        {
            let labels: Vec<&str> = parts.iter().map(|(l, _)| l.as_str()).collect();
            return Verdict::NotMeasured(format!("{}: {d}", labels.join(" and ")));
        }
        let why: Vec<String> = parts.iter().map(describe).collect();
        return Verdict::NotMeasured(why.join("; "));
    }
    let all = |f: fn(&Verdict) -> bool| measured.iter().all(|(_, v)| f(v));
    let each = parts.iter().map(describe).collect::<Vec<_>>().join("; ");
    if measured.len() == parts.len() && all(|v| *v == Verdict::Holds) {
        Verdict::Holds
    } else if all(|v| matches!(v, Verdict::DoesNotHold(_))) {
        Verdict::DoesNotHold(each)
    } else {
        Verdict::HoldsIf(each)
    }
}
