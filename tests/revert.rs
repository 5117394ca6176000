//! Issue 11 item 4: `roster revert APPLY-ID [--user UPN]` plans each user
//! of an apply back to its state before, where the live tenant is still as
//! the apply left it (others are conflicts, untouched); the plan is saved
//! and applied like any plan, and checked against the journal.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::common::work::{Output, Work};

const DAN: &str = "00000000-0000-0000-0000-0000000000d4";

/// What roster manages of the tenant: direct assignments and held numbers.
fn managed(w: &Work) -> BTreeSet<String> {
    let t = w.tenant_json();
    let mut out = BTreeSet::new();
    for a in t["policyAssignments"].as_array().unwrap() {
        out.insert(format!(
            "{} {} {}",
            a["userId"], a["policyType"], a["policyName"]
        ));
    }
    for n in t["numberAssignments"].as_array().unwrap() {
        if n["assignmentStatus"] != "unassigned" {
            out.insert(format!(
                "{} holds {}",
                n["assignmentTargetId"], n["telephoneNumber"]
            ));
        }
    }
    out
}

/// Apply the manifests; the apply's id.
fn applied(w: &Work) -> String {
    let out = w.run(&["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "{out:?}");
    let journal = std::fs::read_to_string(w.path(".roster-state/journal.jsonl")).unwrap();
    let last: Value = serde_json::from_str(journal.lines().last().unwrap()).unwrap();
    last["id"].as_str().unwrap().to_string()
}

/// Someone takes dan's meeting policy away by hand, in the tenant.
fn dan_loses_his_meeting_policy_by_hand(w: &Work) {
    let mut t = w.tenant_json();
    t["policyAssignments"]
        .as_array_mut()
        .unwrap()
        .retain(|a| !(a["userId"] == DAN && a["policyType"] == "TeamsMeetingPolicy"));
    w.set_tenant(&t);
}

/// `roster revert ID ARGS… --out revert.json`.
fn revert(w: &Work, id: &str, args: &[&str]) -> (Output, std::path::PathBuf) {
    let path = w.path("revert.json");
    let mut all = vec!["revert", id];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", path.to_str().unwrap()]);
    (w.run(&all), path)
}

fn read(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn upns(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["user"]["userPrincipalName"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_reverted_apply_leaves_the_tenant_as_before() {
    let w = Work::new();
    let before = managed(&w);
    let id = applied(&w);
    assert_ne!(managed(&w), before);

    let (out, path) = revert(&w, &id, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains(&format!("revert of apply {id}")),
        "{out:?}"
    );
    assert!(out.stdout.contains("next `roster plan`"), "{out:?}");
    let plan = read(&path);
    assert_eq!(plan["revert_of"], json!(id));
    assert_eq!(
        upns(&plan["changes"]),
        ["amy@contoso.com", "dan@contoso.com"]
    );
    assert!(plan.get("conflicts").is_none(), "{plan}");
    assert_eq!(plan["changes"][0]["reason"], json!({"kind": "revert"}));

    let out = w.run(&["apply", path.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("next `roster plan`"), "{out:?}");
    assert_eq!(managed(&w), before, "back as before the apply");

    // The revert is in the journal; the numbers it took back are in
    // quarantine, so the next plan gives others.
    let out = w.run(&["history"]);
    assert!(out.stdout.contains(&format!("(revert of {id})")), "{out:?}");
    let out = w.run(&["plan", "--format", "json"]);
    let next: Value = serde_json::from_str(&out.stdout).unwrap();
    let listed: Vec<&str> = next["quarantine"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["number"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["+442071230000", "+442071230001"]);
    assert!(next.to_string().contains("+442071230002"), "{next}");

    // Nothing left to revert.
    let (out, path) = revert(&w, &id, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Nothing to revert"), "{out:?}");
    assert_eq!(read(&path)["changes"], json!([]));
}

#[test]
fn user_limits_the_revert() {
    let w = Work::new();
    let id = applied(&w);
    let amy_after: Vec<String> = managed(&w)
        .into_iter()
        .filter(|l| l.contains("0000000000a1"))
        .collect();
    let (out, path) = revert(&w, &id[..8], &["--user", "DAN@contoso.com"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(upns(&read(&path)["changes"]), ["dan@contoso.com"]);
    let out = w.run(&["apply", path.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    let now = managed(&w);
    assert!(
        now.contains(&format!("\"{DAN}\" holds \"+15551230000\"")),
        "{now:?}"
    );
    let amy_now: Vec<String> = now
        .into_iter()
        .filter(|l| l.contains("0000000000a1"))
        .collect();
    assert_eq!(amy_now, amy_after, "amy untouched");

    let out = w.run(&["revert", &id, "--user", "eng01@contoso.com"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("did not change `eng01@contoso.com`"),
        "{out:?}"
    );
}

#[test]
fn a_user_changed_by_hand_since_is_a_conflict_and_untouched() {
    let w = Work::new();
    let id = applied(&w);
    dan_loses_his_meeting_policy_by_hand(&w);
    let dan_now: Vec<String> = managed(&w)
        .into_iter()
        .filter(|l| l.contains(DAN))
        .collect();

    let (out, path) = revert(&w, &id, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Conflicts (1)"), "{out:?}");
    assert!(
        out.stdout
            .contains("TeamsMeetingPolicy: `Sales Meetings` after the apply, none now"),
        "{out:?}"
    );
    let plan = read(&path);
    assert_eq!(upns(&plan["changes"]), ["amy@contoso.com"]);
    assert_eq!(upns(&plan["conflicts"]), ["dan@contoso.com"]);
    let out = w.run(&["apply", path.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    let dan_after: Vec<String> = managed(&w)
        .into_iter()
        .filter(|l| l.contains(DAN))
        .collect();
    assert_eq!(dan_after, dan_now, "dan untouched");
}

/// Save a revert plan, edit it, apply it: refused, the tenant unchanged.
fn forged(edit: impl FnOnce(&mut Value)) -> Output {
    let w = Work::new();
    let id = applied(&w);
    let (_, path) = revert(&w, &id, &[]);
    w.apply_edited(&path, edit)
}

#[test]
fn a_forged_revert_plan_is_refused() {
    let out = forged(|p| {
        let amy = &mut p["changes"][0];
        assert_eq!(amy["user"]["userPrincipalName"], "amy@contoso.com");
        amy["actions"].as_array_mut().unwrap().push(json!({
            "op": "assign-policy", "policyType": "TeamsCallingPolicy", "from": "AllowCalling", "to": "Forged"
        }));
        p["summary"]["policies_assigned"] = json!(1);
    });
    assert!(out.stderr.contains("not the revert of apply"), "{out:?}");
    assert!(out.stderr.contains("`amy@contoso.com`"), "{out:?}");
    assert!(out.stderr.contains("roster revert"), "{out:?}");

    // Without its mark, it is checked against the manifests.
    let out = forged(|p| {
        p.as_object_mut().unwrap().remove("revert_of");
    });
    assert!(out.stderr.contains("not what roster plans now"), "{out:?}");

    // Another apply's id.
    let out = forged(|p| p["revert_of"] = json!("no-such-apply"));
    assert!(out.stderr.contains("no apply `no-such-apply`"), "{out:?}");
}

#[test]
fn a_normal_plan_marked_as_a_revert_is_refused() {
    let w = Work::new();
    let id = applied(&w);
    // Someone changes dan by hand; the manifests' plan corrects it.
    dan_loses_his_meeting_policy_by_hand(&w);
    let (_, path) = w.save_plan("plan.json");
    let mut plan = read(&path);
    plan["revert_of"] = json!(id);
    std::fs::write(&path, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    let out = w.run(&["apply", path.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("not the revert of apply"), "{out:?}");
}

#[test]
fn a_stale_revert_plan_is_refused() {
    let w = Work::new();
    let id = applied(&w);
    let (_, path) = revert(&w, &id, &[]);
    let mut t = w.tenant_json();
    t["policyAssignments"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a["userId"] != DAN);
    w.set_tenant(&t);
    let out = w.run(&["apply", path.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("changed since the plan was made"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains(&format!("roster revert {id}")),
        "{out:?}"
    );
}

#[test]
fn an_unknown_apply_id_is_a_clear_error() {
    let w = Work::new();
    let out = w.run(&["revert", "nope"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("no apply `nope` in the journal"),
        "{out:?}"
    );
    assert!(out.stderr.contains("roster history"), "{out:?}");
}

/// Through Microsoft Graph (the emulator): the released Direct Routing
/// number goes back with its type, the policy with its name.
#[test]
fn a_revert_through_graph_restores_the_state_before() {
    use crate::common::emu::{Emu, SECRET};
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("tenant.json");
    let tenant = json!({
        "format_version": 1,
        "tenantId": "contoso",
        "users": [{ "id": "u1", "userPrincipalName": "amy@contoso.com", "city": "London" }],
        "policies": [
            { "policyType": "TenantDialPlan", "name": "London", "policyId": "dp1" },
            { "policyType": "TenantDialPlan", "name": "Dublin", "policyId": "dp2" }
        ],
        "policyAssignments": [{ "userId": "u1", "policyType": "TenantDialPlan", "policyName": "Dublin" }],
        "numberAssignments": [{ "telephoneNumber": "+15551230000", "numberType": "directRouting", "assignmentTargetId": "u1", "assignmentCategory": "primary", "assignmentStatus": "userAssigned", "capabilities": ["userAssignment"] }]
    });
    std::fs::write(&seed, tenant.to_string()).unwrap();
    let emu = Emu::start(&seed, |_| {});
    let cfg = dir.path().join("config");
    std::fs::create_dir(&cfg).unwrap();
    std::fs::write(
        cfg.join("tenant.kdl"),
        r#"
tenant "contoso" {
    provider "graph" tenant-id="contoso" client-id="app" client-secret-env="ROSTER_TEST_SECRET"
}
range "london" type="direct-routing" location="loc-london" {
    block "+442071230000" "+442071230099"
}
persona "uk" {
    policies { TenantDialPlan "London" }
    number "london"
}
rule "UK" persona="uk" { when { city "London" } }
"#,
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = crate::common::roster()
            .env("ROSTER_TEST_SECRET", SECRET)
            .arg("-C")
            .arg(&cfg)
            .args(["--graph-endpoint", &emu.url()])
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {text}");
        text
    };
    let amy = |emu: &Emu| {
        let live = emu.live();
        let held: Vec<(String, Option<roster::numbers::NumberType>)> = live
            .numbers
            .values()
            .filter(|n| n.target.as_deref() == Some("u1"))
            .map(|n| (n.number.to_string(), n.number_type))
            .collect();
        (live.users[0].policies.clone(), held)
    };
    let before = amy(&emu);
    run(&["apply", "--auto-approve"]);
    assert_ne!(amy(&emu), before);
    let journal = std::fs::read_to_string(cfg.join(".roster-state/journal.jsonl")).unwrap();
    let entry: Value = serde_json::from_str(journal.lines().next().unwrap()).unwrap();
    let id = entry["id"].as_str().unwrap();
    let path = dir.path().join("revert.json");
    run(&["revert", id, "--out", path.to_str().unwrap()]);
    run(&["apply", path.to_str().unwrap()]);
    assert_eq!(amy(&emu), before);
}
