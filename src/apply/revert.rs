//! The revert of an apply (`roster revert APPLY-ID`): from the apply's
//! journal entry and the live tenant, a plan that puts each user the apply
//! changed back to its state before, where the user is still as the apply
//! left it. A user changed since (by hand, or by a later apply) is a
//! conflict: listed with what differs, never touched. The same function
//! checks a saved revert plan at apply time ([`differences`]), so a revert
//! is verified against the journal, never against the manifests.
//!
//! A number the apply took from a user goes back to it only while the
//! number is free (or released by this revert) and not in quarantine for
//! someone else; otherwise the user is a conflict. Pure: no I/O, no clock.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::desired::HeldBack;
use crate::live::{LiveState, User};
use crate::manifest::NumberRange;
use crate::numbers::{E164, NumberType};
use crate::plan::fingerprint::fingerprint;
use crate::plan::{Action, Change, Conflict, Meta, Plan, Reason, UserRef, policy_action};
use crate::state::journal::{Entry, UserEntry, UserState};

use super::Status;
use super::verify::Differences;

/// What a revert is computed from besides the journal entry.
pub struct Inputs<'a> {
    pub entry: &'a Entry,
    pub live: &'a LiveState,
    /// Numbers in quarantine now.
    pub held_back: &'a BTreeMap<E164, HeldBack>,
    /// The manifests' ranges: a restored number's type and emergency
    /// location when the tenant's inventory no longer knows the number.
    pub ranges: &'a [NumberRange],
    /// The users in scope of the manifests (the safety percentage is
    /// measured against it, as for any plan).
    pub users_in_scope: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevertError {
    #[error(
        "apply `{apply}` did not change `{user}`\nhint: `roster history --user {user}` lists the applies that did; drop `--user {user}`"
    )]
    NotInApply { apply: String, user: String },
}

/// The revert plan of `inputs.entry`, limited to `meta.limit` (UPNs or
/// object ids) when it names any.
pub fn revert(inputs: &Inputs<'_>, meta: Meta) -> Result<Plan, RevertError> {
    let entry = inputs.entry;
    let limit: BTreeSet<String> = meta.limit.iter().map(|u| u.trim().to_lowercase()).collect();
    let named = |u: &UserEntry, l: &str| {
        u.upn.trim().eq_ignore_ascii_case(l) || u.id.trim().eq_ignore_ascii_case(l)
    };
    if let Some(l) = limit
        .iter()
        .find(|l| !entry.users.iter().any(|u| named(u, l)))
    {
        return Err(RevertError::NotInApply {
            apply: entry.id.clone(),
            user: l.clone(),
        });
    }
    let chosen: Vec<&UserEntry> = entry
        .users
        .iter()
        .filter(|u| limit.is_empty() || limit.iter().any(|l| named(u, l)))
        .collect();

    let by_id: HashMap<&str, &User> = inputs
        .live
        .users
        .iter()
        .map(|u| (u.id.as_str(), u))
        .collect();
    let states = crate::state::journal::States::new(inputs.live);
    let mut conflicts: Vec<Conflict> = Vec::new();
    // Users to put back: (journal entry, live user, the state to undo).
    let mut candidates: Vec<(&UserEntry, &User)> = Vec::new();
    for u in chosen {
        let Some(user) = by_id.get(u.id.as_str()) else {
            conflicts.push(conflict(u, None, vec!["the user no longer exists".into()]));
            continue;
        };
        let now = states.of(&u.id);
        let Some(after) = &u.after else {
            if !same(&now, &u.before) {
                let status = if u.status == Status::Failed {
                    "failed"
                } else {
                    "was skipped"
                };
                conflicts.push(conflict(
                    u,
                    Some(user),
                    vec![format!(
                        "the apply {status} for this user, so what it changed is not known"
                    )],
                ));
            }
            continue;
        };
        if same(&now, &u.before) {
            continue; // Already as before.
        }
        if !same(&now, after) {
            conflicts.push(conflict(u, Some(user), state_differences(after, &now)));
            continue;
        }
        candidates.push((u, user));
    }

    // A number goes back only when free, or released by another user of
    // this revert; a user whose number cannot go back is left alone, which
    // may in turn keep a number from another: repeat until nothing moves.
    loop {
        let releasing: HashSet<E164> = candidates.iter().flat_map(|(u, _)| to_release(u)).collect();
        let mut stuck = None;
        for (i, (u, user)) in candidates.iter().enumerate() {
            let why = restore_problems(u, user, &releasing, inputs);
            if !why.is_empty() {
                stuck = Some((i, why));
                break;
            }
        }
        let Some((i, why)) = stuck else { break };
        let (u, user) = candidates.remove(i);
        conflicts.push(conflict(u, Some(user), why));
    }

    let held = inputs.live.numbers_by_holder();
    let mut changes: Vec<Change> = candidates
        .iter()
        .map(|(u, user)| {
            let numbers = held.get(user.id.as_str()).map_or(&[][..], |v| v.as_slice());
            Change {
                user: UserRef {
                    id: user.id.clone(),
                    upn: user.upn.clone(),
                    display_name: user.display_name.clone(),
                },
                persona: None,
                reason: Reason::Revert,
                cause: None,
                live_fingerprint: fingerprint(user, numbers),
                actions: actions(u, inputs),
            }
        })
        .collect();
    changes.sort_by_cached_key(|c| (c.user.upn.to_lowercase(), c.user.id.clone()));
    conflicts.sort_by_cached_key(|c| (c.user.upn.to_lowercase(), c.user.id.clone()));
    let mut plan = Plan {
        revert_of: Some(entry.id.clone()),
        changes,
        conflicts,
        ..Plan::headed(meta, &limit, inputs.users_in_scope)
    };
    plan.recount();
    Ok(plan)
}

