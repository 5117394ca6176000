//! The Graph routes the emulator serves, as a pure function of (tenant,
//! request) -> response, so `$batch` sub-requests go through the very same
//! code as top-level ones.

use serde_json::{Value, json};

use super::odata::{self, decode_skip, encode_skip, error_body};
use super::state::{OpKind, Tenant};
use crate::numbers::{E164, NumberType};

/// Emulator switches for points the reference marks unconfirmed.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Wrap single-entity GETs in `{"value": {…}}` as the docs' examples do.
    pub wrap_single: bool,
    /// `getPolicyId` for an unknown name: 404 instead of an empty `value`.
    pub policy_404: bool,
    /// Largest `value` list `userAssignments/assign|unassign` accepts.
    pub max_assign_batch: usize,
    /// Page size of `userConfigurations`.
    pub config_page: usize,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            wrap_single: true,
            policy_404: false,
            max_assign_batch: 1000,
            config_page: 100,
        }
    }
}

pub struct Request<'a> {
    pub method: &'a str,
    /// Path below the version root, e.g. `/users`.
    pub path: &'a str,
    pub version: &'a str,
    pub query: Vec<(String, String)>,
    pub consistency_eventual: bool,
    pub body: Option<Value>,
    /// `http://host:port`, for links.
    pub base: &'a str,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Response {
    pub fn json(status: u16, body: Value) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }
    pub fn empty(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: None,
        }
    }
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Response::json(status, error_body(code, message))
    }
}

/// Normalise OData spellings: drop `microsoft.graph.*` qualifiers and
/// turn `operations('id')` into `operations/id`.
pub fn normalize_path(path: &str) -> String {
    let mut segs = Vec::new();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        let seg = seg
            .strip_prefix("microsoft.graph.teamsAdministration.")
            .or_else(|| seg.strip_prefix("microsoft.graph."))
            .unwrap_or(seg);
        if let Some(rest) = seg.strip_prefix("operations(") {
            segs.push("operations".to_string());
            segs.push(rest.trim_end_matches(')').trim_matches('\'').to_string());
        } else if seg == "delta()" {
            segs.push("delta".into());
        } else {
            segs.push(seg.to_string());
        }
    }
    format!("/{}", segs.join("/"))
}

/// Route name (for statistics) and the application permissions any one
/// of which allows it.
pub fn route(method: &str, path: &str) -> Option<(String, &'static [&'static str])> {
    const USERS: &[&str] = &[
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    const GROUPS: &[&str] = &[
        "GroupMember.Read.All",
        "Group.Read.All",
        "Directory.Read.All",
        "User.Read.All",
    ];
    const CONFIG: &[&str] = &["TeamsUserConfiguration.Read.All"];
    const POLICY: &[&str] = &["TeamsPolicyUserAssign.ReadWrite.All"];
    const NUM_READ: &[&str] = &[
        "TeamsTelephoneNumber.Read.All",
        "TeamsTelephoneNumber.ReadWrite.All",
    ];
    const NUM_WRITE: &[&str] = &["TeamsTelephoneNumber.ReadWrite.All"];
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let r = |name: &str, p: &'static [&'static str]| Some((format!("{method} {name}"), p));
    match (method, segs.as_slice()) {
        ("GET", ["users"]) => r("/users", USERS),
        ("GET", ["users", "delta"]) => r("/users/delta", USERS),
        ("GET", ["users", _, "transitiveMemberOf", ..]) => {
            r("/users/{id}/transitiveMemberOf", GROUPS)
        }
        ("GET", ["groups"]) => r("/groups", GROUPS),
        ("GET", ["groups", _, "transitiveMembers", ..]) => {
            r("/groups/{id}/transitiveMembers", GROUPS)
        }
        ("GET", ["admin", "teams", "userConfigurations"]) => {
            r("/admin/teams/userConfigurations", CONFIG)
        }
        ("GET", ["admin", "teams", "userConfigurations", _]) => {
            r("/admin/teams/userConfigurations/{id}", CONFIG)
        }
        ("GET", ["admin", "teams", "policy", f]) if f.starts_with("getPolicyId(") => {
            r("/admin/teams/policy/getPolicyId", POLICY)
        }
        ("POST", ["admin", "teams", "policy", "userAssignments", "assign"]) => {
            r("/admin/teams/policy/userAssignments/assign", POLICY)
        }
        ("POST", ["admin", "teams", "policy", "userAssignments", "unassign"]) => {
            r("/admin/teams/policy/userAssignments/unassign", POLICY)
        }
        (
            "GET",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "numberAssignments",
            ],
        ) => r(
            "/admin/teams/telephoneNumberManagement/numberAssignments",
            NUM_READ,
        ),
        (
            "POST",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "numberAssignments",
                a @ ("assignNumber" | "unassignNumber" | "updateNumber"),
            ],
        ) => Some((
            format!("POST /admin/teams/telephoneNumberManagement/numberAssignments/{a}"),
            NUM_WRITE,
        )),
        (
            "GET",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "numberAssignments",
                _,
            ],
        ) => r(
            "/admin/teams/telephoneNumberManagement/numberAssignments/{id}",
            NUM_READ,
        ),
        (
            "GET",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "operations",
                _,
            ],
        ) => r(
            "/admin/teams/telephoneNumberManagement/operations/{id}",
            NUM_READ,
        ),
        _ => None,
    }
}

