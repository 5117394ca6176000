//! Tests of reading configurations that need no server: reading a
//! page into typed rows, and folding configurations. (The provider must
//! not reach the emulator, even in tests.)

use std::collections::BTreeMap;

use super::{Configuration, Page, fold_configurations, text};
use crate::snapshot::{SnapGroupAssignment, SnapPolicy};

#[test]
fn a_page_reads_into_its_rows_and_its_next_link() {
    let page: Page<Configuration> = serde_json::from_str(
        r#"{"@odata.context": "x",
            "value": [{"id": "a", "effectivePolicyAssignments": null}, {"id": "b\u0041", "extra": 1}],
            "@odata.nextLink": "https://graph/next?$skiptoken=1"}"#,
    )
    .unwrap();
    let ids: Vec<_> = page.value.iter().map(|c| text(&c.id)).collect();
    assert_eq!(ids, ["a", "bA"]);
    assert_eq!(
        page.next_link.as_deref(),
        Some("https://graph/next?$skiptoken=1")
    );
    let page: Page<Configuration> = serde_json::from_str(r#"{"value": []}"#).unwrap();
    assert!(page.value.is_empty() && page.next_link.is_none());
    // No list at all: no rows.
    let page: Page<Configuration> = serde_json::from_str(r#"{"x": 1}"#).unwrap();
    assert!(page.value.is_empty());
    // A string where one is expected, nothing else.
    assert!(serde_json::from_str::<Page<Configuration>>(r#"{"value": [{"id": 3}]}"#).is_err());
}

#[test]
fn a_configuration_reads_with_missing_and_null_fields() {
    let c: Configuration = serde_json::from_str(
        r#"{"id": "u", "effectivePolicyAssignments": [
            {"policyType": "TeamsMeetingPolicy",
             "policyAssignment": {"displayName": "Tag:Sales", "policyId": null, "assignmentType": "direct"}},
            {"policyType": null, "policyAssignment": null}]}"#,
    )
    .unwrap();
    let e = c.effective_policy_assignments.unwrap();
    assert_eq!(e.len(), 2);
    let a = e[0].policy_assignment.as_ref().unwrap();
    assert_eq!(text(&a.display_name), "Tag:Sales");
    assert!(a.policy_id.is_none() && a.group_id.is_none());
    assert!(e[1].policy_type.is_none() && e[1].policy_assignment.is_none());
}

/// Direct assignments, group assignments by key, policies by key (each
/// as plain strings).
type Three = (String, String, String);
type Folded = (
    Vec<Three>,
    Vec<((String, String), Three)>,
    BTreeMap<(String, String), Three>,
);

/// The fold as it was written before pages were read borrowed: every
/// entry in turn, policies kept in a map by lower-cased type and name
/// where a later entry overrides an earlier one.
fn fold_entry_by_entry(rows: &[Configuration<'_>]) -> Folded {
    let (mut direct, mut groups, mut policies) = (Vec::new(), Vec::new(), BTreeMap::new());
    for c in rows {
        let user = text(&c.id).to_string();
        for e in c.effective_policy_assignments.iter().flatten() {
            let ty = text(&e.policy_type).to_string();
            let a = e.policy_assignment.as_ref();
            let name = a.map_or("", |a| text(&a.display_name));
            let name = name.strip_prefix("Tag:").unwrap_or(name).to_string();
            let id = a.map_or("", |a| text(&a.policy_id)).to_string();
            if !id.is_empty() {
                policies.insert(
                    (ty.to_lowercase(), name.to_lowercase()),
                    (ty.clone(), name.clone(), id),
                );
            }
            match a.and_then(|a| a.assignment_type.as_ref()).map(|t| &*t.0) {
                Some(t) if t.eq_ignore_ascii_case("direct") => {
                    direct.push((user.clone(), ty, name));
                }
                Some(t) if t.eq_ignore_ascii_case("group") => {
                    let g = text(&a.unwrap().group_id).to_string();
                    groups.push(((g.clone(), ty.clone()), (g, ty, name)));
                }
                _ => {}
            }
        }
    }
    (direct, groups, policies)
}

#[test]
fn configurations_fold_as_entry_by_entry() {
    let page: Page<Configuration> = serde_json::from_str(
        r#"{"value": [
          {"id": "u1", "effectivePolicyAssignments": [
            {"policyType": "TeamsMeetingPolicy", "policyAssignment":
              {"displayName": "Tag:Sales", "policyId": "p1", "assignmentType": "Direct"}},
            {"policyType": "TenantDialPlan", "policyAssignment":
              {"displayName": "Lon\u0064on", "policyId": "d1", "assignmentType": "group", "groupId": "g1"}}]},
          {"id": "u2", "effectivePolicyAssignments": [
            {"policyType": "teamsmeetingpolicy", "policyAssignment":
              {"displayName": "SALES", "policyId": "p2", "assignmentType": "direct"}},
            {"policyType": "TeamsCallingPolicy", "policyAssignment":
              {"displayName": "NoId", "policyId": null, "assignmentType": "direct"}},
            {"policyType": "TeamsCallingPolicy", "policyAssignment": null}]},
          {"id": "u3", "effectivePolicyAssignments": [
            {"policyType": "TeamsMeetingPolicy", "policyAssignment":
              {"displayName": "Sales", "policyId": "p1", "assignmentType": "other"}},
            {"policyType": "TenantDialPlan", "policyAssignment":
              {"displayName": "London", "policyId": "d1", "assignmentType": "DIRECT"}}]},
          {"id": "u4"}
        ]}"#,
    )
    .unwrap();
    let (direct, groups, policies) = fold_configurations(&page.value);
    let (want_direct, want_groups, want_policies) = fold_entry_by_entry(&page.value);
    let direct: Vec<_> = direct
        .into_iter()
        .map(|a| (a.user_id, a.policy_type, a.policy_name))
        .collect();
    assert_eq!(direct, want_direct);
    let g = |(k, a): ((String, String), SnapGroupAssignment)| {
        (k, (a.group_id, a.policy_type, a.policy_name))
    };
    assert_eq!(groups.into_iter().map(g).collect::<Vec<_>>(), want_groups);
    // Folded into a map in the order given, as the read does page by page.
    let p = |(k, p): ((String, String), SnapPolicy)| (k, (p.policy_type, p.name, p.policy_id));
    let policies: BTreeMap<_, _> = policies.into_iter().map(p).collect();
    assert_eq!(policies, want_policies);
    // The later spelling of a policy wins, its id with it.
    assert_eq!(
        policies[&("teamsmeetingpolicy".into(), "sales".into())],
        ("TeamsMeetingPolicy".into(), "Sales".into(), "p1".into())
    );
}
