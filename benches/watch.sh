#!/usr/bin/env bash
# Benchmark `roster reconcile --watch` through the Graph emulator (issue 14):
# how long a joiner created in the directory waits for its persona's
# policies and a number, and what incremental rounds cost in requests.
#
#   benches/watch.sh                         # 100k users, 20 ms a request
#   SIZES=10000 PROFILE=debug benches/watch.sh
#
# Environment:
#   SIZES     user counts to measure          (default: 100000)
#   LATENCY   emulator --latency-ms           (default: 20)
#   POLL      reconcile --poll                (default: 30s)
#   BATCH     joiners created at once for the "100 changed users" round (default: 100)
#   PROFILE   release | debug                 (default: release)
#   SEED, PORT, BENCH_DIR as benches/emulator.sh; DRIFT defaults to 0
#   (a converged tenant: the watcher's first full round has little to do).
#
# For each size: the synthetic tenant (benches/tenant.sh) served by
# `roster emulator --latency-ms $LATENCY`, its config switched to the graph
# provider, then `roster reconcile --watch --poll $POLL --full-every 24h`
# running while this script, through the emulator's test endpoints
# (docs/emulator.md), waits for an idle incremental round, creates one
# joiner (a copy of an in-scope user with a new id and name), waits for the
# round that applies it, then creates $BATCH joiners at once and waits for
# their round. "joiner wait" is the time from the create call to the
# watcher's line for the round that applied it; that round's requests and
# duration come from the watcher's own line (Graph requests, token not
# counted). The joiner's number is then read back from Graph.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-100000}
SEED=${SEED:-7}
DRIFT=${DRIFT:-0}
LATENCY=${LATENCY:-20}
POLL=${POLL:-30s}
BATCH=${BATCH:-100}
PROFILE=${PROFILE:-release}
PORT=${PORT:-18090}
BENCH_DIR=${BENCH_DIR:-target/bench-watch}
export ROSTER_BENCH_SECRET=bench-secret
export CARGO_TERM_COLOR=never

if [ "$PROFILE" = release ]; then
    echo "building (release)..." >&2
    cargo build --release --quiet --bin roster --example synth
else
    cargo build --quiet --bin roster --example synth
fi
ROSTER=target/$PROFILE/roster
SYNTH=target/$PROFILE/examples/synth
URL="http://127.0.0.1:$PORT"

# Wait for a watcher round line matching $2 (a grep -E pattern) after line $1
# of the log; print it.
await_round() {
    local after=$1 pattern=$2 line
    for _ in $(seq 1 12000); do
        line=$(tail -n +"$((after + 1))" "$WLOG" | grep -E " round: " | grep -E -m1 "$pattern" || true)
        if [ -n "$line" ]; then
            echo "$line"
            return 0
        fi
        kill -0 "$watcher" 2>/dev/null || { echo "error: the watcher stopped (see $WLOG)" >&2; exit 1; }
        sleep 0.05
    done
    echo "error: no round matching \`$pattern\` (see $WLOG)" >&2
    exit 1
}

field() { sed -E "s/.* ([0-9]+) $1.*/\1/" <<<"$2"; }
secs() { sed -E 's/.* requests, ([0-9.]+)s: .*/\1/' <<<"$1"; }

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM; profile $PROFILE"
echo "roster:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(rustc --version)"
echo "emulator --latency-ms $LATENCY, reconcile --watch --poll $POLL"
echo
printf '| users | first full round | idle delta round | joiner wait | joiner round | %s joiners round | %s users changed, nothing to write |\n' "$BATCH" "$BATCH"
printf '|---:|---:|---:|---:|---:|---:|---:|\n'

# shellcheck source=benches/tenant.sh
. benches/tenant.sh

for n in $SIZES; do
    dir="$BENCH_DIR/$n"
    ensure_tenant "$n"
    graph_config "$n"

    trap 'kill ${emu:-} ${watcher:-} 2>/dev/null || true' EXIT
    start_emulator "$n" "$dir/emulator.log"

    WLOG="$dir/watch.log"
    "$ROSTER" -C "$dir/config-graph" --graph-endpoint "$URL" reconcile --watch \
        --poll "$POLL" --full-every 24h >"$WLOG" 2>"$dir/watch.err" &
    watcher=$!
    full=$(await_round 0 "full round")
    idle=$(await_round 0 "delta round: 0 users seen")

    # Joiners: copies of an enabled user the rules give a persona with a number.
    python3 - "$dir/tenant.json" "$dir/joiners.json" "$BATCH" <<'EOF'
