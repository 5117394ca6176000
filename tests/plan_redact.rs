//! Issue 13 item 6, privacy in pull requests: `plan --redact names,numbers`
//! shows no display name, user principal name or phone number of the
//! tenant, yet the same user keeps the same hash throughout.

use crate::common::{repo, roster};

fn plan(extra: &[&str], key: Option<&str>) -> String {
    let mut cmd = roster();
    cmd.arg("-C")
        .arg(repo("examples/tenant-config"))
        .args(["plan", "--format", "markdown"])
        .args(extra)
        .env_remove("ROSTER_REDACT_KEY");
    if let Some(k) = key {
        cmd.env("ROSTER_REDACT_KEY", k);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn redacted_plans_show_no_people_and_stay_followable() {
    let tenant: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo("examples/tenant-config/tenant.json")).unwrap(),
    )
    .unwrap();
    let plain = plan(&[], None);
    let hidden = plan(&["--redact", "names,numbers"], None);
    let mut shown_before = 0;
    for u in tenant["users"].as_array().unwrap() {
        let upn = u["userPrincipalName"].as_str().unwrap();
        shown_before += plain.contains(upn) as usize;
        assert!(!hidden.contains(upn), "{upn} shown");
        if let Some(name) = u["displayName"].as_str().filter(|n| n.len() > 5) {
            assert!(!hidden.contains(name), "{name} shown");
        }
    }
    assert!(shown_before > 50, "the plain plan names people");
    // No E.164 number is left.
    let digits = hidden
        .split('+')
        .skip(1)
        .filter(|rest| rest.chars().take_while(char::is_ascii_digit).count() >= 8)
        .count();
    assert_eq!(digits, 0);
    // Deterministic, and keyed.
    assert_eq!(plan(&["--redact", "names,numbers"], None), hidden);
    assert_ne!(plan(&["--redact", "names,numbers"], Some("s3cret")), hidden);
    // Only names: numbers stay.
    let names_only = plan(&["--redact", "names"], None);
    assert!(names_only.contains("+44"));
}

#[test]
fn an_unknown_redaction_is_a_usage_error() {
    let out = roster()
        .arg("-C")
        .arg(repo("examples/tenant-config"))
        .args(["plan", "--redact", "emails"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`emails` cannot be redacted"));
}
