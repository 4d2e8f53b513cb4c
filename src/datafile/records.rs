//! The record files of `rw = records` / `seqrecords` on disk: generated with the record layout
//! of `patterns::records`, reused when every record checks out, and tallied after a run (the
//! updates each record's value shows must add up to the updates the run completed).

use super::blocks::DataFile;
use super::generate::{self, Found};
use crate::base::error::{Error, IoContext, Result};
use crate::base::units::format_size;
use crate::patterns::records::{Tally, fill, updates_of};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const CHUNK: usize = 1 << 20;

/// The record file of (size, record size, seed) in `dir`.
pub(crate) fn path(dir: &Path, size: u64, record_size: u64, seed: u64) -> PathBuf {
    dir.join(format!("iobench-records-{}-r{record_size}-{seed:x}.dat", format_size(size)))
}

/// Reads the whole file and checks every record; memory stays one chunk whatever the size.
pub fn tally(data: &DataFile, record_size: u64) -> Result<Tally> {
    let file = File::open(&data.path).context(|| format!("cannot open {}", data.path.display()))?;
    let rs = record_size as usize;
    let records = data.size / record_size;
    let per_chunk = (CHUNK / rs).max(1) as u64;
    let mut buf = vec![0u8; per_chunk as usize * rs];
    let mut scratch = vec![0u8; rs];
    let mut t = Tally { records, ..Tally::default() };
    let mut first = 0u64;
    while first < records {
        let n = per_chunk.min(records - first);
        let bytes = &mut buf[..n as usize * rs];
        file.read_exact_at(bytes, first * record_size).context(|| format!("cannot read {}", data.path.display()))?;
        for (i, rec) in bytes.chunks_exact(rs).enumerate() {
            let index = first + i as u64;
            let k = updates_of(data.seed, index, rec, &mut scratch).map_err(|m| {
                Error::Verify(format!("{}: record {index} at offset {}: {m}", data.path.display(), index * record_size))
            })?;
            t.updates += k;
            t.touched += (k > 0) as u64;
            t.max_updates = t.max_updates.max(k);
        }
        first += n;
    }
    Ok(t)
}

fn create(data: &DataFile, record_size: u64) -> Result<()> {
    let rs = record_size as usize;
    let records = data.size / record_size;
    let per_chunk = (CHUNK / rs).max(1) as u64;
    generate::create(&data.path, data.size, |sink| {
        let mut buf = vec![0u8; per_chunk as usize * rs];
        let mut first = 0u64;
        while first < records {
            let n = per_chunk.min(records - first);
            let bytes = &mut buf[..n as usize * rs];
            for (i, rec) in bytes.chunks_exact_mut(rs).enumerate() {
                fill(data.seed, first + i as u64, rec);
            }
            sink.write(bytes)?;
            first += n;
        }
        // Bytes after the last whole record stay zero.
        sink.write(&vec![0u8; (data.size - records * record_size) as usize])
    })
}

/// The record file for (size, record size, seed) in `dir`: reused if every record checks out
/// (earlier runs' updates included), created otherwise. Returns it with its tally.
pub fn prepare(dir: &Path, size: u64, record_size: u64, seed: u64) -> Result<(DataFile, Tally)> {
    super::cleanup::create_dir_all(dir).context(|| format!("cannot create data directory {}", dir.display()))?;
    let data = DataFile { path: path(dir, size, record_size, seed), size, seed };
    if let Found::File(len) = generate::look(&data.path)? {
        if len == size {
            match tally(&data, record_size) {
                Ok(t) => return Ok((data, t)),
                Err(Error::Verify(_)) => {}
                Err(e) => return Err(e),
            }
        }
        generate::replaceable(&data.path, first_is_ours(&data, record_size))?;
    }
    create(&data, record_size)?;
    Ok((data, Tally { records: size / record_size, ..Tally::default() }))
}

fn first_is_ours(data: &DataFile, record_size: u64) -> bool {
    let mut rec = vec![0u8; record_size as usize];
    let mut scratch = rec.clone();
    File::open(&data.path).and_then(|f| f.read_exact_at(&mut rec, 0)).is_ok()
        && updates_of(data.seed, 0, &rec, &mut scratch).is_ok()
}
