//! Rewrite snapshot text in place: the file provider's commit keeps every
//! field it does not manage (and unknown fields) as the file had them. Pure.

use std::collections::{HashMap, HashSet};

use super::from_live::snap_number;
use crate::live::LiveState;
use crate::numbers::E164;

/// Rewrite the snapshot JSON `original` so that its policy assignments and
/// numbers are those of `live`, keeping every other field (and unknown
/// fields of the entries that stay) as they were.
pub fn patch(original: &str, live: &LiveState) -> Result<String, serde_json::Error> {
    use serde_json::{Value, json};
    let mut doc: Value = serde_json::from_str(super::parse::strip_bom(original))?;
    let Some(obj) = doc.as_object_mut() else {
        return Err(serde::de::Error::custom("snapshot is not a JSON object"));
    };

    // Policy assignments: keep entries still true, update renamed ones,
    // drop removed ones, append new ones (in user order).
    let mut wanted: HashMap<(String, String), String> = HashMap::new();
    for u in &live.users {
        for (ty, name) in &u.policies {
            wanted.insert((u.id.clone(), ty.to_lowercase()), name.clone());
        }
    }
    let mut kept = Vec::new();
    if let Some(Value::Array(items)) = take(obj, "policyAssignments") {
        for mut item in items {
            let key = (
                item["userId"].as_str().unwrap_or_default().to_string(),
                item["policyType"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase(),
            );
            if let Some(name) = wanted.remove(&key) {
                item["policyName"] = Value::String(name);
                kept.push(item);
            }
        }
    }
    for u in &live.users {
        for ty in u.policies.keys() {
            if let Some(name) = wanted.remove(&(u.id.clone(), ty.to_lowercase())) {
                kept.push(json!({ "userId": u.id, "policyType": ty, "policyName": name }));
            }
        }
    }
    put(obj, "policyAssignments", Value::Array(kept));

    // Numbers: update entries in place, append numbers new to the inventory.
    let mut numbers = Vec::new();
    let mut seen = HashSet::new();
    if let Some(Value::Array(items)) = take(obj, "numberAssignments") {
        for mut item in items {
            let n = item["telephoneNumber"]
                .as_str()
                .and_then(|s| E164::parse_lenient(s).ok());
            let Some(n) = n else {
                numbers.push(item);
                continue;
            };
            seen.insert(n);
            if let Some(state) = live.numbers.get(&n) {
                set_or_null(&mut item, "assignmentTargetId", state.target.as_deref());
                set_or_null(&mut item, "assignmentCategory", state.category.as_deref());
                item["assignmentStatus"] = Value::String(state.status.clone());
                set_or_null(&mut item, "locationId", state.location_id.as_deref());
                if let Some(t) = state.number_type {
                    item["numberType"] = Value::String(t.graph_name().into());
                }
                numbers.push(item);
            }
        }
    }
    for (n, state) in &live.numbers {
        if !seen.contains(n) {
            numbers.push(serde_json::to_value(snap_number(state))?);
        }
    }
    put(obj, "numberAssignments", Value::Array(numbers));
    let mut out = serde_json::to_string_pretty(&doc)?;
    out.push('\n');
    Ok(out)
}

/// Take a field's value, leaving `null` in its place so the field keeps its
/// position (`Map::remove` would move the last field into it).
fn take(
    obj: &mut serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Option<serde_json::Value> {
    obj.get_mut(key).map(serde_json::Value::take)
}

/// Set a field in place, or append it when the file had none.
fn put(obj: &mut serde_json::Map<String, serde_json::Value>, key: &str, v: serde_json::Value) {
    match obj.get_mut(key) {
        Some(slot) => *slot = v,
        None => {
            obj.insert(key.to_string(), v);
        }
    }
}

fn set_or_null(item: &mut serde_json::Value, key: &str, v: Option<&str>) {
    item[key] = match v {
        Some(s) => serde_json::Value::String(s.to_string()),
        None => serde_json::Value::Null,
    };
}

#[cfg(test)]
mod tests {

    use serde_json::{Value, json};

    use super::*;
    use crate::numbers::NumberType;
    use crate::snapshot::{number_id, parse, to_live};

    /// A snapshot with fields roster does not know, in an order of its own.
    const ORIGINAL: &str = r#"{
  "comment": "exported by hand",
  "format_version": 1,
  "users": [
    {"id": "u1", "userPrincipalName": "amy@x.com", "favouriteColour": "green"},
    {"id": "u2", "userPrincipalName": "bob@x.com"},
    {"id": "u3", "userPrincipalName": "cat@x.com"}
  ],
  "policyAssignments": [
    {"source": "import", "userId": "u1", "policyType": "TenantDialPlan", "policyName": "London"},
    {"userId": "u2", "policyType": "TeamsMeetingPolicy", "policyName": "Old"},
    {"userId": "u3", "policyType": "TeamsCallingPolicy", "policyName": "Calls"}
  ],
  "numberAssignments": [
    {"telephoneNumber": "+442071230001", "custom": 1, "assignmentTargetId": "u2",
     "assignmentCategory": "primary", "assignmentStatus": "userAssigned",
     "numberType": "directRouting", "locationId": "loc-1", "isoCountryCode": "GB"},
    {"telephoneNumber": "+442071230002", "assignmentStatus": "unassigned",
     "capabilities": ["userAssignment"]}
  ],
  "trailer": true
}"#;

    fn e164(s: &str) -> E164 {
        E164::parse(s).unwrap()
    }

    fn read(text: &str) -> LiveState {
        to_live("t.json", &parse("t.json", text).unwrap()).unwrap()
    }

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    /// The original state with: Amy's dial plan renamed, Bob's meeting
    /// policy removed, a policy for Cat, Bob's number released, Amy given a
    /// number the inventory did not list.
    fn changed() -> LiveState {
        fn user<'a>(live: &'a mut LiveState, id: &str) -> &'a mut crate::live::Policies {
            let i = live.find_user_index(id).unwrap();
            &mut live.users[i].policies
        }
        let mut live = read(ORIGINAL);
        user(&mut live, "u1").insert("TenantDialPlan", "Dublin".into());
        user(&mut live, "u2").remove("TeamsMeetingPolicy");
        user(&mut live, "u3").insert("TenantDialPlan", "Paris".into());
        assert_eq!(
            live.unassign_number(e164("+442071230001")).as_deref(),
            Some("u2")
        );
        live.assign_number(
            e164("+442071230009"),
            "u1",
            NumberType::DirectRouting,
            "primary",
            Some("loc-2"),
        )
        .unwrap();
        live
    }

    #[test]
    fn the_file_reads_back_as_the_live_state() {
        let live = changed();
        let out = patch(ORIGINAL, &live).unwrap();
        assert_eq!(read(&out), live);
        assert!(out.ends_with("}\n"));
        // Patching again changes nothing.
        assert_eq!(patch(&out, &live).unwrap(), out);
    }

    #[test]
    fn unknown_fields_and_field_order_are_kept() {
        let out: Value = serde_json::from_str(&patch(ORIGINAL, &changed()).unwrap()).unwrap();
        let before: Value = serde_json::from_str(ORIGINAL).unwrap();
        assert_eq!(keys(&out), keys(&before));
        assert_eq!(out["comment"], "exported by hand");
        assert_eq!(out["trailer"], true);
        assert_eq!(out["users"], before["users"], "users are not rewritten");

        let amy = &out["policyAssignments"][0];
        assert_eq!(keys(amy), ["source", "userId", "policyType", "policyName"]);
        assert_eq!(amy["source"], "import");
        assert_eq!(amy["policyName"], "Dublin");

        let released = &out["numberAssignments"][0];
        assert_eq!(keys(released), keys(&before["numberAssignments"][0]));
        assert_eq!(released["custom"], 1);
        assert_eq!(released["isoCountryCode"], "GB");
        assert_eq!(released["assignmentTargetId"], Value::Null);
        assert_eq!(released["assignmentCategory"], Value::Null);
        assert_eq!(released["assignmentStatus"], "unassigned");
        assert_eq!(released["locationId"], "loc-1");
    }

    #[test]
    fn assignments_are_rewritten_removed_and_appended() {
        let out: Value = serde_json::from_str(&patch(ORIGINAL, &changed()).unwrap()).unwrap();
        let rows: Vec<(&str, &str, &str)> = out["policyAssignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["userId"].as_str().unwrap(),
                    a["policyType"].as_str().unwrap(),
                    a["policyName"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("u1", "TenantDialPlan", "Dublin"),
                ("u3", "TeamsCallingPolicy", "Calls"),
                ("u3", "TenantDialPlan", "Paris"),
            ]
        );
        assert_eq!(
            out["policyAssignments"][2],
            json!({"userId": "u3", "policyType": "TenantDialPlan", "policyName": "Paris"})
        );
    }

    #[test]
    fn numbers_new_to_the_inventory_are_appended() {
        let live = changed();
        let out: Value = serde_json::from_str(&patch(ORIGINAL, &live).unwrap()).unwrap();
        let numbers = out["numberAssignments"].as_array().unwrap();
        assert_eq!(numbers.len(), 3);
        assert_eq!(numbers[1]["telephoneNumber"], "+442071230002");
        let new = &numbers[2];
        assert_eq!(new["id"], number_id(e164("+442071230009")));
        assert_eq!(new["telephoneNumber"], "+442071230009");
        assert_eq!(new["assignmentTargetId"], "u1");
        assert_eq!(new["assignmentCategory"], "primary");
        assert_eq!(new["assignmentStatus"], "userAssigned");
        assert_eq!(new["numberType"], "directRouting");
        assert_eq!(new["locationId"], "loc-2");
    }

    #[test]
    fn missing_fields_are_appended() {
        let original = r#"{"format_version": 1, "users": [{"id": "u1", "userPrincipalName": "a@x.com"}], "x": 0}"#;
        let mut live = read(original);
        live.users[0]
            .policies
            .insert("TenantDialPlan", "London".into());
        live.assign_number(
            e164("+442071230001"),
            "u1",
            NumberType::DirectRouting,
            "primary",
            None,
        )
        .unwrap();
        let text = patch(original, &live).unwrap();
        let out: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            keys(&out),
            [
                "format_version",
                "users",
                "x",
                "policyAssignments",
                "numberAssignments"
            ]
        );
        assert_eq!(read(&text), live);

        // A number entry missing the managed fields gains them at its end.
        let original = r#"{"format_version": 1, "users": [{"id": "u1", "userPrincipalName": "a@x.com"}],
            "numberAssignments": [{"telephoneNumber": "442071230001", "capabilities": ["userAssignment"]}]}"#;
        let mut live = read(original);
        live.assign_number(
            e164("+442071230001"),
            "u1",
            NumberType::DirectRouting,
            "primary",
            None,
        )
        .unwrap();
        let out: Value = serde_json::from_str(&patch(original, &live).unwrap()).unwrap();
        let n = &out["numberAssignments"][0];
        assert_eq!(
            keys(n),
            [
                "telephoneNumber",
                "capabilities",
                "assignmentTargetId",
                "assignmentCategory",
                "assignmentStatus",
                "locationId",
                "numberType"
            ]
        );
        // The number keeps its spelling in the file.
        assert_eq!(n["telephoneNumber"], "442071230001");
        assert_eq!(n["assignmentTargetId"], "u1");
    }

    #[test]
    fn a_byte_order_mark_is_passed_over_and_a_non_object_refused() {
        let live = read(ORIGINAL);
        let with_bom = format!("\u{feff}{ORIGINAL}");
        assert_eq!(
            patch(&with_bom, &live).unwrap(),
            patch(ORIGINAL, &live).unwrap()
        );
        let e = patch("[1, 2]", &live).unwrap_err();
        assert!(e.to_string().contains("not a JSON object"), "{e}");
    }
}
