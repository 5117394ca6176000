#!/usr/bin/env bash
# The file path against its floor (issue 10, item 6), in alternate pairs:
# the parse-only floor (examples/floor.rs), then `roster plan` from the same
# snapshot, N times. On a shared or virtual machine whose speed drifts
# from minute to minute, the ratio of each pair (measured seconds apart)
# says more than medians taken minutes apart (benches/floor.sh).
#
#   benches/floor-pairs.sh                       # 100k users, 9 pairs
#   SIZE=500000 N=5 benches/floor-pairs.sh
#   ROSTER=/path/to/other/roster benches/floor-pairs.sh   # another build
#
# Environment: SIZE (default 100000), N (default 9), SEED, DRIFT, BENCH_DIR
# (as benches/plan.sh, whose tenants it shares), OUT_DIR (where the plan
# goes; default a temporary folder). Prints the median walls, the plan's
# median CPU and peak, and the median, lowest and highest per-pair ratio.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-100000}
N=${N:-9}
SEED=${SEED:-7}
DRIFT=${DRIFT:-0.10}
BENCH_DIR=${BENCH_DIR:-target/bench}
export CARGO_TERM_COLOR=never

OTHER=${ROSTER:-}
# shellcheck source=benches/tenant.sh
. benches/tenant.sh
build_release
cargo build --release --quiet --example floor
FLOOR=target/release/examples/floor
PLAN=${OTHER:-$ROSTER}
dir="$BENCH_DIR/$SIZE"
ensure_tenant "$SIZE"
out=${OUT_DIR:-$(mktemp -d)}
times=$(mktemp -d)

echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); roster $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $SIZE users, $N pairs"
for i in $(seq 1 "$N"); do
    /usr/bin/time -f '%e %U %S %M' -o "$times/floor.$i" "$FLOOR" "$dir/tenant.json" >/dev/null 2>&1
    /usr/bin/time -f '%e %U %S %M' -o "$times/plan.$i" "$PLAN" plan -C "$dir/config" \
        --tenant "$dir/tenant.json" --format json --out "$out/plan-pairs.json" >/dev/null 2>&1 || true
done
for i in $(seq 1 "$N"); do
    read -r fw _ _ _ < <(tail -n1 "$times/floor.$i")
    read -r pw pu ps pm < <(tail -n1 "$times/plan.$i")
    echo "$fw $pw $pu $ps $pm"
done | sort -n -k2 | awk -v n="$N" '
    { fw[NR] = $1; pw[NR] = $2; cpu[NR] = $3 + $4; pm[NR] = $5; r[NR] = $2 / $1 }
    function median(a,   k, i, j, t, b) {
        for (i = 1; i <= n; i++) b[i] = a[i]
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (b[j] < b[i]) { t = b[i]; b[i] = b[j]; b[j] = t }
        k = int((n + 1) / 2); return b[k]
    }
    function lowest(a,   i, m) { m = a[1]; for (i = 2; i <= n; i++) if (a[i] < m) m = a[i]; return m }
    function highest(a,   i, m) { m = a[1]; for (i = 2; i <= n; i++) if (a[i] > m) m = a[i]; return m }
    END {
        printf "floor wall %.2f s, plan wall %.2f s, plan cpu %.2f s, plan peak %.0f MiB (medians)\n", median(fw), median(pw), median(cpu), median(pm) / 1024
        printf "plan / floor per pair: median %.2f, lowest %.2f, highest %.2f\n", median(r), lowest(r), highest(r)
    }'
rm -rf "$times"
