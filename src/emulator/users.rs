//! Directory users: `/users` (filter, select, paging) and the Teams user
//! configurations (`/admin/teams/userConfigurations`). `/users/delta` is
//! [`super::delta`]'s; only the test endpoints ([`super::directory`]) change
//! directory users.

use super::api::{ApiOptions, Request, Response, filter, scan_page, selection, single, top};
use super::odata;
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