fn q<'r>(req: &'r Request<'_>, key: &str) -> Option<&'r str> {
    req.query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

fn top(req: &Request<'_>, default: usize, max: usize) -> Result<usize, Response> {
    match q(req, "$top") {
        None => Ok(default),
        Some(t) => match t.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(Response::error(
                400,
                "Request_BadRequest",
                &format!(
                    "Invalid page size specified: '{t}'. Must be between 1 and {max} inclusive."
                ),
            )),
        },
    }
}

fn filter(req: &Request<'_>) -> Result<Vec<odata::Term>, Response> {
    match q(req, "$filter") {
        None => Ok(Vec::new()),
        Some(f) => odata::parse_filter(f)
            .map_err(|e| Response::error(400, "Request_UnsupportedQuery", &e.0)),
    }
}

/// One page of `items` with an `@odata.nextLink` carrying every original
/// query option plus an opaque `$skiptoken`.
fn page(req: &Request<'_>, items: Vec<Value>, size: usize, context: &str) -> Response {
    let offset = q(req, "$skiptoken").and_then(decode_skip).unwrap_or(0);
    let end = (offset + size).min(items.len());
    let value: Vec<Value> = items
        .get(offset..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let mut body = json!({
        "@odata.context": format!("{}/{}/$metadata#{context}", req.base, req.version),
        "value": value,
    });
    if end < items.len() {
        body["@odata.nextLink"] =
            Value::String(next_link(req, &[("$skiptoken", encode_skip(end))]));
    }
    Response::json(200, body)
}

/// The request's own URL with every original query option, the paging
/// options in `set` replaced (as Graph's `@odata.nextLink` carries them).
fn next_link(req: &Request<'_>, set: &[(&str, String)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in req
        .query
        .iter()
        .filter(|(k, _)| !set.iter().any(|(s, _)| k.eq_ignore_ascii_case(s)))
    {
        ser.append_pair(k, v);
    }
    for (k, v) in set {
        ser.append_pair(k, v);
    }
    format!("{}/{}{}?{}", req.base, req.version, req.path, ser.finish())
}

fn single(opts: &ApiOptions, v: Value) -> Response {
    Response::json(
        200,
        if opts.wrap_single {
            json!({ "value": v })
        } else {
            v
        },
    )
}

pub fn handle(t: &mut Tenant, opts: &ApiOptions, req: &Request<'_>) -> Response {
    if t.complete_due()
        && let Err(e) = t.persist()
    {
        return Response::error(500, "generalException", &e);
    }
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    match (req.method, segs.as_slice()) {
        ("GET", ["users"]) => list_users(t, req),
        ("GET", ["users", "delta"]) => users_delta(t, req),
        ("GET", ["users", id, "transitiveMemberOf", rest @ ..]) => member_of(t, req, id, rest),
        ("GET", ["groups"]) => list_groups(t, req),
        ("GET", ["groups", id, "transitiveMembers", rest @ ..]) => group_members(t, req, id, rest),
        ("GET", ["admin", "teams", "userConfigurations"]) => {
            let items = (0..t.live.users.len())
                .map(|i| t.user_configuration(i))
                .collect();
            let size = match top(req, opts.config_page, 999) {
                Ok(s) => s,
                Err(e) => return e,
            };
            page(req, items, size, "admin/teams/userConfigurations")
        }
        ("GET", ["admin", "teams", "userConfigurations", id]) => match t.index.get(*id) {
            Some(&i) => single(opts, t.user_configuration(i)),
            None => Response::error(
                404,
                "Request_ResourceNotFound",
                &format!("Resource '{id}' does not exist."),
            ),
        },
        ("GET", ["admin", "teams", "policy", f]) if f.starts_with("getPolicyId(") => {
            get_policy_id(t, opts, f)
        }
        ("POST", ["admin", "teams", "policy", "userAssignments", which]) => {
            policy_write(t, opts, req, which == &"assign")
        }
        (
            "GET",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "numberAssignments",
            ],
        ) => list_numbers(t, req),
        (
            "GET",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "numberAssignments",
                id,
            ],
        ) => {
            match t
                .live
                .numbers
                .values()
                .find(|n| super::state::number_entity_id(&t.live.tenant_id, n.number) == *id)
            {
                Some(n) => single(opts, t.number_json(n)),
                None => Response::error(
                    404,
                    "Request_ResourceNotFound",
                    &format!("Resource '{id}' does not exist."),
                ),
            }
        }
        (
            "POST",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "numberAssignments",
                action,
            ],
        ) => number_write(t, req, action),
        (
            "GET",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "operations",
                id,
            ],
        ) => match t.operations.get(*id) {
            Some(op) => single(opts, t.operation_json(op, req.base)),
            None => Response::error(
                404,
                "Request_ResourceNotFound",
                &format!("Operation '{id}' does not exist."),
            ),
        },
        _ => Response::error(
            400,
            "Request_BadRequest",
            &format!(
                "Resource not found for the segment '{}'.",
                segs.last().unwrap_or(&"")
            ),
        ),
    }
}

