//! Unit tests of [`super`]: consistent and inconsistent snapshots, and
//! pages against one list.

use serde_json::{Value, json};

use super::*;
use crate::numbers::E164;
use crate::snapshot::parse;

/// A consistent snapshot: two users, nested groups, policies, one
/// assignment, one held and one free number.
fn base() -> Value {
    json!({
        "format_version": 1,
        "tenantId": "tenant-1",
        "users": [
            {"id": "u2", "userPrincipalName": "bob@x.com", "accountEnabled": false,
             "jobTitle": "Sales",
             "onPremisesExtensionAttributes": {"extensionAttribute3": "E3", "extensionAttribute4": null}},
            {"id": "u1", "userPrincipalName": "Amy@x.com", "displayName": "Amy"}
        ],
        "groups": [
            {"id": "g-outer", "displayName": "Outer", "members": ["g-inner", "u2"]},
            {"id": "g-inner", "displayName": "Inner", "members": ["u1"]}
        ],
        "policies": [{"policyType": "teamsmeetingpolicy", "name": "Sales", "policyId": "p1"}],
        "policyAssignments": [
            {"userId": "u1", "policyType": "tenantDialPlan", "policyName": "London"}
        ],
        "groupPolicyAssignments": [
            {"groupId": "g-outer", "policyType": "TEAMSMEETINGPOLICY", "policyName": "Sales", "rank": 2}
        ],
        "numberAssignments": [
            {"telephoneNumber": "+442071230001", "numberType": "directRouting",
             "assignmentTargetId": "u1", "assignmentCategory": "primary",
             "assignmentStatus": "userAssigned"},
            {"telephoneNumber": "442071230002", "assignmentTargetId": "",
             "capabilities": ["userAssignment"]}
        ]
    })
}

fn load(snap: &Value) -> Result<LiveState, SnapshotError> {
    let snap = parse("t.json", &snap.to_string())?;
    to_live("t.json", &snap)
}

/// The JSON path and message of an inconsistent snapshot (its hint must
/// not be empty).
fn refused(snap: &Value) -> (String, String) {
    match load(snap) {
        Err(SnapshotError::Invalid {
            json_path,
            message,
            hint,
            ..
        }) => {
            assert!(!hint.is_empty(), "{json_path}: {message}");
            (json_path, message)
        }
        other => panic!("expected an inconsistency, got {other:?}"),
    }
}

fn e164(s: &str) -> E164 {
    E164::parse(s).unwrap()
}

#[test]
fn a_consistent_snapshot_becomes_a_live_state() {
    let live = load(&base()).unwrap();
    assert_eq!(live.tenant_id, "tenant-1");
    let upns: Vec<&str> = live.users.iter().map(|u| u.upn.as_str()).collect();
    assert_eq!(
        upns,
        ["Amy@x.com", "bob@x.com"],
        "sorted by lower-cased UPN"
    );
    let (amy, bob) = (&live.users[0], &live.users[1]);
    assert_eq!(amy.display_name.as_deref(), Some("Amy"));
    assert!(amy.account_enabled, "enabled unless the snapshot says not");
    assert!(!bob.account_enabled);
    let attr = |u: &User, name: &str| {
        u.attr(crate::catalog::attribute(name).unwrap())
            .map(str::to_string)
    };
    assert_eq!(attr(bob, "jobTitle").as_deref(), Some("Sales"));
    assert_eq!(attr(bob, "extensionAttribute3").as_deref(), Some("E3"));
    assert_eq!(attr(bob, "extensionAttribute4"), None);
    assert_eq!(attr(amy, "jobTitle"), None);

    let held = &live.numbers[&e164("+442071230001")];
    assert_eq!(held.target.as_deref(), Some("u1"));
    assert_eq!(held.number_type, Some(NumberType::DirectRouting));
    assert!(held.is_held());
    // A number without `+` is read leniently; an empty target is none,
    // a missing status is `unassigned`.
    let free = &live.numbers[&e164("+442071230002")];
    assert_eq!(free.target, None);
    assert_eq!(free.status, "unassigned");
    assert!(!free.is_held() && free.can_assign_to_user());
}

