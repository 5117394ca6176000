#!/usr/bin/env bash
# Benchmark `roster plan` through the Graph emulator on large synthetic
# tenants: the emulator's start (load and index) time and peak memory, and
# the plan's wall time, requests and peak memory.
#
#   benches/emulator.sh                      # 10k and 100k users
#   SIZES="500000" benches/emulator.sh
#
# Environment:
#   SIZES     user counts to measure          (default: "10000 100000")
#   SEED      generator seed                  (default: 7)
#   DRIFT     share of users out of step      (default: 0.10)
#   LATENCY   emulator --latency-ms           (default: 0)
#   PORT      emulator port                   (default: 18080)
#   EMU_ARGS  more emulator options           (default: none; Graph's limits apply)
#   BENCH_DIR where tenants are generated     (default: target/bench, shared with plan.sh)
#
# For each size: the tenant is generated once by `synth scale` (as
# benches/plan.sh does), its config copied to config-graph/ with the file
# provider replaced by the graph provider, and then:
#
#   roster emulator --tenant DIR/tenant.json --latency-ms $LATENCY --listen 127.0.0.1:$PORT \
#       --client-id bench --client-secret-env ROSTER_BENCH_SECRET
#   roster plan -C DIR/config-graph --graph-endpoint http://127.0.0.1:$PORT --format json --out FILE
#
# "start" is the time from launching the emulator to its listening line;
# "requests" is the emulator's /_emulator/stats total (token included);
# the emulator's peak is VmHWM from /proc after the plan.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"10000 100000"}
SEED=${SEED:-7}
DRIFT=${DRIFT:-0.10}
LATENCY=${LATENCY:-0}
PORT=${PORT:-18080}
BENCH_DIR=${BENCH_DIR:-target/bench}
export ROSTER_BENCH_SECRET=bench-secret
export CARGO_TERM_COLOR=never

# shellcheck source=benches/tenant.sh
. benches/tenant.sh
build_release

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM"
echo "roster:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(rustc --version)"
echo
printf '| users | in tenant.json | emulator start | emulator peak RSS | plan wall | requests | plan peak RSS | plan |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---|\n'


for n in $SIZES; do
    dir="$BENCH_DIR/$n"
    ensure_tenant "$n"
    graph_config "$n"

    trap 'kill ${emu:-} 2>/dev/null || true' EXIT
    start=$(ms)
    # shellcheck disable=SC2086
    start_emulator "$n" "$dir/emulator.log" ${EMU_ARGS:-}
    started=$(($(ms) - start))

    out="$dir/plan-graph.json"
    tf=$(mktemp)
    t0=$(ms)
    if ! /usr/bin/time -f %M -o "$tf" "$ROSTER" plan -C "$dir/config-graph" \
        --graph-endpoint "http://127.0.0.1:$PORT" --format json --out "$out" >/dev/null 2>"$dir/plan-graph.stderr"; then
        # A plan with changes may exit non-zero by design; it must have written the plan.
        [ -s "$out" ] || { echo "error: the plan failed (see $dir/plan-graph.stderr)" >&2; exit 1; }
    fi
    wall=$(($(ms) - t0))
    plan_kib=$(tail -n1 "$tf")
    rm -f "$tf"
    requests=$(curl -s "http://127.0.0.1:$PORT/_emulator/stats" | sed -n 's/^{"total":\([0-9]*\).*/\1/p')
    emu_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$emu/status")
    kill "$emu"
    wait "$emu" 2>/dev/null || true
    trap - EXIT
    size=$(du -m "$dir/tenant.json" | cut -f1)
    summary=$("$ROSTER" show "$out" | grep '^Plan:' | sed 's/^Plan: //; s/\.$//')
    printf '| %s | %s MB | %d.%03d s | %s MiB | %d.%03d s | %s | %s MiB | %s |\n' \
        "$n" "$size" $((started / 1000)) $((started % 1000)) $((emu_kib / 1024)) \
        $((wall / 1000)) $((wall % 1000)) "${requests:-?}" $((plan_kib / 1024)) "$summary"
done
