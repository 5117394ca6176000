//! Desired versus live: the actions that turn one into the other, each
//! user's worked out on its own (split over the cores, joined in the
//! users' order). Pure.

use std::collections::{BTreeSet, HashMap};

use super::fingerprint::fingerprint;
use super::*;
use crate::desired::{self, DesiredState, split};
use crate::live::{LiveState, NumberAssignment};
use crate::rules::lowercase;

/// What a plan records besides the changes (no clock inside the core: the
/// caller passes the time).
#[derive(Debug, Clone)]
pub struct Meta {
    pub created_at: String,
    pub digest: String,
    pub git: Option<GitInfo>,
    pub tenant: TenantInfo,
    /// Lower-cased UPNs (or ids) of `--user`; empty for every user.
    pub limit: Vec<String>,
}

pub fn diff(desired: &DesiredState, live: &LiveState, meta: Meta) -> Plan {
    diff_split(desired, live, meta, split::threads_for(desired.users.len()))
}

/// [`diff`] with the users split over `threads` threads (the plan is the
/// same for any number).
fn diff_split(desired: &DesiredState, live: &LiveState, meta: Meta, threads: usize) -> Plan {
    let limit: BTreeSet<String> = meta.limit.iter().map(|u| u.trim().to_lowercase()).collect();
    // As `LiveState::find_user` matches: UPNs trimmed, Unicode-aware case.
    let in_limit = |upn: &str, id: &str| {
        limit.is_empty()
            || limit.contains(&upn.trim().to_lowercase())
            || limit.contains(&id.to_lowercase())
    };
    // Each user's actions, split over the cores (in the users' order).
    let acting: Vec<(&desired::DesiredUser, Vec<Action>)> =
        split::map_chunks_with(desired.users.len(), threads, |range| {
            desired.users[range]
                .iter()
                .filter(|d| {
                    let user = &live.users[d.user];
                    in_limit(&user.upn, &user.id)
                })
                .map(|d| (d, actions(d, &live.users[d.user])))
                .filter(|(_, actions)| !actions.is_empty())
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect();
    // The numbers held by the users that change (as `numbers_by_holder`
    // gives them): found by the desired state already, or else looked for
    // here (without indexing everyone else's).
    let found = desired.held.covers(live.users.len());
    let mut held: HashMap<&str, Vec<&NumberAssignment>, foldhash::fast::FixedState> =
        HashMap::default();
    if !found {
        held = acting
            .iter()
            .map(|(d, _)| (live.users[d.user].id.as_str(), Vec::new()))
            .collect();
        for n in live.numbers.values().filter(|n| n.is_held()) {
            if let Some(v) = n.target.as_deref().and_then(|t| held.get_mut(t)) {
                v.push(n);
            }
        }
    }
    let prints: Vec<String> = split::map_chunks_with(acting.len(), threads, |range| {
        acting[range]
            .iter()
            .map(|(d, _)| {
                let user = &live.users[d.user];
                match desired.held.of_user(d.user).filter(|_| found) {
                    Some(numbers) => {
                        let numbers: Vec<&NumberAssignment> =
                            numbers.iter().filter_map(|n| live.numbers.get(n)).collect();
                        fingerprint(user, &numbers)
                    }
                    None => fingerprint(user, &held[user.id.as_str()]),
                }
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    let mut changes: Vec<Change> = acting
        .into_iter()
        .zip(prints)
        .map(|((d, actions), live_fingerprint)| Change {
            user: user_ref(live, d.user),
            persona: d.persona.clone(),
            reason: d.reason.clone(),
            cause: None,
            live_fingerprint,
            actions,
        })
        .collect();
    // Users are already in lower-cased UPN order; keep it explicit.
    changes.sort_by_cached_key(|c| (lowercase(&c.user.upn).into_owned(), c.user.id.clone()));
    let mut unmatched: Vec<UserRef> = desired
        .unmatched
        .iter()
        .filter(|&&i| in_limit(&live.users[i].upn, &live.users[i].id))
        .map(|&i| user_ref(live, i))
        .collect();
    unmatched.sort_by_cached_key(|u| (lowercase(&u.upn).into_owned(), u.id.clone()));
    // Issues name users by UPN; a limit may name them by object id, so
    // resolve the limit to the UPNs it covers.
    // (Without a limit every issue is kept: nothing to resolve.)
    let limit_upns: BTreeSet<String> = if limit.is_empty() {
        BTreeSet::new()
    } else {
        live.users
            .iter()
            .filter(|u| in_limit(&u.upn, &u.id))
            .map(|u| u.upn.trim().to_lowercase())
            .collect()
    };
    let keep = |i: &&Issue| match &i.user {
        Some(u) if !limit.is_empty() => limit_upns.contains(&u.trim().to_lowercase()),
        _ => true,
    };
    let mut warnings: Vec<Issue> = desired.warnings.iter().filter(keep).cloned().collect();
    for l in &limit {
        if live.find_user_index(l).is_none() {
            warnings.push(Issue::user(
                IssueCode::UnknownLimitUser,
                l.clone(),
                format!(
                    "`--user {l}` names no user in the tenant (give a user principal name or an object id)"
                ),
            ));
        }
    }
    warnings.sort();
    let mut plan = Plan {
        changes,
        unmatched,
        quarantine: desired.quarantined.clone(),
        warnings,
        errors: desired.errors.iter().filter(keep).cloned().collect(),
        ..Plan::headed(meta, &limit, desired.in_scope)
    };
    plan.recount();
    plan
}

fn user_ref(live: &LiveState, i: usize) -> UserRef {
    let u = &live.users[i];
    UserRef {
        id: u.id.clone(),
        upn: u.upn.clone(),
        display_name: u.display_name.clone(),
    }
}

fn actions(d: &desired::DesiredUser, user: &crate::live::User) -> Vec<Action> {
    let mut out = Vec::new();
    // Both lists are sorted by type: walked side by side.
    let mut have = user.policies.iter().peekable();
    for (ty, want) in d.policies.iter() {
        while have.next_if(|(t, _)| *t < ty).is_some() {}
        let h = have.next_if(|(t, _)| *t == ty).map(|(_, name)| name);
        out.extend(policy_action(ty, h, want.as_ref()));
    }
    let mut release: Vec<_> = d.release.clone();
    release.sort();
    release.dedup();
    for n in release {
        out.push(Action::ReleaseNumber { number: n });
    }
    if let Some(a) = &d.assign {
        out.push(Action::AssignNumber {
            number: a.number,
            number_type: a.number_type,
            range: a.range.clone(),
            location_id: a.location_id.clone(),
        });
    }
    out.sort_by(Action::cmp_order);
    out
}

#[cfg(test)]
mod tests;
