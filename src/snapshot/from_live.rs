//! A [`LiveState`] to a [`Snapshot`]: what `roster snapshot` and the
//! emulator write. Pure.

use super::*;
use crate::live::{GroupPolicyAssignment, LiveState, NumberAssignment, User};

/// A snapshot of a live state (what `roster snapshot` and the emulator write).
pub fn from_live(live: &LiveState) -> Snapshot {
    let mut snap = Snapshot {
        format_version: SNAPSHOT_FORMAT_VERSION,
        tenant_id: live.tenant_id.clone(),
        ..Snapshot::default()
    };
    for u in &live.users {
        let mut su = SnapUser {
            id: u.id.clone(),
            user_principal_name: u.upn.clone(),
            display_name: u.display_name.clone(),
            account_enabled: u.account_enabled,
            ..SnapUser::default()
        };
        let mut ext = std::collections::BTreeMap::new();
        for (id, value) in u.attrs.iter() {
            let name = User::attr_name(id);
            if name.starts_with("extensionAttribute") {
                ext.insert(name.to_string(), Some(value.to_string()));
            } else {
                su.set_attribute(name, Some(value.to_string()));
            }
        }
        if !ext.is_empty() {
            su.on_premises_extension_attributes = Some(ext);
        }
        if live.licensing.is_some() {
            su.assigned_licenses = Some(super::licences::snap_licences(u));
        }
        snap.users.push(su);
        for (ty, name) in &u.policies {
            snap.policy_assignments.push(SnapAssignment {
                user_id: u.id.clone(),
                policy_type: ty.to_string(),
                policy_name: name.clone(),
            });
        }
    }
    snap.groups = live
        .groups
        .iter()
        .map(|g| SnapGroup {
            id: g.id.clone(),
            display_name: g.display_name.clone(),
            members: g.members.clone(),
        })
        .collect();
    for by_name in live.policies.values() {
        for p in by_name.values() {
            snap.policies.push(SnapPolicy {
                policy_type: p.policy_type.clone(),
                name: p.name.clone(),
                policy_id: p.id.clone(),
            });
        }
    }
    snap.group_policy_assignments = live
        .group_policies
        .iter()
        .map(SnapGroupAssignment::from)
        .collect();
    snap.number_assignments = live.numbers.values().map(snap_number).collect();
    snap.subscribed_skus = live.licensing.as_ref().map(super::licences::snap_skus);
    snap
}

impl From<&GroupPolicyAssignment> for SnapGroupAssignment {
    fn from(g: &GroupPolicyAssignment) -> Self {
        SnapGroupAssignment {
            group_id: g.group_id.clone(),
            policy_type: g.policy_type.clone(),
            policy_name: g.policy_name.clone(),
            rank: g.rank,
        }
    }
}

pub(super) fn snap_number(n: &NumberAssignment) -> SnapNumber {
    SnapNumber {
        id: number_id(n.number),
        telephone_number: n.number,
        number_type: n.number_type.map(|t| t.graph_name().to_string()),
        assignment_target_id: n.target.clone(),
        assignment_category: n.category.clone(),
        assignment_status: n.status.clone(),
        activation_state: Some("activated".into()),
        capabilities: n.capabilities.clone(),
        location_id: n.location_id.clone(),
        iso_country_code: None,
    }
}

