#!/usr/bin/env bash
# The merge-time apply for the action (action.yml): `roster apply
# --auto-approve`, its output in the job summary, its report for the
# artifact. Exits with roster's status: 0 everything applied (or nothing to
# apply), 1 anything failed or was refused (plan errors, safety limits).
#
# Environment: ROSTER_CONFIG, FORCE (`true`: --force), ROSTER_ARGS (extra
# arguments, split on blanks), and the runner's RUNNER_TEMP,
# GITHUB_STEP_SUMMARY.
set -euo pipefail

roster --version
out="$RUNNER_TEMP/roster"
mkdir -p "$out"
read -r -a extra <<< "${ROSTER_ARGS:-}"
args=(apply -C "$ROSTER_CONFIG" --auto-approve --report "$out/report.json")
if [ "${FORCE:-false}" = true ]; then
    args+=(--force)
fi
args+=(${extra[@]+"${extra[@]}"})
status=0
roster "${args[@]}" 2>&1 | tee "$out/apply.txt" || status=$?
{
    if [ "$status" -eq 0 ]; then
        echo '### ✅ roster apply'
    else
        echo "### ❌ roster apply failed (exit code $status)"
    fi
    echo
    echo '````text'
    tail -c 500000 "$out/apply.txt"
    echo
    echo '````'
} >> "$GITHUB_STEP_SUMMARY"
exit "$status"
