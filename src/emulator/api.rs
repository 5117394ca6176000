//! The emulator's request and response values, the dispatch of a Graph
//! request to the resource that serves it, and the OData paging and query
//! helpers the resources share: a pure function of (tenant, request) ->
//! response, so `$batch` sub-requests go through the very same code as
//! top-level ones. It must not know about HTTP, tokens or throttling.

use serde_json::{Value, json};

use super::odata::{self, decode_skip, encode_skip, error_body};
use super::state::TenantState;
use super::{groups, numbers, policies, users};

/// Emulator switches for points the reference marks unconfirmed.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Wrap single-entity GETs in `{"value": {…}}` as the docs' examples
    /// do; off by default: the bare entity, as OData and Microsoft's SDKs
    /// expect.
    pub wrap_single: bool,
    /// `getPolicyId` for an unknown name: 404 instead of an empty `value`.
    pub policy_404: bool,
    /// Largest `value` list `userAssignments/assign|unassign` accepts.
    pub max_assign_batch: usize,
    /// Page size of `userConfigurations`.
    pub config_page: usize,
    /// A tenant that takes smaller pages than Graph documents: any `$top`
    /// above this is answered 400, as Graph answers a page size it does
    /// not take (clients must fall back). `None`: the documented maxima.
    pub max_top: Option<usize>,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            wrap_single: false,
            policy_404: false,
            max_assign_batch: 1000,
            config_page: 100,
            max_top: None,
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
    /// `body` is a `Value::String` holding JSON text written straight (the
    /// large pages: no `Value` tree per page), sent as it is.
    pub raw: bool,
}

impl Response {
    pub fn json(status: u16, body: Value) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Some(body),
            raw: false,
        }
    }
    /// A body already written as JSON text.
    pub fn json_text(status: u16, text: String) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Some(Value::String(text)),
            raw: true,
        }
    }
    pub fn empty(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: None,
            raw: false,
        }
    }
    /// The body as a JSON value, however it was made (`$batch` embeds it).
    pub fn body_value(&self) -> Option<Value> {
        match (&self.body, self.raw) {
            (Some(Value::String(text)), true) => serde_json::from_str(text).ok(),
            (body, _) => body.clone(),
        }
    }
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Response::json(status, error_body(code, message))
    }
}

