//! Unit tests of [`super`]: the index through writes, and pages against
//! brute-force scans of the tenant.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::super::api::{self, ApiOptions, Request, Response};
use super::super::state::TenantState;

const TENANT: &str = include_str!("../../examples/tenant-config/tenant.json");

fn tenant() -> TenantState {
    TenantState::load(TENANT.into(), "tenant.json", None, Duration::ZERO).unwrap()
}

fn call(
    t: &mut TenantState,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<Value>,
) -> Response {
    let req = Request {
        method,
        path,
        version: "v1.0",
        query: query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        consistency_eventual: true,
        body,
        base: "http://emu",
    };
    api::handle(t, &ApiOptions::default(), &req)
}

/// A user's configuration computed the slow way, by scanning the whole
/// tenant (what the emulator did before it had an index).
fn brute_configuration(t: &TenantState, i: usize) -> Value {
    let u = &t.live.users[i];
    let mut by_group: BTreeMap<&str, (u32, &str, &str)> = BTreeMap::new();
    for g in &t.live.group_policies {
        let direct = t
            .live
            .groups
            .iter()
            .any(|grp| grp.id == g.group_id && grp.members.contains(&u.id));
        if direct && !u.policies.contains_key(&g.policy_type) {
            let e = by_group
                .entry(&g.policy_type)
                .or_insert((g.rank, &g.policy_name, &g.group_id));
            if g.rank < e.0 {
                *e = (g.rank, &g.policy_name, &g.group_id);
            }
        }
    }
    let pid = |ty: &str, name: &str| {
        t.live
            .policy(ty, name)
            .map(|p| p.id.clone())
            .unwrap_or_default()
    };
    let mut effective: Vec<Value> = u.policies.iter().map(|(ty, name)| json!({
        "policyType": ty,
        "policyAssignment": { "displayName": name, "assignmentType": "direct", "policyId": pid(ty, name) }
    })).collect();
    for (ty, (_, name, group)) in by_group {
        effective.push(json!({
            "policyType": ty,
            "policyAssignment": { "displayName": name, "assignmentType": "group", "policyId": pid(ty, name), "groupId": group }
        }));
    }
    let numbers: Vec<Value> = t.live.numbers.values()
        .filter(|n| n.target.as_deref() == Some(u.id.as_str()) && n.is_held())
        .map(|n| json!({ "telephoneNumber": n.number.to_string(), "assignmentCategory": n.category.clone().unwrap_or_else(|| "primary".into()) }))
        .collect();
    json!({ "effective": effective, "numbers": numbers, "voice": t.enterprise_voice.contains(&u.id) })
}

fn indexed_configuration(v: &Value) -> Value {
    json!({ "effective": v["effectivePolicyAssignments"], "numbers": v["telephoneNumbers"], "voice": v["isEnterpriseVoiceEnabled"] })
}

/// Every page of `userConfigurations`, and the holder index, agree with
/// the brute-force computation.
fn check(t: &mut TenantState) {
    let mut seen = 0;
    let mut token: Option<String> = None;
    loop {
        let mut q = vec![("$top", "37")];
        if let Some(tok) = &token {
            q.push(("$skiptoken", tok));
        }
        let r = call(t, "GET", "/admin/teams/userConfigurations", &q, None);
        let body = r.body_value().unwrap();
        for v in body["value"].as_array().unwrap() {
            let i = t.idx.user[v["id"].as_str().unwrap()];
            assert_eq!(i, seen, "pages in user order");
            assert_eq!(
                indexed_configuration(v),
                brute_configuration(t, i),
                "user {i}"
            );
            seen += 1;
        }
        match body.get("@odata.nextLink").and_then(Value::as_str) {
            Some(link) => {
                let url = url::Url::parse(link).unwrap();
                token = url
                    .query_pairs()
                    .find(|(k, _)| k == "$skiptoken")
                    .map(|(_, v)| v.to_string());
            }
            None => break,
        }
    }
    assert_eq!(seen, t.live.users.len());
    let brute: std::collections::BTreeSet<_> = t
        .live
        .numbers
        .values()
        .filter_map(|n| n.target.clone().map(|tg| (tg, n.number)))
        .collect();
    assert_eq!(t.idx.holder_pairs(), brute);
}

