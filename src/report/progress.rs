//! Progress of a suite on stderr: a bar with the current cell and an ETA on a terminal, one
//! plain line per finished cell otherwise (logs, CI, pipes).

use crate::app::session::Progress as Event;
use crate::result::patterns::PatternFigures;
use crate::result::{RunResult, RunStatus};
use crate::workload::plan::Plan;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// Time a cell is expected to take beyond its measured time (file preparation, cache state).
const OVERHEAD: Duration = Duration::from_millis(300);

pub struct Reporter {
    bar: Option<ProgressBar>,
    /// Expected duration of each cell, in run order, in milliseconds.
    weights: Vec<u64>,
}

fn expected(plan: &Plan) -> Duration {
    // A run limited only by io_size has no known duration: count a second.
    plan.runtime().unwrap_or(Duration::from_secs(1)) + plan.ramp() + OVERHEAD
}

/// Short figures of a finished run: `123.4K IOPS, 482 MB/s` (records/s for record updates, GB/s
/// and lines/s for scans) or the reason it did not run.
pub(crate) fn outcome(r: &RunResult) -> String {
    match (r.status, &r.measured) {
        (RunStatus::Ok, Some(m)) => match &m.pattern {
            Some(PatternFigures::Scan { gb_per_s, lines_per_s, .. }) => {
                format!("{gb_per_s:.2} GB/s, {:.1}M lines/s", lines_per_s / 1e6)
            }
            Some(PatternFigures::Records { records_per_s, .. }) => format!("{:.1}K records/s", records_per_s / 1e3),
            None => format!("{:.1}K IOPS, {:.0} MB/s", m.iops / 1e3, m.bw_bytes_per_s / 1e6),
        },
        (RunStatus::Ok, None) => "done".into(),
        (RunStatus::Skipped, _) => format!("skipped: {}", r.reason.as_deref().unwrap_or("")),
        (RunStatus::Failed, _) => format!("FAILED: {}", r.reason.as_deref().unwrap_or("")),
    }
}

impl Reporter {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub fn new<'p>(plans: impl IntoIterator<Item = &'p Plan>) -> Reporter {
        let weights: Vec<u64> = plans.into_iter().map(|p| expected(p).as_millis() as u64).collect();
        let total_s = weights.iter().sum::<u64>() / 1000;
        eprintln!("{} runs, about {}m{:02}s", weights.len(), total_s / 60, total_s % 60);
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(weights.iter().sum()), ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{elapsed_precise} [{bar:30.cyan/blue}] {percent:>3}% ETA {eta:>4} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Reporter { bar, weights }
    }

    pub fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start { index, total, plan } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("[{}/{total}] {} on {}", index + 1, plan.name, plan.backend));
                }
            }
            Event::Done { index, total, result } => {
                let line = format!(
                    "[{}/{total}] {} on {}: {}",
                    index + 1,
                    result.workload.name,
                    result.backend,
                    outcome(result)
                );
                match &self.bar {
                    Some(bar) => {
                        // Only what needs attention scrolls above the bar.
                        if result.status != RunStatus::Ok {
                            bar.println(line);
                        }
                        bar.inc(self.weights.get(index).copied().unwrap_or(0));
                    }
                    None => eprintln!("{line}"),
                }
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
