//! Tests of the Graph read path's paging that need no server: reading a
//! page into typed rows. (The provider must not reach the emulator, even
//! in tests.)

use super::{Configuration, Page};

#[test]
fn a_page_reads_into_its_rows_and_its_next_link() {
    let page: Page<Configuration> = serde_json::from_str(
        r#"{"@odata.context": "x",
            "value": [{"id": "a", "effectivePolicyAssignments": null}, {"id": "b", "extra": 1}],
            "@odata.nextLink": "https://graph/next?$skiptoken=1"}"#,
    )
    .unwrap();
    let ids: Vec<_> = page.value.iter().map(|c| c.id.as_deref()).collect();
    assert_eq!(ids, [Some("a"), Some("b")]);
    assert_eq!(
        page.next_link.as_deref(),
        Some("https://graph/next?$skiptoken=1")
    );
    let page: Page<Configuration> = serde_json::from_str(r#"{"value": []}"#).unwrap();
    assert!(page.value.is_empty() && page.next_link.is_none());
    // No list at all: no rows.
    let page: Page<Configuration> = serde_json::from_str(r#"{"x": 1}"#).unwrap();
    assert!(page.value.is_empty());
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
    assert_eq!(a.display_name.as_deref(), Some("Tag:Sales"));
    assert!(a.policy_id.is_none() && a.group_id.is_none());
    assert!(e[1].policy_type.is_none() && e[1].policy_assignment.is_none());
}
