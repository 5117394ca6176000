use std::collections::BTreeMap;

use super::*;
use crate::live::NumberAssignment;
use crate::plan::TenantInfo;
use crate::state::journal::JOURNAL_FORMAT_VERSION;

fn n(s: &str) -> E164 {
    E164::parse(s).unwrap()
}

fn state(policies: &[(&str, &str)], numbers: &[&str]) -> UserState {
    UserState {
        policies: policies
            .iter()
            .map(|(t, p)| (t.to_string(), p.to_string()))
            .collect(),
        numbers: numbers.iter().map(|s| s.to_string()).collect(),
    }
}

fn user_entry(id: &str, before: UserState, after: UserState) -> UserEntry {
    UserEntry {
        upn: format!("{id}@x.com"),
        id: id.into(),
        before,
        actions: Vec::new(),
        status: Status::Applied,
        errors: Vec::new(),
        after: Some(after),
        drifted_from: None,
    }
}

fn entry(users: Vec<UserEntry>) -> Entry {
    Entry {
        format_version: JOURNAL_FORMAT_VERSION,
        id: "a1".into(),
        time: "2026-01-01T00:00:00Z".into(),
        roster_version: "0".into(),
        tenant: tenant(),
        config_digest: String::new(),
        git: None,
        plan_digest: String::new(),
        who: "me@host".into(),
        revert_of: None,
        unfinished: false,
        interrupted: false,
        users,
    }
}

fn tenant() -> TenantInfo {
    TenantInfo {
        name: "t".into(),
        provider: "file".into(),
    }
}

fn meta(limit: &[&str]) -> Meta {
    Meta {
        created_at: String::new(),
        digest: String::new(),
        git: None,
        tenant: tenant(),
        limit: limit.iter().map(|s| s.to_string()).collect(),
    }
}

/// Live users `ids`, each with the state given.
fn live(users: &[(&str, UserState)]) -> LiveState {
    let mut live = LiveState::default();
    for (id, s) in users {
        let mut u = User::new(*id, format!("{id}@x.com"));
        u.policies = s.policies.clone().into_iter().collect();
        live.users.push(u);
        for num in &s.numbers {
            live.numbers.insert(n(num), held(num, id));
        }
    }
    live.finish();
    live
}

fn held(num: &str, id: &str) -> NumberAssignment {
    NumberAssignment {
        number: n(num),
        number_type: Some(NumberType::DirectRouting),
        target: Some(id.into()),
        category: Some("primary".into()),
        status: "userAssigned".into(),
        capabilities: Vec::new(),
        location_id: None,
    }
}

fn run(e: &Entry, live: &LiveState, held_back: &BTreeMap<E164, HeldBack>) -> Plan {
    let inputs = Inputs {
        entry: e,
        live,
        held_back,
        ranges: &[],
        users_in_scope: 10,
    };
    revert(&inputs, meta(&[])).unwrap()
}

#[test]
fn a_user_as_the_apply_left_it_goes_back() {
    let before = state(&[("TeamsMeetingPolicy", "Old")], &["+15550001"]);
    let after = state(
        &[("TeamsMeetingPolicy", "New"), ("TeamsCallingPolicy", "C")],
        &["+15550002"],
    );
    let e = entry(vec![user_entry("u1", before, after.clone())]);
    let plan = run(&e, &live(&[("u1", after)]), &BTreeMap::new());
    assert_eq!(plan.revert_of.as_deref(), Some("a1"));
    assert!(plan.conflicts.is_empty(), "{:?}", plan.conflicts);
    let c = &plan.changes[0];
    assert_eq!(c.reason, Reason::Revert);
    assert_eq!(
        c.actions,
        vec![
            Action::RemovePolicy {
                policy_type: "TeamsCallingPolicy".into(),
                from: "C".into()
            },
            Action::AssignPolicy {
                policy_type: "TeamsMeetingPolicy".into(),
                from: Some("New".into()),
                to: "Old".into()
            },
            Action::ReleaseNumber {
                number: n("+15550002")
            },
            Action::AssignNumber {
                number: n("+15550001"),
                number_type: NumberType::DirectRouting,
                range: None,
                location_id: None
            },
        ]
    );
    assert_eq!(plan.summary.users_changed, 1);
    assert_eq!(plan.summary.users_in_scope, 10);
    // Checking the plan against itself finds nothing.
    assert!(differences(&plan, &plan).is_empty());
}

