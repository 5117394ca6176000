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
