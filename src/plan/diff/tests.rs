//! Tests of [`super::diff`]: actions, order, limits, summary, fingerprints,
//! and a plan independent of how the users were split.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::desired::{DesiredUser, HeldIndex, NewNumber};
use crate::live::{NumberAssignment, PolicyType, User};
use crate::numbers::{E164, NumberType};

fn e164(s: &str) -> E164 {
    E164::parse(s).unwrap()
}

fn meta(limit: &[&str]) -> Meta {
    Meta {
        created_at: "2026-01-01T00:00:00Z".into(),
        digest: "sha256:0".into(),
        git: None,
        tenant: TenantInfo {
            name: "t".into(),
            provider: "file".into(),
        },
        limit: limit.iter().map(|s| s.to_string()).collect(),
    }
}

/// Amy (two direct assignments), Bob (holds one number), Cat (nothing,
/// an upper-case id), at indexes 0, 1, 2.
fn live() -> LiveState {
    let mut amy = User::new("id-amy", "Amy@x.com");
    amy.display_name = Some("Amy".into());
    amy.policies.insert("TenantDialPlan", "London".into());
    amy.policies.insert("TeamsMeetingPolicy", "Old".into());
    let mut live = LiveState {
        tenant_id: "t".into(),
        users: vec![
            // Ids are matched without regard to case too.
            User::new("ID-Cat", "cat@x.com"),
            User::new("id-bob", "bob@x.com"),
            amy,
        ],
        ..LiveState::default()
    };
    let n = e164("+442071230001");
    live.numbers.insert(
        n,
        NumberAssignment {
            number: n,
            number_type: Some(NumberType::DirectRouting),
            target: Some("id-bob".into()),
            category: Some("primary".into()),
            status: "userAssigned".into(),
            capabilities: vec!["userAssignment".into()],
            location_id: None,
        },
    );
    live.finish();
    assert_eq!(live.users[0].upn, "Amy@x.com");
    live
}

fn want(user: usize, policies: &[(&str, Option<&str>)]) -> DesiredUser {
    DesiredUser {
        user,
        persona: Some("p".into()),
        reason: Reason::Rule { name: "r".into() },
        policies: Arc::new(
            policies
                .iter()
                .map(|(t, n)| (PolicyType::new(t), n.map(str::to_string)))
                .collect::<BTreeMap<_, _>>(),
        ),
        release: Vec::new(),
        assign: None,
    }
}

fn desired(users: Vec<DesiredUser>) -> DesiredState {
    DesiredState {
        in_scope: users.len(),
        users,
        ..DesiredState::default()
    }
}

/// Every user wants a new calling policy: each has one change.
fn everyone_changes() -> DesiredState {
    desired(
        (0..3)
            .map(|i| want(i, &[("TeamsCallingPolicy", Some("Calls"))]))
            .collect(),
    )
}

fn changed_upns(plan: &Plan) -> Vec<&str> {
    plan.changes.iter().map(|c| c.user.upn.as_str()).collect()
}

fn assign(ty: &str, from: Option<&str>, to: &str) -> Action {
    Action::AssignPolicy {
        policy_type: ty.into(),
        from: from.map(str::to_string),
        to: to.into(),
    }
}

#[test]
fn policies_are_assigned_changed_and_removed() {
    let live = live();
    let d = desired(vec![want(
        0,
        &[
            ("TenantDialPlan", Some("Dublin")),
            ("TeamsMeetingPolicy", None),
            ("TeamsCallingPolicy", Some("Calls")),
            // Neither held nor wanted: nothing to do.
            ("OnlineVoiceRoutingPolicy", None),
        ],
    )]);
    let plan = diff(&d, &live, meta(&[]));
    assert_eq!(plan.changes.len(), 1);
    let c = &plan.changes[0];
    assert_eq!(c.user.id, "id-amy");
    assert_eq!(c.user.display_name.as_deref(), Some("Amy"));
    assert_eq!(c.persona.as_deref(), Some("p"));
    assert_eq!(c.reason, Reason::Rule { name: "r".into() });
    assert_eq!(c.cause, None);
    assert_eq!(
        c.actions,
        vec![
            assign("TeamsCallingPolicy", None, "Calls"),
            Action::RemovePolicy {
                policy_type: "TeamsMeetingPolicy".into(),
                from: "Old".into(),
            },
            assign("TenantDialPlan", Some("London"), "Dublin"),
        ]
    );
}

