//! Snapshot tests of the three renderings of one plan that has every kind
//! of action, a leaver, an override, unmatched users, a warning and an
//! error; plus the Markdown size budget and the change/drift split.

use roster::plan::render::{self, Format, MARKDOWN_LIMIT};
use roster::plan::{self, Action, Cause, Change, Meta, Plan, Reason, TenantInfo, UserRef};

use crate::common::fixture;

const CREATED_AT: &str = "2026-11-26T19:00:00Z";

fn meta(digest: String) -> Meta {
    Meta {
        created_at: CREATED_AT.into(),
        digest,
        git: None,
        tenant: TenantInfo {
            name: "contoso".into(),
            provider: "file".into(),
        },
        limit: Vec::new(),
    }
}

/// The plan of `tests/fixtures/plans/every-action`.
pub fn every_action_plan() -> Plan {
    let dir = fixture("plans/every-action");
    let loaded = roster::config_dir::load(&dir).unwrap();
    assert!(
        loaded.diagnostics.items.is_empty(),
        "{}",
        loaded.diagnostics.render(&loaded.sources, false)
    );
    let (_, live) = roster::files::read_snapshot(&dir.join("tenant.json")).unwrap();
    let desired = roster::desired::compute(&loaded.manifest, &live);
    plan::diff(&desired, &live, meta(loaded.digest()))
}

#[test]
fn the_plan_has_everything_to_show() {
    let p = every_action_plan();
    let ops: std::collections::BTreeSet<&str> = p
        .changes
        .iter()
        .flat_map(|c| &c.actions)
        .map(|a| match a {
            Action::AssignPolicy { from: None, .. } => "assign-policy from none",
            Action::AssignPolicy { from: Some(_), .. } => "assign-policy change",
            Action::RemovePolicy { .. } => "remove-policy",
            Action::ReleaseNumber { .. } => "release-number",
            Action::AssignNumber { .. } => "assign-number",
        })
        .collect();
    assert_eq!(ops.len(), 5, "{ops:?}");
    assert!(p.changes.iter().any(|c| c.reason == Reason::Leaver));
    assert!(p.changes.iter().any(|c| c.reason == Reason::Override));
    assert!(!p.unmatched.is_empty());
    assert_eq!(p.warnings[0].code, "unknown-user-override");
    assert_eq!(p.errors[0].code, "range-exhausted");
}

#[test]
fn text() {
    let p = every_action_plan();
    let out = render::render(&p, Format::Text, false);
    assert!(!out.contains('\u{1b}'), "no colour when not asked");
    insta::assert_snapshot!("every_action_text", out);
}

