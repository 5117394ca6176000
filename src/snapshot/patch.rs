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