pub(super) fn q<'r>(req: &'r Request<'_>, key: &str) -> Option<&'r str> {
    req.query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

pub(super) fn top(req: &Request<'_>, default: usize, max: usize) -> Result<usize, Response> {
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

pub(super) fn filter(req: &Request<'_>) -> Result<Vec<odata::Term>, Response> {
    match q(req, "$filter") {
        None => Ok(Vec::new()),
        Some(f) => odata::parse_filter(f)
            .map_err(|e| Response::error(400, "Request_UnsupportedQuery", &e.0)),
    }
}

/// One page of `items` with an `@odata.nextLink` carrying every original
/// query option plus an opaque `$skiptoken`.
pub(super) fn page(req: &Request<'_>, items: Vec<Value>, size: usize, context: &str) -> Response {
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

/// One page over `count` candidates taken by position, written straight
/// as JSON text: `item(pos, out)` appends a candidate's entry to `out` as
/// JSON and says whether the query shows it (what it appended is dropped
/// when not). The `$skiptoken` holds the position of the next entry to
/// show, and the `@odata.nextLink` is there only when one follows. It
/// costs the page and the candidates passed over while filling it, never
/// the rest, and builds no `Value` per entry.
pub(super) fn scan_page_text(
    req: &Request<'_>,
    count: usize,
    size: usize,
    context: &str,
    mut item: impl FnMut(usize, &mut Vec<u8>) -> bool,
) -> Response {
    let mut pos = q(req, "$skiptoken").and_then(decode_skip).unwrap_or(0);
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(b"{\"@odata.context\":");
    push_json_str(
        &mut out,
        &format!("{}/{}/$metadata#{context}", req.base, req.version),
    );
    out.extend_from_slice(b",\"value\":[");
    let mut shown = 0;
    while pos < count && shown < size {
        let mark = out.len();
        if shown > 0 {
            out.push(b',');
        }
        if item(pos, &mut out) {
            shown += 1;
        } else {
            out.truncate(mark);
        }
        pos += 1;
    }
    out.push(b']');
    let mut scratch = Vec::new();
    let next = (pos..count).find(|&p| {
        scratch.clear();
        item(p, &mut scratch)
    });
    if let Some(next) = next {
        out.extend_from_slice(b",\"@odata.nextLink\":");
        push_json_str(
            &mut out,
            &next_link(req, &[("$skiptoken", encode_skip(next))]),
        );
    }
    out.push(b'}');
    // Only JSON text was written: strings through serde_json, the rest ASCII.
    Response::json_text(200, String::from_utf8(out).unwrap_or_default())
}

/// `s` as a JSON string.
pub(super) fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// The request's own URL with every original query option, the paging
/// options in `set` replaced (as Graph's `@odata.nextLink` carries them).
pub(super) fn next_link(req: &Request<'_>, set: &[(&str, String)]) -> String {
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

pub(super) fn single(opts: &ApiOptions, v: Value) -> Response {
    Response::json(
        200,
        if opts.wrap_single {
            json!({ "value": v })
        } else {
            v
        },
    )
}

/// Route one Graph request (path below the version root) to the resource
/// that serves it, after finishing the number operations whose time has come.
pub fn handle(t: &mut TenantState, opts: &ApiOptions, req: &Request<'_>) -> Response {
    if let Some(e) = finish_due(t) {
        return e;
    }
    if req.method == "GET" {
        read(t, opts, req)
    } else {
        write(t, opts, req)
    }
}

/// Finish the number operations whose time has come (persisting them);
/// an error response when persisting fails.
pub fn finish_due(t: &mut TenantState) -> Option<Response> {
    if t.complete_due()
        && let Err(e) = t.persist()
    {
        return Some(Response::error(500, "generalException", &e));
    }
    None
}

/// A `GET`: reads the tenant only, so reads can run side by side. The
/// caller has finished due operations first ([`finish_due`]).
pub fn read(t: &TenantState, opts: &ApiOptions, req: &Request<'_>) -> Response {
    if let Some(max) = opts.max_top
        && let Some(t) = q(req, "$top")
        && t.parse::<usize>().is_ok_and(|n| n > max)
    {
        return Response::error(
            400,
            "Request_BadRequest",
            &format!("Invalid page size specified: '{t}'. Must be between 1 and {max} inclusive."),
        );
    }
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    match (req.method, segs.as_slice()) {
        ("GET", ["users"]) => users::list_users(t, req),
        ("GET", ["users", "delta"]) => super::delta::users_delta(t, req),
        ("GET", ["users", id, "transitiveMemberOf", rest @ ..]) => {
            groups::member_of(t, req, id, rest)
        }
        ("GET", ["groups"]) => groups::list_groups(t, req),
        ("GET", ["subscribedSkus"]) => super::licences::subscribed_skus(t, req),
        ("GET", ["groups", id, "transitiveMembers", rest @ ..]) => {
            groups::group_members(t, req, id, rest)
        }
        ("GET", ["admin", "teams", "userConfigurations"]) => {
            users::user_configurations(t, opts, req)
        }
        ("GET", ["admin", "teams", "userConfigurations", id]) => {
            users::user_configuration(t, opts, id)
        }
        ("GET", ["admin", "teams", "policy", f]) if f.starts_with("getPolicyId(") => {
            policies::get_policy_id(t, opts, f)
        }
        (
            "GET",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "numberAssignments",
            ],
        ) => numbers::list_numbers(t, req),
        (
            "GET",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "numberAssignments",
                id,
            ],
        ) => numbers::get_number(t, opts, id),
        (
            "GET",
            [
                "admin",
                "teams",
                "telephoneNumberManagement",
                "operations",
                id,
            ],
        ) => numbers::get_operation(t, opts, req, id),
        _ => not_found(&segs),
    }
}

/// Any other method: the write routes.
pub fn write(t: &mut TenantState, opts: &ApiOptions, req: &Request<'_>) -> Response {
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    match (req.method, segs.as_slice()) {
        ("POST", ["admin", "teams", "policy", "userAssignments", which]) => {
            policies::policy_write(t, opts, req, which == &"assign")
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
        ) => numbers::number_write(t, req, action),
        _ => not_found(&segs),
    }
}

fn not_found(segs: &[&str]) -> Response {
    Response::error(
        400,
        "Request_BadRequest",
        &format!(
            "Resource not found for the segment '{}'.",
            segs.last().unwrap_or(&"")
        ),
    )
}

/// `$select` list, or an error for properties only a single GET returns.
pub(super) fn selection(req: &Request<'_>) -> Result<Option<Vec<String>>, Response> {
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

pub(super) fn needs_advanced(req: &Request<'_>, what: &str) -> Option<Response> {
    let count = q(req, "$count").is_some_and(|c| c.eq_ignore_ascii_case("true"));
    (!(req.consistency_eventual && count)).then(|| {
        Response::error(
            400,
            "Request_UnsupportedQuery",
            &format!("{what} requires advanced query parameters: add $count=true and the ConsistencyLevel: eventual header."),
        )
    })
}