#[test]
fn policy_types_take_the_catalog_spelling() {
    let live = load(&base()).unwrap();
    let amy = &live.users[0];
    assert_eq!(
        amy.policies
            .iter()
            .map(|(t, n)| (t.as_str(), n.as_str()))
            .collect::<Vec<_>>(),
        [("TenantDialPlan", "London")]
    );
    let p = live.policy("TeamsMeetingPolicy", "SALES").unwrap();
    assert_eq!((p.name.as_str(), p.id.as_str()), ("Sales", "p1"));
    assert_eq!(live.group_policies[0].policy_type, "TeamsMeetingPolicy");
    assert_eq!(live.group_policies[0].rank, 2);

    // A type the catalog does not know is kept as written.
    let mut snap = base();
    snap["policyAssignments"][0]["policyType"] = json!("ContosoCustomPolicy");
    let live = load(&snap).unwrap();
    assert_eq!(
        live.users[0]
            .policies
            .get("ContosoCustomPolicy")
            .map(String::as_str),
        Some("London")
    );
}

#[test]
fn group_membership_is_resolved_through_nesting() {
    let live = load(&base()).unwrap();
    let names = |u: &User| -> Vec<&str> {
        u.groups
            .iter()
            .map(|&g| live.groups[g as usize].id.as_str())
            .collect()
    };
    assert_eq!(names(&live.users[0]), ["g-outer", "g-inner"]);
    assert_eq!(names(&live.users[1]), ["g-outer"]);
}

#[test]
fn account_enabled_null_or_missing_is_enabled() {
    let mut snap = base();
    snap["users"][0]["accountEnabled"] = Value::Null;
    let live = load(&snap).unwrap();
    assert!(live.users.iter().all(|u| u.account_enabled));
}

#[test]
fn user_ids_and_upns_are_unique() {
    let mut snap = base();
    snap["users"][1]["id"] = json!("u2");
    let (path, message) = refused(&snap);
    assert_eq!(path, "$.users[1].id");
    assert_eq!(message, "duplicate user id `u2`");

    let mut snap = base();
    snap["users"][1]["id"] = json!("  ");
    assert_eq!(refused(&snap).0, "$.users[1].id");

    let mut snap = base();
    snap["users"][1]["userPrincipalName"] = json!(" BOB@x.com");
    let (path, message) = refused(&snap);
    assert_eq!(path, "$.users[1].userPrincipalName");
    assert!(message.contains("(also $.users[0])"), "{message}");
}

#[test]
fn group_ids_are_unique() {
    let mut snap = base();
    snap["groups"][1]["id"] = json!("g-outer");
    let (path, message) = refused(&snap);
    assert_eq!(path, "$.groups[1].id");
    assert_eq!(message, "duplicate group id `g-outer`");
}

#[test]
fn assignments_name_existing_users_once_per_type() {
    let mut snap = base();
    snap["policyAssignments"][0]["userId"] = json!("ghost");
    let (path, message) = refused(&snap);
    assert_eq!(path, "$.policyAssignments[0].userId");
    assert!(message.contains("`ghost`, who does not exist"), "{message}");

    // Two spellings of one type are one type.
    let mut snap = base();
    snap["policyAssignments"]
        .as_array_mut()
        .unwrap()
        .push(json!({"userId": "u1", "policyType": "TenantDialPlan", "policyName": "Dublin"}));
    let (path, message) = refused(&snap);
    assert_eq!(path, "$.policyAssignments[1]");
    assert!(
        message.contains("two direct assignments of `TenantDialPlan`"),
        "{message}"
    );
}

#[test]
fn a_number_is_listed_once_and_held_by_one_user() {
    let mut snap = base();
    let numbers = snap["numberAssignments"].as_array_mut().unwrap();
    numbers.push(json!({"telephoneNumber": "+442071230001",
        "assignmentTargetId": "u2", "assignmentStatus": "userAssigned"}));
    let (path, message) = refused(&snap);
    assert_eq!(path, "$.numberAssignments[2].telephoneNumber");
    assert_eq!(message, "number `+442071230001` is held by two targets");

    // The same number in another spelling, unassigned: listed twice.
    let mut snap = base();
    let numbers = snap["numberAssignments"].as_array_mut().unwrap();
    numbers.push(json!({"telephoneNumber": "tel:+442071230002"}));
    let (path, message) = refused(&snap);
    assert_eq!(path, "$.numberAssignments[2].telephoneNumber");
    assert_eq!(message, "number `+442071230002` is listed twice");
}

