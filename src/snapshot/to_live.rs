//! A [`Snapshot`] to a [`LiveState`], checking that it is consistent
//! (references resolve, numbers are valid and held once). Pure.

use std::collections::{HashMap, HashSet};

use super::{SnapUser, Snapshot, SnapshotError, invalid};
use crate::live::{Group, GroupPolicyAssignment, LiveState, NumberAssignment, User};
use crate::numbers::NumberType;

/// Check a snapshot's consistency and turn it into a [`LiveState`].
pub fn to_live(file: &str, snap: &Snapshot) -> Result<LiveState, SnapshotError> {
    into_live(file, snap.clone())
}

/// [`to_live`], moving the snapshot's strings instead of copying them (the
/// file provider and the Graph provider read 100,000s of users this way).
pub fn into_live(file: &str, snap: Snapshot) -> Result<LiveState, SnapshotError> {
    let Snapshot {
        tenant_id,
        users: snap_users,
        groups,
        policies,
        policy_assignments,
        group_policy_assignments,
        number_assignments,
        ..
    } = snap;
    let n = snap_users.len();
    let mut upns: HashMap<String, usize> = HashMap::with_capacity(n);
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(n);
    for (i, u) in snap_users.iter().enumerate() {
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
        if let Some(first) = upns.insert(u.user_principal_name.trim().to_lowercase(), i) {
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
    }
    drop(upns);

    // Direct assignments per user, checked against the users. A tenant
    // spells each type in few ways: look each spelling up once.
    let mut assigned: Vec<Vec<(String, String)>> = vec![Vec::new(); n];
    let mut types: HashMap<String, String> = HashMap::new();
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

    let mut numbers = std::collections::BTreeMap::new();
    for (i, n) in number_assignments.into_iter().enumerate() {
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
    drop(index);

    let users = users_from(snap_users, assigned);
    let mut live = LiveState {
        tenant_id,
        users,
        numbers,
        ..LiveState::default()
    };
    let mut group_ids = HashSet::new();
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

/// A snapshot user with its direct assignments (type, policy name).
type Assigned = (SnapUser, Vec<(String, String)>);

/// Turn snapshot users (and their direct assignments) into live users,
/// moving their strings; the users are split over the machine's cores.
fn users_from(snap_users: Vec<SnapUser>, assigned: Vec<Vec<(String, String)>>) -> Vec<User> {
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
        user
    };
    let n = snap_users.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .clamp(1, 8)
        .min(n / 4096 + 1);
    if threads <= 1 {
        return snap_users.into_iter().zip(assigned).map(convert).collect();
    }
    let chunk = n.div_ceil(threads);
    let mut pairs = snap_users.into_iter().zip(assigned);
    let parts: Vec<Vec<Assigned>> = (0..threads)
        .map(|_| pairs.by_ref().take(chunk).collect())
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(|| part.into_iter().map(convert).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("converting users does not panic"))
            .collect()
    })
}

/// The catalog spelling of a policy type; unknown types are kept as written.
fn canonical_type(t: &str) -> String {
    crate::catalog::policy_type(t)
        .map(str::to_string)
        .unwrap_or_else(|| t.to_string())
}