/// The (policy type, policy name) pairs a revert of `entry` may give back:
/// the provider must resolve them, whatever the manifests name now.
pub fn policies(entry: &Entry) -> Vec<(String, String)> {
    let pairs: BTreeSet<(String, String)> = entry
        .users
        .iter()
        .flat_map(|u| u.before.policies.iter())
        .map(|(t, p)| (t.clone(), p.clone()))
        .collect();
    pairs.into_iter().collect()
}

fn conflict(u: &UserEntry, user: Option<&User>, differences: Vec<String>) -> Conflict {
    Conflict {
        user: UserRef {
            id: u.id.clone(),
            upn: user.map_or_else(|| u.upn.clone(), |x| x.upn.clone()),
            display_name: user.and_then(|x| x.display_name.clone()),
        },
        differences,
    }
}

/// Equal states, policy names without regard to case (as plans compare).
fn same(a: &UserState, b: &UserState) -> bool {
    a.numbers == b.numbers
        && a.policies.len() == b.policies.len()
        && a.policies
            .iter()
            .all(|(t, p)| b.policies.get(t).is_some_and(|q| q.eq_ignore_ascii_case(p)))
}

/// What differs between the state the apply left (`after`) and `now`.
fn state_differences(after: &UserState, now: &UserState) -> Vec<String> {
    let mut out = Vec::new();
    let types: BTreeSet<&String> = after.policies.keys().chain(now.policies.keys()).collect();
    let name = |p: Option<&String>| p.map_or_else(|| "none".to_string(), |p| format!("`{p}`"));
    for t in types {
        let (a, n) = (after.policies.get(t), now.policies.get(t));
        let equal = match (a, n) {
            (Some(a), Some(n)) => a.eq_ignore_ascii_case(n),
            (None, None) => true,
            _ => false,
        };
        if !equal {
            out.push(format!("{t}: {} after the apply, {} now", name(a), name(n)));
        }
    }
    for n in after.numbers.iter().filter(|n| !now.numbers.contains(n)) {
        out.push(format!("number {n}: held after the apply, not now"));
    }
    for n in now.numbers.iter().filter(|n| !after.numbers.contains(n)) {
        out.push(format!("number {n}: held now, not after the apply"));
    }
    out
}

/// Numbers the apply gave the user: the revert releases them.
fn to_release(u: &UserEntry) -> Vec<E164> {
    let after = u.after.as_ref().map_or(&[][..], |a| a.numbers.as_slice());
    after
        .iter()
        .filter(|n| !u.before.numbers.contains(n))
        .filter_map(|n| E164::parse_lenient(n).ok())
        .collect()
}

/// Numbers the apply took from the user: the revert gives them back.
fn to_restore(u: &UserEntry) -> Vec<&str> {
    let after = u.after.as_ref().map_or(&[][..], |a| a.numbers.as_slice());
    u.before
        .numbers
        .iter()
        .filter(|n| !after.contains(n))
        .map(String::as_str)
        .collect()
}

/// Why the numbers of `u` cannot go back to it now (empty: they can).
fn restore_problems(
    u: &UserEntry,
    user: &User,
    releasing: &HashSet<E164>,
    inputs: &Inputs<'_>,
) -> Vec<String> {
    let restore = to_restore(u);
    if restore.len() > 1 {
        // Only one can be primary, and the others' categories are not on
        // record.
        return vec![format!(
            "the apply took {} numbers from the user ({}); roster gives back one number at most: give them back by hand",
            restore.len(),
            restore.join(", ")
        )];
    }
    let mut why = Vec::new();
    for text in restore {
        let Ok(n) = E164::parse_lenient(text) else {
            why.push(format!(
                "number `{text}` (held before the apply) is not a valid number"
            ));
            continue;
        };
        let entry = inputs.live.numbers.get(&n);
        if let Some(a) = entry
            && a.is_held()
            && a.target.as_deref() != Some(user.id.as_str())
            && !releasing.contains(&n)
        {
            let who = a.target.as_deref().map_or_else(
                || format!("a target of status `{}`", a.status),
                |t| {
                    inputs
                        .live
                        .users
                        .iter()
                        .find(|x| x.id == t)
                        .map_or_else(|| format!("`{t}`"), |x| format!("`{}`", x.upn))
                },
            );
            why.push(format!(
                "number {n} (held before the apply) is now held by {who}"
            ));
            continue;
        }
        if let Some(h) = inputs.held_back.get(&n)
            && !h.held_by(&user.upn, &user.id)
        {
            why.push(format!(
                "number {n} (held before the apply) is in quarantine until {} (released from `{}`)",
                h.until, h.holder
            ));
            continue;
        }
        let (kind, _, _) = number_details(n, inputs);
        if kind.needs_inventory() && !entry.is_some_and(|a| a.can_assign_to_user()) {
            why.push(format!(
                "number {n} (held before the apply) is not in the tenant's inventory for user assignment"
            ));
        }
    }
    why
}

