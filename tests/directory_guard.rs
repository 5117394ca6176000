//! Issue 13 item 5, the directory sanity guard: after a broken HR feed
//! blanks an attribute the rules use, the next apply is refused (naming the
//! attribute and the counts) unless forced.

use crate::common::work::Work;

/// Overnight: `jobTitle` is blanked for seven of twelve users, and bob's
/// calling policy was removed by hand (so there is something to apply).
fn break_the_feed(w: &Work) {
    let mut t = w.tenant_json();
    for u in t["users"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .skip(3)
        .take(7)
    {
        u["jobTitle"] = serde_json::Value::Null;
    }
    t["policyAssignments"].as_array_mut().unwrap().retain(|a| {
        !(a["userId"] == "00000000-0000-0000-0000-0000000000b2"
            && a["policyType"] == "TeamsCallingPolicy")
    });
    w.set_tenant(&t);
}

#[test]
fn an_attribute_emptied_since_the_last_apply_stops_the_apply() {
    let w = Work::new();
    let first = w.run(&["apply", "--auto-approve"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(w.path(".roster-state/directory.json").exists());

    break_the_feed(&w);
    let before = w.tenant();
    let out = w.run(&["apply", "--auto-approve"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("directory looks broken"), "{out:?}");
    assert!(
        out.stderr
            .contains("`jobTitle` is set for 5 of 12 users, 12 of 12"),
        "{out:?}"
    );
    assert!(out.stderr.contains("`max-emptied-percent`"), "{out:?}");
    assert_eq!(w.tenant(), before, "nothing applied");

    // Forced: applied, and the new directory is the baseline.
    let out = w.run(&["apply", "--auto-approve", "--force"]);
    assert_eq!(out.code, 0, "{out:?}");
    let again = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
}

#[test]
fn the_limits_are_tenant_settings() {
    let w = Work::new();
    w.edit_config(
        "max-changed-percent=50",
        "max-changed-percent=50 max-emptied-percent=80",
    );
    assert_eq!(w.run(&["apply", "--auto-approve"]).code, 0);
    break_the_feed(&w);
    let out = w.run(&["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "within 80%: {out:?}");
}

/// `--user` narrows what a plan changes, never the scope it is measured
/// against: `summary.users_in_scope` stays the whole tenant's, so a limited
/// apply is neither a "scope drop" for the guard nor 100% changed for
/// `max-changed-percent`, and its census is a fair baseline for the next.
#[test]
fn a_limited_apply_is_measured_against_the_whole_scope() {
    let w = Work::new();
    assert_eq!(w.run(&["apply", "--auto-approve"]).code, 0);
    let all = w.run(&["plan", "--format", "json"]);
    let all: serde_json::Value = serde_json::from_str(&all.stdout).unwrap();
    let in_scope = all["summary"]["users_in_scope"].as_u64().unwrap();
    assert!(in_scope >= 10, "the guard and the percentage apply");

    // bob's calling policy goes by hand; a plan limited to him counts the
    // whole scope and changes him alone.
    let mut t = w.tenant_json();
    t["policyAssignments"].as_array_mut().unwrap().retain(|a| {
        !(a["userId"] == "00000000-0000-0000-0000-0000000000b2"
            && a["policyType"] == "TeamsCallingPolicy")
    });
    w.set_tenant(&t);
    let limited = w.run(&["plan", "--user", "bob@contoso.com", "--format", "json"]);
    let limited: serde_json::Value = serde_json::from_str(&limited.stdout).unwrap();
    assert_eq!(limited["summary"]["users_changed"], 1);
    assert_eq!(limited["summary"]["users_in_scope"], in_scope);

    let out = w.run(&["apply", "--auto-approve", "--user", "bob@contoso.com"]);
    assert_eq!(out.code, 0, "{out:?}");
    let census: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(w.path(".roster-state/directory.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(census["in_scope"], in_scope, "{census}");
}
