//! The licence part of a snapshot, both ways: top-level `subscribedSkus`
//! and each user's `assignedLicenses` to [`Licensing`] and
//! [`AssignedLicence`]s (checked, errors naming the JSON path), and back.
//! A snapshot without `subscribedSkus` records no licences: its users'
//! `assignedLicenses` are not read. Pure.

use std::collections::HashMap;

use super::{SnapLicence, SnapServicePlan, SnapSku, SnapUser, SnapshotError, invalid};
use crate::live::{AssignedLicence, Licensing, ServicePlan, Sku, User};

/// The tenant's SKUs, when the snapshot records licences: every SKU has a
/// `skuId`, listed once (without regard to case), and every service plan a
/// `servicePlanId`.
pub(super) fn licensing(
    file: &str,
    skus: Option<Vec<SnapSku>>,
) -> Result<Option<Licensing>, SnapshotError> {
    let Some(skus) = skus else {
        return Ok(None);
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(skus.len());
    for (i, s) in skus.into_iter().enumerate() {
        if s.sku_id.trim().is_empty() {
            return Err(invalid(
                file,
                &format!("$.subscribedSkus[{i}].skuId"),
                "a SKU has an empty `skuId`".into(),
                "give each SKU its id, as `GET /subscribedSkus` lists it",
            ));
        }
        if let Some(first) = seen.insert(s.sku_id.trim().to_ascii_lowercase(), i) {
            return Err(invalid(
                file,
                &format!("$.subscribedSkus[{i}].skuId"),
                format!(
                    "SKU `{}` is listed twice (also $.subscribedSkus[{first}])",
                    s.sku_id
                ),
                "list each SKU once",
            ));
        }
        let mut plans = Vec::with_capacity(s.service_plans.len());
        for (j, p) in s.service_plans.into_iter().enumerate() {
            if p.service_plan_id.trim().is_empty() {
                return Err(invalid(
                    file,
                    &format!("$.subscribedSkus[{i}].servicePlans[{j}].servicePlanId"),
                    format!(
                        "a service plan of SKU `{}` has an empty `servicePlanId`",
                        s.sku_id
                    ),
                    "give each service plan its id, as `GET /subscribedSkus` lists it",
                ));
            }
            plans.push(ServicePlan {
                id: p.service_plan_id,
                name: p.service_plan_name,
            });
        }
        out.push(Sku {
            sku_id: s.sku_id,
            part_number: s.sku_part_number,
            service_plans: plans,
        });
    }
    Ok(Some(Licensing { skus: out }))
}

/// Check the licences of user `i` (each names a SKU id).
pub(super) fn check_user(file: &str, i: usize, u: &SnapUser) -> Result<(), SnapshotError> {
    match u
        .assigned_licenses
        .iter()
        .flatten()
        .position(|l| l.sku_id.trim().is_empty())
    {
        Some(j) => Err(blank_sku(file, i, j, &u.user_principal_name)),
        None => Ok(()),
    }
}

/// Licence `j` of user `i` (whose UPN is `upn`) has an empty SKU id.
pub(super) fn blank_sku(file: &str, i: usize, j: usize, upn: &str) -> SnapshotError {
    invalid(
        file,
        &format!("$.users[{i}].assignedLicenses[{j}].skuId"),
        format!("a licence of user `{upn}` has an empty `skuId`"),
        "give the SKU id of the licence (one of `subscribedSkus`), or remove the licence",
    )
}

/// A snapshot user's licences as the live state keeps them.
pub(super) fn user_licences(licences: Option<Vec<SnapLicence>>) -> Vec<AssignedLicence> {
    licences
        .into_iter()
        .flatten()
        .map(|l| AssignedLicence {
            sku_id: l.sku_id,
            disabled_plans: l.disabled_plans,
        })
        .collect()
}

/// The tenant's SKUs as a snapshot lists them.
pub fn snap_skus(licensing: &Licensing) -> Vec<SnapSku> {
    licensing
        .skus
        .iter()
        .map(|s| SnapSku {
            sku_id: s.sku_id.clone(),
            sku_part_number: s.part_number.clone(),
            service_plans: s
                .service_plans
                .iter()
                .map(|p| SnapServicePlan {
                    service_plan_id: p.id.clone(),
                    service_plan_name: p.name.clone(),
                })
                .collect(),
        })
        .collect()
}

/// A live user's licences as a snapshot lists them.
pub(super) fn snap_licences(user: &User) -> Vec<SnapLicence> {
    user.licences
        .iter()
        .map(|l| SnapLicence {
            sku_id: l.sku_id.clone(),
            disabled_plans: l.disabled_plans.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::live::LiveState;
    use crate::snapshot::{SnapshotError, from_live, parse, to_live};

    fn base() -> Value {
        json!({
            "format_version": 1,
            "users": [
                {"id": "u1", "userPrincipalName": "amy@x.com",
                 "assignedLicenses": [{"skuId": "sku-e5", "disabledPlans": ["p-ev"]}]},
                {"id": "u2", "userPrincipalName": "bob@x.com", "assignedLicenses": null}
            ],
            "subscribedSkus": [
                {"skuId": "sku-e5", "skuPartNumber": "SPE_E5", "capabilityStatus": "Enabled",
                 "servicePlans": [{"servicePlanId": "p-ev", "servicePlanName": "MCOEV",
                                   "provisioningStatus": "Success"}]}
            ]
        })
    }

    fn load(v: &Value) -> Result<LiveState, SnapshotError> {
        to_live("t.json", &parse("t.json", &v.to_string())?)
    }

    fn path_of(v: &Value) -> (String, String) {
        match load(v) {
            Err(SnapshotError::Invalid {
                json_path, message, ..
            })
            | Err(SnapshotError::Json {
                json_path, message, ..
            }) => (json_path, message),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn licences_are_read_and_round_trip() {
        let live = load(&base()).unwrap();
        let lic = live.licensing.as_ref().unwrap();
        assert_eq!(lic.skus[0].part_number, "SPE_E5");
        assert_eq!(lic.skus[0].service_plans[0].name, "MCOEV");
        let amy = live.find_user("amy@x.com").unwrap();
        assert_eq!(amy.licences[0].sku_id, "sku-e5");
        assert_eq!(amy.licences[0].disabled_plans, ["p-ev"]);
        assert!(live.find_user("bob@x.com").unwrap().licences.is_empty());
        let text = serde_json::to_string(&from_live(&live)).unwrap();
        assert!(text.contains("\"subscribedSkus\""), "{text}");
        assert!(text.contains("\"assignedLicenses\":[]"), "{text}");
        assert_eq!(load(&serde_json::from_str(&text).unwrap()).unwrap(), live);
    }

    #[test]
    fn without_subscribed_skus_licences_are_not_recorded() {
        let mut snap = base();
        snap.as_object_mut().unwrap().remove("subscribedSkus");
        let live = load(&snap).unwrap();
        assert_eq!(live.licensing, None);
        assert!(live.users.iter().all(|u| u.licences.is_empty()));
        let text = serde_json::to_string(&from_live(&live)).unwrap();
        assert!(!text.contains("subscribedSkus"), "{text}");
        assert!(!text.contains("assignedLicenses"), "{text}");
    }

    #[test]
    fn bad_licence_data_names_its_place() {
        let mut snap = base();
        snap["users"][0]["assignedLicenses"][0]["skuId"] = json!(42);
        let (path, message) = path_of(&snap);
        assert_eq!(path, "$.users[0].assignedLicenses[0].skuId");
        assert!(message.contains("expected a string"), "{message}");

        let mut snap = base();
        snap["users"][0]["assignedLicenses"] = json!({"skuId": "sku-e5"});
        assert_eq!(path_of(&snap).0, "$.users[0].assignedLicenses");

        let mut snap = base();
        snap["users"][0]["assignedLicenses"][0]["skuId"] = json!(" ");
        let (path, message) = path_of(&snap);
        assert_eq!(path, "$.users[0].assignedLicenses[0].skuId");
        assert!(message.contains("`amy@x.com`"), "{message}");

        let mut snap = base();
        snap["subscribedSkus"][0]["servicePlans"][0]
            .as_object_mut()
            .unwrap()
            .remove("servicePlanId");
        let (path, message) = path_of(&snap);
        assert_eq!(path, "$.subscribedSkus[0].servicePlans[0]");
        assert!(message.contains("servicePlanId"), "{message}");

        let mut snap = base();
        let skus = snap["subscribedSkus"].as_array_mut().unwrap();
        skus.push(json!({"skuId": "SKU-E5"}));
        let (path, message) = path_of(&snap);
        assert_eq!(path, "$.subscribedSkus[1].skuId");
        assert!(message.contains("listed twice"), "{message}");
    }
}
