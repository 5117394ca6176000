# Sourced by the benchmark scripts: generate the synthetic tenant of N users
# into $BENCH_DIR/N (config/ and tenant.json) once, and again only when the
# generator or its arguments changed. Needs SYNTH, BENCH_DIR, SEED, DRIFT.
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
