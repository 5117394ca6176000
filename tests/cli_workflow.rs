//! The plan/apply workflow through the `roster` binary, on temporary copies
//! of `tests/fixtures/workflow` (a config and its tenant snapshot): exit
//! codes, saved plans, stale and unsafe plans, reports, limits, and what
//! the file provider keeps.

use serde_json::Value;

use crate::common::work::Work;

/// A plan's JSON with `created_at` blanked.
fn without_time(json: &str) -> String {
    let mut v: Value = serde_json::from_str(json).unwrap();
    v["created_at"] = Value::String(String::new());
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn plan_exit_codes() {
    let w = Work::new();
    let out = w.run(&["plan"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Plan: 2 users to change"), "{out:?}");

    let out = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.code, 2, "{out:?}");

    let out = w.run(&["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "{out:?}");

    let out = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("No changes."), "{out:?}");
    let out = w.run(&["plan"]);
    assert_eq!(out.code, 0, "{out:?}");

    // A plan with errors: 1, with or without --detailed-exitcode.
    w.edit_config(
        r#"block "+442071230000" "+442071230009""#,
        r#"block "+442071230000" "+442071230001""#,
    );
    w.edit_config(r#"jobTitle "Sales""#, r#"jobTitle "Sales" "Engineer""#);
    for args in [&["plan"][..], &["plan", "--detailed-exitcode"][..]] {
        let out = w.run(args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(out.stdout.contains("range-exhausted"), "{out:?}");
    }
}

#[test]
fn validate_exit_codes() {
    let w = Work::new();
    let out = w.run(&["validate"]);
    assert_eq!(out.code, 0, "{out:?}");
    w.edit_config(r#"persona="uk-sales""#, r#"persona="uk-sails""#);
    let out = w.run(&["validate"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.all().contains("uk-sales"), "suggests the fix: {out:?}");
    // Planning with broken manifests fails as well.
    assert_eq!(w.run(&["plan"]).code, 1);
}

#[test]
fn show_renders_a_saved_plan() {
    let w = Work::new();
    let (out, plan) = w.save_plan("plan.json");
    assert_eq!(out.code, 0, "{out:?}");
    let p = plan.to_str().unwrap();
    let text = w.run(&["show", p]);
    assert_eq!(text.code, 0, "{text:?}");
    assert_eq!(text.stdout, out.stdout, "show prints what plan printed");
    let json = w.run(&["show", p, "--format", "json"]);
    assert_eq!(json.code, 0);
    assert_eq!(json.stdout, std::fs::read_to_string(&plan).unwrap());
    let md = w.run(&["show", p, "--format", "markdown"]);
    assert_eq!(md.code, 0);
    assert!(md.stdout.starts_with("<!-- roster-plan -->"), "{md:?}");

    let missing = w.run(&["show", w.path("nope.json").to_str().unwrap()]);
    assert_eq!(missing.code, 1, "{missing:?}");
    assert!(missing.stderr.contains("nope.json"), "{missing:?}");
    std::fs::write(w.path("bad.json"), "{\"format_version\": 1}").unwrap();
    let bad = w.run(&["show", w.path("bad.json").to_str().unwrap()]);
    assert_eq!(bad.code, 1, "{bad:?}");
}

#[test]
fn explain_a_user() {
    let w = Work::new();
    let out = w.run(&["explain", "AMY@contoso.com"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("rule \"Sales\""), "{out:?}");
    assert!(out.stdout.contains("uk-sales"), "{out:?}");
    assert!(out.stdout.contains("+442071230000"), "{out:?}");
    // By object id.
    let out = w.run(&["explain", "00000000-0000-0000-0000-0000000000d4"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("dan@contoso.com"), "{out:?}");
    assert!(out.stdout.contains("+15551230000"), "{out:?}");

    let out = w.run(&["explain", "nobody@contoso.com"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("nobody@contoso.com"), "{out:?}");
}

#[test]
fn plan_out_then_apply_converges() {
    let w = Work::new();
    let (out, plan) = w.save_plan("plan.json");
    assert_eq!(out.code, 0, "{out:?}");
    let (_, again) = w.save_plan("again.json");
    let first = std::fs::read_to_string(&plan).unwrap();
    assert_eq!(
        without_time(&first),
        without_time(&std::fs::read_to_string(&again).unwrap()),
        "two plans of the same inputs are equal but for created_at"
    );
    // Byte-equal but for the created_at line.
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.trim_start().starts_with("\"created_at\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&first),
        strip(&std::fs::read_to_string(&again).unwrap())
    );

    let out = w.run(&["apply", plan.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("Apply complete: 2 applied, 0 failed, 0 skipped."),
        "{out:?}"
    );

    let snap = w.tenant_json();
    let amy_numbers: Vec<&Value> = snap["numberAssignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["assignmentTargetId"] == "00000000-0000-0000-0000-0000000000a1")
        .collect();
    assert_eq!(amy_numbers.len(), 1);
    assert_eq!(amy_numbers[0]["telephoneNumber"], "+442071230000");
    assert_eq!(amy_numbers[0]["locationId"], "loc-london");

    let out = w.run(&["plan", "--detailed-exitcode", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["changes"], Value::Array(vec![]));
    assert_eq!(v["summary"]["users_changed"], 0);

    // Applying the same plan again is refused: its users changed since.
    let before = w.tenant();
    let out = w.run(&["apply", plan.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(w.tenant(), before);
}

#[test]
fn a_stale_plan_is_refused() {
    let w = Work::new();
    let (_, plan) = w.save_plan("plan.json");
    // Someone gives Dan a meeting policy in the meantime.
    let mut snap = w.tenant_json();
    snap["policyAssignments"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "userId": "00000000-0000-0000-0000-0000000000d4",
            "policyType": "TeamsMeetingPolicy",
            "policyName": "Sales Meetings"
        }));
    w.set_tenant(&snap);
    let before = w.tenant();
    let out = w.run(&["apply", plan.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("`dan@contoso.com`"), "{out:?}");
    assert!(!out.stderr.contains("amy@contoso.com"), "{out:?}");
    assert!(out.stderr.contains("changed since the plan"), "{out:?}");
    assert_eq!(w.tenant(), before, "the snapshot is unchanged");

    // A number taken from a user makes the plan stale as well.
    let w = Work::new();
    let (_, plan) = w.save_plan("plan.json");
    let mut snap = w.tenant_json();
    for n in snap["numberAssignments"].as_array_mut().unwrap() {
        if n["telephoneNumber"] == "+15551230000" {
            n["assignmentTargetId"] = Value::Null;
            n["assignmentStatus"] = "unassigned".into();
        }
    }
    w.set_tenant(&snap);
    let out = w.run(&["apply", plan.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("`dan@contoso.com`"), "{out:?}");
}

#[test]
fn a_plan_made_from_other_manifests_is_refused() {
    let w = Work::new();
    let (_, plan) = w.save_plan("plan.json");
    w.edit_config("// A small config", "// An edited config");
    let before = w.tenant();
    let out = w.run(&["apply", plan.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("manifests changed"), "{out:?}");
    assert_eq!(w.tenant(), before);
}

#[test]
fn a_plan_with_errors_is_never_applied() {
    let w = Work::new();
    w.edit_config(
        r#"block "+442071230000" "+442071230009""#,
        r#"block "+442071230000" "+442071230000""#,
    );
    let (out, plan) = w.save_plan("plan.json");
    assert_eq!(out.code, 1, "{out:?}");
    let before = w.tenant();
    for args in [
        vec!["apply", plan.to_str().unwrap()],
        vec!["apply", plan.to_str().unwrap(), "--force"],
        vec!["apply", "--auto-approve", "--force"],
    ] {
        let out = w.run(&args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(out.stderr.contains("error"), "{out:?}");
        assert_eq!(w.tenant(), before, "{args:?}");
    }
}

#[test]
fn an_unsafe_plan_is_refused_unless_forced() {
    for (limit, expect) in [
        (
            "max-changed-users=1 max-changed-percent=50",
            vec!["2 users would change", "limit of 1", "by 1"],
        ),
        (
            "max-changed-users=50 max-changed-percent=10",
            vec!["2 of 12 users", "16.7%", "10%"],
        ),
    ] {
        let w = Work::new();
        w.edit_config("max-changed-users=50 max-changed-percent=50", limit);
        let (_, plan) = w.save_plan("plan.json");
        let before = w.tenant();
        let out = w.run(&["apply", plan.to_str().unwrap()]);
        assert_eq!(out.code, 1, "{out:?}");
        for e in &expect {
            assert!(out.stderr.contains(e), "`{e}` in {out:?}");
        }
        assert!(out.stderr.contains("--force"), "{out:?}");
        assert_eq!(w.tenant(), before);
        // Without a saved plan too.
        let out = w.run(&["apply", "--auto-approve"]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(w.tenant(), before);

        let out = w.run(&["apply", plan.to_str().unwrap(), "--force"]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_ne!(w.tenant(), before);
        assert_eq!(w.run(&["plan", "--detailed-exitcode"]).code, 0);
    }
}

#[test]
fn default_safety_limit_is_thirty_percent() {
    let w = Work::new();
    w.edit_config(
        "    safety max-changed-users=50 max-changed-percent=50\n",
        "",
    );
    // 2 of 12 change: within 30%.
    let out = w.run(&["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "{out:?}");
    // Now make 4 of 12 change: over 30% (3 users).
    w.edit_config(
        r#"jobTitle "Sales""#,
        r#"any { jobTitle "Sales"; userPrincipalName matches="eng0[1-4]@contoso[.]com"; }"#,
    );
    let out = w.run(&["plan"]);
    assert!(out.stdout.contains("Plan: 4 users to change"), "{out:?}");
    let before = w.tenant();
    let out = w.run(&["apply", "--auto-approve"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("over the limit of 30%"), "{out:?}");
    assert_eq!(w.tenant(), before);
}

#[test]
fn apply_without_a_plan_needs_approval_off_a_terminal() {
    let w = Work::new();
    let before = w.tenant();
    let out = w.run(&["apply"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("--auto-approve"), "{out:?}");
    assert_eq!(w.tenant(), before);
    // It shows the plan it would apply.
    assert!(out.stdout.contains("amy@contoso.com"), "{out:?}");

    let out = w.run(&["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_ne!(w.tenant(), before);
    let out = w.run(&["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("Nothing to apply"), "{out:?}");
}

#[test]
fn apply_writes_a_json_report() {
    let w = Work::new();
    let report = w.path("report.json");
    let out = w.run(&[
        "apply",
        "--auto-approve",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["applied"], 2);
    assert_eq!(r["failed"], 0);
    assert_eq!(r["skipped"], 0);
    let users: Vec<(&str, &str)> = r["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["userPrincipalName"].as_str().unwrap(),
                u["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        users,
        vec![
            ("amy@contoso.com", "applied"),
            ("dan@contoso.com", "applied")
        ]
    );
}

#[test]
fn user_limits_the_plan() {
    let w = Work::new();
    let out = w.run(&["plan", "--user", "DAN@contoso.com", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let upns: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["user"]["userPrincipalName"].as_str().unwrap())
        .collect();
    assert_eq!(upns, vec!["dan@contoso.com"]);
    assert_eq!(v["limit"]["users"], serde_json::json!(["dan@contoso.com"]));
    assert_eq!(v["summary"]["users_changed"], 1);
    assert_eq!(v["unmatched"], serde_json::json!([]));
    // The saved limited plan applies only to that user.
    let plan = w.path("plan.json");
    let out = w.run(&[
        "plan",
        "--user",
        "dan@contoso.com",
        "--out",
        plan.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("limited to: dan@contoso.com"),
        "{out:?}"
    );
    let out = w.run(&["apply", plan.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = w.run(&["plan", "--format", "json"]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let upns: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["user"]["userPrincipalName"].as_str().unwrap())
        .collect();
    assert_eq!(upns, vec!["amy@contoso.com"]);
}

#[test]
fn apply_keeps_unknown_fields_of_the_snapshot() {
    let w = Work::new();
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let before = keys(&w.tenant_json());
    let out = w.run(&["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "{out:?}");
    let snap = w.tenant_json();
    assert_eq!(keys(&snap), before, "fields keep their order");
    assert_eq!(
        snap["x-exported-by"],
        serde_json::json!({ "tool": "tenant-export", "version": 3 })
    );
    assert_eq!(snap["users"][0]["officePhone"], "kept as it is");
    let bob = snap["policyAssignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["policyType"] == "TeamsMeetingPolicy" && a["userId"].as_str().unwrap().ends_with("b2")
        })
        .unwrap();
    assert_eq!(bob["assignedBy"], "kept as it is");
    let dan_old = snap["numberAssignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["telephoneNumber"] == "+15551230000")
        .unwrap();
    assert_eq!(dan_old["x-note"], "kept as it is");
    assert_eq!(dan_old["assignmentStatus"], "unassigned");
    assert_eq!(dan_old["assignmentTargetId"], Value::Null);
    assert_eq!(dan_old["id"], "num-dan");
    // No temporary files are left beside the snapshot (the state
    // directory holds the number quarantine).
    let mut names: Vec<String> = std::fs::read_dir(w.config())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".roster-state")
        .collect();
    names.sort();
    assert_eq!(names, vec!["roster.kdl", "tenant.json"]);
}

#[test]
fn a_malformed_snapshot_names_the_json_path() {
    let w = Work::new();
    let mut snap = w.tenant_json();
    snap["users"][1]["accountEnabled"] = "yes".into();
    w.set_tenant(&snap);
    for args in [
        &["plan"][..],
        &["apply", "--auto-approve"][..],
        &["explain", "amy@contoso.com"][..],
    ] {
        let out = w.run(args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("$.users[1].accountEnabled"),
            "{args:?}: {out:?}"
        );
    }

    // Inconsistent data: a number held by a user that does not exist.
    let w = Work::new();
    let mut snap = w.tenant_json();
    snap["numberAssignments"][0]["assignmentTargetId"] = "no-such-user".into();
    w.set_tenant(&snap);
    let out = w.run(&["plan"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("$.numberAssignments[0].assignmentTargetId"),
        "{out:?}"
    );

    // Not JSON at all.
    std::fs::write(w.path("tenant.json"), "{ \"users\": [ }").unwrap();
    let out = w.run(&["plan"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("tenant.json"), "{out:?}");
}

#[test]
fn tenant_flag_overrides_the_configured_snapshot() {
    let w = Work::new();
    std::fs::rename(w.path("tenant.json"), w.path("elsewhere.json")).unwrap();
    let out = w.run(&["plan"]);
    assert_eq!(out.code, 1, "{out:?}");
    let other = w.path("elsewhere.json");
    let out = w.run(&[
        "--tenant",
        other.to_str().unwrap(),
        "apply",
        "--auto-approve",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = w.run(&[
        "--tenant",
        other.to_str().unwrap(),
        "plan",
        "--detailed-exitcode",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn a_plan_whose_new_number_was_taken_since_is_refused() {
    let w = Work::new();
    let (_, plan) = w.save_plan("plan.json");
    // Meanwhile +442071230000 (planned for Amy) goes to an engineer.
    let mut snap = w.tenant_json();
    snap["numberAssignments"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "telephoneNumber": "+442071230000",
            "numberType": "directRouting",
            "assignmentTargetId": "00000000-0000-0000-0000-0000000000e1",
            "assignmentCategory": "primary",
            "assignmentStatus": "userAssigned",
            "capabilities": ["userAssignment"]
        }));
    w.set_tenant(&snap);
    let before = w.tenant();
    let out = w.run(&["apply", plan.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("`amy@contoso.com`"), "{out:?}");
    assert!(!out.stderr.contains("dan@contoso.com"), "{out:?}");
    assert_eq!(w.tenant(), before);
}

#[test]
fn a_limit_by_object_id_keeps_that_users_errors() {
    let w = Work::new();
    w.edit_config(
        r#"block "+442071230000" "+442071230009""#,
        r#"block "+442071230000" "+442071230000""#,
    );
    // Amy gets the only free number; Dan (limited by object id) gets none.
    let dan = "00000000-0000-0000-0000-0000000000d4";
    let plan = w.path("plan.json");
    let out = w.run(&[
        "plan",
        "--user",
        dan,
        "--detailed-exitcode",
        "--out",
        plan.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("range-exhausted"), "{out:?}");
    assert!(out.stdout.contains("dan@contoso.com"), "{out:?}");
    let before = w.tenant();
    let out = w.run(&["apply", plan.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(w.tenant(), before);
    // Limited to Amy, the plan has no errors.
    let out = w.run(&["plan", "--user", "amy@contoso.com", "--detailed-exitcode"]);
    assert_eq!(out.code, 2, "{out:?}");
}

#[test]
fn a_limit_naming_no_user_is_a_warning() {
    let w = Work::new();
    let out = w.run(&["plan", "--user", "nobody@contoso.com", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["changes"], serde_json::json!([]));
    assert_eq!(v["warnings"][0]["code"], "unknown-limit-user");
    assert!(
        v["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nobody@contoso.com")
    );
}

#[test]
fn explain_follows_overrides_by_upn_or_object_id() {
    let w = Work::new();
    let p = w.path("roster.kdl");
    let mut text = std::fs::read_to_string(&p).unwrap();
    text.push_str(
        "persona \"exec\" { }\nuser \"00000000-0000-0000-0000-0000000000e1\" persona=\"exec\"\nuser \"ENG02@contoso.com\" ignore=#true\n",
    );
    std::fs::write(&p, text).unwrap();
    let out = w.run(&["explain", "eng01@contoso.com"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("persona `exec` from a user override"),
        "{out:?}"
    );
    let out = w.run(&["explain", "eng02@contoso.com"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("ignored by a user override"), "{out:?}");
    // The plan agrees: neither is unmatched any more (the `exec` persona
    // asks for nothing, so neither changes), and no override is unknown.
    let out = w.run(&["plan", "--format", "json"]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let unmatched: Vec<&str> = v["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userPrincipalName"].as_str().unwrap())
        .collect();
    assert!(!unmatched.contains(&"eng01@contoso.com"), "{unmatched:?}");
    assert!(!unmatched.contains(&"eng02@contoso.com"), "{unmatched:?}");
    assert_eq!(unmatched.len(), 7);
    assert_eq!(v["summary"]["users_in_scope"], 11, "ignored is out of hand");
    assert_eq!(v["warnings"], serde_json::json!([]));
}
