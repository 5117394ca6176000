//! Telephone numbers: the `numberAssignments` list and entities, the
//! long-running `assignNumber`/`unassignNumber` operations (and their
//! status), and `updateNumber`.

use serde_json::Value;

use super::api::{ApiOptions, Request, Response, filter, next_link, q, single, top};
use super::odata;
use super::state::{OpKind, TenantState, number_entity_id};
use crate::live::NumberAssignment;
use crate::numbers::{E164, NumberType};

pub(super) fn list_numbers(t: &TenantState, req: &Request<'_>) -> Response {
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
    // Without a filter, the page is taken straight from the inventory
    // (and written from borrowed rows); a filter on one number looks that
    // number up; any other filter scans.
    let tenant = t.live.tenant_id.as_str();
    let (value, shown, more) = if terms.is_empty() {
        let value: Vec<Entity<'_>> = t
            .numbers_from(skip)
            .take(size)
            .map(|n| entity(tenant, n))
            .collect();
        let text = serde_json::to_string(&value).unwrap_or_default();
        (
            text,
            value.len(),
            skip.saturating_add(size) < t.live.numbers.len(),
        )
    } else {
        let one = terms.iter().find_map(|term| match term {
            odata::Term::Eq(p, Value::String(v)) if p.eq_ignore_ascii_case("telephoneNumber") => {
                Some(
                    E164::parse_lenient(v)
                        .ok()
                        .and_then(|n| t.live.numbers.get(&n)),
                )
            }
            _ => None,
        });
        let candidates: Box<dyn Iterator<Item = &NumberAssignment>> = match one {
            Some(n) => Box::new(n.into_iter()),
            None => Box::new(t.live.numbers.values()),
        };
        let mut matching = candidates
            .map(|n| t.number_json(n))
            .filter(|v| odata::matches(v, &terms))
            .skip(skip);
        let value: Vec<Value> = matching.by_ref().take(size).collect();
        let text = serde_json::to_string(&value).unwrap_or_default();
        (text, value.len(), matching.next().is_some())
    };
    let end = skip.saturating_add(shown);
    let mut out = String::with_capacity(value.len() + 256);
    out.push_str("{\"@odata.context\":");
    out.push_str(
        &Value::String(format!(
            "{}/{}/$metadata#admin/teams/telephoneNumberManagement/numberAssignments",
            req.base, req.version
        ))
        .to_string(),
    );
    out.push_str(",\"value\":");
    out.push_str(&value);
    if more {
        out.push_str(",\"@odata.nextLink\":");
        out.push_str(
            &Value::String(next_link(
                req,
                &[("$top", size.to_string()), ("$skip", end.to_string())],
            ))
            .to_string(),
        );
    }
    out.push('}');
    Response::json_text(200, out)
}

/// A number as Graph serves it (`numberAssignment`), borrowed from the
/// inventory; the field order is the wire order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entity<'a> {
    id: String,
    telephone_number: String,
    number_type: Option<&'static str>,
    activation_state: &'static str,
    assignment_status: &'a str,
    assignment_target_id: Option<&'a str>,
    assignment_category: Option<&'a str>,
    capabilities: &'a [String],
    location_id: Option<&'a str>,
    iso_country_code: Option<&'a str>,
    number_source: &'static str,
}

pub fn entity<'a>(tenant: &str, n: &'a NumberAssignment) -> Entity<'a> {
    Entity {
        id: number_entity_id(tenant, n.number),
        telephone_number: n.number.to_string(),
        number_type: n.number_type.map(|t| t.graph_name()),
        activation_state: "activated",
        assignment_status: &n.status,
        assignment_target_id: n.target.as_deref(),
        assignment_category: n.category.as_deref(),
        capabilities: &n.capabilities,
        location_id: n.location_id.as_deref(),
        iso_country_code: None,
        number_source: "online",
    }
}

pub(super) fn number_write(t: &mut TenantState, req: &Request<'_>, action: &str) -> Response {
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

pub(super) fn get_number(t: &TenantState, opts: &ApiOptions, id: &str) -> Response {
    match number_of_entity_id(&t.live.tenant_id, id).and_then(|n| t.live.numbers.get(&n)) {
        Some(n) => single(opts, t.number_json(n)),
        None => Response::error(
            404,
            "Request_ResourceNotFound",
            &format!("Resource '{id}' does not exist."),
        ),
    }
}

pub(super) fn get_operation(
    t: &TenantState,
    opts: &ApiOptions,
    req: &Request<'_>,
    id: &str,
) -> Response {
    match t.operations.get(id) {
        Some(op) => single(opts, t.operation_json(op, req.base)),
        None => Response::error(
            404,
            "Request_ResourceNotFound",
            &format!("Operation '{id}' does not exist."),
        ),
    }
}

/// The number an entity id names (base64url of `TENANT|+NUMBER`), when it
/// is exactly the id the emulator gives that number.
fn number_of_entity_id(tenant: &str, id: &str) -> Option<E164> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (_, number) = text.rsplit_once('|')?;
    let n = E164::parse_lenient(number).ok()?;
    (number_entity_id(tenant, n) == id).then_some(n)
}
