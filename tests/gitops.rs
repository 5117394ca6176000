//! GitOps: `plan --base` splits a plan into what a revision range causes
//! and what was pending already (drift); `plan --ref` plans an older
//! revision without touching the working tree; the plan records commit,
//! ref and dirtiness; `reconcile --once` converges a drifted tenant through
//! the emulator and honours the pause switch.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::emu::{Emu, SECRET};
use crate::common::git::commit_all;
use crate::common::roster;

const BASE: &str = r#"
tenant "contoso" {
    safety max-changed-percent=100
}
range "london" type="direct-routing" {
    block "+442071230000" "+442071230099"
}
range "dublin" type="direct-routing" {
    block "+35312340000" "+35312340099"
}
persona "uk" {
    policies { TenantDialPlan "London" }
    number "london"
}
persona "ie" {
    policies { TenantDialPlan "Dublin" }
    number "dublin"
}
rule "UK" persona="uk" { when { city "London" "Manchester" } }
rule "IE" persona="ie" { when { city "Dublin" } }
"#;

/// One rule changed (Manchester gets its own persona) and one range
/// changed (London moves to a new block).
const HEAD: &str = r#"
tenant "contoso" {
    safety max-changed-percent=100
}
range "london" type="direct-routing" {
    block "+442079990000" "+442079990099"
}
range "dublin" type="direct-routing" {
    block "+35312340000" "+35312340099"
}
persona "uk" {
    policies { TenantDialPlan "London" }
    number "london"
}
persona "uk-north" {
    policies { TenantDialPlan "Manchester" }
    number "london"
}
persona "ie" {
    policies { TenantDialPlan "Dublin" }
    number "dublin"
}
rule "UK North" persona="uk-north" { when { city "Manchester" } }
rule "UK" persona="uk" { when { city "London" } }
rule "IE" persona="ie" { when { city "Dublin" } }
"#;

fn tenant() -> Value {
    let user = |id: &str, upn: &str, city: &str| json!({ "id": id, "userPrincipalName": upn, "city": city });
    json!({
        "format_version": 1,
        "tenantId": "contoso",
        "users": [
            user("u1", "amy@contoso.com", "London"),
            user("u2", "bob@contoso.com", "Dublin"),
            user("u3", "cat@contoso.com", "Dublin"),
            user("u4", "dan@contoso.com", "Manchester"),
        ],
        "policies": [
            { "policyType": "TenantDialPlan", "name": "London", "policyId": "dp1" },
            { "policyType": "TenantDialPlan", "name": "Dublin", "policyId": "dp2" },
            { "policyType": "TenantDialPlan", "name": "Manchester", "policyId": "dp3" },
        ],
        "policyAssignments": [],
        "numberAssignments": [],
    })
}

fn plan_json(dir: &Path, extra: &[&str]) -> Value {
    let out = roster()
        .current_dir(dir)
        .args([
            "plan",
            "-C",
            "config",
            "--tenant",
            "tenant.json",
            "--format",
            "json",
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn causes(plan: &Value) -> Vec<(String, String)> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["user"]["userPrincipalName"].as_str().unwrap().to_string(),
                c["cause"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

/// A repository with the base commit applied to the tenant, then drift on
/// bob (his dial plan changed by hand), then the head commit.
fn scenario() -> (tempfile::TempDir, git2::Oid, git2::Oid) {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::write(dir.path().join("config/tenant.kdl"), BASE).unwrap();
    std::fs::write(dir.path().join(".gitignore"), "tenant.json\n").unwrap();
    let base = commit_all(&repo, "base");
    std::fs::write(dir.path().join("tenant.json"), tenant().to_string()).unwrap();
    roster()
        .current_dir(dir.path())
        .args([
            "apply",
            "-C",
            "config",
            "--tenant",
            "tenant.json",
            "--auto-approve",
        ])
        .assert()
        .success();
    // Drift: someone gives bob the London dial plan by hand.
    let mut t: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("tenant.json")).unwrap())
            .unwrap();
    for a in t["policyAssignments"].as_array_mut().unwrap() {
        if a["userId"] == "u2" {
            a["policyName"] = json!("London");
        }
    }
    std::fs::write(dir.path().join("tenant.json"), t.to_string()).unwrap();
    std::fs::write(dir.path().join("config/tenant.kdl"), HEAD).unwrap();
    let head = commit_all(&repo, "head: Manchester persona, new London block");
    (dir, base, head)
}

#[test]
fn base_splits_changes_from_drift() {
    let (dir, base, head) = scenario();
    let plan = plan_json(dir.path(), &["--base", &base.to_string()]);
    assert_eq!(
        causes(&plan),
        vec![
            ("amy@contoso.com".into(), "change".into()), // new London block
            ("bob@contoso.com".into(), "drift".into()), // hand-made change, pending at base already
            ("dan@contoso.com".into(), "change".into()), // the new Manchester rule
        ]
    );
    assert_eq!(plan["config"]["git"]["commit"], head.to_string());
    assert_eq!(plan["config"]["git"]["dirty"], false);
    // The Markdown comment shows the two groups apart.
    let out = roster()
        .current_dir(dir.path())
        .args([
            "plan",
            "-C",
            "config",
            "--tenant",
            "tenant.json",
            "--format",
            "markdown",
            "--base",
            "HEAD~1",
        ])
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    let change = md
        .find("Changes caused by this pull request (2 users)")
        .expect(&md);
    let drift = md.find("Drift already pending").expect(&md);
    assert!(change < drift);
    assert!(md[drift..].contains("bob@contoso.com"));
    assert!(!md[change..drift].contains("bob@contoso.com"));
}

#[test]
fn ref_plans_an_older_revision_without_touching_the_tree() {
    let (dir, base, _head) = scenario();
    let before = std::fs::read_to_string(dir.path().join("config/tenant.kdl")).unwrap();
    let plan = plan_json(dir.path(), &["--ref", "HEAD~1"]);
    // At the base revision only bob's drift is pending.
    assert_eq!(causes(&plan), vec![("bob@contoso.com".into(), "-".into())]);
    assert_eq!(plan["config"]["git"]["commit"], base.to_string());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("config/tenant.kdl")).unwrap(),
        before
    );
    let repo = git2::Repository::open(dir.path()).unwrap();
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true).include_ignored(false);
    let statuses = repo.statuses(Some(&mut opts)).unwrap();
    let touched: Vec<String> = statuses
        .iter()
        .map(|e| format!("{:?} {:?}", e.path(), e.status()))
        .collect();
    assert!(
        touched.is_empty(),
        "the working tree was touched: {touched:?}"
    );
    // A revision that does not exist is a clear error.
    let out = roster()
        .current_dir(dir.path())
        .args([
            "plan",
            "-C",
            "config",
            "--tenant",
            "tenant.json",
            "--ref",
            "no-such-branch",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("git revision `no-such-branch` cannot be resolved"),
        "{err}"
    );
}

