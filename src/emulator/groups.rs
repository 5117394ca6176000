//! Groups and membership: `/groups`, transitive members of a group and the
//! transitive groups of a user (with the advanced-query rules for OData
//! casts). Read-only: roster never changes groups.

use serde_json::{Value, json};

use super::api::{Request, Response, filter, needs_advanced, page, scan_page_text, selection, top};
use super::odata;
use super::state::TenantState;
use super::users::splice_user;

pub(super) fn group_json(g: &crate::live::Group) -> Value {
    json!({ "@odata.type": "#microsoft.graph.group", "id": g.id, "displayName": g.display_name })
}

pub(super) fn member_of(t: &TenantState, req: &Request<'_>, id: &str, rest: &[&str]) -> Response {
    if !rest.is_empty()
        && let Some(e) = needs_advanced(req, "An OData cast on transitiveMemberOf")
    {
        return e;
    }
    let Some(u) = t.idx.find_user(id).map(|i| &t.live.users[i]) else {
        return Response::error(
            404,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        );
    };
    let items = u
        .groups
        .iter()
        .map(|&g| group_json(&t.live.groups[g as usize]))
        .collect();
    match top(req, 100, 999) {
        Ok(size) => page(req, items, size, "directoryObjects"),
        Err(e) => e,
    }
}

pub(super) fn list_groups(t: &TenantState, req: &Request<'_>) -> Response {
    let terms = match filter(req) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let items = t
        .live
        .groups
        .iter()
        .map(group_json)
        .filter(|g| odata::matches(g, &terms))
        .collect();
    match top(req, 100, 999) {
        Ok(size) => page(req, items, size, "groups"),
        Err(e) => e,
    }
}

pub(super) fn group_members(
    t: &TenantState,
    req: &Request<'_>,
    id: &str,
    rest: &[&str],
) -> Response {
    let users_only = !rest.is_empty();
    if users_only && let Some(e) = needs_advanced(req, "An OData cast on transitiveMembers") {
        return e;
    }
    let Some(&gi) = t.idx.group.get(id) else {
        return Response::error(
            404,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        );
    };
    let fields = match selection(req) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let size = match top(req, 100, 999) {
        Ok(size) => size,
        Err(e) => return e,
    };
    let users = &t.idx.group_users[gi as usize];
    let mut nested = Vec::new();
    if !users_only {
        // Nested groups are transitive members too.
        let mut stack = vec![gi];
        let mut seen = std::collections::HashSet::new();
        while let Some(g) = stack.pop() {
            for m in &t.live.groups[g as usize].members {
                if let Some(&child) = t.idx.group.get(m)
                    && seen.insert(child)
                {
                    nested.push(child);
                    stack.push(child);
                }
            }
        }
    }
    // Written as text: each user spliced from its stored JSON (as `/users`
    // writes it), `@odata.type` set last, as on the `Value` it stands for.
    let default_licences = t.live.licensing.is_none();
    let user_type = ("@odata.type", "\"#microsoft.graph.user\"");
    scan_page_text(
        req,
        users.len() + nested.len(),
        size,
        "directoryObjects",
        |k, out| match users.get(k) {
            Some(&u) => match t.users_json.get(t.idx.json_of[u as usize] as usize) {
                Some(j) => splice_user(
                    j.text(),
                    default_licences,
                    fields.as_deref(),
                    Some(user_type),
                    out,
                ),
                None => false,
            },
            None => {
                let g = group_json(&t.live.groups[nested[k - users.len()] as usize]);
                let _ = serde_json::to_writer(&mut *out, &g);
                true
            }
        },
    )
}
