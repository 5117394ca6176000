#!/usr/bin/env bash
# The file path against its floor (issue 10, item 6): `roster plan` from a
# snapshot file against reading and parsing the same file without building
# anything (examples/floor.rs: serde_json into IgnoredAny).
#
#   benches/floor.sh                      # 100k users
#   SIZES="100000 500000" RUNS=3 benches/floor.sh
#
# Environment: SIZES (default 100000), RUNS (default 3), SEED, DRIFT,
# BENCH_DIR (as benches/plan.sh, whose tenants it shares), OUT_DIR (where
# the plans go; default the tenant's folder, so a read-only BENCH_DIR needs
# it). Prints the median wall, CPU (user + system) and peak RSS (GNU time)
# of each (the floor also with the file memory-mapped, as the plan reads a
# large snapshot: `floor --map`) and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-100000}
RUNS=${RUNS:-3}
SEED=${SEED:-7}
DRIFT=${DRIFT:-0.10}
BENCH_DIR=${BENCH_DIR:-target/bench}
export CARGO_TERM_COLOR=never

# shellcheck source=benches/tenant.sh
. benches/tenant.sh
build_release
cargo build --release --quiet --example floor
FLOOR=target/release/examples/floor


# Run "$@" RUNS times; print "median_ms median_cpu_ms median_kib" (CPU:
# user + system, all threads; the machine may be shared, so CPU time says
# more than wall time there).
measure() {
    local walls=() cpus=() mems=() tf t0
    tf=$(mktemp)
    for _ in $(seq 1 "$RUNS"); do
        t0=$(date +%s%N)
        /usr/bin/time -f '%U %S %M' -o "$tf" "$@" >/dev/null 2>&1 || true
        walls+=($((($(date +%s%N) - t0) / 1000000)))
        read -r u s m < <(tail -n1 "$tf")
        cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%d", (u + s) * 1000 }')")
        mems+=("$m")
    done
    rm -f "$tf"
    local mid=$((RUNS / 2))
    median() { printf '%s\n' "$@" | sort -n | sed -n "$((mid + 1))p"; }
    echo "$(median "${walls[@]}") $(median "${cpus[@]}") $(median "${mems[@]}")"
}

echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); roster $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo
printf '| users | tenant.json | floor wall | floor cpu | floor peak | mapped floor wall | plan wall | plan cpu | plan peak | wall / floor | wall / mapped floor | cpu / floor | peak / file |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for n in $SIZES; do
    dir="$BENCH_DIR/$n"
    ensure_tenant "$n"
    out=${OUT_DIR:-$dir}
    mkdir -p "$out"
    read -r fw fc fm < <(measure "$FLOOR" "$dir/tenant.json")
    read -r mw _ _ < <(measure "$FLOOR" --map "$dir/tenant.json")
    read -r pw pc pm < <(measure "$ROSTER" plan -C "$dir/config" --tenant "$dir/tenant.json" \
        --format json --out "$out/plan-floor.json")
    bytes=$(stat -c %s "$dir/tenant.json")
    awk -v n="$n" -v b="$bytes" -v fw="$fw" -v mw="$mw" -v fc="$fc" -v fm="$fm" -v pw="$pw" -v pc="$pc" -v pm="$pm" 'BEGIN {
        printf "| %d | %.0f MB | %.2f s | %.2f s | %.0f MiB | %.2f s | %.2f s | %.2f s | %.0f MiB | %.1f | %.1f | %.1f | %.1f |\n",
            n, b / 1e6, fw / 1000, fc / 1000, fm / 1024, mw / 1000, pw / 1000, pc / 1000, pm / 1024, pw / fw, pw / mw, pc / fc, pm * 1024 / b }'
done
