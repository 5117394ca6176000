//! Turn a plan into ordered, batched steps. Pure plan data: it owns the
//! order of writes and their batching, and must not perform them (that is
//! `apply` and the providers, which read [`Step`]s but are never read here).
//!
//! Order: number releases first (so a number moving between users is free
//! before it is given), then policy writes grouped by (type, policy) so one
//! call carries many users, then number assignments.

use std::collections::BTreeMap;

use crate::numbers::{E164, NumberType};
use crate::plan::{Action, Plan};

/// One write a provider performs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    ReleaseNumber {
        user_id: String,
        number: E164,
    },
    /// Give `policy` of `policy_type` to every user in `user_ids`.
    AssignPolicy {
        policy_type: String,
        policy: String,
        user_ids: Vec<String>,
    },
    /// Drop the direct assignment of `policy_type` from every user.
    RemovePolicy {
        policy_type: String,
        user_ids: Vec<String>,
    },
    AssignNumber {
        user_id: String,
        number: E164,
        number_type: NumberType,
        location_id: Option<String>,
    },
}

impl Step {
    /// The users a step is about.
    pub fn user_ids(&self) -> Vec<String> {
        match self {
            Step::ReleaseNumber { user_id, .. } | Step::AssignNumber { user_id, .. } => {
                vec![user_id.clone()]
            }
            Step::AssignPolicy { user_ids, .. } | Step::RemovePolicy { user_ids, .. } => {
                user_ids.clone()
            }
        }
    }
}

/// Steps in stages; the steps of one stage are independent of each other.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    pub releases: Vec<Step>,
    pub policies: Vec<Step>,
    pub assignments: Vec<Step>,
}

