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
# the emulator's peak is VmHWM from /proc after the plan; "plan CPU" is the
# plan's user + system seconds (GNU time) and "emulator CPU" the emulator's
# user + system seconds while it served the plan (/proc/PID/stat, after its
# start), so a run can be judged apart from the machine's other load.
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
printf '| users | in tenant.json | emulator start | emulator peak RSS | plan wall | requests | plan peak RSS | plan CPU | emulator CPU | plan |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n'

# User + system CPU of process $1 so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }


for n in $SIZES; do
    dir="$BENCH_DIR/$n"
    ensure_tenant "$n"
    graph_config "$n"

    trap 'kill ${emu:-} 2>/dev/null || true' EXIT
    # A log left by the last run would say "listening" before this one does.
    rm -f "$dir/emulator.log"
    start=$(ms)
    # shellcheck disable=SC2086
    start_emulator "$n" "$dir/emulator.log" ${EMU_ARGS:-}
    started=$(($(ms) - start))

    out="$dir/plan-graph.json"
    tf=$(mktemp)
    emu_t0=$(cpu_ticks "$emu")
    t0=$(ms)
    if ! /usr/bin/time -f '%U %S %M' -o "$tf" "$ROSTER" plan -C "$dir/config-graph" \
        --graph-endpoint "http://127.0.0.1:$PORT" --format json --out "$out" >/dev/null 2>"$dir/plan-graph.stderr"; then
        # A plan with changes may exit non-zero by design; it must have written the plan.
        [ -s "$out" ] || { echo "error: the plan failed (see $dir/plan-graph.stderr)" >&2; exit 1; }
    fi
    wall=$(($(ms) - t0))
    emu_cpu=$(awk -v a="$emu_t0" -v b="$(cpu_ticks "$emu")" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (b - a) / hz}')
    read -r plan_user plan_sys plan_kib < <(tail -n1 "$tf")
    plan_cpu=$(awk -v u="$plan_user" -v s="$plan_sys" 'BEGIN {printf "%.2f", u + s}')
    rm -f "$tf"
    requests=$(curl -s "http://127.0.0.1:$PORT/_emulator/stats" | sed -n 's/^{"total":\([0-9]*\).*/\1/p')
    emu_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$emu/status")
    kill "$emu"
    wait "$emu" 2>/dev/null || true
    trap - EXIT
    size=$(du -m "$dir/tenant.json" | cut -f1)
    summary=$("$ROSTER" show "$out" | grep '^Plan:' | sed 's/^Plan: //; s/\.$//')
    printf '| %s | %s MB | %d.%03d s | %s MiB | %d.%03d s | %s | %s MiB | %s s | %s s | %s |\n' \
        "$n" "$size" $((started / 1000)) $((started % 1000)) $((emu_kib / 1024)) \
        $((wall / 1000)) $((wall % 1000)) "${requests:-?}" $((plan_kib / 1024)) \
        "$plan_cpu" "$emu_cpu" "$summary"
done
