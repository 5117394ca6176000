#!/usr/bin/env bash
# `roster plan` of a pull request for the action (action.yml): the Markdown
# plan for the comment and the job summary, the JSON plan for the artifact,
# and the result (no-changes, changes, error) as a step output. Never fails
# itself, so the comment is posted whatever the plan says; the action's last
# step fails the job on errors.
#
# Environment: ROSTER_CONFIG, BASE_REF (the target branch; empty: no --base),
# ROSTER_ARGS (extra arguments, split on blanks), and the runner's
# RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY.
set -euo pipefail

roster --version
out="$RUNNER_TEMP/roster"
mkdir -p "$out"
read -r -a extra <<< "${ROSTER_ARGS:-}"
args=(plan -C "$ROSTER_CONFIG")
if [ -n "${BASE_REF:-}" ]; then
    args+=(--base "origin/$BASE_REF")
fi
args+=(--detailed-exitcode --format markdown --out "$out/plan.json" ${extra[@]+"${extra[@]}"})
# --detailed-exitcode: 0 no changes, 2 changes, 1 errors.
status=0
roster "${args[@]}" > "$out/plan.md" 2> "$out/plan.log" || status=$?
cat "$out/plan.log" >&2
case "$status" in
    0) result=no-changes ;;
    2) result=changes ;;
    *) result=error ;;
esac
# Only a saved plan shows that roster got as far as planning (a
# command-line usage error exits 2 as well).
if [ ! -s "$out/plan.json" ]; then
    result=error
fi
if [ ! -s "$out/plan.md" ]; then
    # roster stopped before it had a plan (invalid manifests, no access to
    # the tenant): its diagnostics become the comment.
    {
        echo '<!-- roster-plan -->'
        echo '### roster plan failed'
        echo
        echo "roster exited with code $status before it could make a plan:"
        echo
        echo '````text'
        tail -c 50000 "$out/plan.log"
        echo
        echo '````'
    } > "$out/plan.md"
fi
echo "result=$result" >> "$GITHUB_OUTPUT"
echo "roster plan: $result (exit code $status)"
cat "$out/plan.md" >> "$GITHUB_STEP_SUMMARY"
