//! iobench never damages data it did not create, and removes only what it created.
//! Each test here fails if the protection it names is taken away.

mod common;

use common::safety::{listing, signal, spawn, wait_until};
use common::{TempDir, iobench, skip, stderr};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = iobench(args);
    (out.status.code(), stderr(&out))
}

/// A short read or write run on `filename`, with the results file beside it.
fn on_file(dir: &TempDir, filename: &str, rw: &str, extra: &[&str]) -> (Option<i32>, String) {
    let out = dir.path().join("r.json");
    let mut args = vec![
        "run",
        "--backend",
        "buffered",
        "--rw",
        rw,
        "--size",
        "1m",
        "--runtime",
        "100ms",
        "--filename",
        filename,
        "--output",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn is_pattern(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.len() >= 4096 && iobench::patterns::block::verify(0x0010_bec4, 0, &bytes[..4096]).is_ok()
}

#[test]
fn a_foreign_file_is_read_but_never_written_unless_allowed() {
    let dir = TempDir::new("foreign");
    let victim = dir.path().join("precious.db");
    let victim_s = victim.to_str().unwrap();
    let content: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(&victim, &content).unwrap();

    let (code, err) = on_file(&dir, victim_s, "randwrite", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "iobench: filename: {victim_s} exists and was not written by iobench; a write workload would overwrite \
             it: add --allow-overwrite {victim_s} to permit that, or name a new file"
        )
    );
    let (code, err) = on_file(&dir, victim_s, "randread", &["--verify"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("verify: ") && err.contains("holds no pattern to check; drop --verify"), "{err}");
    // Reading is allowed and leaves the file as it was.
    let (code, err) = on_file(&dir, victim_s, "randread", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(std::fs::read(&victim).unwrap(), content, "reads changed nothing");
    // Permission names the file: then it is overwritten with the pattern, and kept (it existed before).
    let (code, err) = on_file(&dir, victim_s, "randwrite", &["--allow-overwrite", victim_s]);
    assert_eq!(code, Some(0), "{err}");
    assert!(is_pattern(&victim), "the permitted overwrite happened");
}

#[test]
fn a_foreign_file_under_iobench_s_own_name_is_refused() {
    let dir = TempDir::new("foreign-own-name");
    let data = dir.path().join("d");
    std::fs::create_dir(&data).unwrap();
    let taken = data.join("iobench-1m-10bec4.dat");
    std::fs::write(&taken, vec![b'x'; 1 << 20]).unwrap();
    let out = dir.path().join("r.json");
    let (code, err) = run(&[
        "run",
        "--rw",
        "randread",
        "--size",
        "1m",
        "--runtime",
        "100ms",
        "--dir",
        data.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "iobench: dir: {} exists and was not written by iobench; remove it or choose another --dir",
            taken.display()
        )
    );
    assert_eq!(std::fs::read(&taken).unwrap(), vec![b'x'; 1 << 20]);
}

#[test]
fn symbolic_links_are_never_followed_for_writes() {
    let dir = TempDir::new("symlink");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"keep me").unwrap();
    // A link under the data file's own name.
    let data = dir.path().join("d");
    std::fs::create_dir(&data).unwrap();
    let planted = data.join("iobench-1m-10bec4.dat");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let out = dir.path().join("r.json");
    let (code, err) = run(&[
        "run",
        "--rw",
        "randwrite",
        "--size",
        "1m",
        "--runtime",
        "100ms",
        "--dir",
        data.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("exists and is not a regular file; iobench only uses files it created"), "{err}");
    // A link named with --filename, even with permission for the file it points to.
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let (code, err) =
        on_file(&dir, link.to_str().unwrap(), "randwrite", &["--allow-overwrite", victim.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "iobench: filename: {} is a symbolic link, which iobench never follows for writes; name the file it \
             points to",
            link.display()
        )
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
}

#[test]
fn devices_are_refused_without_allow_device() {
    let dir = TempDir::new("chardev");
    // A private node for the null device: the real /dev/null is never a test subject.
    let node = dir.path().join("null");
    let made = Command::new("mknod").arg(&node).args(["c", "1", "3"]).status().is_ok_and(|s| s.success());
    if !made {
        return skip("devices_are_refused_without_allow_device", "mknod failed (needs root)");
    }
    let (code, err) = on_file(&dir, node.to_str().unwrap(), "randread", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "iobench: filename: {} is a character device; iobench uses devices only with --allow-device",
            node.display()
        )
    );
}

/// A loop device over a file of the test's own, detached when dropped.
struct Loop {
    dev: String,
}

impl Loop {
    fn new(backing: &Path) -> Option<Loop> {
        let out = Command::new("losetup").args(["-f", "--show"]).arg(backing).output().ok()?;
        let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !dev.is_empty()).then_some(Loop { dev })
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.dev]).status();
    }
}

