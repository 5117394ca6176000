#!/usr/bin/env bash
# The hourly drift check for the action (action.yml): `roster plan` of the
# default branch against the live tenant; the result (no-changes, drift,
# error) as a step output for the drift issue, the plan in the job summary.
#
# Environment: ROSTER_CONFIG, ROSTER_ARGS (extra arguments, split on
# blanks), and the runner's RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY.
set -euo pipefail

roster --version
out="$RUNNER_TEMP/roster"
mkdir -p "$out"
read -r -a extra <<< "${ROSTER_ARGS:-}"
# 0 no changes, 2 changes (drift), 1 errors.
status=0
roster plan -C "$ROSTER_CONFIG" --detailed-exitcode --format markdown \
    --out "$out/plan.json" ${extra[@]+"${extra[@]}"} > "$out/plan.md" || status=$?
case "$status" in
    0) result=no-changes ;;
    2) result=drift ;;
    *) result=error ;;
esac
# Only a saved plan shows that roster got as far as planning (a
# command-line usage error exits 2 as well).
if [ ! -s "$out/plan.json" ]; then
    result=error
fi
echo "result=$result" >> "$GITHUB_OUTPUT"
echo "roster plan: $result (exit code $status)"
cat "$out/plan.md" >> "$GITHUB_STEP_SUMMARY"
