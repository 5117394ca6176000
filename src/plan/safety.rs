//! Safety limits: an apply that would change more users than the tenant
//! settings allow is refused unless forced. Pure.

use super::Plan;
use crate::manifest::Safety;

/// Which limit a plan is over, and by how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub fn check(plan: &Plan, safety: &Safety) -> Result<(), Violation> {
    let changed = plan.summary.users_changed;
    let in_scope = plan.summary.users_in_scope;
    let mut over = Vec::new();
    if let Some(max) = safety.max_changed_users
        && changed as u64 > max
    {
        let by = changed as u64 - max;
        over.push(format!(
            "{changed} {} would change, over the limit of {max} (`max-changed-users`) by {by} {}",
            users(changed as u64),
            users(by)
        ));
    }
    if let Some(pct) = safety.max_changed_percent
        && in_scope >= Safety::PERCENT_MIN_USERS
    {
        let limit = (in_scope as u64 * pct as u64) / 100;
        if changed as u64 > limit {
            let actual = changed as f64 * 100.0 / in_scope as f64;
            let by = changed as u64 - limit;
            over.push(format!(
                "{changed} of {in_scope} users in scope would change ({actual:.1}%), over the limit of {pct}% (`max-changed-percent`: {limit} {}) by {by} {}",
                users(limit),
                users(by)
            ));
        }
    }
    if over.is_empty() {
        Ok(())
    } else {
        Err(Violation {
            message: over.join("; "),
        })
    }
}

fn users(n: u64) -> &'static str {
    if n == 1 { "user" } else { "users" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::*;

    fn plan(in_scope: usize, changed: usize) -> Plan {
        let mut p = test_plan(Vec::new());
        p.summary.users_in_scope = in_scope;
        p.summary.users_changed = changed;
        p
    }

    #[test]
    fn percent_limit_applies_from_ten_users() {
        let s = Safety::default();
        assert!(check(&plan(9, 9), &s).is_ok());
        assert!(check(&plan(10, 3), &s).is_ok());
        let v = check(&plan(10, 4), &s).unwrap_err();
        assert!(v.message.contains("4 of 10 users"), "{v}");
        assert!(v.message.contains("30%"), "{v}");
    }

    #[test]
    fn absolute_limit() {
        let s = Safety {
            max_changed_users: Some(5),
            max_changed_percent: None,
            ..Safety::default()
        };
        assert!(check(&plan(1000, 5), &s).is_ok());
        let v = check(&plan(1000, 7), &s).unwrap_err();
        assert!(v.message.contains("over the limit of 5"), "{v}");
        assert!(v.message.contains("by 2"), "{v}");
    }
}
