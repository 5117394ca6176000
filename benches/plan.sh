#!/usr/bin/env bash
# Benchmark `roster plan` on large synthetic tenants: wall time and peak
# memory (max RSS), several runs per size, median reported.
#
#   benches/plan.sh                      # 10k, 100k and 300k users
#   SIZES="100000" RUNS=7 benches/plan.sh
#
# Environment:
#   SIZES   user counts to measure            (default: "10000 100000 300000")
#   RUNS    timed runs per size               (default: 5; 3 above 200k users)
#   SEED    generator seed                    (default: 7)
#   DRIFT   share of users out of step        (default: 0.10)
#   BENCH_DIR where tenants are generated     (default: target/bench)
#
# Each tenant is generated once by `cargo run --release --example synth --
# scale` into $BENCH_DIR/<N>/ (config/ and tenant.json) and reused while the
# generator and its arguments are unchanged. What is timed is exactly:
#
#   roster plan -C DIR/config --tenant DIR/tenant.json --format json --out FILE
#
# with stdout to /dev/null: reading and checking the snapshot, rules and
# allocation, diff, and the JSON plan written twice (stdout and --out), the
# way CI runs it. The plan goes to a temporary file beside the tenant
# (`--out` writes atomically, by renaming a temporary file over the target,
# so it must not point at /dev/null). One untimed warm-up run per size fills
# the page cache.
#
# Peak memory comes from GNU time (`/usr/bin/time -v`). Without it, the
# script installs it when it can (root with apt-get), else it samples
# VmHWM in /proc/PID/status every 10 ms (can miss the very end).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"10000 100000 300000"}
SEED=${SEED:-7}
DRIFT=${DRIFT:-0.10}
BENCH_DIR=${BENCH_DIR:-target/bench}
export CARGO_TERM_COLOR=never

have_gnu_time() { /usr/bin/time -f %M true >/dev/null 2>&1; }
if ! have_gnu_time && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing GNU time (apt-get install time)..." >&2
    (apt-get install -y -qq time >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq time >/dev/null 2>&1; }) || true
fi

# shellcheck source=benches/tenant.sh
. benches/tenant.sh
build_release

# Wall time in ms and peak RSS in KiB of one run: prints "MS KIB".
measure() {
    local start end rss
    if have_gnu_time; then
        local tf
        tf=$(mktemp)
        start=$(date +%s%N)
        /usr/bin/time -f %M -o "$tf" "$@" >/dev/null
        end=$(date +%s%N)
        rss=$(tail -n1 "$tf")
        rm -f "$tf"
    else
        start=$(date +%s%N)
        "$@" >/dev/null &
        local pid=$! hwm
        rss=0
        while kill -0 "$pid" 2>/dev/null; do
            hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
            [ -n "$hwm" ] && rss=$hwm
            sleep 0.01
        done
        wait "$pid"
        end=$(date +%s%N)
    fi
    echo "$(((end - start) / 1000000)) $rss"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}'; }

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo unknown)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null | grep -q . && echo "+dirty" || true)
echo "machine: $(nproc) CPUs, $cpu, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM"
echo "roster:  $commit$dirty, $(rustc --version)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) before the runs"
echo "memory:  $(have_gnu_time && echo 'GNU time max RSS' || echo 'sampled VmHWM')"
echo
printf '| users | in tenant.json | runs | median wall | min | max | peak RSS | plan |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---|\n'


for n in $SIZES; do
    dir="$BENCH_DIR/$n"
    ensure_tenant "$n"
    runs=${RUNS:-$([ "$n" -gt 200000 ] && echo 3 || echo 5)}
    out="$dir/plan.json"
    cmd=("$ROSTER" plan -C "$dir/config" --tenant "$dir/tenant.json" --format json --out "$out")
    # Warm-up (page cache), and the plan must succeed without errors.
    if ! "${cmd[@]}" >/dev/null 2>"$dir/plan.stderr"; then
        echo "error: roster plan failed on $n users (see $dir/plan.stderr)" >&2
        exit 1
    fi
    times=()
    peak=0
    for _ in $(seq "$runs"); do
        read -r ms kib < <(measure "${cmd[@]}" 2>/dev/null)
        times+=("$ms")
        [ "$kib" -gt "$peak" ] && peak=$kib
    done
    med=$(printf '%s\n' "${times[@]}" | median)
    min=$(printf '%s\n' "${times[@]}" | sort -n | head -n1)
    max=$(printf '%s\n' "${times[@]}" | sort -n | tail -n1)
    size=$(du -m "$dir/tenant.json" | cut -f1)
    summary=$("$ROSTER" show "$out" | grep '^Plan:' | sed 's/^Plan: //; s/\.$//')
    printf '| %s | %s MB | %s | %d.%03d s | %d.%03d s | %d.%03d s | %s MiB | %s |\n' \
        "$n" "$size" "$runs" $((med / 1000)) $((med % 1000)) $((min / 1000)) $((min % 1000)) \
        $((max / 1000)) $((max % 1000)) $((peak / 1024)) "$summary"
done