#[test]
fn a_held_number_names_an_existing_holder() {
    let mut snap = base();
    snap["numberAssignments"][0]["assignmentTargetId"] = json!("ghost");
    let (path, message) = refused(&snap);
    assert_eq!(path, "$.numberAssignments[0].assignmentTargetId");
    assert!(
        message.contains("user `ghost`, who does not exist"),
        "{message}"
    );

    let mut snap = base();
    snap["numberAssignments"][0]["assignmentTargetId"] = Value::Null;
    let (path, message) = refused(&snap);
    assert_eq!(path, "$.numberAssignments[0]");
    assert!(message.contains("no `assignmentTargetId`"), "{message}");

    // A target that is not a user (a resource account) is fine when the
    // number is not `userAssigned`.
    let mut snap = base();
    snap["numberAssignments"][0]["assignmentTargetId"] = json!("resource-account");
    snap["numberAssignments"][0]["assignmentStatus"] = json!("conferenceAssigned");
    let live = load(&snap).unwrap();
    let n = &live.numbers[&e164("+442071230001")];
    assert!(n.is_held());
    assert!(!live.numbers_by_holder().contains_key("u1"));
}

#[test]
fn invalid_numbers_and_number_types_are_refused_at_their_path() {
    let mut snap = base();
    snap["numberAssignments"][1]["numberType"] = json!("pstn");
    let (path, message) = refused(&snap);
    assert_eq!(path, "$.numberAssignments[1].numberType");
    assert_eq!(message, "unknown number type `pstn`");

    let mut snap = base();
    snap["numberAssignments"][1]["telephoneNumber"] = json!("+44 20 7123");
    match load(&snap) {
        Err(SnapshotError::Json {
            json_path, message, ..
        }) => {
            assert_eq!(json_path, "$.numberAssignments[1].telephoneNumber");
            assert!(
                message.contains("invalid telephone number `+44 20 7123`"),
                "{message}"
            );
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn the_error_names_file_path_and_hint() {
    let mut snap = base();
    snap["groups"][1]["id"] = json!("g-outer");
    let text = load(&snap).unwrap_err().to_string();
    assert_eq!(
        text,
        "tenant snapshot `t.json` is inconsistent at `$.groups[1].id`: duplicate group id `g-outer`\nhint: group ids are unique"
    );
}

#[test]
fn many_users_keep_their_own_attributes_and_assignments() {
    // Enough users that the conversion is split over threads (when the
    // machine has more than one core).
    let n = 3 * 4096 + 7;
    let users: Vec<SnapUser> = (0..n)
        .map(|i| SnapUser {
            id: format!("u{i}"),
            user_principal_name: format!("user{i:05}@x.com"),
            job_title: Some(format!("title {i}")),
            account_enabled: i % 3 != 0,
            ..SnapUser::default()
        })
        .collect();
    let policy_assignments = (0..n)
        .step_by(5)
        .map(|i| crate::snapshot::SnapAssignment {
            user_id: format!("u{i}"),
            policy_type: "TenantDialPlan".into(),
            policy_name: format!("plan {i}"),
        })
        .collect();
    let snap = Snapshot {
        format_version: 1,
        users,
        policy_assignments,
        ..Snapshot::default()
    };
    let live = into_live("t.json", snap).unwrap();
    assert_eq!(live.users.len(), n);
    let title = crate::catalog::attribute("jobTitle").unwrap();
    for (i, u) in live.users.iter().enumerate() {
        assert_eq!(u.id, format!("u{i}"));
        assert_eq!(u.attr(title), Some(format!("title {i}").as_str()));
        assert_eq!(u.account_enabled, i % 3 != 0, "{i}");
        let want = (i % 5 == 0).then(|| format!("plan {i}"));
        assert_eq!(u.policies.get("TenantDialPlan"), want.as_ref(), "{i}");
    }
}

/// `snap`'s users and numbers cut into pages of `size`.
fn pages(snap: &Snapshot, size: usize) -> (Vec<Vec<SnapUser>>, Vec<Vec<SnapNumber>>) {
    (
        snap.users.chunks(size).map(<[SnapUser]>::to_vec).collect(),
        snap.number_assignments
            .chunks(size)
            .map(<[SnapNumber]>::to_vec)
            .collect(),
    )
}

#[test]
fn pages_give_the_live_state_and_the_errors_of_one_list() {
    // Enough users for the conversion to run on threads, numbers in
    // order but for one, assignments spread over the users.
    let n = 2 * 4096 + 11;
    let snap = Snapshot {
        format_version: 1,
        users: (0..n)
            .map(|i| SnapUser {
                id: format!("u{i}"),
                user_principal_name: format!("User{:05}@x.com", (i * 7919) % n),
                city: Some(format!("city {}", i % 13)),
                ..SnapUser::default()
            })
            .collect(),
        policy_assignments: (0..n)
            .step_by(3)
            .map(|i| crate::snapshot::SnapAssignment {
                user_id: format!("u{i}"),
                policy_type: "tenantdialplan".into(),
                policy_name: format!("plan {}", i % 5),
            })
            .collect(),
        number_assignments: (0..3000)
            .map(|k| k * 2)
            .chain([777])
            .map(|k| SnapNumber {
                id: String::new(),
                telephone_number: e164(&format!("+4420712{k:05}")),
                number_type: Some("directRouting".into()),
                assignment_target_id: Some(format!("u{k}")),
                assignment_category: Some("primary".into()),
                assignment_status: "userAssigned".into(),
                activation_state: None,
                capabilities: vec![],
                location_id: None,
                iso_country_code: None,
            })
            .collect(),
        ..Snapshot::default()
    };
    let whole = into_live("t.json", snap.clone()).unwrap();
    assert_eq!(whole.users.len(), n);
    assert_eq!(whole.numbers.len(), 3001);
    // Users made live users page by page as they arrive (as the Graph
    // provider reads them) give the same.
    let live_pages = |users: Vec<Vec<SnapUser>>| -> Vec<Vec<User>> {
        users.into_iter().map(live_users).collect()
    };
    for size in [1, 999, 4096, n] {
        let (users, numbers) = pages(&snap, size);
        let paged =
            into_live_pages("t.json", snap.clone(), users.clone(), numbers.clone()).unwrap();
        assert!(paged == whole, "pages of {size}");
        let paged = into_live_pages("t.json", snap.clone(), live_pages(users), numbers).unwrap();
        assert!(paged == whole, "live pages of {size}");
    }
    // Errors name the place in the whole list, whatever the pages.
    let error = |snap: &Snapshot| {
        let want = into_live("t.json", snap.clone()).unwrap_err().to_string();
        for size in [1, 999, n] {
            let (users, numbers) = pages(snap, size);
            let got = into_live_pages("t.json", snap.clone(), users.clone(), numbers.clone())
                .unwrap_err()
                .to_string();
            assert_eq!(got, want, "pages of {size}");
            let got = into_live_pages("t.json", snap.clone(), live_pages(users), numbers)
                .unwrap_err()
                .to_string();
            assert_eq!(got, want, "live pages of {size}");
        }
        want
    };
    // With licences read, a blank SKU id is found in either form.
    let mut licensed = snap.clone();
    licensed.subscribed_skus = Some(vec![crate::snapshot::SnapSku {
        sku_id: "s1".into(),
        ..Default::default()
    }]);
    licensed.users[4100].assigned_licenses = Some(vec![
        crate::snapshot::SnapLicence {
            sku_id: "s1".into(),
            disabled_plans: vec![],
        },
        crate::snapshot::SnapLicence {
            sku_id: " ".into(),
            disabled_plans: vec![],
        },
    ]);
    let message = error(&licensed);
    assert!(
        message.contains("$.users[4100].assignedLicenses[1].skuId"),
        "{message}"
    );
    let mut bad = snap.clone();
    bad.users[5000].user_principal_name = bad.users[17].user_principal_name.to_uppercase();
    assert!(error(&bad).contains("$.users[5000].userPrincipalName"));
    let mut bad = snap.clone();
    bad.number_assignments[2500].telephone_number = e164("+442071200200");
    assert!(error(&bad).contains("$.numberAssignments[2500].telephoneNumber"));
    let mut bad = snap.clone();
    bad.number_assignments[3000].telephone_number = e164("+442071200002");
    let message = error(&bad);
    assert!(message.contains("$.numberAssignments[3000]"), "{message}");
    assert!(message.contains("held by two targets"), "{message}");
}