fn number_op(
    t: &mut TenantState,
    action: &str,
    number: &str,
    number_type: &str,
    user: Option<&str>,
) {
    let mut body = json!({ "telephoneNumber": number, "numberType": number_type });
    if let Some(u) = user {
        body["assignmentTargetId"] = json!(u);
    }
    let path = format!("/admin/teams/telephoneNumberManagement/numberAssignments/{action}");
    assert_eq!(call(t, "POST", &path, &[], Some(body)).status, 202);
}

#[test]
fn the_index_stays_right_through_writes() {
    let mut t = tenant();
    check(&mut t);
    let users: Vec<String> = t.live.users.iter().map(|u| u.id.clone()).collect();
    let free: Vec<(String, String)> = t
        .live
        .numbers
        .values()
        .filter(|n| !n.is_held() && n.can_assign_to_user())
        .map(|n| {
            (
                n.number.to_string(),
                n.number_type.unwrap().graph_name().to_string(),
            )
        })
        .take(3)
        .collect();
    let held: Vec<(String, String, String)> = t
        .live
        .numbers
        .values()
        .filter(|n| n.is_held() && n.target.is_some())
        .map(|n| {
            (
                n.number.to_string(),
                n.number_type.unwrap().graph_name().to_string(),
                n.target.clone().unwrap(),
            )
        })
        .take(2)
        .collect();
    assert!(
        free.len() == 3 && held.len() == 2,
        "the example tenant has numbers to move"
    );
    // Assign free numbers; move a held number to another user (it
    // fails while held, then succeeds once unassigned); unassign. A step
    // is the action, the number and its type, and the user; the index is
    // checked after each batch.
    type Step<'a> = (&'a str, &'a str, &'a str, Option<&'a str>);
    let (assign, unassign) = ("assignNumber", "unassignNumber");
    let user = |i: usize| Some(users[i].as_str());
    let first: [Step; 4] = [
        (assign, &free[0].0, &free[0].1, user(0)),
        (assign, &free[1].0, &free[1].1, user(0)),
        (assign, &free[2].0, &free[2].1, user(5)),
        (assign, &held[0].0, &held[0].1, user(7)),
    ];
    let second: [Step; 5] = [
        (unassign, &held[0].0, &held[0].1, None),
        (assign, &held[0].0, &held[0].1, user(7)),
        (unassign, &free[1].0, &free[1].1, None),
        (unassign, &held[1].0, &held[1].1, None),
        (assign, &free[2].0, &free[2].1, Some("no-such-user")),
    ];
    for batch in [&first[..], &second[..]] {
        for &(action, number, number_type, to) in batch {
            number_op(&mut t, action, number, number_type, to);
        }
        check(&mut t);
    }
    // Direct policy assignments hide group ones and come back off.
    let gp = t.live.group_policies[0].clone();
    let member = t
        .live
        .groups
        .iter()
        .find(|g| g.id == gp.group_id)
        .unwrap()
        .members[0]
        .clone();
    let policy_id = t
        .live
        .policy(&gp.policy_type, "Global")
        .map(|p| p.id.clone());
    let other = t.live.policies[&gp.policy_type]
        .values()
        .find(|p| p.name != gp.policy_name)
        .unwrap()
        .id
        .clone();
    let assign = |u: &str, id: &str| json!({ "value": [{ "userId": u, "policyType": gp.policy_type, "policyId": id }] });
    let path = "/admin/teams/policy/userAssignments";
    assert_eq!(
        call(
            &mut t,
            "POST",
            &format!("{path}/assign"),
            &[],
            Some(assign(&member, &other))
        )
        .status,
        204
    );
    assert_eq!(
        call(
            &mut t,
            "POST",
            &format!("{path}/assign"),
            &[],
            Some(assign(&users[3], &other))
        )
        .status,
        204
    );
    check(&mut t);
    let unassign = json!({ "value": [{ "userId": member, "policyType": gp.policy_type }] });
    assert_eq!(
        call(
            &mut t,
            "POST",
            &format!("{path}/unassign"),
            &[],
            Some(unassign)
        )
        .status,
        204
    );
    check(&mut t);
    assert!(policy_id.is_none(), "Global is never listed");
}

