//! Telephone numbers: the `numberAssignments` list and entities, the
//! long-running `assignNumber`/`unassignNumber` operations (and their
//! status), and `updateNumber`.

use serde_json::{Value, json};

use super::api::{ApiOptions, Request, Response, filter, next_link, q, single, top};
use super::odata;
use super::state::{OpKind, TenantState, number_entity_id};
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
    match t
        .live
        .numbers
        .values()
        .find(|n| number_entity_id(&t.live.tenant_id, n.number) == id)
    {
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
