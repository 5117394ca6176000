//! Issue 12, apply what was reviewed: the merge-time apply compares its
//! plan with the plan the pull request showed; changes that are neither in
//! that plan nor drift are refused unless forced, and the apply says what
//! differed.

use serde_json::{Value, json};

use crate::common::git::commit_all;
use crate::common::work::Work;

/// The workflow config in a git repository: `base` without the meeting
/// policy, the pull request's head with it (the fixture as it is).
fn repo(w: &Work) -> String {
    let repo = git2::Repository::init(w.config()).unwrap();
    std::fs::write(
        w.path(".gitignore"),
        "tenant.json\n.roster-state/\n*.json\n",
    )
    .unwrap();
    w.edit_config("        TeamsMeetingPolicy \"Sales Meetings\"\n", "");
    let base = commit_all(&repo, "base");
    w.edit_config(
        "        TeamsCallingPolicy \"AllowCalling\"\n",
        "        TeamsCallingPolicy \"AllowCalling\"\n        TeamsMeetingPolicy \"Sales Meetings\"\n",
    );
    commit_all(&repo, "pull request");
    base.to_string()
}

/// Change users by hand after the review: `edit` gets the snapshot JSON.
fn after_review(w: &Work, edit: impl FnOnce(&mut Value)) {
    let mut t = w.tenant_json();
    edit(&mut t);
    w.set_tenant(&t);
}

fn drop_bobs_calling_policy(t: &mut Value) {
    t["policyAssignments"].as_array_mut().unwrap().retain(|a| {
        !(a["userId"] == "00000000-0000-0000-0000-0000000000b2"
            && a["policyType"] == "TeamsCallingPolicy")
    });
}

#[test]
fn the_reviewed_plan_applies_and_drift_is_allowed() {
    let w = Work::new();
    let base = repo(&w);
    let (out, reviewed) = (
        w.run(&[
            "plan",
            "--base",
            &base,
            "--out",
            w.path("pr.json").to_str().unwrap(),
        ]),
        w.path("pr.json"),
    );
    assert_eq!(out.code, 0, "{out:?}");
    after_review(&w, drop_bobs_calling_policy);
    let out = w.run(&[
        "apply",
        "--auto-approve",
        "--base",
        &base,
        "--reviewed",
        reviewed.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("2 changes as reviewed, 1 drift correction, 0 not reviewed"),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains("drift (not in the reviewed plan): bob@contoso.com"),
        "{out:?}"
    );
    let again = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
}

#[test]
fn a_change_nobody_reviewed_is_refused_unless_forced() {
    let w = Work::new();
    let base = repo(&w);
    let reviewed = w.path("pr.json");
    let out = w.run(&["plan", "--base", &base, "--out", reviewed.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    // After the review, HR makes an engineer a salesperson: at the head the
    // change includes the meeting policy the pull request added, so it is
    // caused by the pull request, and nobody saw it.
    after_review(&w, |t| {
        t["users"][3]["jobTitle"] = json!("Sales");
    });
    let before = w.tenant();
    let args = [
        "apply",
        "--auto-approve",
        "--base",
        &base,
        "--reviewed",
        reviewed.to_str().unwrap(),
    ];
    let out = w.run(&args);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("not in the reviewed plan and not drift"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("`eng01@contoso.com`: was not in the reviewed plan"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("not reviewed: eng01@contoso.com"),
        "{out:?}"
    );
    assert_eq!(w.tenant(), before, "nothing applied");
    let mut forced = args.to_vec();
    forced.push("--force");
    let out = w.run(&forced);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("nobody reviewed"), "{out:?}");
}

#[test]
fn a_reviewed_plan_of_another_tenant_is_refused() {
    let w = Work::new();
    let reviewed = w.path("pr.json");
    w.run(&["plan", "--out", reviewed.to_str().unwrap()]);
    let mut plan: Value =
        serde_json::from_str(&std::fs::read_to_string(&reviewed).unwrap()).unwrap();
    plan["tenant"]["name"] = json!("fabrikam");
    std::fs::write(&reviewed, plan.to_string()).unwrap();
    let out = w.run(&[
        "apply",
        "--auto-approve",
        "--reviewed",
        reviewed.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("`fabrikam`"), "{out:?}");
}
