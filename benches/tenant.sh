# Sourced by the benchmark scripts: generate the synthetic tenant of N users
# into $BENCH_DIR/N (config/ and tenant.json) once, and again only when the
# generator or its arguments changed (needs SYNTH, BENCH_DIR, SEED, DRIFT);
# point a copy of its config at the graph provider; serve it with `roster
# emulator` (needs ROSTER, LATENCY, PORT).
# shellcheck shell=bash

ensure_tenant() {
    local n=$1 dir="$BENCH_DIR/$1" stamp
    stamp="seed=$SEED drift=$DRIFT synth=$(cat examples/synth/*.rs | sha256sum | cut -c1-16)"
    if [ ! -f "$dir/tenant.json" ] || [ "$(cat "$dir/.stamp" 2>/dev/null)" != "$stamp" ]; then
        echo "generating $n users into $dir..." >&2
        rm -rf "$dir"
        "$SYNTH" scale --users "$n" --out "$dir" --seed "$SEED" --drift "$DRIFT" >&2
        echo "$stamp" >"$dir/.stamp"
    fi
}

# $BENCH_DIR/N/config-graph: the generated config with its file provider
# swapped for the graph one (client secret from ROSTER_BENCH_SECRET).
graph_config() {
    local dir="$BENCH_DIR/$1"
    rm -rf "$dir/config-graph"
    cp -r "$dir/config" "$dir/config-graph"
    grep -rl 'provider "file"' "$dir/config-graph" | while read -r f; do
        sed -i 's|provider "file" path="[^"]*"|provider "graph" tenant-id="bench" client-id="bench" client-secret-env="ROSTER_BENCH_SECRET"|' "$f"
    done
}

# Serve the tenant of N users on 127.0.0.1:$PORT, the emulator's stderr into
# LOG and any further arguments passed on to it; sets emu to its pid and
# returns once it listens. The caller sets the EXIT trap that kills $emu.
start_emulator() {
    local n=$1 log=$2
    shift 2
    "$ROSTER" emulator --tenant "$BENCH_DIR/$n/tenant.json" --latency-ms "$LATENCY" --listen "127.0.0.1:$PORT" \
        --client-id bench --client-secret-env ROSTER_BENCH_SECRET "$@" 2>"$log" &
    emu=$!
    until grep -q "listening on" "$log"; do
        kill -0 "$emu" 2>/dev/null || { echo "error: the emulator stopped (see $log)" >&2; exit 1; }
        sleep 0.05
    done
}

# Build roster and the tenant generator in release; ROSTER and SYNTH name
# them.
build_release() {
    echo "building (release)..." >&2
    cargo build --release --quiet --bin roster --example synth
    # shellcheck disable=SC2034 # used by the scripts that source this file
    ROSTER=target/release/roster
    # shellcheck disable=SC2034
    SYNTH=target/release/examples/synth
}

# Milliseconds since the epoch.
ms() { echo $(($(date +%s%N) / 1000000)); }
