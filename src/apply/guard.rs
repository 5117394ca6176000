//! The directory sanity guard: a broken HR feed can blank `department` for
//! half the company overnight, and the rules then move thousands of people
//! at once. Besides the change-count limits, an apply compares the
//! directory with what it was at the last apply (a [`Census`]: how many
//! users have each attribute the rules use, how many are in scope) and is
//! refused, unless forced, when an attribute emptied or the scope shrank by
//! more than the tenant's `safety` allows. Pure: the census is read and
//! written by the state directory.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::gate::Refusal;
use crate::catalog::MEMBER_OF;
use crate::desired::Engine;
use crate::live::{LiveState, User};
use crate::manifest::{Manifest, Safety};

/// The census file's format.
pub const CENSUS_FORMAT_VERSION: u32 = 1;

/// The directory as the rules see it, at one apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Census {
    pub format_version: u32,
    /// When it was taken (RFC 3339, UTC).
    pub taken_at: String,
    pub users: usize,
    pub in_scope: usize,
    /// For each attribute the scope and rules use: how many users have a
    /// value (for `memberOf`: at least one group).
    pub filled: BTreeMap<String, usize>,
}

/// Count the directory: `in_scope` is the plan's count.
pub fn census(manifest: &Manifest, live: &LiveState, in_scope: usize, now: &str) -> Census {
    let engine = Engine::new(manifest, live);
    let has = |u: &User, a: usize| {
        if a == MEMBER_OF {
            !u.groups.is_empty()
        } else {
            u.attr(a).is_some_and(|v| !v.trim().is_empty())
        }
    };
    let filled = engine
        .used
        .iter()
        .map(|&a| {
            let name = if a == MEMBER_OF {
                "memberOf".to_string()
            } else {
                User::attr_name(a).to_string()
            };
            (name, live.users.iter().filter(|u| has(u, a)).count())
        })
        .collect();
    Census {
        format_version: CENSUS_FORMAT_VERSION,
        taken_at: now.to_string(),
        users: live.users.len(),
        in_scope,
        filled,
    }
}

/// Below this many users at the last apply the guard does not judge.
pub const MIN_USERS: usize = 10;

/// Refuse when, since `before`, an attribute emptied for more than
/// `max-emptied-percent` of the users, or the users in scope dropped by
/// more than `max-scope-drop-percent`.
pub fn check(before: &Census, now: &Census, safety: &Safety) -> Result<(), Refusal> {
    let mut findings = Vec::new();
    if before.users >= MIN_USERS {
        for (attr, &was) in &before.filled {
            let is = now.filled.get(attr).copied().unwrap_or(was);
            if is >= was {
                continue;
            }
            let emptied = (was - is) * 100 / before.users.max(1);
            if emptied > safety.max_emptied_percent as usize {
                findings.push(format!(
                    "`{attr}` is set for {is} of {} users, {was} of {} at the last apply ({}): it emptied for {emptied}% of users, over the limit of {}% (`max-emptied-percent`)",
                    now.users, before.users, before.taken_at, safety.max_emptied_percent
                ));
            }
        }
    }
    if before.in_scope >= MIN_USERS && now.in_scope < before.in_scope {
        let drop = (before.in_scope - now.in_scope) * 100 / before.in_scope;
        if drop > safety.max_scope_drop_percent as usize {
            findings.push(format!(
                "{} users are in scope, {} at the last apply ({}): {drop}% fewer, over the limit of {}% (`max-scope-drop-percent`)",
                now.in_scope, before.in_scope, before.taken_at, safety.max_scope_drop_percent
            ));
        }
    }
    if findings.is_empty() {
        Ok(())
    } else {
        Err(Refusal::DirectoryLooksBroken { findings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(users: usize, in_scope: usize, dept: usize) -> Census {
        Census {
            format_version: 1,
            taken_at: "t".into(),
            users,
            in_scope,
            filled: [("department".to_string(), dept)].into(),
        }
    }

    #[test]
    fn an_emptied_attribute_or_a_shrunk_scope_is_refused_with_the_counts() {
        let safety = Safety::default();
        assert!(check(&c(1000, 900, 800), &c(1000, 900, 750), &safety).is_ok());
        let err = check(&c(1000, 900, 800), &c(1000, 900, 300), &safety)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`department` is set for 300 of 1000 users, 800 of 1000"),
            "{err}"
        );
        assert!(err.contains("50%"), "{err}");
        let err = check(&c(1000, 900, 800), &c(1000, 700, 800), &safety)
            .unwrap_err()
            .to_string();
        assert!(err.contains("700 users are in scope, 900"), "{err}");
        // Limits come from the settings; tiny tenants are not judged.
        let lax = Safety {
            max_emptied_percent: 60,
            ..Safety::default()
        };
        assert!(check(&c(1000, 900, 800), &c(1000, 900, 300), &lax).is_ok());
        assert!(check(&c(5, 5, 5), &c(5, 1, 0), &safety).is_ok());
        // More values than before is never a problem.
        assert!(check(&c(1000, 900, 100), &c(1000, 950, 900), &safety).is_ok());
    }
}
