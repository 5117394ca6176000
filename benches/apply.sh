#!/usr/bin/env bash
# Benchmark `roster apply` through the Graph emulator under Graph's write
# limit (issue 10, item 4): the wall time of the apply against the floor
# of writes needed / allowed write rate.
#
#   benches/apply.sh                                   # 10k users, 300 writes per 15 s
#   WRITE_LIMIT=3000 WRITE_WINDOW=150 benches/apply.sh # Graph's published limit
#
# Environment:
#   SIZES         user counts to measure        (default: 10000)
#   SEED, DRIFT   generator seed and drift      (default: 7, 0.10)
#   LATENCY       emulator --latency-ms         (default: 20)
#   WRITE_LIMIT   emulator --write-limit        (default: 300)
#   WRITE_WINDOW  emulator --write-window, s    (default: 15; 300 per 15 s is
#                 Graph's 3,000 per 150 s rate, 20 writes/s, in a tenth of the window)
#   OP_DELAY      emulator --operation-delay-ms (default: 0)
#   RUNS          applies per size              (default: 1; a fresh emulator each)
#   PORT          emulator port                 (default: 18081)
#   BENCH_DIR     where tenants are generated   (default: target/bench)
#
# For each run: a fresh emulator serves the tenant (in memory: the file is
# not changed), then
#
#   roster apply -C DIR/config-graph --graph-endpoint http://127.0.0.1:$PORT --auto-approve
#
# plans and applies. "writes" are the write requests the emulator admitted
# (`POST /admin/…` answered 2xx, `$batch` items counted one by one, as Graph
# counts them); "429" the refusals; "floor" is writes / (limit / window).
# The emulator's window starts empty and slides, so a perfect client sends
# a window's worth at once, and the next as the first leaves: its last
# write goes floor((writes - 1) / limit) × window after its first ("window
# floor"). "plan" is a `roster plan` through the same emulator just before
# (the reads and the plan the apply makes before its first write).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-10000}
SEED=${SEED:-7}
DRIFT=${DRIFT:-0.10}
LATENCY=${LATENCY:-20}
WRITE_LIMIT=${WRITE_LIMIT:-300}
WRITE_WINDOW=${WRITE_WINDOW:-15}
OP_DELAY=${OP_DELAY:-0}
RUNS=${RUNS:-1}
PORT=${PORT:-18081}
BENCH_DIR=${BENCH_DIR:-target/bench}
export ROSTER_BENCH_SECRET=bench-secret
export CARGO_TERM_COLOR=never

# shellcheck source=benches/tenant.sh
. benches/tenant.sh
build_release

echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "roster:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "emulator: --latency-ms $LATENCY --write-limit $WRITE_LIMIT --write-window $WRITE_WINDOW --operation-delay-ms $OP_DELAY"
echo
printf '| users | writes | 429 | requests | $batch | plan | apply wall | floor (writes/rate) | wall / floor | window floor | result |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n'


# Sum of the emulator's counts whose route and status match (jq-free).
count() { # $1: stats JSON, $2: route regex, $3: status regex
    printf '%s' "$1" | tr '{' '\n' | sed -n 's/^"route":"\([^"]*\)","status":\([0-9]*\),"count":\([0-9]*\)}.*/\1|\2|\3/p' |
        awk -F'|' -v r="$2" -v s="$3" '$1 ~ r && $2 ~ s { n += $3 } END { print n + 0 }'
}

for n in $SIZES; do
    dir="$BENCH_DIR/$n"
    ensure_tenant "$n"
    for _ in $(seq 1 "$RUNS"); do
        rm -rf "$dir/config-graph"
        cp -r "$dir/config" "$dir/config-graph"
        grep -rl 'provider "file"' "$dir/config-graph" | while read -r f; do
            sed -i 's|provider "file" path="[^"]*"|provider "graph" tenant-id="bench" client-id="bench" client-secret-env="ROSTER_BENCH_SECRET"|' "$f"
        done
        log="$dir/emulator-apply.log"
        "$ROSTER" emulator --tenant "$dir/tenant.json" --latency-ms "$LATENCY" --listen "127.0.0.1:$PORT" \
            --client-id bench --client-secret-env ROSTER_BENCH_SECRET \
            --write-limit "$WRITE_LIMIT" --write-window "$WRITE_WINDOW" \
            --operation-delay-ms "$OP_DELAY" 2>"$log" &
        emu=$!
        trap 'kill $emu 2>/dev/null || true' EXIT
        until grep -q "listening on" "$log"; do
            kill -0 "$emu" 2>/dev/null || { echo "error: the emulator stopped (see $log)" >&2; exit 1; }
            sleep 0.05
        done
        t0=$(ms)
        "$ROSTER" plan -C "$dir/config-graph" --graph-endpoint "http://127.0.0.1:$PORT" \
            --format json --out "$dir/plan-apply.json" >/dev/null 2>&1 || true
        planned=$(($(ms) - t0))
        stats=$(curl -s "http://127.0.0.1:$PORT/_emulator/stats")
        reads=$(printf '%s' "$stats" | sed -n 's/^{"total":\([0-9]*\).*/\1/p')
        t0=$(ms)
        "$ROSTER" apply -C "$dir/config-graph" --graph-endpoint "http://127.0.0.1:$PORT" \
            --auto-approve --report "$dir/apply-report.json" >"$dir/apply.stdout" 2>"$dir/apply.stderr" || true
        wall=$(($(ms) - t0))
        stats=$(curl -s "http://127.0.0.1:$PORT/_emulator/stats")
        kill "$emu"
        wait "$emu" 2>/dev/null || true
        trap - EXIT
        writes=$(count "$stats" '^POST /admin/' '^2')
        refused=$(count "$stats" '.' '^429$')
        batches=$(count "$stats" '^POST /\$batch$' '.')
        total=$(($(printf '%s' "$stats" | sed -n 's/^{"total":\([0-9]*\).*/\1/p') - reads))
        summary=$(grep -m1 -E '^(Applied|Apply)' "$dir/apply.stdout" || tail -n1 "$dir/apply.stdout")
        awk -v n="$n" -v w="$writes" -v r="$refused" -v t="$total" -v b="$batches" -v wall="$wall" \
            -v p="$planned" -v l="$WRITE_LIMIT" -v win="$WRITE_WINDOW" -v s="$summary" 'BEGIN {
            rate = l / win; floor = w / rate; windows = int((w - 1) / l) * win;
            printf "| %d | %d | %d | %d | %d | %.1f s | %.1f s | %.1f s | %.2f | %.0f s | %s |\n",
                n, w, r, t, b, p / 1000, wall / 1000, floor, (wall / 1000) / floor, windows, s }'
    done
done
