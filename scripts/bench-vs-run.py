#!/usr/bin/env python3
"""Does `cargo bench` measure what `iobench run` measures? Alternates the two, A B A B.

Both run the cells of workloads/cargo-bench.toml on the same data directory. Each round runs
`cargo bench --bench backends` then `iobench run cargo-bench`. At the end it prints, per cell,
criterion's median time per operation next to `iobench run`'s (1 / IOPS), with their ratio, and
then `iobench compare RUN BENCH` over all rounds (the rounds are its repeats), whose exit status
it returns (1 when a bench cell is slower than the run beyond noise and beyond 5%).

    scripts/bench-vs-run.py [--rounds 2] [--out DIR]

Takes about 5 minutes per round on a 2-core VM. Needs a release build (cargo build --release).
"""
import argparse, glob, json, os, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IOBENCH = os.path.join(ROOT, "target", "release", "iobench")
BENCH_DIR = os.path.join(ROOT, "target", "iobench-bench")


def criterion_medians():
    """{(group, benchmark): median ns per operation} from criterion's latest estimates."""
    out = {}
    for bench in glob.glob(os.path.join(ROOT, "target", "criterion", "*", "*", "new", "benchmark.json")):
        meta = json.load(open(bench))
        est = json.load(open(os.path.join(os.path.dirname(bench), "estimates.json")))
        out[(meta["group_id"], meta["function_id"])] = est["median"]["point_estimate"]
    return out


def label(run):
    """The benchmark name benches/backends.rs gives a cell."""
    w = run["workload"]
    s = run["backend"]
    if w["iodepth"] > 1:
        s += f"-qd{w['iodepth']}"
    if w["threads"] > 1:
        s += f"-{w['threads']}threads"
    d = w["durability"]
    if d["kind"] != "none":
        s += "-" + d["kind"] + (f":{d['every']}" if "every" in d else "")
    return s


def sh(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, cwd=ROOT, **kw)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}")
    return p


def combined(paths, dest):
    """One results document whose runs are every round's: `iobench compare` sees them as repeats."""
    docs = [json.load(open(p)) for p in paths]
    doc = docs[0]
    doc["runs"] = [r for d in docs for r in d["runs"]]
    json.dump(doc, open(dest, "w"), indent=1)
    return dest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(ROOT, "results", time.strftime("bench-vs-run-%Y%m%d-%H%M%S")))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    data = os.path.join(BENCH_DIR, "data")
    bench_files, run_files, rows = [], [], {}
    for i in range(a.rounds):
        sh(["cargo", "bench", "--bench", "backends"], stdout=subprocess.DEVNULL)
        medians = criterion_medians()
        bench_files.append(shutil.copy(os.path.join(BENCH_DIR, "results.json"), os.path.join(a.out, f"bench-{i}.json")))
        run_json = os.path.join(a.out, f"run-{i}.json")
        sh([IOBENCH, "run", "cargo-bench", "--keep-files", "--dir", data, "--output", run_json], stdout=subprocess.DEVNULL)
        run_files.append(run_json)
        for r in json.load(open(run_json))["runs"]:
            if r["status"] != "ok":
                continue
            key = (r["workload"]["name"], label(r))
            bench_ns = medians.get(key)
            rows.setdefault(key, []).append((bench_ns, 1e9 / r["iops"] if r["iops"] else None))

    print(f"\n{'cell':<44} {'cargo bench':>12} {'iobench run':>12} {'bench/run':>9}   (median time per op over {a.rounds} rounds)")
    for (group, bench), pairs in rows.items():
        b = [x for x, _ in pairs if x]
        r = [y for _, y in pairs if y]
        if not b or not r:
            continue
        mb, mr = statistics.median(b), statistics.median(r)
        print(f"{group + '/' + bench:<44} {mb / 1e3:>10.2f}µs {mr / 1e3:>10.2f}µs {mb / mr:>9.2f}")
    print()
    bench_all = combined(bench_files, os.path.join(a.out, "bench.json"))
    run_all = combined(run_files, os.path.join(a.out, "run.json"))
    p = subprocess.run([IOBENCH, "compare", run_all, bench_all], cwd=ROOT)
    print(f"\nfiles: {a.out}")
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
