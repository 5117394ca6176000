//! Licences: `GET /subscribedSkus`, the `assignedLicenses` users are served
//! with, and the licence check of `assignNumber` (Teams' own refusal,
//! decided by [`crate::licensing`]).
//!
//! A seed that records licences (`subscribedSkus` in the snapshot) is
//! served as it is. A seed that does not gets a default licence set: the
//! tenant subscribes to Teams Phone Standard (`MCOEV`) and a Domestic
//! Calling Plan (`MCOPSTN1`), every user is served holding both, and no
//! assignment is refused for licences, so a tenant read through the
//! emulator plans as its snapshot file does. The default set is never
//! written to `--state` or `/_emulator/snapshot`. The emulator never
//! changes licences.

use std::sync::LazyLock;

use serde_json::{Value, json};

use super::api::{Request, Response};
use super::state::{TenantState, UserJson};
use crate::licensing::{CALLING_PLAN_PLAN, CALLING_PLAN_SKU, TEAMS_PHONE_PLAN, TEAMS_PHONE_SKU};
use crate::live::{Licensing, ServicePlan, Sku};
use crate::numbers::NumberType;

/// The default licence set of a seed without licence data.
pub fn default_licensing() -> Licensing {
    let sku = |id: &str, part: &str, plan: &str| Sku {
        sku_id: id.into(),
        part_number: part.into(),
        service_plans: vec![ServicePlan {
            id: plan.into(),
            name: part.into(),
        }],
    };
    Licensing {
        skus: vec![
            sku(TEAMS_PHONE_SKU, "MCOEV", TEAMS_PHONE_PLAN),
            sku(CALLING_PLAN_SKU, "MCOPSTN1", CALLING_PLAN_PLAN),
        ],
    }
}

/// A user as `/users` serves it: as the seed holds it, with the default
/// licence set when the seed records no licences.
pub fn user_value(t: &TenantState, u: &UserJson) -> Value {
    let mut v = u.value();
    if t.live.licensing.is_none()
        && let Some(obj) = v.as_object_mut()
    {
        obj.insert("assignedLicenses".into(), default_assigned().clone());
    }
    v
}

/// The `assignedLicenses` every user is served with when the seed records
/// no licences: the default set.
pub fn default_assigned() -> &'static Value {
    static DEFAULT: LazyLock<Value> = LazyLock::new(|| {
        default_licensing()
            .skus
            .iter()
            .map(|s| json!({ "skuId": s.sku_id, "disabledPlans": [] }))
            .collect()
    });
    &DEFAULT
}

/// `GET /subscribedSkus` (it does not page; `$select` is honoured).
pub fn subscribed_skus(t: &TenantState, req: &Request<'_>) -> Response {
    let fields = match super::api::selection(req) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let default;
    let (licensing, users) = match &t.live.licensing {
        Some(l) => (l, None),
        None => {
            default = default_licensing();
            (&default, Some(t.live.users.len()))
        }
    };
    let value: Vec<Value> = licensing
        .skus
        .iter()
        .map(|s| {
            let consumed = users.unwrap_or_else(|| {
                t.live
                    .users
                    .iter()
                    .filter(|u| {
                        u.licences
                            .iter()
                            .any(|l| l.sku_id.eq_ignore_ascii_case(&s.sku_id))
                    })
                    .count()
            });
            let sku = json!({
                "id": format!("{}_{}", t.live.tenant_id, s.sku_id),
                "skuId": s.sku_id,
                "skuPartNumber": s.part_number,
                "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "consumedUnits": consumed,
                "prepaidUnits": { "enabled": consumed, "suspended": 0, "warning": 0, "lockedOut": 0 },
                "servicePlans": s.service_plans.iter().map(|p| json!({
                    "servicePlanId": p.id,
                    "servicePlanName": p.name,
                    "provisioningStatus": "Success",
                    "appliesTo": "User",
                })).collect::<Vec<_>>(),
            });
            super::odata::select(&sku, fields.as_deref())
        })
        .collect();
    Response::json(
        200,
        json!({
            "@odata.context": format!("{}/{}/$metadata#subscribedSkus", req.base, req.version),
            "value": value,
        }),
    )
}