#[test]
fn a_block_device_needs_allow_device_and_writes_need_allow_overwrite() {
    let dir = TempDir::new("blockdev");
    let backing = dir.path().join("backing.img");
    let content = vec![0x5au8; 4 << 20];
    std::fs::write(&backing, &content).unwrap();
    let Some(dev) = Loop::new(&backing) else {
        return skip(
            "a_block_device_needs_allow_device_and_writes_need_allow_overwrite",
            "no loop device (losetup failed)",
        );
    };
    let d = dev.dev.as_str();
    let (code, err) = on_file(&dir, d, "randread", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&format!("filename: {d} is a block device; iobench uses devices only with --allow-device")));
    let (code, err) = on_file(&dir, d, "randwrite", &["--allow-device"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("a write workload would destroy its contents: add --allow-overwrite"), "{err}");
    let (code, err) = on_file(&dir, d, "randread", &["--allow-device"]);
    assert_eq!(code, Some(0), "reads of a permitted device work: {err}");
    assert_eq!(std::fs::read(&backing).unwrap(), content, "nothing was written to the device");
    let (code, err) = on_file(&dir, d, "randwrite", &["--allow-device", "--allow-overwrite", d, "--cache", "as-is"]);
    assert_eq!(code, Some(0), "{err}");
    drop(dev);
    assert!(is_pattern(&backing), "the permitted device was written");
    assert!(backing.exists(), "never removed: iobench did not create it");
}

