//! Issue 9, input limits on tenant snapshots: whatever `plan` accepts,
//! `apply` can write back; a byte-order mark is passed over.

use crate::common::work::Work;

/// The workflow snapshot with an unknown field nested `depth` deep in its
/// first user.
fn with_deep_field(w: &Work, depth: usize) {
    let text = w.tenant();
    let deep = format!("{}\"x\"{}", "[".repeat(depth), "]".repeat(depth));
    let i = text.find("\"users\": [").unwrap() + "\"users\": [".len();
    let j = i + text[i..].find('{').unwrap() + 1;
    let edited = format!("{}\"extensionDeep\": {deep},{}", &text[..j], &text[j..]);
    std::fs::write(w.path("tenant.json"), edited).unwrap();
}

#[test]
fn a_snapshot_plan_accepts_is_one_apply_can_write_back() {
    for depth in [10, 95, 96, 97, 98, 99, 100, 126, 130, 5000] {
        let w = Work::new();
        with_deep_field(&w, depth);
        let plan = w.run(&["plan"]);
        let apply = w.run(&["apply", "--auto-approve"]);
        if plan.code == 0 {
            assert_eq!(apply.code, 0, "depth {depth}: plan accepted it: {apply:?}");
        } else {
            assert!(plan.stderr.contains("deeper than 100 levels"), "{plan:?}");
            assert_eq!(apply.code, 1, "{apply:?}");
        }
    }
}

#[test]
fn a_byte_order_mark_is_passed_over_and_unknown_fields_kept() {
    let w = Work::new();
    let text = format!("\u{feff}{}", w.tenant());
    std::fs::write(w.path("tenant.json"), text).unwrap();
    let plan = w.run(&["plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let apply = w.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let again = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
}