#[test]
fn text_in_colour_only_when_asked() {
    let p = every_action_plan();
    let out = render::render(&p, Format::Text, true);
    assert!(out.contains('\u{1b}'));
    // Without the escapes it is the plain view.
    let plain = strip_ansi(&out);
    assert_eq!(plain, render::render(&p, Format::Text, false));
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn markdown() {
    let p = every_action_plan();
    insta::assert_snapshot!(
        "every_action_markdown",
        render::render(&p, Format::Markdown, false)
    );
}

#[test]
fn json() {
    let p = every_action_plan();
    let out = render::render(&p, Format::Json, false);
    // The JSON reads back into the same plan.
    assert_eq!(Plan::from_json(&out).unwrap(), p);
    let digest = p.config.digest.clone();
    insta::assert_snapshot!("every_action_json", out.replace(&digest, "sha256:[digest]"));
}

#[test]
fn no_changes() {
    let mut p = every_action_plan();
    p.changes.clear();
    p.unmatched.clear();
    p.warnings.clear();
    p.errors.clear();
    p.recount();
    let text = render::text(&p, false);
    assert!(
        text.contains("No changes. 8 users in scope are as the manifests say."),
        "{text}"
    );
    let md = render::markdown(&p, MARKDOWN_LIMIT);
    assert!(md.contains("no changes"), "{md}");

    // Errors without changes: users are not "as the manifests say".
    let mut p = every_action_plan();
    p.changes.clear();
    p.recount();
    let text = render::text(&p, false);
    assert!(!text.contains("as the manifests say"), "{text}");
    assert!(
        text.contains("No changes planned, but the plan has errors to fix first."),
        "{text}"
    );
    assert!(text.contains("cannot be applied"), "{text}");
}

/// A plan of `n` changed users spread over a few personas.
fn large_plan(n: usize) -> Plan {
    let mut p = every_action_plan();
    p.errors.clear();
    p.warnings.clear();
    p.changes = (0..n)
        .map(|i| Change {
            user: UserRef {
                id: format!("00000000-0000-0000-0000-{i:012}"),
                upn: format!("user{i:05}@contoso.com"),
                display_name: Some(format!("User {i}")),
            },
            persona: Some(format!("persona-{}", i % 7)),
            reason: Reason::Rule {
                name: "Everyone".into(),
            },
            cause: None,
            live_fingerprint: "sha256:0".into(),
            actions: vec![
                Action::AssignPolicy {
                    policy_type: "TeamsCallingPolicy".into(),
                    from: Some("DisallowCalling".into()),
                    to: "AllowCalling".into(),
                },
                Action::AssignNumber {
                    number: format!("+4420712{i:05}").parse().unwrap(),
                    number_type: roster::numbers::NumberType::DirectRouting,
                    range: Some("london".into()),
                    location_id: Some("loc-london".into()),
                },
            ],
        })
        .collect();
    p.summary.users_in_scope = n + 10;
    p.recount();
    p
}

#[test]
fn a_large_plan_is_cut_to_fit_a_pull_request_comment() {
    let p = large_plan(5_000);
    let md = render::render(&p, Format::Markdown, false);
    assert!(
        md.chars().count() < 60_000,
        "{} characters",
        md.chars().count()
    );
    assert!(md.contains("This comment is truncated"), "{md}");
    assert!(md.contains("roster plan --format json"));
    // The summary and the table come first and are complete.
    assert!(
        md.contains("5000 users changed of 5010 in scope"),
        "{}",
        &md[..500]
    );
    for i in 0..7 {
        assert!(md.contains(&format!("| persona-{i} |")), "persona-{i}");
    }
    // Every persona section that is shown is closed properly.
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
    assert_eq!(md.matches("```diff").count() * 2, md.matches("```").count());
    // The note counts exactly the changes not shown.
    let shown = md.matches("\n~ user").count();
    let note = md
        .lines()
        .find(|l| l.contains("This comment is truncated"))
        .unwrap();
    assert!(
        note.contains(&format!("truncated: {} user changes", 5_000 - shown)),
        "{note} (shown {shown})"
    );
}

#[test]
fn a_small_plan_is_not_truncated() {
    let p = large_plan(50);
    let md = render::render(&p, Format::Markdown, false);
    assert!(!md.contains("truncated"));
    assert_eq!(md.matches("\n~ user").count(), 50);
}

#[test]
fn many_errors_warnings_and_unmatched_users_stay_within_budget() {
    let mut p = large_plan(100);
    for i in 0..5_000 {
        p.errors.push(roster::plan::Issue {
            code: roster::issue::IssueCode::RangeExhausted,
            user: Some(format!("user{i:05}@contoso.com")),
            message: format!("no free number for `user{i:05}@contoso.com` in range `london`"),
        });
        p.warnings.push(roster::plan::Issue {
            code: roster::issue::IssueCode::UnknownUserOverride,
            user: Some(format!("ghost{i:05}@contoso.com")),
            message: format!(
                "user override `ghost{i:05}@contoso.com` names a user that does not exist in the tenant"
            ),
        });
        p.unmatched.push(UserRef {
            id: format!("u{i}"),
            upn: format!("unmatched{i:05}@contoso.com"),
            display_name: None,
        });
    }
    p.recount();
    let md = render::render(&p, Format::Markdown, false);
    assert!(
        md.chars().count() < 60_000,
        "{} characters",
        md.chars().count()
    );
    assert!(md.contains("errors: cannot be applied"));
    assert!(md.contains("5000 errors"), "{}", &md[..600]);
    assert!(md.contains("This comment is truncated"));
}

#[test]
fn a_plan_split_by_cause_renders_two_groups() {
    let mut p = every_action_plan();
    for (i, c) in p.changes.iter_mut().enumerate() {
        c.cause = Some(if i % 2 == 0 {
            Cause::Change
        } else {
            Cause::Drift
        });
    }
    let md = render::render(&p, Format::Markdown, false);
    let change = md
        .find("#### Changes caused by this pull request (3 users)")
        .expect(&md);
    let drift = md
        .find("#### Drift already pending in the tenant, not caused by this change (2 users)")
        .expect(&md);
    assert!(change < drift);
    let text = render::render(&p, Format::Text, false);
    let change = text.find("Changes caused by this revision:").expect(&text);
    let drift = text
        .find("Drift already pending at the base revision:")
        .expect(&text);
    assert!(change < drift);
    insta::assert_snapshot!("split_by_cause_markdown", md);
    insta::assert_snapshot!("split_by_cause_text", text);
    // The JSON carries the cause of each change.
    let json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
    assert_eq!(json["changes"][0]["cause"], "change");
    assert_eq!(json["changes"][1]["cause"], "drift");

    // Only drift: the change group says so.
    for c in &mut p.changes {
        c.cause = Some(Cause::Drift);
    }
    let md = render::render(&p, Format::Markdown, false);
    assert!(
        md.contains("#### Changes caused by this pull request (0 users)\n\nNone."),
        "{md}"
    );
}

#[test]
fn user_text_cannot_break_the_markdown() {
    let mut p = every_action_plan();
    p.changes[0].persona = Some("a|b <script>".into());
    let md = render::render(&p, Format::Markdown, false);
    assert!(!md.contains("<script>"), "{md}");
    assert!(md.contains("a\\|b &lt;script&gt;"), "{md}");
}

#[test]
fn many_personas_in_both_groups_stay_within_budget() {
    let mut p = large_plan(4_000);
    for (i, c) in p.changes.iter_mut().enumerate() {
        c.persona = Some(format!("persona-{:04}", i % 2_000));
        c.cause = Some(if i % 2 == 0 {
            Cause::Change
        } else {
            Cause::Drift
        });
    }
    p.recount();
    let md = render::render(&p, Format::Markdown, false);
    assert!(
        md.chars().count() < 60_000,
        "{} characters",
        md.chars().count()
    );
    // Both groups get a heading and a (cut) table.
    assert!(md.contains("#### Changes caused by this pull request (2000 users)"));
    assert!(md.contains("#### Drift already pending in the tenant"));
    assert_eq!(md.matches("| persona | users |").count(), 2);
    assert!(md.contains("more personas |"), "{}", &md[..3000]);
    let note = md
        .lines()
        .find(|l| l.contains("This comment is truncated"))
        .unwrap();
    assert!(note.contains("persona table rows"), "{note}");
}