#[test]
fn policy_names_compare_without_regard_to_case() {
    let live = live();
    let d = desired(vec![want(
        0,
        &[
            ("TenantDialPlan", Some("LONDON")),
            ("TeamsMeetingPolicy", Some("old")),
        ],
    )]);
    let plan = diff(&d, &live, meta(&[]));
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    assert_eq!(plan.summary.users_in_scope, 1);
    assert_eq!(plan.summary.users_changed, 0);
}

#[test]
fn releases_come_before_the_assignment_in_text_order() {
    let live = live();
    let mut bob = want(1, &[("TenantDialPlan", Some("London"))]);
    // Numeric order would put the 8-digit number first; the plan shows
    // numbers by their text. A number named twice is released once.
    bob.release = ["+99999999", "+442071230001", "+4420712300", "+442071230001"]
        .iter()
        .map(|n| e164(n))
        .collect();
    bob.assign = Some(NewNumber {
        number: e164("+442071230005"),
        number_type: NumberType::DirectRouting,
        range: Some("london".into()),
        location_id: Some("loc-1".into()),
    });
    let plan = diff(&desired(vec![bob]), &live, meta(&[]));
    let release = |n: &str| Action::ReleaseNumber { number: e164(n) };
    assert_eq!(
        plan.changes[0].actions,
        vec![
            assign("TenantDialPlan", None, "London"),
            release("+4420712300"),
            release("+442071230001"),
            release("+99999999"),
            Action::AssignNumber {
                number: e164("+442071230005"),
                number_type: NumberType::DirectRouting,
                range: Some("london".into()),
                location_id: Some("loc-1".into()),
            },
        ]
    );
    assert_eq!(plan.summary.numbers_released, 3);
    assert_eq!(plan.summary.numbers_assigned, 1);
    assert_eq!(plan.summary.policies_assigned, 1);
}

#[test]
fn changes_are_in_upn_order_whatever_the_desired_order() {
    let live = live();
    let mut d = everyone_changes();
    d.users.reverse();
    let plan = diff(&d, &live, meta(&[]));
    assert_eq!(changed_upns(&plan), ["Amy@x.com", "bob@x.com", "cat@x.com"]);
}

#[test]
fn a_limit_names_users_by_upn_or_object_id_in_any_case() {
    let live = live();
    let d = everyone_changes();
    let plan = diff(&d, &live, meta(&[" AMY@X.COM "]));
    assert_eq!(changed_upns(&plan), ["Amy@x.com"]);
    assert_eq!(plan.limit.users, ["amy@x.com"]);
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);

    let plan = diff(&d, &live, meta(&["ID-BOB"]));
    assert_eq!(changed_upns(&plan), ["bob@x.com"]);
    assert_eq!(plan.limit.users, ["id-bob"]);
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);

    let plan = diff(&d, &live, meta(&["cat@x.com", "id-amy"]));
    assert_eq!(changed_upns(&plan), ["Amy@x.com", "cat@x.com"]);
    assert_eq!(plan.summary.users_in_scope, 3);
    assert_eq!(plan.summary.users_changed, 2);
}

#[test]
fn a_limit_naming_no_user_warns() {
    let live = live();
    let plan = diff(
        &everyone_changes(),
        &live,
        meta(&["nobody@x.com", "amy@x.com"]),
    );
    assert_eq!(changed_upns(&plan), ["Amy@x.com"]);
    assert_eq!(plan.warnings.len(), 1, "{:?}", plan.warnings);
    let w = &plan.warnings[0];
    assert_eq!(w.code, IssueCode::UnknownLimitUser);
    assert_eq!(w.user.as_deref(), Some("nobody@x.com"));
    assert!(w.message.contains("`--user nobody@x.com`"), "{}", w.message);
    assert_eq!(plan.summary.warnings, 1);
}

