//! The apply journal: one entry per apply, appended to `journal.jsonl` in
//! the state directory, so what roster changed is on record (Teams keeps no
//! history of who changed a user's policies or number). An entry holds who
//! ran the apply, from which commit and plan, and per user the state before,
//! the actions, the outcome and the state after. Pure data and its
//! building; appending is [`super::StateDir::append_journal`].
//!
//! An apply writes its entry twice: before its first change, an
//! [`Entry::unfinished`] one (per user the state before and the actions it
//! is about to make), and when it ends, the finished one with the same id,
//! which replaces it when the journal is read ([`merge`]). An unfinished
//! entry that nothing replaced is an apply that died mid-way (killed, a
//! crash): what it changed is still on record, as actions that may be
//! partly done. The next apply, holding the lock, settles it
//! ([`settle`]): each user's outcome and state after as that apply finds
//! the tenant, marked `interrupted`.

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
    /// Written before the apply's first change; replaced by the finished
    /// entry of the same id. Left alone: the apply never finished, and its
    /// users' actions may be partly done.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unfinished: bool,
    /// An unfinished entry settled by a later apply: the outcome and the
    /// state after are as that apply found the tenant.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
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

/// The tenant indexed by user: each user's policies and held numbers
/// found in O(1), so an entry of many users costs the tenant once, not once
/// per user.
pub struct States<'a> {
    users: std::collections::HashMap<&'a str, &'a crate::live::User>,
    numbers: std::collections::HashMap<&'a str, Vec<String>>,
}

impl<'a> States<'a> {
    pub fn new(live: &'a LiveState) -> Self {
        let users = live.users.iter().map(|u| (u.id.as_str(), u)).collect();
        let mut numbers: std::collections::HashMap<&str, Vec<String>> =
            std::collections::HashMap::new();
        for n in live.numbers.values().filter(|n| n.is_held()) {
            if let Some(t) = n.target.as_deref() {
                numbers.entry(t).or_default().push(n.number.to_string());
            }
        }
        States { users, numbers }
    }

    /// The state of the user with object id `id`.
    pub fn of(&self, id: &str) -> UserState {
        let policies = self
            .users
            .get(id)
            .map(|u| {
                u.policies
                    .iter()
                    .map(|(t, n)| (t.to_string(), n.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let mut numbers = self.numbers.get(id).cloned().unwrap_or_default();
        numbers.sort();
        UserState { policies, numbers }
    }
}

impl UserState {
    /// The state of the user with object id `id` in `live` (for one user;
    /// for many, index the tenant once with [`States`]).
    pub fn of(live: &LiveState, id: &str) -> UserState {
        States::new(live).of(id)
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
    let states = States::new(before);
    let users = plan
        .changes
        .iter()
        .map(|c| {
            let was = states.of(&c.user.id);
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
        unfinished: false,
        interrupted: false,
    }
}

/// An unfinished entry (an apply that died) settled on `live`, the tenant
/// as the next apply found it: a user whose state is what the actions
/// lead to is `applied`, one still as before is `skipped`, any other
/// `failed` (partly done); `after` is the state found.
pub fn settle(e: &Entry, live: &LiveState) -> Entry {
    let states = States::new(live);
    let users = e
        .users
        .iter()
        .map(|u| {
            let found = states.of(&u.id);
            let (status, error) = if found == u.before.after(&u.actions) {
                (Status::Applied, None)
            } else if found == u.before {
                (Status::Skipped, Some("not done: the apply was interrupted"))
            } else {
                (
                    Status::Failed,
                    Some("partly done, or changed since: the apply was interrupted"),
                )
            };
            UserEntry {
                status,
                errors: error.map(|m| vec![m.to_string()]).unwrap_or_default(),
                after: Some(found),
                ..u.clone()
            }
        })
        .collect();
    Entry {
        users,
        unfinished: false,
        interrupted: true,
        ..e.clone()
    }
}

/// The entry written before `plan` is applied: every user's state before
/// and the actions about to be made, none done yet.
pub fn unfinished(
    plan: &Plan,
    before: &LiveState,
    last: &BTreeMap<String, UserState>,
    id: &str,
    time: &str,
    who: &str,
) -> Entry {
    let none = Report {
        applied: 0,
        failed: 0,
        skipped: 0,
        users: Vec::new(),
    };
    Entry {
        unfinished: true,
        ..entry(plan, before, &none, last, id, time, who)
    }
}

/// The journal as read: a finished entry replaces the unfinished one of
/// the same id (in the unfinished one's place, which is when the apply
/// started).
pub fn merge(entries: Vec<Entry>) -> Vec<Entry> {
    let mut finished: BTreeMap<String, Entry> = BTreeMap::new();
    for e in &entries {
        if !e.unfinished {
            finished.insert(e.id.clone(), e.clone());
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for e in entries {
        if !seen.insert(e.id.clone()) {
            continue;
        }
        out.push(finished.remove(&e.id).unwrap_or(e));
    }
    out
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