/// A stable opaque id for a number entry that has none.
pub fn number_id(n: E164) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(n.to_string().as_bytes());
    h[..12].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{Group, GroupPolicyAssignment};
    use crate::numbers::NumberType;
    use crate::snapshot::{parse, to_live};

    fn e164(s: &str) -> E164 {
        E164::parse(s).unwrap()
    }

    /// A small live state using every part a snapshot holds.
    fn live() -> LiveState {
        let mut amy = User::new("u1", "Amy@x.com");
        amy.display_name = Some("Amy".into());
        amy.set_attr("jobTitle", Some("Sales".into()));
        amy.set_attr("usageLocation", Some("GB".into()));
        amy.set_attr("extensionAttribute7", Some("E7".into()));
        amy.policies.insert("TenantDialPlan", "London".into());
        amy.policies.insert("TeamsMeetingPolicy", "Sales".into());
        let mut bob = User::new("u2", "bob@x.com");
        bob.account_enabled = false;
        bob.set_attr("department", Some("Ops".into()));
        let mut live = LiveState {
            tenant_id: "tenant-1".into(),
            users: vec![bob, amy],
            groups: vec![
                Group {
                    id: "g-outer".into(),
                    display_name: "Outer".into(),
                    members: vec!["g-inner".into(), "u2".into()],
                },
                Group {
                    id: "g-inner".into(),
                    display_name: "Inner".into(),
                    members: vec!["u1".into()],
                },
            ],
            group_policies: vec![GroupPolicyAssignment {
                group_id: "g-outer".into(),
                policy_type: "TeamsMeetingPolicy".into(),
                policy_name: "Sales".into(),
                rank: 1,
            }],
            ..LiveState::default()
        };
        live.add_policy("TeamsMeetingPolicy", "Sales", "p1");
        live.add_policy("TenantDialPlan", "London", "p2");
        live.numbers.insert(
            e164("+442071230001"),
            NumberAssignment {
                number: e164("+442071230001"),
                number_type: Some(NumberType::DirectRouting),
                target: Some("u1".into()),
                category: Some("primary".into()),
                status: "userAssigned".into(),
                capabilities: vec!["userAssignment".into()],
                location_id: Some("loc-1".into()),
            },
        );
        live.numbers.insert(
            e164("+4420712300"),
            NumberAssignment {
                number: e164("+4420712300"),
                number_type: Some(NumberType::CallingPlan),
                target: None,
                category: None,
                status: "unassigned".into(),
                capabilities: vec!["userAssignment".into(), "voiceApplicationAssignment".into()],
                location_id: None,
            },
        );
        live.finish();
        live
    }

    #[test]
    fn to_live_of_from_live_is_the_same_state() {
        let live = live();
        assert_eq!(to_live("t.json", &from_live(&live)).unwrap(), live);
    }

    #[test]
    fn the_written_file_reads_back_as_the_same_state() {
        let live = live();
        let text = serde_json::to_string_pretty(&from_live(&live)).unwrap();
        let back = to_live("t.json", &parse("t.json", &text).unwrap()).unwrap();
        assert_eq!(back, live);
        // Graph's spellings.
        for field in [
            "\"format_version\": 1",
            "\"tenantId\": \"tenant-1\"",
            "\"userPrincipalName\": \"Amy@x.com\"",
            "\"accountEnabled\": false",
            "\"onPremisesExtensionAttributes\"",
            "\"extensionAttribute7\": \"E7\"",
            "\"policyAssignments\"",
            "\"groupPolicyAssignments\"",
            "\"numberType\": \"directRouting\"",
            "\"assignmentTargetId\": \"u1\"",
        ] {
            assert!(text.contains(field), "{field} missing from\n{text}");
        }
        // Unset attributes are left out, not written as null.
        assert!(!text.contains("\"mail\""), "{text}");
    }

    #[test]
    fn number_ids_are_stable() {
        // Snapshots on disk hold these ids: they must not change between
        // releases (first 12 bytes of the SHA-256 of the number's text).
        assert_eq!(number_id(e164("+442071230001")), "1a12d7093b873961546ccfed");
        assert_eq!(number_id(e164("+4420712300")), "a9ecc3f51b180f3df1ff206c");
        let snap = from_live(&live());
        let ids: Vec<(String, &str)> = snap
            .number_assignments
            .iter()
            .map(|n| (n.telephone_number.to_string(), n.id.as_str()))
            .collect();
        assert_eq!(
            ids,
            [
                ("+4420712300".to_string(), "a9ecc3f51b180f3df1ff206c"),
                ("+442071230001".to_string(), "1a12d7093b873961546ccfed"),
            ]
        );
    }

    #[test]
    fn users_and_assignments_follow_the_live_order() {
        let snap = from_live(&live());
        let upns: Vec<&str> = snap
            .users
            .iter()
            .map(|u| u.user_principal_name.as_str())
            .collect();
        assert_eq!(upns, ["Amy@x.com", "bob@x.com"]);
        let assigned: Vec<(&str, &str)> = snap
            .policy_assignments
            .iter()
            .map(|a| (a.user_id.as_str(), a.policy_type.as_str()))
            .collect();
        assert_eq!(
            assigned,
            [("u1", "TeamsMeetingPolicy"), ("u1", "TenantDialPlan")]
        );
        assert_eq!(snap.users[1].on_premises_extension_attributes, None);
    }
}
