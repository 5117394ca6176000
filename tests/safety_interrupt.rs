//! Issue 9, interruption: `kill -9` of an apply through the Graph emulator
//! at random points, then applying again until converged, ends in the same
//! tenant as one uninterrupted apply. Numbers released by the killed run
//! stay in quarantine, so the users still waiting for a number get the
//! ones an uninterrupted apply gives them, not the ones just released.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::emu::{self, Emu, SECRET};

/// 40 movers hold a number in `old` and move to `new`; 40 joiners draw
/// from `old` (the lowest free numbers: those the movers release, unless
/// quarantined); everyone gets a dial plan.
fn tenant() -> Value {
    let mut users = Vec::new();
    let mut numbers = Vec::new();
    for i in 0..40 {
        let id = format!("m{i:02}");
        users.push(
            json!({ "id": id, "userPrincipalName": format!("{id}@contoso.com"), "city": "Leeds" }),
        );
        numbers.push(json!({
            "telephoneNumber": format!("+4411300000{i:02}"), "numberType": "directRouting",
            "assignmentTargetId": id, "assignmentCategory": "primary",
            "assignmentStatus": "userAssigned", "capabilities": ["userAssignment"]
        }));
    }
    for i in 0..40 {
        let id = format!("j{i:02}");
        users.push(
            json!({ "id": id, "userPrincipalName": format!("{id}@contoso.com"), "city": "York" }),
        );
    }
    json!({
        "format_version": 1,
        "tenantId": "contoso",
        "users": users,
        "policies": [{ "policyType": "TenantDialPlan", "name": "North", "policyId": "dp1" }],
        "policyAssignments": [],
        "numberAssignments": numbers,
    })
}

const CONFIG: &str = r#"
tenant "contoso" {
    provider "graph" tenant-id="contoso" client-id="app" client-secret-env="ROSTER_TEST_SECRET"
    safety max-changed-percent=100
}
range "old" type="direct-routing" {
    block "+441130000000" "+441130000199"
}
range "new" type="direct-routing" {
    block "+441139990000" "+441139990199"
}
persona "mover" {
    policies { TenantDialPlan "North" }
    number "new"
}
persona "joiner" {
    policies { TenantDialPlan "North" }
    number "old"
}
rule "Leeds" persona="mover" { when { city "Leeds" } }
rule "York" persona="joiner" { when { city "York" } }
"#;

/// A config directory (with its own state directory) and an emulator
/// serving a fresh copy of the tenant, answering after `latency`.
fn setup(dir: &Path, latency: Duration) -> Emu {
    emu::serve(dir, &tenant(), CONFIG, |o| o.latency = latency)
}

fn apply(dir: &Path, emu: &Emu) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("roster"));
    cmd.env("ROSTER_TEST_SECRET", SECRET)
        .env("NO_COLOR", "1")
        .arg("-C")
        .arg(dir.join("config"))
        .args(["--graph-endpoint", &emu.url(), "apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    cmd
}

/// Every user's dial plan and numbers, as the emulator holds them.
fn end_state(emu: &Emu) -> BTreeMap<String, (Option<String>, Vec<String>)> {
    let live = emu.live();
    let mut numbers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for n in live.numbers.values().filter(|n| n.is_held()) {
        if let Some(t) = &n.target {
            numbers
                .entry(t.clone())
                .or_default()
                .push(n.number.to_string());
        }
    }
    live.users
        .iter()
        .map(|u| {
            let mut held = numbers.remove(&u.id).unwrap_or_default();
            held.sort();
            (
                u.upn.clone(),
                (u.policies.get("TenantDialPlan").cloned(), held),
            )
        })
        .collect()
}

/// Apply until the plan is empty (at most a few rounds).
fn converge(dir: &Path, emu: &Emu) {
    for _ in 0..4 {
        let out = apply(dir, emu).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if emu::plan(dir, emu).status.code() == Some(0) {
            return;
        }
    }
    panic!("no convergence after four applies");
}

#[test]
fn a_killed_apply_resumes_to_the_uninterrupted_end_state() {
    let reference = tempfile::tempdir().unwrap();
    let emu = setup(reference.path(), Duration::ZERO);
    converge(reference.path(), &emu);
    let want = end_state(&emu);
    // The test is about something: movers moved, joiners got old numbers.
    assert!(want["m00@contoso.com"].1[0].starts_with("+44113999"));
    assert!(want["j00@contoso.com"].1[0].starts_with("+44113000"));

    // Kill points spread over releases, policy writes and assignments:
    // each request takes 4 ms, an apply about a second.
    for (round, kill_after_ms) in [60u64, 150, 300, 500, 800].into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let emu = setup(dir.path(), Duration::from_millis(4));
        let mut child = apply(dir.path(), &emu).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(kill_after_ms));
        let _ = child.kill(); // SIGKILL: no cleanup, no last write.
        let _ = child.wait();
        converge(dir.path(), &emu);
        let got = end_state(&emu);
        let differ: Vec<_> = want
            .iter()
            .filter(|(k, v)| got.get(*k) != Some(v))
            .map(|(k, v)| format!("{k}: uninterrupted {v:?}, resumed {:?}", got.get(k)))
            .take(5)
            .collect();
        assert!(
            differ.is_empty(),
            "round {round} (killed after {kill_after_ms} ms):\n{}",
            differ.join("\n")
        );
    }
}
