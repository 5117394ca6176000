//! What an incremental round stands on ([`Base`]): the last full round's
//! tenant without its users (policies, groups, group assignments, and the
//! number inventory), kept current with this process's own writes, so a
//! round of a few users allocates numbers from the same free-number view a
//! full round would. From it and the users the directory changed, [`Base::part`]
//! builds the live state of just those users. Pure: no I/O, no clock.

use std::collections::{HashMap, HashSet};

use crate::apply::{Report, Status};
use crate::live::LiveState;
use crate::plan::{Action, Plan};
use crate::provider::incremental::TeamsUser;
use crate::snapshot::{self, SnapGroup, SnapGroupAssignment, SnapPolicy, SnapUser, Snapshot};

#[derive(Debug, Clone)]
pub struct Base {
    /// The tenant of the last full round, no users, groups without members.
    pub live: LiveState,
    /// Users in scope at the last full round (the safety limits' base).
    pub in_scope: usize,
    /// The manifests' digest the last full round planned with.
    pub digest: String,
}

impl Base {
    pub fn new(live: &LiveState, in_scope: usize, digest: String) -> Base {
        let mut groups = live.groups.clone();
        for g in &mut groups {
            g.members = Vec::new();
        }
        Base {
            live: LiveState {
                tenant_id: live.tenant_id.clone(),
                users: Vec::new(),
                groups,
                policies: live.policies.clone(),
                numbers: live.numbers.clone(),
                group_policies: live.group_policies.clone(),
                licensing: live.licensing.clone(),
            },
            in_scope,
            digest,
        }
    }

    /// Users deleted from the directory: the numbers they held are free
    /// again (as the tenant frees them).
    pub fn forget(&mut self, removed: &[String]) {
        if removed.is_empty() {
            return;
        }
        let gone: HashSet<&str> = removed.iter().map(String::as_str).collect();
        let held: Vec<_> = self
            .live
            .numbers
            .values()
            .filter(|n| n.target.as_deref().is_some_and(|t| gone.contains(t)))
            .map(|n| n.number)
            .collect();
        for n in held {
            self.live.unassign_number(n);
        }
    }

    /// The live state of only `users` (as the directory now has them) with
    /// their Teams state `teams`, over the whole number inventory.
    pub fn part(
        &self,
        users: Vec<SnapUser>,
        teams: Vec<TeamsUser>,
    ) -> Result<LiveState, snapshot::SnapshotError> {
        let ids: HashSet<&str> = users.iter().map(|u| u.id.as_str()).collect();
        let mut members: HashMap<&str, Vec<String>> = HashMap::new();
        let mut policies: Vec<SnapPolicy> = self
            .live
            .policies
            .values()
            .flat_map(|by_name| by_name.values())
            .map(|p| SnapPolicy {
                policy_type: p.policy_type.clone(),
                name: p.name.clone(),
                policy_id: p.id.clone(),
            })
            .collect();
        let mut assignments = Vec::new();
        for t in &teams {
            if !ids.contains(t.id.as_str()) {
                continue;
            }
            for g in &t.groups {
                members.entry(g.as_str()).or_default().push(t.id.clone());
            }
            assignments.extend(t.assignments.iter().cloned());
            for p in &t.policies {
                if self.live.policy(&p.policy_type, &p.name).is_none() {
                    policies.push(p.clone());
                }
            }
        }
        let snap = Snapshot {
            format_version: snapshot::SNAPSHOT_FORMAT_VERSION,
            tenant_id: self.live.tenant_id.clone(),
            groups: self
                .live
                .groups
                .iter()
                .map(|g| SnapGroup {
                    id: g.id.clone(),
                    display_name: g.display_name.clone(),
                    members: members.remove(g.id.as_str()).unwrap_or_default(),
                })
                .collect(),
            policies,
            policy_assignments: assignments,
            group_policy_assignments: self
                .live
                .group_policies
                .iter()
                .map(SnapGroupAssignment::from)
                .collect(),
            users,
            number_assignments: Vec::new(),
            subscribed_skus: self
                .live
                .licensing
                .as_ref()
                .map(snapshot::licences::snap_skus),
        };
        let mut live = snapshot::into_live("the directory changes", snap)?;
        live.numbers = self.live.numbers.clone();
        Ok(live)
    }

    /// Take in the number writes of an applied plan. False when some user's
    /// writes failed or were skipped: what they hold is then not known,
    /// and only a full round knows the inventory again.
    pub fn track(&mut self, plan: &Plan, report: &Report) -> bool {
        let status: HashMap<&str, Status> = report
            .users
            .iter()
            .map(|u| (u.id.as_str(), u.status))
            .collect();
        let mut known = true;
        for c in &plan.changes {
            match status.get(c.user.id.as_str()) {
                Some(Status::Applied) => {}
                None if c.actions.is_empty() => continue,
                _ => {
                    known = false;
                    continue;
                }
            }
            for a in &c.actions {
                match a {
                    Action::ReleaseNumber { number } => {
                        self.live.unassign_number(*number);
                    }
                    Action::AssignNumber {
                        number,
                        number_type,
                        location_id,
                        ..
                    } => {
                        if self
                            .live
                            .assign_number(
                                *number,
                                &c.user.id,
                                *number_type,
                                "primary",
                                location_id.as_deref(),
                            )
                            .is_err()
                        {
                            known = false;
                        }
                    }
                    Action::AssignPolicy { .. } | Action::RemovePolicy { .. } => {}
                }
            }
        }
        known
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{Group, NumberAssignment, User};
    use crate::numbers::{E164, NumberType};

    fn e164(s: &str) -> E164 {
        s.parse().unwrap()
    }

    fn tenant() -> LiveState {
        let mut live = LiveState {
            tenant_id: "t".into(),
            ..LiveState::default()
        };
        live.users.push(User::new("u1", "amy@x.com"));
        live.groups.push(Group {
            id: "g1".into(),
            display_name: "Sales".into(),
            members: vec!["u1".into()],
        });
        live.add_policy("TeamsCallingPolicy", "AllOn", "p1");
        for (n, target) in [("+441000000001", Some("u1")), ("+441000000002", None)] {
            live.numbers.insert(
                e164(n),
                NumberAssignment::for_test(e164(n), NumberType::DirectRouting, target),
            );
        }
        live.finish();
        live
    }

    #[test]
    fn a_part_holds_the_changed_users_their_groups_and_the_whole_inventory() {
        let base = Base::new(&tenant(), 1, "d".into());
        assert!(base.live.users.is_empty());
        assert!(base.live.groups[0].members.is_empty());
        let joiner = SnapUser {
            id: "u2".into(),
            user_principal_name: "bob@x.com".into(),
            ..SnapUser::default()
        };
        let teams = vec![TeamsUser {
            id: "u2".into(),
            groups: vec!["g1".into(), "unknown".into()],
            ..TeamsUser::default()
        }];
        let part = base.part(vec![joiner], teams).unwrap();
        assert_eq!(part.users.len(), 1);
        assert_eq!(part.users[0].groups, vec![0]);
        assert_eq!(part.numbers.len(), 2);
        assert!(part.policy("TeamsCallingPolicy", "allon").is_some());
    }

    #[test]
    fn deleted_users_free_their_numbers() {
        let mut base = Base::new(&tenant(), 1, "d".into());
        base.forget(&["u1".into()]);
        assert!(base.live.numbers.values().all(|n| !n.is_held()));
    }
}
