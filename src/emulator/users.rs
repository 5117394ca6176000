//! Directory users: `/users` (filter, select, paging), `/users/delta`, and
//! the Teams user configurations (`/admin/teams/userConfigurations`). The
//! emulator never changes directory users.

use serde_json::{Value, json};

use super::api::{ApiOptions, Request, Response, filter, q, scan_page, selection, single, top};
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
    let users = &t.users_json;
    scan_page(req, users.len(), size, "users", |i| {
        let u = super::licences::user_value(t, &users[i]);
        odata::matches(&u, &terms).then(|| odata::select(&u, fields.as_deref()))
    })
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
    let users = &t.users_json;
    let mut resp = scan_page(req, users.len(), 200, "users", |i| {
        Some(odata::select(
            &super::licences::user_value(t, &users[i]),
            fields.as_deref(),
        ))
    });
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
    let size = match top(req, opts.config_page, 999) {
        Ok(s) => s,
        Err(e) => return e,
    };
    scan_page(
        req,
        t.live.users.len(),
        size,
        "admin/teams/userConfigurations",
        |i| Some(t.user_configuration(i)),
    )
}

pub(super) fn user_configuration(t: &TenantState, opts: &ApiOptions, id: &str) -> Response {
    match t.idx.user.get(id) {
        Some(&i) => single(opts, t.user_configuration(i)),
        None => Response::error(
            404,
            "Request_ResourceNotFound",
            &format!("Resource '{id}' does not exist."),
        ),
    }
}
