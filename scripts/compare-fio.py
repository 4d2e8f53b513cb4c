#!/usr/bin/env python3
"""Side-by-side iobench vs fio on the same file, alternating A B A B, median of N pairs.

Prints: workload, iobench, fio, ratio (iobench / fio, IOPS or bandwidth), both p50s (total
latency: fio runs with lat_percentiles=1), and saves everything as JSON under results/.

    scripts/compare-fio.py [--pairs 3] [--runtime 5] [--size 1g] [--only NAME] [--out FILE]

Needs fio (apt-get install -y fio) and a release build (cargo build --release).
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IOBENCH = os.path.join(ROOT, "target", "release", "iobench")

# name, iobench args, fio args, metric ("iops" or "bw")
def workloads(size):
    direct = ["--cache", "as-is"]
    warm = ["--cache", "warm"]
    return [
        ("null 4k (harness floor)", ["--backend", "null", "--rw", "randread", "--bs", "4k"], ["--ioengine=null", "--rw=randread", "--bs=4k"], "iops", None),
        ("randread 4k direct QD1", ["--backend", "direct", "--rw", "randread", "--bs", "4k"] + direct, ["--ioengine=psync", "--direct=1", "--rw=randread", "--bs=4k"], "iops", "file"),
        ("randread 4k direct QD32", ["--backend", "uring-direct", "--rw", "randread", "--bs", "4k", "--iodepth", "32"] + direct, ["--ioengine=io_uring", "--direct=1", "--rw=randread", "--bs=4k", "--iodepth=32"], "iops", "file"),
        ("randread 4k warm buffered", ["--backend", "buffered", "--rw", "randread", "--bs", "4k"] + warm, ["--ioengine=psync", "--invalidate=0", "--rw=randread", "--bs=4k"], "iops", "file"),
        ("randread 4k warm mmap", ["--backend", "mmap", "--rw", "randread", "--bs", "4k"] + warm, ["--ioengine=mmap", "--invalidate=0", "--rw=randread", "--bs=4k"], "iops", "file"),
        ("read 1m warm buffered", ["--backend", "buffered", "--rw", "read", "--bs", "1m"] + warm, ["--ioengine=psync", "--invalidate=0", "--rw=read", "--bs=1m"], "bw", "file"),
        ("read 1m warm mmap", ["--backend", "mmap", "--rw", "read", "--bs", "1m"] + warm, ["--ioengine=mmap", "--invalidate=0", "--rw=read", "--bs=1m"], "bw", "file"),
        ("read 1m direct QD8", ["--backend", "uring-direct", "--rw", "read", "--bs", "1m", "--iodepth", "8"] + direct, ["--ioengine=io_uring", "--direct=1", "--rw=read", "--bs=1m", "--iodepth=8"], "bw", "file"),
        # Both start with the file evicted, so 4 KiB writes create 4 KiB folios on both sides. A file
        # warmed with large reads sits in large folios, and on ext4 (6.16+) every 4 KiB write into one
        # then walks all of its buffers: about 3x slower, for fio and iobench alike (see calibration.md).
        ("randwrite 4k fdatasync:32", ["--backend", "buffered", "--rw", "randwrite", "--bs", "4k", "--durability", "fdatasync:32", "--cache", "cold"], ["--ioengine=psync", "--invalidate=1", "--rw=randwrite", "--bs=4k", "--fdatasync=32"], "iops", "writefile"),
    ]

def run_iobench(args, runtime, size, datadir):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    # --keep-files: the file is shared with fio and reused across runs.
    cmd = [IOBENCH, "run", "--keep-files", "--size", size, "--runtime", f"{runtime}s", "--dir", datadir, "--output", out] + args
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"iobench failed: {' '.join(cmd)}\n{p.stderr}{p.stdout}")
    doc = json.load(open(out)); os.unlink(out)
    run = doc["runs"][0]
    if run["status"] != "ok":
        raise RuntimeError(f"iobench run {run['status']}: {run.get('reason')}")
    return {"iops": run["iops"], "bw": run["bw_bytes_per_s"], "p50_ns": run["latency_ns"]["p50"]}

def run_fio(args, runtime, size, filename):
    cmd = ["fio", "--name=cmp", "--output-format=json", "--lat_percentiles=1", f"--runtime={runtime}", "--time_based",
           f"--size={size}"] + args
    if filename:
        cmd.append(f"--filename={filename}")
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"fio failed: {' '.join(cmd)}\n{p.stderr}")
    job = json.loads(p.stdout[p.stdout.index("{"):])["jobs"][0]
    side = job["write"] if "write" in " ".join(args) and "randwrite" in " ".join(args) else job["read"]
    pct = side.get("lat_ns", {}).get("percentile") or side["clat_ns"].get("percentile", {})
    return {"iops": side["iops"], "bw": side["bw_bytes"], "p50_ns": pct.get("50.000000", 0)}

def human(v, metric):
    return f"{v/1e3:.1f}K IOPS" if metric == "iops" and v < 1e6 else (f"{v/1e6:.2f}M IOPS" if metric == "iops" else f"{v/1e9:.2f} GB/s")

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--runtime", type=int, default=5)
    ap.add_argument("--size", default="1g")
    ap.add_argument("--dir", default=os.path.join(ROOT, "iobench-data"))
    ap.add_argument("--only", help="run workloads whose name contains this")
    ap.add_argument("--out", help="JSON output [results/compare-fio-<time>.json]")
    a = ap.parse_args()
    if not os.path.exists(IOBENCH):
        sys.exit("build first: cargo build --release")
    os.makedirs(a.dir, exist_ok=True)
    # iobench's own data file doubles as fio's input for reads; writes go to a separate file so
    # fio's random data never lands in a file iobench verifies.
    run_iobench(["--backend", "null"], 1, a.size, a.dir)
    datafile = next(os.path.join(a.dir, f) for f in os.listdir(a.dir) if f.startswith(f"iobench-{a.size}-") and f.endswith(".dat"))
    writefile = os.path.join(a.dir, "fio-randwrite.dat")
    rows = []
    print(f"{'workload':<28} {'iobench':>14} {'fio':>14} {'ratio':>6} {'p50 iobench':>12} {'p50 fio':>10}")
    for name, ib_args, fio_args, metric, target in workloads(a.size):
        if a.only and a.only not in name:
            continue
        filename = {"file": datafile, "writefile": writefile, None: None}[target]
        pairs = []
        try:
            for _ in range(a.pairs):
                ib = run_iobench(ib_args, a.runtime, a.size, a.dir)
                fi = run_fio(fio_args, a.runtime, a.size, filename)
                pairs.append({"iobench": ib, "fio": fi})
        except RuntimeError as e:
            print(f"{name:<28} skipped: {str(e).splitlines()[0]}")
            rows.append({"workload": name, "skipped": str(e)})
            continue
        med = lambda who, k: statistics.median(p[who][k] for p in pairs)
        ratio = statistics.median(p["iobench"][metric] / p["fio"][metric] for p in pairs)
        row = {"workload": name, "metric": "iops" if metric == "iops" else "bw_bytes_per_s",
               "iobench": med("iobench", metric), "fio": med("fio", metric), "ratio": ratio,
               "p50_ns_iobench": med("iobench", "p50_ns"), "p50_ns_fio": med("fio", "p50_ns"), "pairs": pairs}
        rows.append(row)
        print(f"{name:<28} {human(row['iobench'], metric):>14} {human(row['fio'], metric):>14} {ratio:>6.2f} "
              f"{row['p50_ns_iobench']/1e3:>10.2f}µs {row['p50_ns_fio']/1e3:>8.2f}µs", flush=True)
    if os.path.exists(writefile):
        os.unlink(writefile)
    out = a.out or os.path.join(ROOT, "results", time.strftime("compare-fio-%Y%m%d-%H%M%S.json"))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out + ".tmp", "w") as f:
        json.dump({"pairs": a.pairs, "runtime_s": a.runtime, "size": a.size, "rows": rows}, f, indent=1)
    os.replace(out + ".tmp", out)
    print(f"saved {out}")

if __name__ == "__main__":
    main()