#[test]
fn cleanup_removes_only_what_this_invocation_created() {
    let dir = TempDir::new("cleanup");
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let out = dir.path().join("r.json");
    let out_s = out.to_str().unwrap();
    // A fresh directory and file: both gone afterwards.
    let (code, err) = run(&["run", "--size", "1m", "--runtime", "100ms", "--dir", data_s, "--output", out_s]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!data.exists(), "the data directory this run created is removed");
    // --keep-files keeps them; a later run reuses and keeps the 1m file, removes the 2m one it made.
    let (code, err) =
        run(&["run", "--size", "1m", "--runtime", "100ms", "--dir", data_s, "--output", out_s, "--keep-files"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(listing(&data), ["iobench-1m-10bec4.dat"]);
    std::fs::write(data.join("notes.txt"), b"mine").unwrap();
    let (code, err) = run(&["run", "--size", "1m,2m", "--runtime", "100ms", "--dir", data_s, "--output", out_s]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(listing(&data), ["iobench-1m-10bec4.dat", "notes.txt"]);
    // On error too: the results cannot be written (their directory would be inside a file).
    let bad_out = dir.path().join("r.json").join("r.json");
    let (code, err) =
        run(&["run", "--size", "3m", "--runtime", "100ms", "--dir", data_s, "--output", bad_out.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("cannot create"), "{err}");
    assert_eq!(listing(&data), ["iobench-1m-10bec4.dat", "notes.txt"], "removed after an error: {err}");
}

fn wait_for_file(path: &Path) {
    assert!(wait_until(Duration::from_secs(20), || path.exists()), "{} never appeared", path.display());
}

#[test]
fn cleanup_runs_on_sigint_and_sigterm() {
    let dir = TempDir::new("cleanup-signal");
    for (name, sig) in [("int", libc::SIGINT), ("term", libc::SIGTERM)] {
        let data = dir.path().join(name);
        let out = dir.path().join(format!("{name}.json"));
        let child = spawn(&[
            "run",
            "--size",
            "4m",
            "--runtime",
            "10s",
            "--dir",
            data.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ]);
        wait_for_file(&data.join("iobench-4m-10bec4.dat"));
        std::thread::sleep(Duration::from_millis(200));
        signal(&child, sig);
        let status = child.wait_with_output().unwrap().status;
        assert!(status.code().is_some(), "{name}: exited, not killed: {status:?}");
        assert!(!data.exists(), "{name}: created files removed: {:?}", listing(&data));
    }
}

#[test]
fn a_second_signal_exits_at_once_and_still_removes_created_files() {
    let dir = TempDir::new("second-signal");
    let data = dir.path().join("data");
    let out = dir.path().join("r.json");
    let child = spawn(&[
        "run",
        "--size",
        "4m",
        "--runtime",
        "10s",
        "--dir",
        data.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    let file = data.join("iobench-4m-10bec4.dat");
    wait_for_file(&file);
    std::thread::sleep(Duration::from_millis(200));
    // Two different signals back to back: both are delivered before the run can wind down.
    signal(&child, libc::SIGINT);
    signal(&child, libc::SIGTERM);
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(status.code(), Some(130), "the second signal exits at once");
    assert!(!file.exists(), "the signal handler unlinked the data file");
    assert!(!data.exists(), "and the directory it created");
}

#[test]
fn results_to_a_device_node_do_not_replace_it() {
    let dir = TempDir::new("output-node");
    let node = dir.path().join("null");
    let made = Command::new("mknod").arg(&node).args(["c", "1", "3"]).status().is_ok_and(|s| s.success());
    if !made {
        return skip("results_to_a_device_node_do_not_replace_it", "mknod failed (needs root)");
    }
    let data = dir.path().join("data");
    let (code, err) = run(&[
        "run",
        "--backend",
        "null",
        "--size",
        "1m",
        "--runtime",
        "50ms",
        "--dir",
        data.to_str().unwrap(),
        "--output",
        node.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&node).unwrap().file_type().is_char_device(), "still the device node");
}

#[test]
fn backends_open_the_data_file_without_following_a_link_for_writes() {
    use iobench::datafile::blocks::DataFile;
    use iobench::workload::plan::{Plan, PlanContext};
    use iobench::workload::raw::{RawWorkload, cli_value};
    let dir = TempDir::new("nofollow");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, vec![1u8; 1 << 20]).unwrap();
    // A link swapped in after the checks, right before the backend opens the file.
    let link = dir.path().join("iobench-1m-10bec4.dat");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let data = DataFile { path: link.clone(), size: 1 << 20, seed: 0x0010_bec4 };
    for backend in ["buffered", "direct", "mmap", "uring", "tokio"] {
        let raw = RawWorkload {
            backend: Some(backend.into()),
            rw: Some("randwrite".into()),
            size: Some(cli_value("1m")),
            dir: Some(dir.str().into()),
            ..Default::default()
        };
        let plan = Plan::from_raw(&raw, PlanContext::default()).unwrap().0;
        match iobench::backend::open(&plan, &data, &iobench::backend::BuiltIn) {
            Ok(_) => panic!("{backend} opened a symbolic link for writing"),
            Err(e) => {
                let e = e.to_string();
                // ELOOP from O_NOFOLLOW (io_uring may instead be unavailable on the machine).
                assert!(e.contains("Too many levels of symbolic links") || e.contains("skipped"), "{backend}: {e}");
            }
        }
    }
    assert_eq!(std::fs::read(&victim).unwrap(), vec![1u8; 1 << 20]);
}