#[test]
fn a_user_changed_since_is_a_conflict_and_one_already_back_is_left_out() {
    let before = state(&[("TeamsMeetingPolicy", "Old")], &[]);
    let after = state(&[("TeamsMeetingPolicy", "New")], &[]);
    let e = entry(vec![
        user_entry("u1", before.clone(), after.clone()),
        user_entry("u2", before.clone(), after),
        user_entry("gone", before.clone(), before.clone()),
    ]);
    let live = live(&[
        ("u1", state(&[("TeamsMeetingPolicy", "Hand")], &[])),
        ("u2", before),
    ]);
    let plan = run(&e, &live, &BTreeMap::new());
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    let who: Vec<&str> = plan.conflicts.iter().map(|c| c.user.upn.as_str()).collect();
    assert_eq!(who, ["gone@x.com", "u1@x.com"]);
    assert_eq!(
        plan.conflicts[1].differences,
        ["TeamsMeetingPolicy: `New` after the apply, `Hand` now"]
    );
    assert!(plan.conflicts[0].differences[0].contains("no longer exists"));
}

#[test]
fn a_number_goes_back_only_when_free_or_released_by_the_revert() {
    // The apply moved +1 from u1 to u2; both are as it left them.
    let e = entry(vec![
        user_entry("u1", state(&[], &["+15550001"]), state(&[], &[])),
        user_entry("u2", state(&[], &[]), state(&[], &["+15550001"])),
    ]);
    let both = live(&[("u1", state(&[], &[])), ("u2", state(&[], &["+15550001"]))]);
    let plan = run(&e, &both, &BTreeMap::new());
    assert_eq!(plan.changes.len(), 2, "{:?}", plan.conflicts);
    // Reverting only u1 would give it a number u2 still holds.
    let inputs = Inputs {
        entry: &e,
        live: &both,
        held_back: &BTreeMap::new(),
        ranges: &[],
        users_in_scope: 10,
    };
    let one = revert(&inputs, meta(&["U1@x.com"])).unwrap();
    assert!(one.changes.is_empty());
    assert!(
        one.conflicts[0].differences[0].contains("is now held by `u2@x.com`"),
        "{:?}",
        one.conflicts
    );
    // A limit naming a user the apply did not change is an error.
    let err = revert(&inputs, meta(&["nobody@x.com"])).unwrap_err();
    assert!(err.to_string().contains("did not change `nobody@x.com`"));
}

#[test]
fn a_number_in_quarantine_for_someone_else_stays_there() {
    let e = entry(vec![user_entry(
        "u1",
        state(&[], &["+15550001"]),
        state(&[], &[]),
    )]);
    let live = live(&[("u1", state(&[], &[]))]);
    let mut q = BTreeMap::new();
    q.insert(
        n("+15550001"),
        HeldBack {
            until: "2027-01-01T00:00:00Z".into(),
            released_at: String::new(),
            holder: "u1@x.com".into(),
        },
    );
    // Released from u1 itself: it goes back.
    assert_eq!(run(&e, &live, &q).changes.len(), 1);
    q.get_mut(&n("+15550001")).unwrap().holder = "eve@x.com".into();
    let plan = run(&e, &live, &q);
    assert!(plan.changes.is_empty());
    assert!(plan.conflicts[0].differences[0].contains("in quarantine until 2027-01-01"));
}

#[test]
fn a_forged_revert_is_found() {
    let e = entry(vec![user_entry(
        "u1",
        state(&[("TeamsMeetingPolicy", "Old")], &[]),
        state(&[("TeamsMeetingPolicy", "New")], &[]),
    )]);
    let live = live(&[("u1", state(&[("TeamsMeetingPolicy", "New")], &[]))]);
    let fresh = run(&e, &live, &BTreeMap::new());
    let mut forged = fresh.clone();
    forged.changes[0].actions[0] = Action::AssignPolicy {
        policy_type: "TeamsMeetingPolicy".into(),
        from: Some("New".into()),
        to: "Executives".into(),
    };
    let d = differences(&forged, &fresh);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].1.contains("not those that restore"), "{d:?}");
    // Leaving a user out is allowed; another apply is not.
    let mut less = fresh.clone();
    less.changes.clear();
    less.recount();
    assert!(differences(&less, &fresh).is_empty());
    let mut other = fresh.clone();
    other.revert_of = Some("b2".into());
    assert!(!differences(&other, &fresh).is_empty());
}