/// Why `assignNumber` of a `kind` number to the user at `index` (of
/// `live.users`) fails for licences, in Teams' words; `None` when it does
/// not (always, under the default licence set).
pub fn refusal(t: &TenantState, index: usize, kind: NumberType) -> Option<String> {
    crate::licensing::assign_refusal(&t.live, &t.live.users[index], kind)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::super::api::{self, ApiOptions, Request, Response};
    use super::*;

    fn seed(licensed: bool) -> TenantState {
        let mut t = json!({
            "format_version": 1,
            "tenantId": "t1",
            "users": [
                {"id": "u1", "userPrincipalName": "amy@x.com",
                 "assignedLicenses": [{"skuId": "sku-e5", "disabledPlans": []}]},
                {"id": "u2", "userPrincipalName": "bob@x.com", "assignedLicenses": []}
            ]
        });
        if licensed {
            t["subscribedSkus"] = json!([{"skuId": "sku-e5", "skuPartNumber": "SPE_E5",
                "servicePlans": [{"servicePlanId": "p1", "servicePlanName": "MCOEV"}]}]);
        }
        TenantState::load(t.to_string(), "t.json", None, Duration::ZERO).unwrap()
    }

    fn call(t: &mut TenantState, method: &str, path: &str, body: Option<Value>) -> Response {
        let req = Request {
            method,
            path,
            version: "v1.0",
            query: if path == "/users" {
                vec![("$select".into(), "id,assignedLicenses".into())]
            } else {
                Vec::new()
            },
            consistency_eventual: false,
            body,
            base: "http://emu",
        };
        api::handle(t, &ApiOptions::default(), &req)
    }

    fn sku_ids(r: &Response) -> Vec<String> {
        r.body.as_ref().unwrap()["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["skuId"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Assign a Direct Routing number to `user`; the operation's outcome.
    fn assign(t: &mut TenantState, user: &str) -> Option<Result<(), String>> {
        let body = json!({"telephoneNumber": "+442071230001", "numberType": "directRouting",
                          "assignmentTargetId": user});
        let path = "/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber";
        let r = call(t, "POST", path, Some(body));
        assert_eq!(r.status, 202);
        let (_, location) = r.headers.iter().find(|(k, _)| k == "Location").unwrap();
        let id = location
            .rsplit_once("operations('")
            .and_then(|(_, rest)| rest.strip_suffix("')"))
            .unwrap();
        t.operations[id].result.clone()
    }

    #[test]
    fn a_seed_without_licences_is_served_the_default_set_and_refuses_nothing() {
        let mut t = seed(false);
        let r = call(&mut t, "GET", "/subscribedSkus", None);
        assert_eq!(r.status, 200);
        assert_eq!(sku_ids(&r), [TEAMS_PHONE_SKU, CALLING_PLAN_SKU]);
        let skus = &r.body.as_ref().unwrap()["value"];
        assert_eq!(skus[0]["consumedUnits"], 2);
        assert_eq!(
            skus[0]["servicePlans"][0]["servicePlanId"],
            TEAMS_PHONE_PLAN
        );
        let users = call(&mut t, "GET", "/users", None);
        for u in users.body_value().unwrap()["value"].as_array().unwrap() {
            let held: Vec<&str> = u["assignedLicenses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["skuId"].as_str().unwrap())
                .collect();
            assert_eq!(held, [TEAMS_PHONE_SKU, CALLING_PLAN_SKU], "{u}");
        }
        assert_eq!(assign(&mut t, "u2"), Some(Ok(())));
        assert!(
            !t.snapshot_text().contains(TEAMS_PHONE_SKU),
            "never persisted"
        );
    }

    #[test]
    fn a_licensed_seed_is_served_as_it_is_and_refuses_the_unlicensed() {
        let mut t = seed(true);
        let r = call(&mut t, "GET", "/subscribedSkus", None);
        assert_eq!(sku_ids(&r), ["sku-e5"]);
        assert_eq!(r.body.as_ref().unwrap()["value"][0]["consumedUnits"], 1);
        let users = call(&mut t, "GET", "/users", None);
        let users = &users.body_value().unwrap()["value"];
        assert_eq!(users[1]["assignedLicenses"], json!([]));
        assert_eq!(
            assign(&mut t, "u2"),
            Some(Err(
                "User 'u2' lacks appropriate licenses to assign a 'DirectRouting' number".into()
            ))
        );
        assert!(!t.live.numbers.values().any(|n| n.target.is_some()));
        assert_eq!(assign(&mut t, "u1"), Some(Ok(())));
    }
}