#[test]
fn issues_about_users_follow_the_limit() {
    let live = live();
    let mut d = everyone_changes();
    let user = |code, upn: &str| Issue::user(code, upn, format!("about {upn}"));
    d.warnings = vec![
        user(IssueCode::UnknownUserOverride, "bob@x.com"),
        Issue::tenant(IssueCode::UnknownGroup, "no group".into()),
        // Issues name users as the manifests wrote them.
        user(IssueCode::UnknownUserOverride, "AMY@x.com"),
    ];
    d.errors = vec![
        user(IssueCode::RangeExhausted, "bob@x.com"),
        Issue::tenant(IssueCode::UnknownPolicy, "no policy".into()),
    ];

    // Unlimited: every issue, warnings sorted.
    let plan = diff(&d, &live, meta(&[]));
    let mut sorted = d.warnings.clone();
    sorted.sort();
    assert_eq!(plan.warnings, sorted);
    assert_eq!(plan.errors, d.errors);

    // Limited by object id: Amy's issues and the tenant's stay.
    let plan = diff(&d, &live, meta(&["id-amy"]));
    let users = |issues: &[Issue]| -> Vec<Option<String>> {
        issues.iter().map(|i| i.user.clone()).collect()
    };
    // Sorted by code: `unknown-group` before `unknown-user-override`.
    assert_eq!(users(&plan.warnings), [None, Some("AMY@x.com".into())]);
    assert_eq!(users(&plan.errors), [None]);
    assert_eq!(plan.summary.warnings, 2);
    assert_eq!(plan.summary.errors, 1);
    assert!(plan.has_errors());

    // Limited by UPN: Bob's error is kept.
    let plan = diff(&d, &live, meta(&["bob@x.com"]));
    assert_eq!(users(&plan.errors), [Some("bob@x.com".into()), None]);
}

#[test]
fn unmatched_users_are_listed_in_upn_order_within_the_limit() {
    let live = live();
    let d = DesiredState {
        unmatched: vec![2, 0],
        in_scope: 2,
        ..DesiredState::default()
    };
    let plan = diff(&d, &live, meta(&[]));
    let upns: Vec<&str> = plan.unmatched.iter().map(|u| u.upn.as_str()).collect();
    assert_eq!(upns, ["Amy@x.com", "cat@x.com"]);
    assert_eq!(plan.unmatched[0].display_name.as_deref(), Some("Amy"));
    assert_eq!(plan.summary.unmatched, 2);
    assert!(!plan.has_changes());

    let plan = diff(&d, &live, meta(&["id-cat"]));
    let upns: Vec<&str> = plan.unmatched.iter().map(|u| u.upn.as_str()).collect();
    assert_eq!(upns, ["cat@x.com"]);
    assert_eq!(plan.summary.unmatched, 1);
}

#[test]
fn the_summary_counts_the_plan() {
    let live = live();
    let mut amy = want(
        0,
        &[
            ("TenantDialPlan", Some("Dublin")),
            ("TeamsMeetingPolicy", None),
        ],
    );
    amy.assign = Some(NewNumber {
        number: e164("+442071230002"),
        number_type: NumberType::DirectRouting,
        range: None,
        location_id: None,
    });
    let mut bob = want(1, &[]);
    bob.reason = Reason::Leaver;
    bob.persona = None;
    bob.release = vec![e164("+442071230001")];
    // Cat wants what she has: in scope, unchanged.
    let cat = want(2, &[("TenantDialPlan", None)]);
    let mut d = desired(vec![amy, bob, cat]);
    d.in_scope = 4;
    d.unmatched = vec![2];
    d.warnings = vec![Issue::tenant(IssueCode::UnknownGroup, "g".into())];
    let plan = diff(&d, &live, meta(&[]));
    assert_eq!(
        plan.summary,
        Summary {
            users_in_scope: 4,
            users_changed: 2,
            policies_assigned: 1,
            policies_removed: 1,
            numbers_assigned: 1,
            numbers_released: 1,
            unmatched: 1,
            warnings: 1,
            errors: 0,
        }
    );
    assert_eq!(plan.changes[1].reason, Reason::Leaver);
    assert_eq!(plan.created_at, "2026-01-01T00:00:00Z");
    assert_eq!(plan.config.digest, "sha256:0");
    assert_eq!(plan.format_version, FORMAT_VERSION);
}

