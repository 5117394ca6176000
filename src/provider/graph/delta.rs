//! Incremental reads through Graph ([`Incremental`] for [`GraphProvider`]):
//! `/users/delta` with the full read's `$select`, every page followed to
//! the `@odata.deltaLink`, changes merged per user (Graph may repeat one);
//! and the Teams configuration and transitive groups of a few users,
//! twenty sub-requests to a `$batch`, throttled sub-requests sent again
//! after the largest `Retry-After`. A `410 Gone` or a `syncStateNotFound`
//! / `resyncRequired` answer becomes [`IncrementalError::Expired`]. It does
//! not write.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::http::{Api, Retry};
use super::read::{USER_SELECT, unwrap_single};
use super::{GraphError, GraphProvider};
use crate::live::LiveState;
use crate::provider::incremental::{Changes, Incremental, IncrementalError, TeamsUser, Traffic};
use crate::snapshot::{SnapAssignment, SnapPolicy, SnapUser};

/// Sub-requests per `$batch` (Graph's limit).
pub const BATCH: usize = 20;

fn expired(e: GraphError) -> IncrementalError {
    match &e {
        GraphError::Api { status: 410, .. } => IncrementalError::Expired(e.to_string()),
        GraphError::Api { code, .. }
            if code.eq_ignore_ascii_case("syncStateNotFound")
                || code.eq_ignore_ascii_case("resyncRequired") =>
        {
            IncrementalError::Expired(e.to_string())
        }
        _ => e.into(),
    }
}

async fn latest(api: &Api) -> Result<String, IncrementalError> {
    let page = api
        .get(
            &format!("/users/delta?$select={USER_SELECT}&$deltatoken=latest"),
            &[],
        )
        .await
        .map_err(expired)?;
    page.get("@odata.deltaLink")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            GraphError::Unexpected("`/users/delta` gave no `@odata.deltaLink`".into()).into()
        })
}

async fn changes(api: &Api, link: &str) -> Result<Changes, IncrementalError> {
    // By id, the latest entry wins: Graph may send a user twice.
    let mut seen: HashMap<String, Option<SnapUser>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut url = link.to_string();
    loop {
        let page = api.get(&url, &[]).await.map_err(expired)?;
        for v in page
            .get("value")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(id) = v.get("id").and_then(Value::as_str) else {
                continue;
            };
            let entry = if v.get("@removed").is_some() {
                None
            } else {
                Some(serde_json::from_value::<SnapUser>(v.clone()).map_err(|e| {
                    GraphError::Unexpected(format!(
                        "a user of `/users/delta` does not have the expected shape: {e}"
                    ))
                })?)
            };
            if seen.insert(id.to_string(), entry).is_none() {
                order.push(id.to_string());
            }
        }
        if let Some(next) = page.get("@odata.nextLink").and_then(Value::as_str) {
            url = next.to_string();
            continue;
        }
        let Some(link) = page.get("@odata.deltaLink").and_then(Value::as_str) else {
            return Err(GraphError::Unexpected(
                "a page of `/users/delta` had neither `@odata.nextLink` nor `@odata.deltaLink`"
                    .into(),
            )
            .into());
        };
        let mut out = Changes {
            link: link.to_string(),
            ..Changes::default()
        };
        for id in order {
            match seen.remove(&id).flatten() {
                Some(u) => out.users.push(u),
                None => out.removed.push(id),
            }
        }
        return Ok(out);
    }
}

