#!/usr/bin/env bash
# iobench's uring-direct against fio's io_uring engine on the same file: random 4 KiB O_DIRECT
# reads at QD32, alternating iobench and fio (A B A B …) so drift hits both alike. Prints each
# run, then the median IOPS ratio (iobench / fio) and the median p50 latencies.
#
# Latency: iobench's is handed-to-backend → completion observed; fio's closest figure is `lat`
# (slat + clat), so fio runs with --lat_percentiles=1 and its lat p50 is printed.
#
# Usage: scripts/uring-vs-fio.sh   (env: SIZE=2g RUNTIME=5 PAIRS=3 DIR=iobench-data IODEPTH=32 KEEP=0)
# The data file is removed at the end unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-2g}
RUNTIME=${RUNTIME:-5}
PAIRS=${PAIRS:-3}
DIR=${DIR:-iobench-data}
IODEPTH=${IODEPTH:-32}
BIN=target/release/iobench

command -v fio >/dev/null || { echo "fio is not installed: apt-get install -y fio" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 is needed to read the JSON results" >&2; exit 2; }
cargo build --release -q
out=$(mktemp -d)
FILE="$DIR/iobench-$SIZE-10bec4.dat"
trap 'rm -rf "$out"; [ "${KEEP:-0}" = 1 ] || rm -f "$FILE"' EXIT

# Create (or reuse) iobench's data file; fio reads the very same file.
"$BIN" run --backend uring-direct --rw randread --bs 4k --size "$SIZE" --io-size 4k --cache as-is \
  --keep-files --dir "$DIR" -o "$out/prep.json" >/dev/null 2>"$out/prep.err" || { cat "$out/prep.err" >&2; exit 1; }
[ -f "$FILE" ] || { echo "expected data file $FILE; give SIZE in iobench's short form (e.g. 2g, 512m)" >&2; exit 2; }

iobench_run() {
  "$BIN" run --backend uring-direct --rw randread --bs 4k --size "$SIZE" --iodepth "$IODEPTH" \
    --cache cold --runtime "${RUNTIME}s" --keep-files --dir "$DIR" -o "$1" >/dev/null 2>"$1.err" || { cat "$1.err" >&2; exit 1; }
  python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]
if r["status"] != "ok":
    sys.exit(f"iobench run {r['status']}: {r.get('reason')}")
print(r["iops"], r["latency_ns"]["p50"] / 1e3)
EOF
}

fio_run() {
  fio --name=uring-vs-fio --filename="$FILE" --size="$SIZE" --ioengine=io_uring --direct=1 --rw=randread \
    --bs=4k --iodepth="$IODEPTH" --runtime="$RUNTIME" --time_based --lat_percentiles=1 \
    --output-format=json --output="$1" >/dev/null
  python3 - "$1" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]["read"]
print(j["iops"], j["lat_ns"]["percentile"]["50.000000"] / 1e3)
EOF
}

printf '%-4s %-8s %12s %10s\n' pair tool IOPS "p50 µs"
: >"$out/rows"
for i in $(seq 1 "$PAIRS"); do
  read -r a_iops a_p50 < <(iobench_run "$out/iobench-$i.json")
  printf '%-4s %-8s %12.0f %10.1f\n' "$i" iobench "$a_iops" "$a_p50"
  read -r b_iops b_p50 < <(fio_run "$out/fio-$i.json")
  printf '%-4s %-8s %12.0f %10.1f\n' "$i" fio "$b_iops" "$b_p50"
  echo "$a_iops $a_p50 $b_iops $b_p50" >>"$out/rows"
done

python3 - "$out/rows" <<'EOF'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
ratio = statistics.median(a / b for a, _, b, _ in rows)
print(f"median IOPS ratio iobench/fio: {ratio:.3f} (per pair: {', '.join(f'{a / b:.3f}' for a, _, b, _ in rows)})")
print(f"median p50: iobench {statistics.median(r[1] for r in rows):.1f} µs, "
      f"fio {statistics.median(r[3] for r in rows):.1f} µs")
if ratio < 0.95:
    print("below 0.95: iobench reaches less than 95% of fio's IOPS on this machine")
EOF
