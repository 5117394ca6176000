//! Issue 13 item 3: user overrides take `expires` and `owner`; the plan
//! warns 14 days before, and an expired override stops applying (the rules
//! decide again) and the plan says so.

use roster::desired::{self, Context};
use roster::issue::IssueCode;
use roster::live::LiveState;

const KDL: &str = r#"
persona "sales" { }
persona "exec" { }
rule "Everyone" persona="sales"
user "amy@x.com" persona="exec" expires="2027-01-10" owner="it-ops@x.com"
"#;

const TOML: &str = r#"
[persona.sales]
[persona.exec]

[[rule]]
name = "Everyone"
persona = "sales"

[user."amy@x.com"]
persona = "exec"
expires = "2027-01-10"
owner = "it-ops@x.com"
"#;

fn live() -> LiveState {
    let json = r#"{"format_version": 1, "users": [
        {"id": "u1", "userPrincipalName": "amy@x.com"},
        {"id": "u2", "userPrincipalName": "bob@x.com"}]}"#;
    roster::snapshot::to_live("t.json", &roster::snapshot::parse("t.json", json).unwrap()).unwrap()
}

fn on(today: &str, warn_until: &str, text: (&str, &str)) -> desired::DesiredState {
    let loaded = roster::manifest::parse_str(text.0, text.1);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let ctx = Context {
        today: Some(today.into()),
        warn_until: Some(warn_until.into()),
        ..Context::default()
    };
    desired::compute_with(&loaded.manifest, &live(), &ctx)
}

fn amy(state: &desired::DesiredState) -> Option<String> {
    state
        .users
        .iter()
        .find(|d| d.user == 0)
        .and_then(|d| d.persona.clone())
}

#[test]
fn an_override_applies_until_it_expires_and_warns_before() {
    for text in [("t.kdl", KDL), ("t.toml", TOML)] {
        // Long before: applies, no warning.
        let s = on("2026-11-30", "2026-12-14", text);
        assert_eq!(amy(&s).as_deref(), Some("exec"));
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        // Within 14 days: applies, warns with the date and the owner.
        let s = on("2026-12-30", "2027-01-13", text);
        assert_eq!(amy(&s).as_deref(), Some("exec"));
        assert_eq!(s.warnings.len(), 1);
        assert_eq!(s.warnings[0].code, IssueCode::OverrideExpiring);
        assert!(s.warnings[0].message.contains("2027-01-10"));
        assert!(s.warnings[0].message.contains("owner: it-ops@x.com"));
        // On the day: no longer applies; the rules decide, and it says so.
        let s = on("2027-01-10", "2027-01-24", text);
        assert_eq!(amy(&s).as_deref(), Some("sales"));
        assert_eq!(s.warnings[0].code, IssueCode::OverrideExpired);
        assert!(s.warnings[0].message.contains("rules decide"));
    }
}

#[test]
fn without_a_date_nothing_expires() {
    let loaded = roster::manifest::parse_str("t.kdl", KDL);
    let s = desired::compute(&loaded.manifest, &live());
    assert_eq!(amy(&s).as_deref(), Some("exec"));
    assert!(s.warnings.is_empty());
}

#[test]
fn a_date_that_is_not_one_is_a_diagnostic() {
    for (path, text) in [
        (
            "t.kdl",
            r#"user "amy@x.com" ignore=#true expires="2027-02-30""#,
        ),
        (
            "t.toml",
            "[user.\"amy@x.com\"]\nignore = true\nexpires = \"next week\"\n",
        ),
    ] {
        let loaded = roster::manifest::parse_str(path, text);
        let codes: Vec<_> = loaded.diagnostics.items.iter().map(|d| d.code).collect();
        assert!(codes.contains(&"invalid-date"), "{path}: {codes:?}");
    }
    // `owner` alone says nothing.
    let loaded = roster::manifest::parse_str("t.kdl", r#"user "amy@x.com" owner="me""#);
    let codes: Vec<_> = loaded.diagnostics.items.iter().map(|d| d.code).collect();
    assert!(codes.contains(&"empty-override"), "{codes:?}");
}
