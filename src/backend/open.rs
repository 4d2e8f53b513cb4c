//! Opening a plan's backends: the factory contract, iobench's own factory, and the adapters
//! the article's patterns put around a backend (scan readers, read-modify-write).

use super::{Backend, BackendKind, rmw, scan};
use crate::base::error::{Error, Result};
use crate::datafile::blocks::DataFile;
use crate::workload::plan::{Plan, Rw};

/// Alignment the loop must give buffers, offsets and lengths for this plan's backend.
pub(crate) fn required_alignment(plan: &Plan, data: &DataFile) -> Result<u64> {
    if !plan.backend.is_direct() {
        Ok(1)
    } else if plan.rw.is_records() {
        // Record updates move aligned windows around the record, whatever its size.
        Ok(super::rmw::direct_alignment(data))
    } else {
        super::buffered::direct_alignment(plan, data)
    }
}

/// Opens a plan's backends with the adapters its pattern needs: scans have their own readers
/// except on mmap, buffered and direct (see `scan`); record updates on backends that do not map
/// the file are read-modify-writes through their reads and writes (see `rmw`).
pub fn open(plan: &Plan, data: &DataFile, factory: &dyn BackendFactory) -> Result<Vec<Box<dyn Backend>>> {
    if plan.rw == Rw::Scan {
        return scan::open(plan, data, factory);
    }
    if plan.rw.is_records() {
        return rmw::open(plan, data, factory);
    }
    factory.open(plan, data)
}

/// Opens the backends of a plan: one instance per worker thread, on the prepared data file,
/// untimed. The loop drives them (see `Backend`); a factory only opens them.
///
/// A backend from outside iobench plugs in as a factory for its `BackendKind::Outside` plans
/// (see `engine::run_on` and `app::session::Session::with_backend`). Any function or closure
/// that opens one instance is a factory: it is called once per worker thread.
pub trait BackendFactory: Sync {
    fn open(&self, plan: &Plan, data: &DataFile) -> Result<Vec<Box<dyn Backend>>>;
}

impl<F> BackendFactory for F
where
    F: Fn(&Plan, &DataFile) -> Result<Box<dyn Backend>> + Sync,
{
    fn open(&self, plan: &Plan, data: &DataFile) -> Result<Vec<Box<dyn Backend>>> {
        (0..plan.threads).map(|_| self(plan, data)).collect()
    }
}

/// iobench's own backends.
pub struct BuiltIn;

impl BackendFactory for BuiltIn {
    fn open(&self, plan: &Plan, data: &DataFile) -> Result<Vec<Box<dyn Backend>>> {
        open_built_in(plan, data)
    }
}

fn open_built_in(plan: &Plan, data: &DataFile) -> Result<Vec<Box<dyn Backend>>> {
    let threads = plan.threads as usize;
    let mut out: Vec<Box<dyn Backend>> = Vec::with_capacity(threads);
    match plan.backend {
        BackendKind::Buffered | BackendKind::Direct => {
            for _ in 0..threads {
                out.push(Box::new(super::PreadBackend::open(plan, data)?));
            }
        }
        BackendKind::Mmap if plan.limits.window_bytes.is_some() => {
            let window = plan.limits.window_bytes.unwrap_or(plan.size_bytes);
            for _ in 0..threads {
                out.push(Box::new(super::mmap::window::WindowedMmap::open(plan, data, window)?));
            }
        }
        BackendKind::Mmap => {
            let shared = super::mmap::SharedMap::open(plan, data)?;
            for _ in 0..threads {
                out.push(Box::new(shared.instance()));
            }
        }
        BackendKind::Uring | BackendKind::UringDirect => {
            for _ in 0..threads {
                out.push(Box::new(super::uring::UringBackend::open(plan, data)?));
            }
        }
        BackendKind::Tokio | BackendKind::TokioPread => {
            let rt = super::tokio::runtime()?;
            for _ in 0..threads {
                out.push(Box::new(super::tokio::TokioBackend::open(plan, data, rt.clone())?));
            }
        }
        BackendKind::Null => {
            for _ in 0..threads {
                out.push(Box::new(super::null::NullBackend::default()));
            }
        }
        BackendKind::Lines => return Err(super::scan::lines_elsewhere()),
        BackendKind::Outside(o) => {
            return Err(Error::Bug(format!("{} is a backend from outside iobench: run it with its factory", o.name)));
        }
    }
    Ok(out)
}