impl Schedule {
    pub fn len(&self) -> usize {
        self.releases.len() + self.policies.len() + self.assignments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Batch policy writes at most `batch` users per call.
pub fn schedule(plan: &Plan, batch: usize) -> Schedule {
    let batch = batch.max(1);
    let mut s = Schedule::default();
    let mut assign: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut remove: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in &plan.changes {
        let id = &c.user.id;
        for a in &c.actions {
            match a {
                Action::ReleaseNumber { number } => s.releases.push(Step::ReleaseNumber {
                    user_id: id.clone(),
                    number: *number,
                }),
                Action::AssignPolicy {
                    policy_type, to, ..
                } => assign
                    .entry((policy_type.clone(), to.clone()))
                    .or_default()
                    .push(id.clone()),
                Action::RemovePolicy { policy_type, .. } => remove
                    .entry(policy_type.clone())
                    .or_default()
                    .push(id.clone()),
                Action::AssignNumber {
                    number,
                    number_type,
                    location_id,
                    ..
                } => s.assignments.push(Step::AssignNumber {
                    user_id: id.clone(),
                    number: *number,
                    number_type: *number_type,
                    location_id: location_id.clone(),
                }),
            }
        }
    }
    for (policy_type, users) in remove {
        for chunk in users.chunks(batch) {
            s.policies.push(Step::RemovePolicy {
                policy_type: policy_type.clone(),
                user_ids: chunk.to_vec(),
            });
        }
    }
    for ((policy_type, policy), users) in assign {
        for chunk in users.chunks(batch) {
            s.policies.push(Step::AssignPolicy {
                policy_type: policy_type.clone(),
                policy: policy.clone(),
                user_ids: chunk.to_vec(),
            });
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Change, Reason, UserRef, test_plan};

    fn n(s: &str) -> E164 {
        E164::parse(s).unwrap()
    }

    fn change(id: &str, actions: Vec<Action>) -> Change {
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
            actions,
        }
    }

    fn assign(ty: &str, to: &str) -> Action {
        Action::AssignPolicy {
            policy_type: ty.into(),
            from: None,
            to: to.into(),
        }
    }

    fn remove(ty: &str) -> Action {
        Action::RemovePolicy {
            policy_type: ty.into(),
            from: "Old".into(),
        }
    }

    fn give(number: &str) -> Action {
        Action::AssignNumber {
            number: n(number),
            number_type: NumberType::DirectRouting,
            range: None,
            location_id: Some("loc".into()),
        }
    }

    fn release(number: &str) -> Action {
        Action::ReleaseNumber { number: n(number) }
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn releases_then_policies_then_assignments() {
        let plan = test_plan(vec![
            change(
                "a",
                vec![
                    assign("TeamsCallingPolicy", "Sales"),
                    release("+4420000001"),
                    give("+4420000002"),
                ],
            ),
            change("b", vec![give("+4420000001"), remove("TeamsMeetingPolicy")]),
        ]);
        let s = schedule(&plan, 10);
        assert_eq!(
            s.releases,
            vec![Step::ReleaseNumber {
                user_id: "a".into(),
                number: n("+4420000001"),
            }]
        );
        assert_eq!(
            s.policies,
            vec![
                Step::RemovePolicy {
                    policy_type: "TeamsMeetingPolicy".into(),
                    user_ids: ids(&["b"]),
                },
                Step::AssignPolicy {
                    policy_type: "TeamsCallingPolicy".into(),
                    policy: "Sales".into(),
                    user_ids: ids(&["a"]),
                },
            ]
        );
        // Assignments keep the plan's order of users.
        let given: Vec<(String, E164)> = s
            .assignments
            .iter()
            .map(|w| match w {
                Step::AssignNumber {
                    user_id, number, ..
                } => (user_id.clone(), *number),
                other => panic!("not an assignment: {other:?}"),
            })
            .collect();
        assert_eq!(
            given,
            vec![
                ("a".into(), n("+4420000002")),
                ("b".into(), n("+4420000001"))
            ]
        );
        assert_eq!(s.len(), 5);
        assert!(!s.is_empty());
    }

    #[test]
    fn policy_writes_group_by_type_and_policy_and_chunk_by_batch() {
        let plan = test_plan(vec![
            change("u1", vec![assign("TeamsCallingPolicy", "Sales")]),
            change("u2", vec![assign("TeamsCallingPolicy", "Support")]),
            change("u3", vec![assign("TeamsCallingPolicy", "Sales")]),
            change("u4", vec![assign("TenantDialPlan", "London")]),
            change("u5", vec![assign("TeamsCallingPolicy", "Sales")]),
        ]);
        let s = schedule(&plan, 2);
        let got: Vec<(String, String, Vec<String>)> = s
            .policies
            .iter()
            .map(|w| match w {
                Step::AssignPolicy {
                    policy_type,
                    policy,
                    user_ids,
                } => (policy_type.clone(), policy.clone(), user_ids.clone()),
                other => panic!("not a policy assignment: {other:?}"),
            })
            .collect();
        let row = |t: &str, p: &str, u: &[&str]| (t.to_string(), p.to_string(), ids(u));
        assert_eq!(
            got,
            vec![
                row("TeamsCallingPolicy", "Sales", &["u1", "u3"]),
                row("TeamsCallingPolicy", "Sales", &["u5"]),
                row("TeamsCallingPolicy", "Support", &["u2"]),
                row("TenantDialPlan", "London", &["u4"]),
            ]
        );
        assert!(s.releases.is_empty() && s.assignments.is_empty());
    }

    #[test]
    fn removals_chunk_and_a_zero_batch_means_one() {
        let plan = test_plan(vec![
            change("a", vec![remove("TeamsMeetingPolicy")]),
            change("b", vec![remove("TeamsMeetingPolicy")]),
        ]);
        let s = schedule(&plan, 0);
        assert_eq!(
            s.policies,
            vec![
                Step::RemovePolicy {
                    policy_type: "TeamsMeetingPolicy".into(),
                    user_ids: ids(&["a"]),
                },
                Step::RemovePolicy {
                    policy_type: "TeamsMeetingPolicy".into(),
                    user_ids: ids(&["b"]),
                },
            ]
        );
    }

    #[test]
    fn an_empty_plan_schedules_nothing() {
        let s = schedule(&test_plan(Vec::new()), 20);
        assert!(s.is_empty());
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn user_ids_of_each_step() {
        let one = Step::ReleaseNumber {
            user_id: "a".into(),
            number: n("+4420000001"),
        };
        assert_eq!(one.user_ids(), ids(&["a"]));
        let many = Step::AssignPolicy {
            policy_type: "T".into(),
            policy: "P".into(),
            user_ids: ids(&["a", "b"]),
        };
        assert_eq!(many.user_ids(), ids(&["a", "b"]));
        let removal = Step::RemovePolicy {
            policy_type: "T".into(),
            user_ids: ids(&["c"]),
        };
        assert_eq!(removal.user_ids(), ids(&["c"]));
    }
}
