//! A [`LiveState`] to a [`Snapshot`]: what `roster snapshot` and the
//! emulator write. Pure.

use super::*;
use crate::live::{LiveState, NumberAssignment, User};

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
        for (id, value) in u.attrs.iter().enumerate() {
            let name = User::attr_name(id);
            if name.starts_with("extensionAttribute") {
                if value.is_some() {
                    ext.insert(name.to_string(), value.as_deref().map(str::to_string));
                }
            } else {
                su.set_attribute(name, value.as_deref().map(str::to_string));
            }
        }
        if !ext.is_empty() {
            su.on_premises_extension_attributes = Some(ext);
        }
        snap.users.push(su);
        for (ty, name) in &u.policies {
            snap.policy_assignments.push(SnapAssignment {
                user_id: u.id.clone(),
                policy_type: ty.clone(),
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
        .map(|g| SnapGroupAssignment {
            group_id: g.group_id.clone(),
            policy_type: g.policy_type.clone(),
            policy_name: g.policy_name.clone(),
            rank: g.rank,
        })
        .collect();
    snap.number_assignments = live.numbers.values().map(snap_number).collect();
    snap
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
