//! Issue 11 item 3: numbers in quarantine in plans. The plan lists the
//! quarantined numbers a range would otherwise offer and when each comes
//! free; a pin onto one is a plan error unless the override says
//! `take-quarantined`; a forged plan handing one out is refused; `0` turns
//! the quarantine off.

use serde_json::{Value, json};

use crate::common::work::Work;

/// +…0000 in quarantine for a long time (released from zed), +…0003 no
/// longer, and a number outside every range.
fn quarantined(w: &Work, holder: &str) {
    std::fs::create_dir_all(w.path(".roster-state")).unwrap();
    let entry = |until: &str, holder: &str| json!({"released_at": "2026-01-01T00:00:00Z", "until": until, "holder": holder});
    let q = json!({
        "format_version": 1,
        "numbers": {
            "+442071230000": entry("2999-01-01T00:00:00Z", holder),
            "+442071230003": entry("2000-01-08T00:00:00Z", "old@contoso.com"),
            "+15559999999": entry("2999-01-01T00:00:00Z", "far@contoso.com"),
        }
    });
    std::fs::write(
        w.path(".roster-state/quarantine.json"),
        serde_json::to_string_pretty(&q).unwrap(),
    )
    .unwrap();
}

fn plan_json(w: &Work) -> (i32, Value, String) {
    let out = w.run(&["plan", "--format", "json"]);
    let plan = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
    (out.code, plan, out.stderr)
}

fn number_of(plan: &Value, upn: &str) -> Option<String> {
    plan["changes"]
        .as_array()?
        .iter()
        .find(|c| c["user"]["userPrincipalName"] == upn)?["actions"]
        .as_array()?
        .iter()
        .find(|a| a["op"] == "assign-number")
        .map(|a| a["number"].as_str().unwrap().to_string())
}

/// Write `file` with `text`; the plan then succeeds and gives amy the
/// quarantined +…0000.
fn amy_gets_the_quarantined_number(w: &Work, file: &str, text: &str) {
    std::fs::write(w.path(file), text).unwrap();
    let (code, plan, _) = plan_json(w);
    assert_eq!(code, 0, "{plan}");
    assert_eq!(
        number_of(&plan, "amy@contoso.com").unwrap(),
        "+442071230000"
    );
}

#[test]
fn the_plan_lists_quarantined_numbers_it_passed_over() {
    let w = Work::new();
    let (_, plain, _) = plan_json(&w);
    assert!(plain.get("quarantine").is_none(), "omitted when empty");

    quarantined(&w, "zed@contoso.com");
    let (code, plan, _) = plan_json(&w);
    assert_eq!(code, 0);
    assert_eq!(
        plan["quarantine"],
        json!([{
            "number": "+442071230000",
            "range": "london",
            "until": "2999-01-01T00:00:00Z",
            "released_at": "2026-01-01T00:00:00Z",
            "holder": "zed@contoso.com"
        }])
    );
    assert_eq!(
        number_of(&plan, "amy@contoso.com").unwrap(),
        "+442071230001"
    );
    let text = w.run(&["plan"]).stdout;
    assert!(
        text.contains("Numbers in quarantine (1)")
            && text.contains("+442071230000 (range london) until 2999-01-01T00:00:00Z"),
        "{text}"
    );
    let md = w.run(&["plan", "--format", "markdown"]).stdout;
    assert!(md.contains("Numbers in quarantine (1)"), "{md}");
    let hidden = w.run(&["plan", "--redact", "names,numbers"]).stdout;
    assert!(
        !hidden.contains("zed@") && !hidden.contains("+4420712300"),
        "{hidden}"
    );
}

#[test]
fn a_pin_takes_a_quarantined_number_only_when_the_override_says_so() {
    let w = Work::new();
    quarantined(&w, "zed@contoso.com");
    std::fs::write(
        w.path("users.kdl"),
        "user \"amy@contoso.com\" number=\"+442071230000\"\n",
    )
    .unwrap();
    let (code, plan, _) = plan_json(&w);
    assert_eq!(code, 1, "{plan}");
    let e = &plan["errors"][0];
    assert_eq!(e["code"], "pinned-number-quarantined");
    let msg = e["message"].as_str().unwrap();
    for part in [
        "+442071230000",
        "2999-01-01T00:00:00Z",
        "take-quarantined=#true",
    ] {
        assert!(msg.contains(part), "{part} in {msg}");
    }

    amy_gets_the_quarantined_number(
        &w,
        "users.kdl",
        "user \"amy@contoso.com\" number=\"+442071230000\" take-quarantined=#true\n",
    );

    // The same key in TOML.
    std::fs::remove_file(w.path("users.kdl")).unwrap();
    amy_gets_the_quarantined_number(
        &w,
        "users.toml",
        "[user.\"amy@contoso.com\"]\nnumber = \"+442071230000\"\ntake-quarantined = true\n",
    );
}

