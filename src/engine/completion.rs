//! A completion's result as the loop judges it: the bytes the operation had to move, or an error
//! naming the operation, the offset and the file.

use crate::backend::{Op, OpKind};
use crate::base::error::{Error, Result};
use crate::datafile::blocks::DataFile;

/// Turns a completion's result into an error naming the operation, or the byte count.
pub(crate) fn check_completion(op: &Op, result: i64, data: &DataFile) -> Result<()> {
    if op.kind == OpKind::Sync {
        return if result < 0 {
            Err(Error::io(
                format!("sync of {}", data.path.display()),
                std::io::Error::from_raw_os_error(-result as i32),
            ))
        } else {
            Ok(())
        };
    }
    let what = match op.kind {
        OpKind::Read => "read",
        OpKind::Update => "update",
        OpKind::Scan => "scan",
        OpKind::Write | OpKind::Sync => "write",
    };
    // A scan reports the whole file's bytes; every other operation its own length.
    let expected = if op.kind == OpKind::Scan { data.size } else { op.len as u64 };
    if result < 0 {
        return Err(Error::io(
            format!("{what} of {expected} bytes at offset {} of {}", op.offset, data.path.display()),
            std::io::Error::from_raw_os_error(-result as i32),
        ));
    }
    if result as u64 != expected {
        return Err(Error::FileChanged(format!(
            "short {what} at offset {} of {}: {result} of {expected} bytes (was the file truncated?)",
            op.offset,
            data.path.display(),
        )));
    }
    Ok(())
}
