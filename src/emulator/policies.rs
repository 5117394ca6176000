//! Teams policies: `getPolicyId` lookups and the all-or-nothing
//! `userAssignments/assign|unassign` batches of direct assignments.

use serde_json::{Value, json};

use super::api::{ApiOptions, Request, Response};
use super::state::TenantState;

/// `getPolicyId(type='T',name='N')`.
pub(super) fn get_policy_id(t: &TenantState, opts: &ApiOptions, f: &str) -> Response {
    let args = f.trim_start_matches("getPolicyId(").trim_end_matches(')');
    let decoded = percent_encoding::percent_decode_str(args)
        .decode_utf8_lossy()
        .to_string();
    let mut ty = None;
    let mut name = None;
    for part in split_args(&decoded) {
        if let Some((k, v)) = part.split_once('=') {
            let v = v.trim().trim_matches('\'').replace("''", "'");
            match k.trim() {
                "type" => ty = Some(v),
                "name" => name = Some(v),
                _ => {}
            }
        }
    }
    let (Some(ty), Some(name)) = (ty, name) else {
        return Response::error(
            400,
            "Request_BadRequest",
            "getPolicyId needs type='…' and name='…'.",
        );
    };
    let Some(canonical) = crate::catalog::policy_type(&ty) else {
        return Response::error(
            400,
            "Request_BadRequest",
            &format!("Invalid policy type '{ty}'."),
        );
    };
    let name = name.strip_prefix("Tag:").unwrap_or(&name);
    match t.live.policy(canonical, name) {
        Some(p) => Response::json(
            200,
            json!({ "value": [{
                "@odata.type": "#microsoft.graph.teamsAdministration.policyIdentifierDetail",
                "name": format!("Tag:{}", p.name),
                "policyId": p.id,
            }]}),
        ),
        None if opts.policy_404 => Response::error(
            404,
            "NotFound",
            &format!("Policy '{name}' of type '{canonical}' was not found."),
        ),
        None => Response::json(200, json!({ "value": [] })),
    }
}

/// Split `a='x,y',b='z'` on commas outside quotes.
fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// `userAssignments/assign|unassign`: all or nothing for the whole list.
pub(super) fn policy_write(
    t: &mut TenantState,
    opts: &ApiOptions,
    req: &Request<'_>,
    assign: bool,
) -> Response {
    let Some(items) = req
        .body
        .as_ref()
        .and_then(|b| b.get("value"))
        .and_then(Value::as_array)
    else {
        return Response::error(
            400,
            "Request_BadRequest",
            "The request body needs a `value` list.",
        );
    };
    if items.is_empty() {
        return Response::error(400, "Request_BadRequest", "The `value` list is empty.");
    }
    if items.len() > opts.max_assign_batch {
        return Response::error(
            400,
            "Request_BadRequest",
            &format!(
                "The `value` list has {} items; at most {} are allowed.",
                items.len(),
                opts.max_assign_batch
            ),
        );
    }
    let mut changes = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let user = item
            .get("userId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(&ui) = t.idx.user.get(user) else {
            return Response::error(
                400,
                "Request_BadRequest",
                &format!("value[{i}]: user '{user}' was not found."),
            );
        };
        let ty = item
            .get("policyType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(canonical) = crate::catalog::policy_type(ty) else {
            return Response::error(
                400,
                "Request_BadRequest",
                &format!("value[{i}]: invalid policy type '{ty}'."),
            );
        };
        if assign {
            let pid = item
                .get("policyId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let Some(name) = t
                .live
                .policies
                .get(canonical)
                .and_then(|m| m.values().find(|p| p.id == pid))
                .map(|p| p.name.clone())
            else {
                return Response::error(
                    400,
                    "Request_BadRequest",
                    &format!("value[{i}]: policy id '{pid}' of type '{canonical}' was not found."),
                );
            };
            changes.push((ui, canonical, Some(name)));
        } else {
            changes.push((ui, canonical, None));
        }
    }
    for (ui, ty, name) in changes {
        match name {
            Some(n) => {
                t.live.users[ui].policies.insert(ty.to_string(), n);
            }
            None => {
                t.live.users[ui].policies.remove(ty);
            }
        }
    }
    if let Err(e) = t.persist() {
        return Response::error(500, "generalException", &e);
    }
    Response::empty(204)
}
