//! Issue 11 item 1 (part): every apply appends a journal entry (who, when,
//! from which commit and plan, per user before, actions, outcome, after),
//! and `roster history` lists them, by user and since a time.

use serde_json::Value;

use crate::common::work::Work;

#[test]
fn every_apply_is_recorded_and_history_lists_it() {
    let w = Work::new();
    let out = w.run(&["history"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("No applies recorded."), "{out:?}");

    let out = w.run(&["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("journal: apply"), "{out:?}");
    let journal = std::fs::read_to_string(w.path(".roster-state/journal.jsonl")).unwrap();
    assert_eq!(journal.lines().count(), 1);
    let entry: Value = serde_json::from_str(journal.lines().next().unwrap()).unwrap();
    assert!(
        entry["plan_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(
        entry["who"].as_str().unwrap().contains('@')
            || entry["who"].as_str().unwrap().contains("://")
    );
    let dan = entry["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["userPrincipalName"] == "dan@contoso.com")
        .unwrap();
    assert_eq!(dan["status"], "applied");
    assert_eq!(
        dan["before"]["numbers"],
        serde_json::json!(["+15551230000"])
    );
    assert_eq!(
        dan["after"]["numbers"],
        serde_json::json!(["+442071230001"])
    );
    assert_eq!(
        dan["after"]["policies"]["TeamsMeetingPolicy"],
        "Sales Meetings"
    );

    // The history by user, in text and JSON; a second apply is recorded too.
    let out = w.run(&["history", "--user", "DAN@contoso.com"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("dan@contoso.com (applied)"), "{out:?}");
    assert!(out.stdout.contains("number +442071230001"), "{out:?}");
    assert!(!out.stdout.contains("amy@contoso.com"), "only dan: {out:?}");
    let out = w.run(&[
        "history",
        "--user",
        "nobody@contoso.com",
        "--format",
        "json",
    ]);
    assert_eq!(out.stdout.trim(), "[]", "{out:?}");
    let out = w.run(&["history", "--since", "2999-01-01", "--format", "json"]);
    assert_eq!(out.stdout.trim(), "[]", "{out:?}");
    let out = w.run(&["history", "--since", "2000-01-01", "--format", "json"]);
    let all: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
}

#[test]
fn a_journal_that_cannot_be_written_leaves_a_fallback_file() {
    let w = Work::new();
    // The journal's place is taken by a directory: appending fails.
    std::fs::create_dir_all(w.path(".roster-state/journal.jsonl")).unwrap();
    let out = w.run(&["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "the tenant changed: {out:?}");
    assert!(out.stderr.contains("this apply's entry is in `"), "{out:?}");
    let start = out.stderr.find("entry is in `").unwrap() + "entry is in `".len();
    let path = &out.stderr[start..start + out.stderr[start..].find('`').unwrap()];
    let text = std::fs::read_to_string(path)
        .or_else(|_| std::fs::read_to_string(std::env::current_dir().unwrap().join(path)))
        .unwrap();
    let entry: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(entry["users"].as_array().unwrap().len(), 2);
    let _ = std::fs::remove_file(path);
}

#[test]
fn a_corrupt_journal_is_refused_with_its_place() {
    let w = Work::new();
    std::fs::create_dir_all(w.path(".roster-state")).unwrap();
    std::fs::write(w.path(".roster-state/journal.jsonl"), "{ torn\n").unwrap();
    let out = w.run(&["history"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("journal.jsonl:1"), "{out:?}");
}

/// Manifests with errors may name no state store: `history`, `revert` and
/// `unlock` fail with the manifests' diagnostics instead of reading the
/// default `.roster-state/` in place of the store they configure.
#[test]
fn a_broken_config_reads_no_state_store() {
    let w = Work::new();
    let id = {
        assert_eq!(w.run(&["apply", "--auto-approve"]).code, 0);
        let journal = std::fs::read_to_string(w.path(".roster-state/journal.jsonl")).unwrap();
        let entry: Value = serde_json::from_str(journal.lines().next().unwrap()).unwrap();
        entry["id"].as_str().unwrap().to_string()
    };
    // The state moves to a blob container, with a typo in its settings:
    // the manifests then name no store at all.
    w.edit_config(
        "provider \"file\" path=\"tenant.json\"",
        "provider \"file\" path=\"tenant.json\"\n    state \"azure-blob\" acount=\"acct\" container=\"roster\"",
    );
    for args in [
        vec!["history"],
        vec!["revert", id.as_str()],
        vec!["unlock"],
        vec!["unlock", "some-lock-id"],
    ] {
        let out = w.run(&args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(out.stderr.contains("roster.kdl"), "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("missing `account`"),
            "{args:?}: {out:?}"
        );
        assert!(
            out.stderr.contains("fix them and run again"),
            "{args:?}: {out:?}"
        );
        assert!(!out.stdout.contains("dan@contoso.com"), "{args:?}: {out:?}");
        assert!(!out.stdout.contains("not locked"), "{args:?}: {out:?}");
    }
}

#[test]
fn drift_roster_corrected_is_remembered() {
    let w = Work::new();
    assert_eq!(w.run(&["apply", "--auto-approve"]).code, 0);
    // Someone removes dan's meeting policy by hand; the next apply puts it
    // back and the journal says it was drift.
    let mut t = w.tenant_json();
    t["policyAssignments"].as_array_mut().unwrap().retain(|a| {
        !(a["userId"] == "00000000-0000-0000-0000-0000000000d4"
            && a["policyType"] == "TeamsMeetingPolicy")
    });
    w.set_tenant(&t);
    assert_eq!(w.run(&["apply", "--auto-approve"]).code, 0);
    let out = w.run(&["history", "--user", "dan@contoso.com"]);
    assert!(out.stdout.contains("drift corrected"), "{out:?}");
    let out = w.run(&["history", "--user", "dan@contoso.com", "--format", "json"]);
    let all: Value = serde_json::from_str(&out.stdout).unwrap();
    let entries = all.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let dan = |e: &Value| {
        e["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["userPrincipalName"] == "dan@contoso.com")
            .cloned()
            .unwrap()
    };
    assert!(dan(&entries[0]).get("drifted_from").is_none());
    let second = dan(&entries[1]);
    assert_eq!(
        second["drifted_from"]["policies"]["TeamsMeetingPolicy"],
        "Sales Meetings"
    );
    assert!(
        second["before"]["policies"]
            .get("TeamsMeetingPolicy")
            .is_none()
    );
}
