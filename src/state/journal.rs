//! The apply journal: one entry per apply, appended to `journal.jsonl` in
//! the state directory, so what roster changed is on record (Teams keeps no
//! history of who changed a user's policies or number). An entry holds who
//! ran the apply, from which commit and plan, and per user the state before,
//! the actions, the outcome and the state after. Pure data and its
//! building; appending is [`super::StateDir::append_journal`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::apply::{Report, Status};
use crate::live::LiveState;
use crate::plan::{Action, GitInfo, Plan, TenantInfo};

/// The journal's format.
pub const JOURNAL_FORMAT_VERSION: u32 = 1;

/// One apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub format_version: u32,
    pub id: String,
    /// When the apply finished (RFC 3339, UTC).
    pub time: String,
    pub roster_version: String,
    pub tenant: TenantInfo,
    /// The manifests' digest and commit the plan was made from.
    pub config_digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitInfo>,
    /// `sha256:` over the applied plan's JSON.
    pub plan_digest: String,
    /// A CI run's URL, or `user@host`.
    pub who: String,
    /// The apply this one reverted (`roster revert`), if it was a revert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revert_of: Option<String>,
    pub users: Vec<UserEntry>,
}

/// One user of an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEntry {
    #[serde(rename = "userPrincipalName")]
    pub upn: String,
    pub id: String,
    pub before: UserState,
    pub actions: Vec<Action>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// The state after, when every action applied; `None` when something
    /// failed (the next plan shows where the user stands).
    pub after: Option<UserState>,
    /// Drift roster corrected: the state roster left the user in at its
    /// last apply, when the user was changed by hand since (so `history`
    /// answers who keeps changing this user, and when).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drifted_from: Option<UserState>,
}

/// What roster manages of one user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    /// Direct assignments: policy type to policy name.
    pub policies: BTreeMap<String, String>,
    /// Numbers held, in text order.
    pub numbers: Vec<String>,
}

impl UserState {
    /// The state of the user with object id `id` in `live`.
    pub fn of(live: &LiveState, id: &str) -> UserState {
        let policies = live
            .users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.policies.clone().into_iter().collect())
            .unwrap_or_default();
        let mut numbers: Vec<String> = live
            .numbers
            .values()
            .filter(|n| n.is_held() && n.target.as_deref() == Some(id))
            .map(|n| n.number.to_string())
            .collect();
        numbers.sort();
        UserState { policies, numbers }
    }

    /// This state with `actions` done.
    fn after(&self, actions: &[Action]) -> UserState {
        let mut s = self.clone();
        for a in actions {
            match a {
                Action::AssignPolicy {
                    policy_type, to, ..
                } => {
                    s.policies.insert(policy_type.clone(), to.clone());
                }
                Action::RemovePolicy { policy_type, .. } => {
                    s.policies.remove(policy_type);
                }
                Action::ReleaseNumber { number } => {
                    let n = number.to_string();
                    s.numbers.retain(|x| *x != n);
                }
                Action::AssignNumber { number, .. } => s.numbers.push(number.to_string()),
            }
        }
        s.numbers.sort();
        s
    }
}

/// The state each user was left in by the newest entry that applied to it.
pub fn last_after(entries: &[Entry]) -> BTreeMap<String, UserState> {
    let mut out = BTreeMap::new();
    for e in entries {
        for u in &e.users {
            if let Some(a) = &u.after {
                out.insert(u.id.clone(), a.clone());
            }
        }
    }
    out
}

/// The journal entry of `plan` applied to `before` with `report`'s outcome;
/// `last` (from [`last_after`]) marks the users changed by hand since
/// roster last left them.
pub fn entry(
    plan: &Plan,
    before: &LiveState,
    report: &Report,
    last: &BTreeMap<String, UserState>,
    id: &str,
    time: &str,
    who: &str,
) -> Entry {
    let outcome: BTreeMap<&str, (&Status, &Vec<String>)> = report
        .users
        .iter()
        .map(|u| (u.id.as_str(), (&u.status, &u.errors)))
        .collect();
    let users = plan
        .changes
        .iter()
        .map(|c| {
            let was = UserState::of(before, &c.user.id);
            let (status, errors) = outcome
                .get(c.user.id.as_str())
                .map(|(s, e)| (**s, (*e).clone()))
                .unwrap_or((Status::Skipped, Vec::new()));
            let drifted_from = last
                .get(c.user.id.as_str())
                .filter(|left| **left != was)
                .cloned();
            UserEntry {
                upn: c.user.upn.clone(),
                id: c.user.id.clone(),
                drifted_from,
                after: (status == Status::Applied).then(|| was.after(&c.actions)),
                before: was,
                actions: c.actions.clone(),
                status,
                errors,
            }
        })
        .collect();
    Entry {
        format_version: JOURNAL_FORMAT_VERSION,
        id: id.to_string(),
        time: time.to_string(),
        roster_version: env!("CARGO_PKG_VERSION").to_string(),
        tenant: plan.tenant.clone(),
        config_digest: plan.config.digest.clone(),
        git: plan.config.git.clone(),
        plan_digest: {
            use sha2::{Digest, Sha256};
            format!("sha256:{:x}", Sha256::digest(plan.to_json().as_bytes()))
        },
        who: who.to_string(),
        revert_of: plan.revert_of.clone(),
        users,
    }
}

/// The entries that name `user` (UPN or id, without regard to case) and
/// are from `since` on (RFC 3339 or a date; compared as text).
pub fn select<'a>(entries: &'a [Entry], user: Option<&str>, since: Option<&str>) -> Vec<&'a Entry> {
    entries
        .iter()
        .filter(|e| since.is_none_or(|s| e.time.as_str() >= s))
        .filter(|e| {
            user.is_none_or(|u| {
                e.users
                    .iter()
                    .any(|x| x.upn.eq_ignore_ascii_case(u) || x.id.eq_ignore_ascii_case(u))
            })
        })
        .collect()
}