#[test]
fn the_plan_records_a_dirty_tree() {
    let (dir, _, head) = scenario();
    std::fs::write(
        dir.path().join("config/extra.kdl"),
        "// not committed yet\n",
    )
    .unwrap();
    let plan = plan_json(dir.path(), &[]);
    assert_eq!(plan["config"]["git"]["commit"], head.to_string());
    assert_eq!(plan["config"]["git"]["dirty"], true);
    assert!(
        plan["config"]["git"]["ref"]
            .as_str()
            .unwrap()
            .starts_with("refs/heads/")
    );
}

const GRAPH_CONFIG: &str = r#"
tenant "contoso" {
    provider "graph" tenant-id="contoso" client-id="app" client-secret-env="ROSTER_TEST_SECRET"
    safety max-changed-percent=100
    PAUSED
}
range "london" type="direct-routing" {
    block "+442071230000" "+442071230099"
}
persona "uk" {
    policies { TenantDialPlan "London" }
    number "london"
}
rule "UK" persona="uk" { when { city "London" } }
"#;

fn reconcile_once(dir: &Path, endpoint: &str) -> (i32, String) {
    let out = roster()
        .env("ROSTER_TEST_SECRET", SECRET)
        .args(["reconcile", "--once", "-C"])
        .arg(dir)
        .args(["--graph-endpoint", endpoint])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn reconcile_once_converges_a_drifted_tenant_and_honours_pause() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = tenant();
    // Drift: amy holds a Dublin dial plan and a number outside every range.
    t["policyAssignments"] =
        json!([{ "userId": "u1", "policyType": "TenantDialPlan", "policyName": "Dublin" }]);
    t["numberAssignments"] = json!([{ "telephoneNumber": "+15551230000", "numberType": "directRouting", "assignmentTargetId": "u1", "assignmentCategory": "primary", "assignmentStatus": "userAssigned", "capabilities": ["userAssignment"] }]);
    let seed = dir.path().join("tenant.json");
    std::fs::write(&seed, t.to_string()).unwrap();
    let emu = Emu::start(&seed, |_| {});
    let cfg = dir.path().join("config");
    std::fs::create_dir(&cfg).unwrap();

    // Paused: plans, applies nothing.
    std::fs::write(
        cfg.join("tenant.kdl"),
        GRAPH_CONFIG.replace("PAUSED", "paused #true"),
    )
    .unwrap();
    let (code, out) = reconcile_once(&cfg, &emu.url());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("reconcile paused: 1 users pending"), "{out}");
    assert_eq!(
        emu.live().users[0]
            .policies
            .get("TenantDialPlan")
            .map(String::as_str),
        Some("Dublin")
    );

    // Unpaused: converges.
    std::fs::write(cfg.join("tenant.kdl"), GRAPH_CONFIG.replace("PAUSED", "")).unwrap();
    let (code, out) = reconcile_once(&cfg, &emu.url());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("reconcile applied: 1 users changed, 0 failed"),
        "{out}"
    );
    let live = emu.live();
    assert_eq!(
        live.users[0]
            .policies
            .get("TenantDialPlan")
            .map(String::as_str),
        Some("London")
    );
    let held: Vec<String> = live
        .numbers
        .values()
        .filter(|n| n.target.as_deref() == Some("u1"))
        .map(|n| n.number.to_string())
        .collect();
    assert_eq!(held, vec!["+442071230000"]);

    // And a second round finds nothing to do.
    let (code, out) = reconcile_once(&cfg, &emu.url());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("reconcile converged: no changes"), "{out}");
}