/// A restored number's type, range and location: the inventory's, else
/// the first range containing it, else Direct Routing without a location.
fn number_details(n: E164, inputs: &Inputs<'_>) -> (NumberType, Option<String>, Option<String>) {
    let entry = inputs.live.numbers.get(&n);
    let range = inputs.ranges.iter().find(|r| r.contains(n));
    let kind = entry
        .and_then(|a| a.number_type)
        .or(range.map(|r| r.kind))
        .unwrap_or(NumberType::DirectRouting);
    let location = entry
        .and_then(|a| a.location_id.clone())
        .or_else(|| range.and_then(|r| r.location.clone()));
    (kind, range.map(|r| r.name.value.clone()), location)
}

/// The actions from the state the apply left back to the state before.
fn actions(u: &UserEntry, inputs: &Inputs<'_>) -> Vec<Action> {
    let mut out = Vec::new();
    let empty = UserState::default();
    let after = u.after.as_ref().unwrap_or(&empty);
    let types: BTreeSet<&String> = u
        .before
        .policies
        .keys()
        .chain(after.policies.keys())
        .collect();
    for t in types {
        out.extend(policy_action(
            t,
            after.policies.get(t),
            u.before.policies.get(t),
        ));
    }
    for number in to_release(u) {
        out.push(Action::ReleaseNumber { number });
    }
    for number in to_restore(u)
        .iter()
        .filter_map(|n| E164::parse_lenient(n).ok())
    {
        let (number_type, range, location_id) = number_details(number, inputs);
        out.push(Action::AssignNumber {
            number,
            number_type,
            range,
            location_id,
        });
    }
    out.sort_by(Action::cmp_order);
    out
}

/// Every way the saved revert plan `plan` differs from `fresh`, the revert
/// roster computes now. Exact, but a plan may leave users out (it does
/// less); conflicts are not compared (they inform).
pub fn differences(plan: &Plan, fresh: &Plan) -> Differences {
    let mut out: Differences = Vec::new();
    let summary = |why: String| ("summary".to_string(), why);
    if plan.revert_of != fresh.revert_of {
        out.push(summary("the plan reverts another apply".into()));
    }
    let mut recounted = plan.clone();
    recounted.recount();
    if recounted.summary != plan.summary {
        out.push(summary(
            "the summary does not count the plan's changes".into(),
        ));
    }
    if plan.summary.users_in_scope != fresh.summary.users_in_scope {
        out.push(summary(format!(
            "{} users in scope in the plan, {} for roster",
            plan.summary.users_in_scope, fresh.summary.users_in_scope
        )));
    }
    if !plan.errors.is_empty() || !plan.unmatched.is_empty() {
        out.push(summary(
            "a revert plan has no errors and no unmatched users".into(),
        ));
    }
    let fresh_by_id: HashMap<&str, &Change> = fresh
        .changes
        .iter()
        .map(|c| (c.user.id.as_str(), c))
        .collect();
    let mut seen = HashSet::new();
    for c in &plan.changes {
        let who = c.user.upn.clone();
        if !seen.insert(c.user.id.as_str()) {
            out.push((who, "the user has two changes".into()));
            continue;
        }
        match fresh_by_id.get(c.user.id.as_str()) {
            None => out.push((who, "roster would not revert this user now".into())),
            Some(f) if f.user.upn != c.user.upn => out.push((
                who,
                format!(
                    "the plan names the user `{}`, the tenant `{}`",
                    c.user.upn, f.user.upn
                ),
            )),
            Some(f) if f.persona != c.persona || f.reason != c.reason => {
                out.push((who, "the persona or reason is not a revert's".into()))
            }
            Some(f) if f.actions != c.actions => out.push((
                who,
                "the actions are not those that restore the state before the apply".into(),
            )),
            Some(_) => {}
        }
    }
    out
}

#[cfg(test)]
#[path = "revert_tests.rs"]
mod tests;
