//! Desired versus live: the actions that turn one into the other. Pure.

use std::collections::BTreeSet;

use super::fingerprint::fingerprint;
use super::*;
use crate::desired::{self, DesiredState};
use crate::live::LiveState;

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
    let held = live.numbers_by_holder();
    let limit: BTreeSet<String> = meta.limit.iter().map(|u| u.trim().to_lowercase()).collect();
    let in_limit = |upn: &str, id: &str| {
        limit.is_empty()
            || limit.contains(&upn.to_lowercase())
            || limit.contains(&id.to_lowercase())
    };
    let mut changes = Vec::new();
    for d in &desired.users {
        let user = &live.users[d.user];
        if !in_limit(&user.upn, &user.id) {
            continue;
        }
        let numbers = held.get(user.id.as_str()).map_or(&[][..], |v| v.as_slice());
        let actions = actions(d, user);
        if actions.is_empty() {
            continue;
        }
        changes.push(Change {
            user: user_ref(live, d.user),
            persona: d.persona.clone(),
            reason: d.reason.clone(),
            cause: None,
            live_fingerprint: fingerprint(user, numbers),
            actions,
        });
    }
    // Users are already in lower-cased UPN order; keep it explicit.
    changes.sort_by_cached_key(|c| (c.user.upn.to_lowercase(), c.user.id.clone()));
    let mut unmatched: Vec<UserRef> = desired
        .unmatched
        .iter()
        .filter(|&&i| in_limit(&live.users[i].upn, &live.users[i].id))
        .map(|&i| user_ref(live, i))
        .collect();
    unmatched.sort_by_cached_key(|u| (u.upn.to_lowercase(), u.id.clone()));
    // Issues name users by UPN; a limit may name them by object id, so
    // resolve the limit to the UPNs it covers.
    let limit_upns: BTreeSet<String> = live
        .users
        .iter()
        .filter(|u| in_limit(&u.upn, &u.id))
        .map(|u| u.upn.trim().to_lowercase())
        .collect();
    let keep = |i: &&Issue| match &i.user {
        Some(u) if !limit.is_empty() => limit_upns.contains(&u.trim().to_lowercase()),
        _ => true,
    };
    let mut warnings: Vec<Issue> = desired.warnings.iter().filter(keep).cloned().collect();
    for l in &limit {
        if !live
            .users
            .iter()
            .any(|u| u.upn.trim().eq_ignore_ascii_case(l) || u.id.eq_ignore_ascii_case(l))
        {
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
        format_version: FORMAT_VERSION,
        roster_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: meta.created_at,
        config: ConfigInfo {
            digest: meta.digest,
            git: meta.git,
        },
        tenant: meta.tenant,
        limit: Limit {
            users: limit.iter().cloned().collect(),
        },
        summary: Summary {
            users_in_scope: desired.in_scope,
            ..Summary::default()
        },
        changes,
        unmatched,
        warnings,
        errors: desired.errors.iter().filter(keep).cloned().collect(),
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
    for (ty, want) in d.policies.iter() {
        let have = user.policies.get(ty);
        match (have, want) {
            (Some(h), Some(w)) if h.eq_ignore_ascii_case(w) => {}
            (h, Some(w)) => out.push(Action::AssignPolicy {
                policy_type: ty.clone(),
                from: h.cloned(),
                to: w.clone(),
            }),
            (Some(h), None) => out.push(Action::RemovePolicy {
                policy_type: ty.clone(),
                from: h.clone(),
            }),
            (None, None) => {}
        }
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
