//! A [`Snapshot`] to a [`LiveState`], checking that it is consistent
//! (references resolve, numbers are valid and held once). Pure.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::{SnapNumber, SnapUser, Snapshot, SnapshotError, invalid};
use crate::live::{Group, GroupPolicyAssignment, LiveState, NumberAssignment, User};
use crate::numbers::{E164, NumberType};

/// Check a snapshot's consistency and turn it into a [`LiveState`].
pub fn to_live(file: &str, snap: &Snapshot) -> Result<LiveState, SnapshotError> {
    into_live(file, snap.clone())
}

/// [`to_live`], moving the snapshot's strings instead of copying them (the
/// file provider and the Graph provider read 100,000s of users this way).
pub fn into_live(file: &str, mut snap: Snapshot) -> Result<LiveState, SnapshotError> {
    let users = std::mem::take(&mut snap.users);
    let numbers = std::mem::take(&mut snap.number_assignments);
    into_live_pages(file, snap, vec![users], vec![numbers])
}

/// [`into_live`] of `snap` with its users and number assignments given
/// apart, as the pages they were read in (in order, the snapshot's own
/// lists ignored): the same live state and the same errors, at the same
/// JSON paths (`$.users[i]` counts across the pages), without first
/// copying the pages into one list (the Graph provider reads 500,000
/// users 999 a page).
pub fn into_live_pages(
    file: &str,
    snap: Snapshot,
    users: Vec<Vec<SnapUser>>,
    numbers: Vec<Vec<SnapNumber>>,
) -> Result<LiveState, SnapshotError> {
    let Snapshot {
        tenant_id,
        groups,
        policies,
        policy_assignments,
        group_policy_assignments,
        subscribed_skus,
        ..
    } = snap;
    let (snap_users, number_assignments) = (users, numbers);
    let licensing = super::licences::licensing(file, subscribed_skus)?;
    let n = snap_users.iter().map(Vec::len).sum();
    let mut upns: Fast<Cow<'_, str>, usize> = Fast::with_capacity_and_hasher(n, Default::default());
    let mut index: Fast<&str, usize> = Fast::with_capacity_and_hasher(n, Default::default());
    for (i, u) in snap_users.iter().flatten().enumerate() {
        if u.id.trim().is_empty() {
            return Err(invalid(
                file,
                &format!("$.users[{i}].id"),
                "a user has an empty `id`".into(),
                "every user needs its Entra object id",
            ));
        }
        if index.insert(u.id.as_str(), i).is_some() {
            return Err(invalid(
                file,
                &format!("$.users[{i}].id"),
                format!("duplicate user id `{}`", u.id),
                "user ids are unique: remove the repeated user",
            ));
        }
        if let Some(first) = upns.insert(upn_key(&u.user_principal_name), i) {
            return Err(invalid(
                file,
                &format!("$.users[{i}].userPrincipalName"),
                format!(
                    "duplicate userPrincipalName `{}` (also $.users[{first}])",
                    u.user_principal_name
                ),
                "user principal names are unique without regard to case",
            ));
        }
        if licensing.is_some() {
            super::licences::check_user(file, i, u)?;
        }
    }
    drop(upns);

    // Direct assignments per user, checked against the users. A tenant
    // spells each type in few ways: look each spelling up once.
    let mut assigned: Vec<Vec<(String, String)>> = vec![Vec::new(); n];
    let mut types: Fast<String, String> = Fast::default();
    for (i, a) in policy_assignments.into_iter().enumerate() {
        let Some(&ui) = index.get(a.user_id.as_str()) else {
            return Err(invalid(
                file,
                &format!("$.policyAssignments[{i}].userId"),
                format!("assignment to user `{}`, who does not exist", a.user_id),
                "remove the assignment or add the user to `users`",
            ));
        };
        let ty = match types.get(&a.policy_type) {
            Some(t) => t.clone(),
            None => {
                let t = canonical_type(&a.policy_type);
                types.insert(a.policy_type.clone(), t.clone());
                t
            }
        };
        if assigned[ui].iter().any(|(t, _)| *t == ty) {
            return Err(invalid(
                file,
                &format!("$.policyAssignments[{i}]"),
                format!("user `{}` has two direct assignments of `{ty}`", a.user_id),
                "a user has at most one direct assignment per policy type",
            ));
        }
        assigned[ui].push((ty, a.policy_name));
    }

    // Numbers come in order from Graph and from `from_live`: while they do,
    // none can be listed twice, and the map is built in one go at the end.
    let mut ascending: Vec<(E164, NumberAssignment)> =
        Vec::with_capacity(number_assignments.iter().map(Vec::len).sum());
    let mut numbers = std::collections::BTreeMap::new();
    for (i, n) in number_assignments.into_iter().flatten().enumerate() {
        let number_type = match &n.number_type {
            Some(t) => Some(NumberType::from_graph(t).ok_or_else(|| {
                invalid(
                    file,
                    &format!("$.numberAssignments[{i}].numberType"),
                    format!("unknown number type `{t}`"),
                    "use `directRouting`, `callingPlan` or `operatorConnect`",
                )
            })?),
            None => None,
        };
        let entry = NumberAssignment {
            number: n.telephone_number,
            number_type,
            target: n.assignment_target_id.filter(|t| !t.is_empty()),
            category: n.assignment_category,
            status: n.assignment_status,
            capabilities: n.capabilities,
            location_id: n.location_id,
        };
        if entry.status.eq_ignore_ascii_case("userAssigned") {
            match &entry.target {
                Some(t) if index.contains_key(t.as_str()) => {}
                Some(t) => {
                    return Err(invalid(
                        file,
                        &format!("$.numberAssignments[{i}].assignmentTargetId"),
                        format!(
                            "number `{}` is assigned to user `{t}`, who does not exist",
                            entry.number
                        ),
                        "fix the target, or mark the number `unassigned`",
                    ));
                }
                None => {
                    return Err(invalid(
                        file,
                        &format!("$.numberAssignments[{i}]"),
                        format!(
                            "number `{}` is `userAssigned` with no `assignmentTargetId`",
                            entry.number
                        ),
                        "give the holder's object id, or mark the number `unassigned`",
                    ));
                }
            }
        }
        if numbers.is_empty()
            && ascending
                .last()
                .is_none_or(|(last, _)| *last < entry.number)
        {
            ascending.push((entry.number, entry));
            continue;
        }
        if numbers.is_empty() {
            numbers = std::mem::take(&mut ascending).into_iter().collect();
        }
        if let Some(prev) = numbers.get(&entry.number) {
            let prev: &NumberAssignment = prev;
            let message = if prev.is_held() && entry.is_held() {
                format!("number `{}` is held by two targets", entry.number)
            } else {
                format!("number `{}` is listed twice", entry.number)
            };
            return Err(invalid(
                file,
                &format!("$.numberAssignments[{i}].telephoneNumber"),
                message,
                "a number appears once in the inventory and belongs to one user at most",
            ));
        }
        numbers.insert(entry.number, entry);
    }
    if numbers.is_empty() {
        numbers = ascending.into_iter().collect();
    }
    drop(index);

    let users = users_from(snap_users, assigned, licensing.is_some());
    let mut live = LiveState {
        tenant_id,
        users,
        numbers,
        licensing,
        ..LiveState::default()
    };
    let mut group_ids: HashSet<String, foldhash::fast::RandomState> = HashSet::default();
    for (i, g) in groups.into_iter().enumerate() {
        if !group_ids.insert(g.id.clone()) {
            return Err(invalid(
                file,
                &format!("$.groups[{i}].id"),
                format!("duplicate group id `{}`", g.id),
                "group ids are unique",
            ));
        }
        live.groups.push(Group {
            id: g.id,
            display_name: g.display_name,
            members: g.members,
        });
    }
    for p in &policies {
        let ty = canonical_type(&p.policy_type);
        live.add_policy(&ty, &p.name, &p.policy_id);
    }
    for g in group_policy_assignments {
        live.group_policies.push(GroupPolicyAssignment {
            group_id: g.group_id,
            policy_type: canonical_type(&g.policy_type),
            policy_name: g.policy_name,
            rank: g.rank,
        });
    }
    live.finish();
    Ok(live)
}