/// `(sub-request id, url)` pairs, answered by id; sent in `$batch`es of
/// [`BATCH`], the throttled ones again after the largest `Retry-After`.
async fn batch(
    api: &Api,
    requests: Vec<(String, String)>,
) -> Result<HashMap<String, Value>, GraphError> {
    let mut out = HashMap::new();
    let mut todo = requests;
    let deadline = tokio::time::Instant::now() + api.settings.throttle_budget;
    while !todo.is_empty() {
        let mut again = Vec::new();
        let mut wait = Duration::ZERO;
        for chunk in todo.chunks(BATCH) {
            let body = json!({ "requests": chunk.iter().map(|(id, url)| json!({
                "id": id, "method": "GET", "url": url,
            })).collect::<Vec<_>>() });
            let reply = api
                .send(Method::POST, "/$batch", Some(&body), &[], Retry::Always)
                .await?;
            let responses = reply
                .body
                .as_ref()
                .and_then(|b| b.get("responses"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let by_id: HashMap<&str, &Value> = responses
                .iter()
                .filter_map(|r| Some((r.get("id")?.as_str()?, r)))
                .collect();
            for (id, url) in chunk {
                let Some(r) = by_id.get(id.as_str()) else {
                    again.push((id.clone(), url.clone()));
                    continue;
                };
                let status = r.get("status").and_then(Value::as_u64).unwrap_or(0);
                match status {
                    200..=299 => {
                        out.insert(id.clone(), r.get("body").cloned().unwrap_or(Value::Null));
                    }
                    // Not in Teams (or the directory) any more: nothing held.
                    404 => {
                        out.insert(id.clone(), Value::Null);
                    }
                    429 | 503 | 504 => {
                        if status == 429 {
                            api.counters.throttled.fetch_add(1, Ordering::Relaxed);
                        }
                        let after = r
                            .get("headers")
                            .and_then(|h| {
                                h.as_object()?
                                    .iter()
                                    .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                                    .and_then(|(_, v)| v.as_str()?.trim().parse::<f64>().ok())
                            })
                            .map(Duration::from_secs_f64)
                            .unwrap_or(api.settings.backoff_base);
                        wait = wait.max(after);
                        again.push((id.clone(), url.clone()));
                    }
                    s => {
                        let body = r.get("body");
                        let code = body
                            .and_then(|b| b["error"]["code"].as_str())
                            .unwrap_or_default();
                        let message = body
                            .and_then(|b| b["error"]["message"].as_str())
                            .unwrap_or_default();
                        return Err(GraphError::Api {
                            route: format!("GET {} (in $batch)", route_of(url)),
                            status: s as u16,
                            code: code.to_string(),
                            message: message.to_string(),
                            attempts: 1,
                            request_id: None,
                        });
                    }
                }
            }
        }
        if !again.is_empty() && tokio::time::Instant::now() + wait > deadline {
            return Err(GraphError::Throttled {
                route: "POST /$batch".into(),
                code: "TooManyRequests".into(),
                message: format!("{} sub-requests still throttled", again.len()),
                attempts: 1,
                request_id: None,
            });
        }
        tokio::time::sleep(wait).await;
        todo = again;
    }
    Ok(out)
}

/// A user id (or UPN) as one path segment: only what a segment cannot
/// hold is escaped, so a GUID goes as it is (a `$batch` sub-request URL is
/// not always decoded again).
fn segment(s: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'@');
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// The route of a sub-request URL, without ids or query (for messages).
fn route_of(url: &str) -> String {
    let path = url.split('?').next().unwrap_or_default();
    path.split('/')
        .map(|s| if s.len() >= 32 { "{id}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

async fn read_users(
    api: &Api,
    ids: &[String],
    groups: bool,
) -> Result<Vec<TeamsUser>, IncrementalError> {
    let mut requests = Vec::new();
    for (k, id) in ids.iter().enumerate() {
        let enc = segment(id);
        requests.push((
            format!("c{k}"),
            format!("/admin/teams/userConfigurations/{enc}"),
        ));
        if groups {
            requests.push((
                format!("g{k}"),
                format!("/users/{enc}/transitiveMemberOf?$select=id&$top=999"),
            ));
        }
    }
    let mut answers = batch(api, requests).await?;
    let mut out = Vec::with_capacity(ids.len());
    for (k, id) in ids.iter().enumerate() {
        let mut user = TeamsUser {
            id: id.clone(),
            ..TeamsUser::default()
        };
        if let Some(cfg) = answers.remove(&format!("c{k}")) {
            configuration(id, unwrap_single(cfg), &mut user);
        }
        if let Some(mut page) = answers.remove(&format!("g{k}")) {
            loop {
                for g in page
                    .get("value")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let group = g
                        .get("@odata.type")
                        .and_then(Value::as_str)
                        .is_none_or(|t| t.eq_ignore_ascii_case("#microsoft.graph.group"));
                    if let (true, Some(gid)) = (group, g.get("id").and_then(Value::as_str)) {
                        user.groups.push(gid.to_string());
                    }
                }
                match page.get("@odata.nextLink").and_then(Value::as_str) {
                    Some(next) => page = api.get(next, &[]).await?,
                    None => break,
                }
            }
        }
        out.push(user);
    }
    Ok(out)
}

/// The direct assignments and the policies of one `teamsUserConfiguration`
/// (`Tag:` prefixes dropped, as the full read does).
fn configuration(id: &str, cfg: Value, user: &mut TeamsUser) {
    let mut policies: BTreeMap<(String, String), SnapPolicy> = BTreeMap::new();
    for e in cfg
        .get("effectivePolicyAssignments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let ty = e["policyType"].as_str().unwrap_or_default().to_string();
        let a = &e["policyAssignment"];
        let name = a["displayName"].as_str().unwrap_or_default();
        let name = name.strip_prefix("Tag:").unwrap_or(name).to_string();
        if let Some(pid) = a["policyId"].as_str().filter(|p| !p.is_empty()) {
            policies.insert(
                (ty.to_lowercase(), name.to_lowercase()),
                SnapPolicy {
                    policy_type: ty.clone(),
                    name: name.clone(),
                    policy_id: pid.to_string(),
                },
            );
        }
        if a["assignmentType"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("direct"))
        {
            user.assignments.push(SnapAssignment {
                user_id: id.to_string(),
                policy_type: ty,
                policy_name: name,
            });
        }
    }
    user.policies = policies.into_values().collect();
}

impl Incremental for GraphProvider {
    fn latest(&mut self) -> Result<String, IncrementalError> {
        let api = self.api.clone();
        self.rt.block_on(async move { latest(&api).await })
    }

    fn changes(&mut self, link: &str) -> Result<Changes, IncrementalError> {
        let api = self.api.clone();
        self.rt.block_on(async move { changes(&api, link).await })
    }

    fn read_users(
        &mut self,
        ids: &[String],
        groups: bool,
    ) -> Result<Vec<TeamsUser>, IncrementalError> {
        let api = self.api.clone();
        self.rt
            .block_on(async move { read_users(&api, ids, groups).await })
    }

    fn base_writes_on(&mut self, live: Arc<LiveState>) {
        self.live = Some(live);
    }

    fn traffic(&self) -> Traffic {
        Traffic {
            requests: self.api.counters.requests.load(Ordering::Relaxed),
            throttled: self.api.counters.throttled.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_gives_direct_assignments_and_every_policy_id() {
        let cfg = json!({ "effectivePolicyAssignments": [
            { "policyType": "TeamsCallingPolicy", "policyAssignment":
                { "displayName": "Tag:AllOn", "assignmentType": "direct", "policyId": "p1" } },
            { "policyType": "TeamsMeetingPolicy", "policyAssignment":
                { "displayName": "Mtg", "assignmentType": "group", "policyId": "p2", "groupId": "g" } },
        ]});
        let mut u = TeamsUser::default();
        configuration("u1", cfg, &mut u);
        assert_eq!(u.assignments.len(), 1);
        assert_eq!(u.assignments[0].policy_name, "AllOn");
        assert_eq!(u.assignments[0].user_id, "u1");
        assert_eq!(u.policies.len(), 2);
    }

    #[test]
    fn ids_and_upns_go_into_a_path_as_they_are() {
        assert_eq!(
            segment("0b4c5d6e-1111-2222-3333-444455556666"),
            "0b4c5d6e-1111-2222-3333-444455556666"
        );
        assert_eq!(segment("ada.l@contoso.com"), "ada.l@contoso.com");
        assert_eq!(segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
    }

    #[test]
    fn sub_request_routes_hide_ids() {
        assert_eq!(
            route_of("/users/0b4c5d6e-1111-2222-3333-444455556666/transitiveMemberOf?$select=id"),
            "/users/{id}/transitiveMemberOf"
        );
    }
}