#[test]
fn the_user_it_was_released_from_may_have_it_back() {
    let w = Work::new();
    quarantined(&w, "AMY@contoso.com");
    amy_gets_the_quarantined_number(
        &w,
        "users.kdl",
        "user \"amy@contoso.com\" number=\"+442071230000\"\n",
    );
}

#[test]
fn take_quarantined_without_a_number_is_a_warning() {
    let w = Work::new();
    std::fs::write(
        w.path("users.kdl"),
        "user \"amy@contoso.com\" persona=\"uk-sales\" take-quarantined=#true\n",
    )
    .unwrap();
    let out = w.run(&["validate"]);
    assert!(
        out.all().contains("take-quarantined-without-number"),
        "{out:?}"
    );
}

#[test]
fn zero_turns_the_quarantine_off() {
    let w = Work::new();
    quarantined(&w, "zed@contoso.com");
    w.edit_config(
        "safety max-changed-users=50",
        "numbers quarantine=\"0\"\n    safety max-changed-users=50",
    );
    let (code, plan, _) = plan_json(&w);
    assert_eq!(code, 0, "{plan}");
    assert!(plan.get("quarantine").is_none(), "{plan}");
    assert_eq!(
        number_of(&plan, "amy@contoso.com").unwrap(),
        "+442071230000"
    );
    // A saved plan giving it out is roster's plan, so it applies.
    let (out, path) = w.save_plan("plan.json");
    assert_eq!(out.code, 0, "{out:?}");
    let out = w.run(&["apply", path.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(w.tenant().contains("+442071230000"));
}

/// Save a plan, edit it, apply it: refused, and the tenant unchanged.
fn forged(w: &Work, edit: impl FnOnce(&mut Value)) -> crate::common::work::Output {
    let (_, path) = w.save_plan("plan.json");
    w.apply_edited(&path, edit)
}

fn amy_change(plan: &mut Value) -> &mut Value {
    plan["changes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["user"]["userPrincipalName"] == "amy@contoso.com")
        .unwrap()
}

#[test]
fn a_forged_plan_handing_out_a_quarantined_number_is_refused() {
    let w = Work::new();
    quarantined(&w, "zed@contoso.com");
    let out = forged(&w, |p| {
        amy_change(p)["actions"][2]["number"] = json!("+442071230000");
        p["quarantine"] = json!([]);
    });
    assert!(out.stderr.contains("amy@contoso.com"), "{out:?}");
    assert!(out.stderr.contains("is in quarantine"), "{out:?}");

    // A pin's error taken out of the plan: roster's own plan has it.
    std::fs::write(
        w.path("users.kdl"),
        "user \"amy@contoso.com\" number=\"+442071230000\"\n",
    )
    .unwrap();
    let out = forged(&w, |p| {
        p["errors"] = json!([]);
        p["summary"]["errors"] = json!(0);
        amy_change(p)["actions"]
            .as_array_mut()
            .unwrap()
            .push(json!({
                "op": "assign-number", "number": "+442071230000", "numberType": "directRouting",
                "range": "london", "locationId": "loc-london"
            }));
        p["summary"]["numbers_assigned"] = json!(2);
        p["summary"]["users_changed"] = json!(2);
    });
    assert!(
        out.stderr.contains("pinned-number-quarantined") || out.stderr.contains("in quarantine"),
        "{out:?}"
    );
}

#[test]
fn an_honest_plan_with_a_quarantine_applies() {
    let w = Work::new();
    quarantined(&w, "zed@contoso.com");
    let (out, path) = w.save_plan("plan.json");
    assert_eq!(out.code, 0, "{out:?}");
    let out = w.run(&["apply", path.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(w.tenant().contains("+442071230001"));
}

#[test]
fn a_number_a_pin_moves_is_not_quarantined() {
    // amy's pin takes bob's number in the same apply: it moves, it does
    // not go free, so a run interrupted between release and assignment
    // completes the move when run again (no quarantine in its way).
    let w = Work::new();
    std::fs::write(
        w.path("users.kdl"),
        "user \"amy@contoso.com\" number=\"+442071230005\"\nuser \"bob@contoso.com\" number=\"+442071230009\"\n",
    )
    .unwrap();
    let out = w.run(&["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "{out:?}");
    let q = std::fs::read_to_string(w.path(".roster-state/quarantine.json")).unwrap();
    assert!(!q.contains("+442071230005"), "{q}");
    assert!(q.contains("+15551230000"), "dan's number went free: {q}");
}
