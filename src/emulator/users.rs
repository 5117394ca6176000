//! Directory users: `/users` (filter, select, paging), `/users/delta`, and
//! the Teams user configurations (`/admin/teams/userConfigurations`). The
//! emulator never changes directory users.

use serde_json::{Value, json};

use super::api::{ApiOptions, Request, Response, filter, page, q, selection, single, top};
use super::odata::{self, encode_skip};
use super::state::TenantState;

pub(super) fn list_users(t: &TenantState, req: &Request<'_>) -> Response {
    let size = match top(req, 100, 999) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let terms = match filter(req) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let fields = match selection(req) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let items: Vec<Value> = t
        .users_json
        .iter()
        .filter(|u| odata::matches(u, &terms))
        .map(|u| odata::select(u, fields.as_deref()))
        .collect();
    page(req, items, size, "users")
}

/// Delta: a full initial sync (pages, then a deltaLink); roster never
/// changes directory users, so a later round brings no changes.
pub(super) fn users_delta(t: &TenantState, req: &Request<'_>) -> Response {
    let fields = match selection(req) {
        Ok(f) => f,
        Err(e) => return e,
    };
    if q(req, "$deltatoken").is_some() {
        return Response::json(
            200,
            json!({
                "@odata.context": format!("{}/{}/$metadata#users", req.base, req.version),
                "@odata.deltaLink": format!("{}/{}/users/delta?$deltatoken={}", req.base, req.version, encode_skip(0)),
                "value": [],
            }),
        );
    }
    let items: Vec<Value> = t
        .users_json
        .iter()
        .map(|u| odata::select(u, fields.as_deref()))
        .collect();
    let mut resp = page(req, items, 200, "users");
    if let Some(body) = resp.body.as_mut()
        && body.get("@odata.nextLink").is_none()
    {
        body["@odata.deltaLink"] = Value::String(format!(
            "{}/{}/users/delta?$deltatoken={}",
            req.base,
            req.version,
            encode_skip(0)
        ));
    }
    resp
}

pub(super) fn user_configurations(
    t: &TenantState,
    opts: &ApiOptions,
    req: &Request<'_>,
) -> Response {
    let items = (0..t.live.users.len())
        .map(|i| t.user_configuration(i))
        .collect();
    let size = match top(req, opts.config_page, 999) {
        Ok(s) => s,
        Err(e) => return e,
    };
    page(req, items, size, "admin/teams/userConfigurations")
}

pub(super) fn user_configuration(t: &TenantState, opts: &ApiOptions, id: &str) -> Response {
    match t.index.get(id) {
        Some(&i) => single(opts, t.user_configuration(i)),
        None => Response::error(
            404,
            "Request_ResourceNotFound",
            &format!("Resource '{id}' does not exist."),
        ),
    }
}
