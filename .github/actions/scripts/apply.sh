#!/usr/bin/env bash
# The merge-time apply for the action (action.yml): `roster apply
# --auto-approve`, its output in the job summary, its report for the
# artifact. Exits with roster's status: 0 everything applied (or nothing to
# apply), 1 anything failed or was refused (plan errors, safety limits).
#
# Environment: ROSTER_CONFIG, FORCE (`true`: --force), ROSTER_ARGS (extra
# arguments, split on blanks), REVIEWED (`pull-request` or `none`),
# REVIEWED_FOUND and REVIEWED_PLAN (the plan the pull request showed, found
# by reviewed-plan.js), BEFORE (the commit before the push: the base of the
# causes, so drift applies without review), and the runner's RUNNER_TEMP,
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
if [ "${REVIEWED:-none}" = pull-request ]; then
    if [ "${REVIEWED_FOUND:-false}" = true ]; then
        args+=(--reviewed "$REVIEWED_PLAN")
        # The commit before the push: changes pending there are drift.
        if [ -n "${BEFORE:-}" ] && ! [[ "$BEFORE" =~ ^0+$ ]] && git cat-file -e "$BEFORE^{commit}" 2>/dev/null; then
            args+=(--base "$BEFORE")
        fi
    elif [ "${FORCE:-false}" != true ]; then
        {
            echo '### ❌ roster apply refused'
            echo
            echo 'No reviewed plan was found for this commit (no merged pull request, or its plan run left no roster-plan artifact), so nothing was applied.'
            echo 'Review the plan of this commit and run the apply workflow by hand with force.'
        } >> "$GITHUB_STEP_SUMMARY"
        echo "::error::no reviewed plan for this commit: nothing applied (run by hand with force after reviewing)"
        exit 1
    fi
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
