//! Turn a plan into ordered, batched writes. Pure.
//!
//! Order: number releases first (so a number moving between users is free
//! before it is given), then policy writes grouped by (type, policy) so one
//! call carries many users, then number assignments.

use std::collections::BTreeMap;

use crate::numbers::NumberType;
use crate::plan::{Action, Plan};

/// One write a provider performs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    ReleaseNumber {
        user_id: String,
        number: String,
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
        number: String,
        number_type: NumberType,
        location_id: Option<String>,
    },
}

impl Write {
    /// The users a write is about.
    pub fn user_ids(&self) -> Vec<String> {
        match self {
            Write::ReleaseNumber { user_id, .. } | Write::AssignNumber { user_id, .. } => {
                vec![user_id.clone()]
            }
            Write::AssignPolicy { user_ids, .. } | Write::RemovePolicy { user_ids, .. } => {
                user_ids.clone()
            }
        }
    }
}

/// Writes in stages; the writes of one stage are independent of each other.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    pub releases: Vec<Write>,
    pub policies: Vec<Write>,
    pub assignments: Vec<Write>,
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
                Action::ReleaseNumber { number } => s.releases.push(Write::ReleaseNumber {
                    user_id: id.clone(),
                    number: number.clone(),
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
                } => s.assignments.push(Write::AssignNumber {
                    user_id: id.clone(),
                    number: number.clone(),
                    number_type: *number_type,
                    location_id: location_id.clone(),
                }),
            }
        }
    }
    for (policy_type, users) in remove {
        for chunk in users.chunks(batch) {
            s.policies.push(Write::RemovePolicy {
                policy_type: policy_type.clone(),
                user_ids: chunk.to_vec(),
            });
        }
    }
    for ((policy_type, policy), users) in assign {
        for chunk in users.chunks(batch) {
            s.policies.push(Write::AssignPolicy {
                policy_type: policy_type.clone(),
                policy: policy.clone(),
                user_ids: chunk.to_vec(),
            });
        }
    }
    s
}
