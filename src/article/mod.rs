//! Reproducing the article's mmap vs read()/write() table: `iobench reproduce` runs the suite
//! `workloads/article.toml` and turns its results into ARTICLE.md, one verdict per claim.
//!
//! `evaluate` is a pure function from a results document to findings: each finding names what
//! the article says, the figures measured here, and a verdict computed by a rule that is stated
//! beside it. Nothing is written by hand, so the same document always gives the same verdicts,
//! and the rules can be tested on fixed inputs.

pub(crate) mod figures;
pub(crate) mod plots;
pub(crate) mod render;
pub mod reproduce;
mod rules_io;
mod rules_memory;
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
    DoesNotHold,
    /// The runs that decide it are missing (skipped or failed); says which and why.
    NotMeasured(String),
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::HoldsIf(_) => "holds with a condition",
            Verdict::DoesNotHold => "does not hold here",
            Verdict::NotMeasured(_) => "not measured",
        }
    }

    /// The condition, or why it was not measured.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Verdict::HoldsIf(d) | Verdict::NotMeasured(d) => Some(d),
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
}

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
        }
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
        rules_io::sequential(results),
        rules_memory::memory_pressure(results),
        rules_io::write_persistence(results),
        rules_memory::address_space(results),
        rules_io::uring_sequential(results),
        rules_memory::huge_pages(results),
    ]
}
