//! Finding the iobench build a child of another architecture runs (`arch = "i686"`).
//!
//! Looked for, in order: `IOBENCH_EXE_I686` (any `IOBENCH_EXE_<ARCH>`), then the cargo target
//! directory the running binary sits in (`<target>/release/iobench` →
//! `<target>/i686-unknown-linux-gnu/release/iobench`), which is where `.ci/run` builds it.

use crate::workload::resources::ChildArch;
use std::path::{Path, PathBuf};

/// The environment variable naming the binary for `arch`.
pub(crate) fn env_var(arch: ChildArch) -> &'static str {
    match arch {
        ChildArch::I686 => "IOBENCH_EXE_I686",
    }
}

/// How to get the binary, for the skip reason (one line).
pub(crate) fn how_to_build(arch: ChildArch) -> String {
    let t = arch.target();
    format!(
        "build it with `rustup target add {t}` and `CARGO_TARGET_{}_LINKER=i686-linux-gnu-gcc \
         CARGO_TARGET_{0}_RUSTFLAGS=\"-C target-feature=+crt-static\" cargo build --release --target {t} \
         --no-default-features` (what .ci/run does), or set {}",
        t.to_uppercase().replace('-', "_"),
        env_var(arch)
    )
}

/// The binary for `arch`, or why there is none.
pub(crate) fn binary(arch: ChildArch) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(env_var(arch)) {
        let p = PathBuf::from(p);
        return if p.is_file() { Ok(p) } else { Err(format!("{} = {} is not a file", env_var(arch), p.display())) };
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the running binary ({e})"))?;
    let candidate = beside(&exe, arch);
    match candidate {
        Some(p) if p.is_file() => Ok(p),
        Some(p) => Err(format!("no {} build of iobench at {}: {}", arch.target(), p.display(), how_to_build(arch))),
        None => Err(format!("no {} build of iobench: {}", arch.target(), how_to_build(arch))),
    }
}

/// `<target>/<profile>/iobench` → `<target>/<triple>/<profile>/iobench` (also from `deps/`).
fn beside(exe: &Path, arch: ChildArch) -> Option<PathBuf> {
    let mut dir = exe.parent()?;
    if dir.file_name()? == "deps" {
        dir = dir.parent()?;
    }
    let profile = dir.file_name()?;
    Some(dir.parent()?.join(arch.target()).join(profile).join("iobench"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cross_build_sits_beside_the_native_one() {
        let p = beside(Path::new("/t/release/iobench"), ChildArch::I686).unwrap();
        assert_eq!(p, Path::new("/t/i686-unknown-linux-gnu/release/iobench"));
        let p = beside(Path::new("/t/release/deps/article-0123"), ChildArch::I686).unwrap();
        assert_eq!(p, Path::new("/t/i686-unknown-linux-gnu/release/iobench"));
    }
}