#[test]
fn group_members_and_filtered_users_page_as_a_full_scan_would() {
    let mut t = tenant();
    for g in t.live.groups.clone() {
        let brute: Vec<String> = t
            .live
            .users
            .iter()
            .filter(|u| u.groups.contains(&(t.idx.group[&g.id])))
            .map(|u| u.id.clone())
            .collect();
        let path = format!("/groups/{}/transitiveMembers/microsoft.graph.user", g.id);
        let mut got = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut q = vec![("$top", "7"), ("$count", "true"), ("$select", "id")];
            if let Some(tok) = &token {
                q.push(("$skiptoken", tok));
            }
            let body = call(&mut t, "GET", &path, &q, None).body_value().unwrap();
            got.extend(
                body["value"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v["id"].as_str().unwrap().to_string()),
            );
            match body.get("@odata.nextLink").and_then(Value::as_str) {
                Some(link) => {
                    token = url::Url::parse(link)
                        .unwrap()
                        .query_pairs()
                        .find(|(k, _)| k == "$skiptoken")
                        .map(|(_, v)| v.to_string())
                }
                None => break,
            }
        }
        assert_eq!(got, brute, "{}", g.display_name);
    }
    let brute: Vec<String> = t
        .users_json
        .iter()
        .map(|u| u.value())
        .filter(|u| {
            u["city"]
                .as_str()
                .is_some_and(|c| c.eq_ignore_ascii_case("london"))
        })
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    let mut got = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut q = vec![("$top", "5"), ("$filter", "city eq 'London'")];
        if let Some(tok) = &token {
            q.push(("$skiptoken", tok));
        }
        let body = call(&mut t, "GET", "/users", &q, None)
            .body_value()
            .unwrap();
        let page = body["value"].as_array().unwrap();
        assert!(!page.is_empty(), "no empty pages");
        got.extend(page.iter().map(|v| v["id"].as_str().unwrap().to_string()));
        match body.get("@odata.nextLink").and_then(Value::as_str) {
            Some(link) => {
                token = url::Url::parse(link)
                    .unwrap()
                    .query_pairs()
                    .find(|(k, _)| k == "$skiptoken")
                    .map(|(_, v)| v.to_string())
            }
            None => break,
        }
    }
    assert!(brute.len() > 5);
    assert_eq!(got, brute);
}

#[test]
fn numbers_by_id_by_number_and_filtered_pages_match_a_scan() {
    let mut t = tenant();
    let base = "/admin/teams/telephoneNumberManagement/numberAssignments";
    let all: Vec<Value> = t.live.numbers.values().map(|n| t.number_json(n)).collect();
    for n in all.iter().step_by(7) {
        let id = n["id"].as_str().unwrap();
        let got = call(&mut t, "GET", &format!("{base}/{id}"), &[], None);
        assert_eq!(got.body.unwrap(), *n, "by id, bare by default");
        let filter = format!(
            "telephoneNumber eq '{}'",
            n["telephoneNumber"].as_str().unwrap()
        );
        let got = call(&mut t, "GET", base, &[("$filter", &filter)], None);
        assert_eq!(got.body_value().unwrap()["value"], json!([n]));
    }
    let unknown =
        super::super::state::number_entity_id("other-tenant", "+442071230000".parse().unwrap());
    assert_eq!(
        call(&mut t, "GET", &format!("{base}/{unknown}"), &[], None).status,
        404
    );
    assert_eq!(
        call(&mut t, "GET", &format!("{base}/not-base64!"), &[], None).status,
        404
    );
    // Pages of a filtered and of an unfiltered list, by $top and $skip.
    for filter in [None, Some("assignmentStatus eq 'unassigned'")] {
        let brute: Vec<&Value> = all
            .iter()
            .filter(|n| filter.is_none() || n["assignmentStatus"] == "unassigned")
            .collect();
        let mut got = Vec::new();
        let mut skip = 0;
        loop {
            let skip_s = skip.to_string();
            let mut q = vec![("$top", "9"), ("$skip", skip_s.as_str())];
            if let Some(f) = filter {
                q.push(("$filter", f));
            }
            let body = call(&mut t, "GET", base, &q, None).body_value().unwrap();
            got.extend(body["value"].as_array().unwrap().clone());
            if body.get("@odata.nextLink").is_none() {
                break;
            }
            skip += 9;
        }
        assert!(brute.len() > 9, "{filter:?}");
        assert_eq!(got.iter().collect::<Vec<_>>(), brute, "{filter:?}");
    }
}
