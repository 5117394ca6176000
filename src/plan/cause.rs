//! Splitting a plan into what a revision range causes and what was already
//! pending (drift). Pure.

use std::collections::HashMap;

use super::{Cause, Plan};

/// Mark each change of `head` (the plan of the current manifests) as
/// `change` or `drift` by comparing it with `base` (the plan of the base
/// revision's manifests against the same live state): a user whose actions
/// are exactly those the base already wanted is drift; any other is a
/// change this revision range causes.
pub fn mark_causes(head: &mut Plan, base: &Plan) {
    let before: HashMap<&str, &super::Change> = base
        .changes
        .iter()
        .map(|c| (c.user.id.as_str(), c))
        .collect();
    for c in &mut head.changes {
        let drift = before
            .get(c.user.id.as_str())
            .is_some_and(|b| b.actions == c.actions && b.persona == c.persona);
        c.cause = Some(if drift { Cause::Drift } else { Cause::Change });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::*;

    fn change(id: &str, to: &str) -> Change {
        Change {
            user: UserRef {
                id: id.into(),
                upn: format!("{id}@x"),
                display_name: None,
            },
            persona: Some("p".into()),
            reason: Reason::Override,
            cause: None,
            live_fingerprint: String::new(),
            actions: vec![Action::AssignPolicy {
                policy_type: "TenantDialPlan".into(),
                from: None,
                to: to.into(),
            }],
        }
    }

    fn plan(changes: Vec<Change>) -> Plan {
        test_plan(changes)
    }

    #[test]
    fn same_actions_at_base_are_drift() {
        let base = plan(vec![change("a", "London"), change("b", "London")]);
        let mut head = plan(vec![
            change("a", "London"),
            change("b", "Dublin"),
            change("c", "London"),
        ]);
        mark_causes(&mut head, &base);
        let causes: Vec<_> = head.changes.iter().map(|c| c.cause).collect();
        assert_eq!(
            causes,
            vec![Some(Cause::Drift), Some(Cause::Change), Some(Cause::Change)]
        );
    }

    #[test]
    fn another_persona_with_the_same_actions_is_a_change() {
        let base = plan(vec![change("a", "London")]);
        let mut head = plan(vec![change("a", "London")]);
        head.changes[0].persona = Some("q".into());
        mark_causes(&mut head, &base);
        assert_eq!(head.changes[0].cause, Some(Cause::Change));
    }

    #[test]
    fn an_empty_base_makes_every_change_caused() {
        let mut head = plan(vec![change("a", "London"), change("b", "Dublin")]);
        head.changes[0].cause = Some(Cause::Drift);
        mark_causes(&mut head, &plan(Vec::new()));
        assert!(head.changes.iter().all(|c| c.cause == Some(Cause::Change)));
    }
}