/// Every change's live fingerprint is its user's, numbers held included.
fn assert_fingerprints_of_held_numbers(plan: &Plan, live: &LiveState) {
    let held = live.numbers_by_holder();
    for c in &plan.changes {
        let user = live.find_user(&c.user.upn).unwrap();
        let numbers = held.get(user.id.as_str()).cloned().unwrap_or_default();
        assert_eq!(
            c.live_fingerprint,
            fingerprint(user, &numbers),
            "{}",
            c.user.upn
        );
    }
}

#[test]
fn each_change_carries_its_users_live_fingerprint() {
    let live = live();
    let plan = diff(&everyone_changes(), &live, meta(&[]));
    assert_fingerprints_of_held_numbers(&plan, &live);
    // Each change is its user's (they are in the same order here).
    for (c, user) in plan.changes.iter().zip(&live.users) {
        assert_eq!(c.user.upn, user.upn);
    }
    // Bob's held number is part of his fingerprint.
    assert_ne!(
        plan.changes[1].live_fingerprint,
        fingerprint(&live.users[1], &[])
    );
    let prints: BTreeSet<&str> = plan
        .changes
        .iter()
        .map(|c| c.live_fingerprint.as_str())
        .collect();
    assert_eq!(prints.len(), 3);
}

#[test]
fn the_plan_does_not_depend_on_the_split() {
    // Many users, every third holding a number, every other changing.
    let mut live = LiveState {
        users: (0..97)
            .map(|i| User::new(format!("id-{i}"), format!("U{i}@x.com")))
            .collect(),
        ..LiveState::default()
    };
    for i in (0..97).step_by(3) {
        let n = e164(&format!("+4420712{:05}", 30000 + i));
        let held =
            NumberAssignment::for_test(n, NumberType::DirectRouting, Some(&format!("id-{i}")));
        live.numbers.insert(n, held);
    }
    live.finish();
    let mut d = desired(
        (0..97)
            .map(|i| {
                let p = if i % 2 == 0 { Some("London") } else { None };
                want(i, &[("TenantDialPlan", p)])
            })
            .collect(),
    );
    d.unmatched = vec![5, 3];
    let one = diff_split(&d, &live, meta(&[]), 1);
    assert!(one.changes.len() > 40, "{}", one.changes.len());
    // Fingerprints cover the numbers held, found for changing users only.
    assert_fingerprints_of_held_numbers(&one, &live);
    let held = live.numbers_by_holder();
    assert!(
        one.changes
            .iter()
            .any(|c| held.contains_key(c.user.id.as_str()))
    );
    for threads in [2, 3, 8] {
        assert_eq!(
            diff_split(&d, &live, meta(&[]), threads),
            one,
            "{threads} threads"
        );
    }
    assert_eq!(diff(&d, &live, meta(&[])), one);
    // The same with the numbers held found by the desired state already
    // (as `desired::compute` gives them), and with an index that does not
    // fit this live state (looked for again).
    d.held = HeldIndex::of(&live);
    assert!(d.held.covers(live.users.len()));
    for threads in [1, 3] {
        assert_eq!(diff_split(&d, &live, meta(&[]), threads), one);
    }
    let mut fewer = live.clone();
    fewer.users.pop();
    d.held = HeldIndex::of(&fewer);
    assert_eq!(diff(&d, &live, meta(&[])), one);
}

#[test]
fn a_limit_matches_as_user_lookup_does() {
    // Non-ASCII case and stray spaces around a UPN: the user is planned
    // and not reported unknown (as `LiveState::find_user` finds them).
    let mut live = LiveState {
        users: vec![
            User::new("id-asa", "ÅSA@x.com"),
            User::new("id-dan", " dan@x.com "),
        ],
        ..LiveState::default()
    };
    live.finish();
    let d = desired(vec![
        want(0, &[("TenantDialPlan", Some("London"))]),
        want(1, &[("TenantDialPlan", Some("London"))]),
    ]);
    for limit in ["åsa@x.com", "dan@x.com"] {
        assert!(live.find_user(limit).is_some(), "{limit}");
        let plan = diff(&d, &live, meta(&[limit]));
        assert_eq!(plan.changes.len(), 1, "{limit}: {:?}", plan.changes);
        assert!(
            plan.changes[0].user.upn.trim().to_lowercase() == limit,
            "{limit}"
        );
        assert!(plan.warnings.is_empty(), "{limit}: {:?}", plan.warnings);
    }
}