/// `$select` list, or an error for properties only a single GET returns.
fn selection(req: &Request<'_>) -> Result<Option<Vec<String>>, Response> {
    let Some(s) = q(req, "$select") else {
        return Ok(None);
    };
    let fields: Vec<String> = s
        .split(',')
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect();
    const SINGLE_ONLY: &[&str] = &[
        "aboutMe",
        "birthday",
        "hireDate",
        "interests",
        "mySite",
        "pastProjects",
        "preferredName",
        "responsibilities",
        "schools",
        "skills",
        "mailboxSettings",
    ];
    if let Some(f) = fields
        .iter()
        .find(|f| SINGLE_ONLY.iter().any(|s| s.eq_ignore_ascii_case(f)))
    {
        return Err(Response::error(
            501,
            "NotImplemented",
            &format!(
                "This operation target is not yet supported: `{f}` can only be selected on a single user."
            ),
        ));
    }
    Ok(Some(fields))
}

fn list_users(t: &Tenant, req: &Request<'_>) -> Response {
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
fn users_delta(t: &Tenant, req: &Request<'_>) -> Response {
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

fn group_json(g: &crate::live::Group) -> Value {
    json!({ "@odata.type": "#microsoft.graph.group", "id": g.id, "displayName": g.display_name })
}

fn needs_advanced(req: &Request<'_>, what: &str) -> Option<Response> {
    let count = q(req, "$count").is_some_and(|c| c.eq_ignore_ascii_case("true"));
    (!(req.consistency_eventual && count)).then(|| {
        Response::error(
            400,
            "Request_UnsupportedQuery",
            &format!("{what} requires advanced query parameters: add $count=true and the ConsistencyLevel: eventual header."),
        )
    })
}

fn member_of(t: &Tenant, req: &Request<'_>, id: &str, rest: &[&str]) -> Response {
    if !rest.is_empty()
        && let Some(e) = needs_advanced(req, "An OData cast on transitiveMemberOf")
    {
        return e;
    }
    let Some(u) = t
        .live
        .users
        .iter()
        .find(|u| u.id == id || u.upn.eq_ignore_ascii_case(id))
    else {
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

fn list_groups(t: &Tenant, req: &Request<'_>) -> Response {
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

fn group_members(t: &Tenant, req: &Request<'_>, id: &str, rest: &[&str]) -> Response {
    let users_only = !rest.is_empty();
    if users_only && let Some(e) = needs_advanced(req, "An OData cast on transitiveMembers") {
        return e;
    }
    let Some(gi) = t.live.groups.iter().position(|g| g.id == id) else {
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
    let gi = gi as u32;
    let mut items: Vec<Value> = t
        .live
        .users
        .iter()
        .filter(|u| u.groups.binary_search(&gi).is_ok())
        .filter_map(|u| t.users_json.iter().find(|j| j["id"] == u.id.as_str()))
        .map(|j| {
            let mut v = odata::select(j, fields.as_deref());
            v["@odata.type"] = json!("#microsoft.graph.user");
            v
        })
        .collect();
    if !users_only {
        // Nested groups are transitive members too.
        let mut stack = vec![id.to_string()];
        let mut seen = std::collections::HashSet::new();
        while let Some(g) = stack.pop() {
            if let Some(grp) = t.live.groups.iter().find(|x| x.id == g) {
                for m in &grp.members {
                    if let Some(child) = t.live.groups.iter().find(|x| &x.id == m)
                        && seen.insert(child.id.clone())
                    {
                        items.push(group_json(child));
                        stack.push(child.id.clone());
                    }
                }
            }
        }
    }
    match top(req, 100, 999) {
        Ok(size) => page(req, items, size, "directoryObjects"),
        Err(e) => e,
    }
}

/// `getPolicyId(type='T',name='N')`.
fn get_policy_id(t: &Tenant, opts: &ApiOptions, f: &str) -> Response {
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
fn policy_write(t: &mut Tenant, opts: &ApiOptions, req: &Request<'_>, assign: bool) -> Response {
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
        let Some(&ui) = t.index.get(user) else {
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

fn list_numbers(t: &Tenant, req: &Request<'_>) -> Response {
    let size = match top(req, 500, 1000) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let terms = match filter(req) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let skip = match q(req, "$skip").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return Response::error(400, "Request_BadRequest", "Invalid $skip."),
    };
    let items: Vec<Value> = t
        .live
        .numbers
        .values()
        .map(|n| t.number_json(n))
        .filter(|v| odata::matches(v, &terms))
        .collect();
    let end = (skip + size).min(items.len());
    let mut body = json!({
        "@odata.context": format!("{}/{}/$metadata#admin/teams/telephoneNumberManagement/numberAssignments", req.base, req.version),
        "value": items.get(skip..end).map(<[Value]>::to_vec).unwrap_or_default(),
    });
    if end < items.len() {
        body["@odata.nextLink"] = Value::String(next_link(
            req,
            &[("$top", size.to_string()), ("$skip", end.to_string())],
        ));
    }
    Response::json(200, body)
}

fn number_write(t: &mut Tenant, req: &Request<'_>, action: &str) -> Response {
    let body = req.body.clone().unwrap_or(Value::Null);
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let Some(raw) = s("telephoneNumber") else {
        return Response::error(400, "Request_BadRequest", "`telephoneNumber` is required.");
    };
    let Ok(number) = E164::parse_lenient(&raw) else {
        return Response::error(
            400,
            "Request_BadRequest",
            &format!("`{raw}` is not a valid telephone number."),
        );
    };
    match action {
        "assignNumber" | "unassignNumber" => {
            let Some(nt) = s("numberType") else {
                return Response::error(400, "Request_BadRequest", "`numberType` is required.");
            };
            let Some(number_type) = NumberType::from_graph(&nt) else {
                return Response::error(
                    400,
                    "Request_BadRequest",
                    &format!("Invalid numberType '{nt}'."),
                );
            };
            let kind = if action == "assignNumber" {
                let Some(user_id) = s("assignmentTargetId") else {
                    return Response::error(
                        400,
                        "Request_BadRequest",
                        "`assignmentTargetId` is required.",
                    );
                };
                OpKind::Assign {
                    user_id,
                    number_type,
                    category: s("assignmentCategory").unwrap_or_else(|| "primary".into()),
                    location_id: s("locationId"),
                }
            } else {
                OpKind::Unassign
            };
            let id = t.start_operation(number, kind);
            if t.complete_due()
                && let Err(e) = t.persist()
            {
                return Response::error(500, "generalException", &e);
            }
            let mut r = Response::empty(202);
            r.headers.push((
                "Location".into(),
                format!(
                    "{}/{}/admin/teams/telephoneNumberManagement/operations('{id}')",
                    req.base, req.version
                ),
            ));
            r
        }
        "updateNumber" => {
            let Some(entry) = t.live.numbers.get_mut(&number) else {
                return Response::error(
                    404,
                    "Request_ResourceNotFound",
                    &format!("Telephone Number '{number}' is not found from tenant."),
                );
            };
            match body.get("locationId") {
                Some(Value::String(l)) if l.is_empty() => entry.location_id = None,
                Some(Value::String(l)) => entry.location_id = Some(l.clone()),
                _ => {}
            }
            if let Err(e) = t.persist() {
                return Response::error(500, "generalException", &e);
            }
            Response::empty(200)
        }
        other => Response::error(
            400,
            "Request_BadRequest",
            &format!("Unknown action '{other}'."),
        ),
    }
}