/// A map of keys from the snapshot being read, for one conversion (a fast
/// hash: 100,000s of ids are looked up).
type Fast<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The key a user principal name is unique by: trimmed, lower-cased
/// (borrowed when it already is).
fn upn_key(upn: &str) -> Cow<'_, str> {
    let t = upn.trim();
    if t.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Cow::Owned(t.to_lowercase())
    } else {
        Cow::Borrowed(t)
    }
}

/// A snapshot user with its direct assignments (type, policy name).
type Assigned = (SnapUser, Vec<(String, String)>);

/// Users of one page (or part of one) and their direct assignments.
type Run = (Vec<SnapUser>, Vec<Vec<(String, String)>>);

/// Turn snapshot users, in pages (and their direct assignments, and their
/// licences when the snapshot records licences) into live users, moving
/// their strings; runs of whole pages are converted on the machine's
/// cores.
fn users_from(
    pages: Vec<Vec<SnapUser>>,
    assigned: Vec<Vec<(String, String)>>,
    licences: bool,
) -> Vec<User> {
    let ids: Vec<Option<usize>> = SnapUser::ATTRIBUTE_NAMES
        .iter()
        .map(|a| crate::catalog::attribute(a))
        .collect();
    let convert = |(mut u, policies): Assigned| {
        let values = u.take_attributes();
        let ext = u.on_premises_extension_attributes.take();
        let mut user = User::new(u.id, u.user_principal_name);
        user.display_name = u.display_name;
        user.account_enabled = u.account_enabled;
        for (id, value) in ids.iter().zip(values) {
            if let (Some(id), Some(v)) = (id, value) {
                user.attrs[*id] = Some(v.into_boxed_str());
            }
        }
        for (k, v) in ext.into_iter().flatten() {
            user.set_attr(&k, v);
        }
        user.policies = policies.into_iter().collect();
        let held = u.assigned_licenses.take();
        if licences {
            user.licences = super::licences::user_licences(held);
        }
        user
    };
    let n: usize = pages.iter().map(Vec::len).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .clamp(1, 8)
        .min(n / 4096 + 1);
    if threads <= 1 {
        return pages
            .into_iter()
            .flatten()
            .zip(assigned)
            .map(convert)
            .collect();
    }
    // Runs of whole pages of about `n / threads` users each (a single page
    // is split), each with its users' assignments.
    let chunk = n.div_ceil(threads);
    let mut runs: Vec<Vec<Run>> = vec![Vec::new()];
    let (mut in_run, mut assigned) = (0, assigned.into_iter());
    for mut page in pages {
        while !page.is_empty() {
            if in_run >= chunk {
                runs.push(Vec::new());
                in_run = 0;
            }
            let take = page.len().min(chunk - in_run);
            let rest = page.split_off(take);
            let policies: Vec<_> = assigned.by_ref().take(take).collect();
            in_run += take;
            if let Some(run) = runs.last_mut() {
                run.push((page, policies));
            }
            page = rest;
        }
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .into_iter()
            .map(|run| {
                scope.spawn(|| {
                    run.into_iter()
                        .flat_map(|(users, policies)| users.into_iter().zip(policies))
                        .map(convert)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(n);
        for h in handles {
            out.extend(h.join().expect("converting users does not panic"));
        }
        out
    })
}

/// The catalog spelling of a policy type; unknown types are kept as written.
pub(super) fn canonical_type(t: &str) -> String {
    crate::catalog::policy_type(t)
        .map(str::to_string)
        .unwrap_or_else(|| t.to_string())
}

#[cfg(test)]
mod tests {
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
            amy.policies.iter().collect::<Vec<_>>(),
            [(&"TenantDialPlan".to_string(), &"London".to_string())]
        );
        let p = live.policy("TeamsMeetingPolicy", "SALES").unwrap();
        assert_eq!((p.name.as_str(), p.id.as_str()), ("Sales", "p1"));
        assert_eq!(live.group_policies[0].policy_type, "TeamsMeetingPolicy");
        assert_eq!(live.group_policies[0].rank, 2);

        // A type the catalog does not know is kept as written.
        let mut snap = base();
        snap["policyAssignments"][0]["policyType"] = json!("ContosoCustomPolicy");
        let live = load(&snap).unwrap();
        assert_eq!(live.users[0].policies["ContosoCustomPolicy"], "London");
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
        for size in [1, 999, 4096, n] {
            let (users, numbers) = pages(&snap, size);
            let paged = into_live_pages("t.json", snap.clone(), users, numbers).unwrap();
            assert!(paged == whole, "pages of {size}");
        }
        // Errors name the place in the whole list, whatever the pages.
        let error = |snap: &Snapshot| {
            let want = into_live("t.json", snap.clone()).unwrap_err().to_string();
            for size in [1, 999, n] {
                let (users, numbers) = pages(snap, size);
                let got = into_live_pages("t.json", snap.clone(), users, numbers)
                    .unwrap_err()
                    .to_string();
                assert_eq!(got, want, "pages of {size}");
            }
            want
        };
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
}