import json, sys
snap = json.load(open(sys.argv[1]))
held = {n.get("assignmentTargetId") for n in snap.get("numberAssignments", [])}
# Many different sources, so the joiners draw from many ranges.
srcs = [u for u in snap["users"]
        if u.get("accountEnabled", True) and u.get("usageLocation") and u["id"] in held]
def copy(i):
    u = dict(srcs[(i * 7919) % len(srcs)])
    u["id"] = f"00000000-bench-0000-0000-{i:012d}"
    u["userPrincipalName"] = f"joiner{i}@bench.example"
    u["displayName"] = f"Joiner {i}"
    return u
n = int(sys.argv[3])
# Movers-that-stay: a property no rule reads changes; nothing to write.
same = [{"id": srcs[(i * 104729) % len(srcs)]["id"], "preferredLanguage": "cy-GB"} for i in range(n)]
json.dump({"one": copy(0), "batch": {"users": [copy(i) for i in range(1, n + 1)]},
           "touch": {"users": same}}, open(sys.argv[2], "w"))
EOF
    lines=$(wc -l <"$WLOG")
    start=$(ms)
    jq -c .one "$dir/joiners.json" | curl -sf -X POST "$URL/_emulator/users" \
        -H 'Content-Type: application/json' --data-binary @- >/dev/null
    one=$(await_round "$lines" "delta round: [1-9][0-9]* users seen.*s: applied: ")
    waited=$(($(ms) - start))

    lines=$(wc -l <"$WLOG")
    curl -sf "$URL/_emulator/stats" >"$dir/stats-before.json"
    jq -c .batch "$dir/joiners.json" | curl -sf -X POST "$URL/_emulator/users" \
        -H 'Content-Type: application/json' --data-binary @- >/dev/null
    many=$(await_round "$lines" "delta round: [1-9][0-9]* users seen.*s: applied: ")
    curl -sf "$URL/_emulator/stats" >"$dir/stats-after.json"
    # Where the joiners' round went, by route (a $batch's sub-requests are
    # counted under their own routes too: they are not requests of their own).
    split=$(jq -rn --slurpfile a "$dir/stats-before.json" --slurpfile b "$dir/stats-after.json" '
        def count(s): reduce (s[0].requests[]) as $r ({}; .[$r.route] += $r.count);
        count($a) as $before
        | [count($b) | to_entries[] | select(.value > ($before[.key] // 0))
           | "\(.key): \(.value - ($before[.key] // 0))"] | join("; ")')

    lines=$(wc -l <"$WLOG")
    jq -c .touch "$dir/joiners.json" | curl -sf -X PATCH "$URL/_emulator/users" \
        -H 'Content-Type: application/json' --data-binary @- >/dev/null
    touched=$(await_round "$lines" "delta round: [1-9][0-9]* users seen")

    token=$(curl -sf "$URL/bench/oauth2/v2.0/token" -d grant_type=client_credentials \
        -d client_id=bench -d client_secret="$ROSTER_BENCH_SECRET" \
        --data-urlencode scope=https://graph.microsoft.com/.default | jq -r .access_token)
    number=$(curl -sf -H "Authorization: Bearer $token" \
        "$URL/v1.0/admin/teams/userConfigurations/00000000-bench-0000-0000-000000000000" |
        jq -r '[.telephoneNumbers[].telephoneNumber] | join(",")')
    [ -n "$number" ] || { echo "error: the joiner holds no number" >&2; exit 1; }

    printf '| %s | %ss, %s requests | %s requests | %.1f s | %ss, %s requests | %ss, %s requests (%s users seen) | %ss, %s requests (%s users seen) |\n' \
        "$n" "$(secs "$full")" "$(field requests "$full")" "$(field requests "$idle")" \
        "$(echo "$waited / 1000" | bc -l)" "$(secs "$one")" "$(field requests "$one")" \
        "$(secs "$many")" "$(field requests "$many")" "$(field "users seen" "$many")" \
        "$(secs "$touched")" "$(field requests "$touched")" "$(field "users seen" "$touched")"
    echo "  joiner's number: $number; $BATCH joiners round: $split; the watcher's lines are in $WLOG" >&2
    kill "$watcher" "$emu" 2>/dev/null || true
    wait "$watcher" "$emu" 2>/dev/null || true
    watcher=""
done
