//! Writing through Graph: policy assignments in batches of many users per
//! `assign`/`unassign` call (a rejected batch is split to find the users at
//! fault), numbers through `assignNumber`/`unassignNumber` with polling of
//! the operation. A number operation that timed out is checked before it
//! is sent again, so a retried apply never double-applies.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::GraphError;
use super::http::{Api, Retry};
use super::read::{unwrap_single, urlencode};
use crate::live::LiveState;
use crate::numbers::{E164, NumberType};
use crate::plan::schedule::Step;
use crate::provider::Outcome;

pub async fn execute(api: Arc<Api>, live: Arc<LiveState>, writes: &[Step]) -> Vec<Outcome> {
    let mut tasks: JoinSet<Vec<Outcome>> = JoinSet::new();
    for w in writes.iter().cloned() {
        let (api, live) = (api.clone(), live.clone());
        tasks.spawn(async move { one(&api, &live, w).await });
    }
    let mut out = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(o) => out.extend(o),
            Err(e) => tracing::error!(error = %e, "a write task failed"),
        }
    }
    out
}

async fn one(api: &Api, live: &LiveState, w: Step) -> Vec<Outcome> {
    match w {
        Step::AssignPolicy {
            policy_type,
            policy,
            user_ids,
        } => {
            let Some(p) = live.policy(&policy_type, &policy) else {
                let msg =
                    format!("policy `{policy}` of type `{policy_type}` has no id in the tenant");
                return user_ids
                    .iter()
                    .map(|u| Outcome::failed(u, msg.clone()))
                    .collect();
            };
            let items: Vec<Value> = user_ids
                .iter()
                .map(|u| json!({ "@odata.type": "#microsoft.graph.teamsAdministration.teamsPolicyUserAssignment", "userId": u, "policyType": policy_type, "policyId": p.id }))
                .collect();
            policy_batch(
                api,
                "/admin/teams/policy/userAssignments/assign",
                &user_ids,
                items,
            )
            .await
        }
        Step::RemovePolicy {
            policy_type,
            user_ids,
        } => {
            let items: Vec<Value> = user_ids
                .iter()
                .map(|u| json!({ "@odata.type": "#microsoft.graph.teamsAdministration.teamsPolicyUserAssignment", "userId": u, "policyType": policy_type }))
                .collect();
            policy_batch(
                api,
                "/admin/teams/policy/userAssignments/unassign",
                &user_ids,
                items,
            )
            .await
        }
        Step::ReleaseNumber { user_id, number } => {
            let t = live
                .numbers
                .get(&number)
                .and_then(|a| a.number_type)
                .unwrap_or(NumberType::DirectRouting);
            let body = json!({ "telephoneNumber": number, "numberType": t.graph_name() });
            vec![number_op(api, "unassignNumber", &user_id, number, body, false).await]
        }
        Step::AssignNumber {
            user_id,
            number,
            number_type,
            location_id,
        } => {
            let mut body = json!({ "telephoneNumber": number, "assignmentTargetId": user_id, "numberType": number_type.graph_name(), "assignmentCategory": "primary" });
            if let Some(l) = location_id {
                body["locationId"] = Value::String(l);
            }
            vec![number_op(api, "assignNumber", &user_id, number, body, true).await]
        }
    }
}

/// One assign/unassign call for many users; a 400 is split in halves until
/// the users it is about are found.
async fn policy_batch(api: &Api, path: &str, users: &[String], items: Vec<Value>) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut stack = vec![(users.to_vec(), items)];
    while let Some((users, items)) = stack.pop() {
        let body = json!({ "value": items });
        match api
            .send(Method::POST, path, Some(&body), &[], Retry::Always)
            .await
        {
            Ok(_) => out.extend(users.iter().map(|u| Outcome::ok(u))),
            Err(GraphError::Api { status: 400, .. }) if users.len() > 1 => {
                let mid = users.len() / 2;
                stack.push((users[mid..].to_vec(), items[mid..].to_vec()));
                stack.push((users[..mid].to_vec(), items[..mid].to_vec()));
            }
            Err(e) => {
                let msg = e.to_string();
                out.extend(users.iter().map(|u| Outcome::failed(u, msg.clone())));
            }
        }
    }
    out
}

/// `assignNumber`/`unassignNumber`, then poll the operation.
async fn number_op(
    api: &Api,
    action: &str,
    user: &str,
    number: E164,
    body: Value,
    assign: bool,
) -> Outcome {
    let path = format!("/admin/teams/telephoneNumberManagement/numberAssignments/{action}");
    for round in 0..3 {
        let reply = api
            .send(Method::POST, &path, Some(&body), &[], Retry::NotOnTimeout)
            .await;
        match reply {
            Ok(r) => {
                let Some(location) = r.headers.get("location").and_then(|l| l.to_str().ok()) else {
                    return Outcome::ok(user);
                };
                return match poll(api, location).await {
                    Ok(()) => Outcome::ok(user),
                    Err(e) => Outcome::failed(user, e),
                };
            }
            Err(GraphError::Timeout { .. }) => {
                // The request may have been carried out: look before sending again.
                match number_state(api, number).await {
                    Ok(Some(holder)) if assign && holder == user => return Outcome::ok(user),
                    Ok(None) if !assign => return Outcome::ok(user),
                    Ok(_) => {
                        tracing::debug!(%number, round, "number operation timed out and did not happen; sending again")
                    }
                    Err(e) => return Outcome::failed(user, e.to_string()),
                }
            }
            Err(e) => return Outcome::failed(user, e.to_string()),
        }
    }
    Outcome::failed(user, format!("{action} for {number} timed out three times"))
}

/// Who holds a number now (`None`: nobody).
async fn number_state(api: &Api, number: E164) -> Result<Option<String>, GraphError> {
    let filter = urlencode(&format!("telephoneNumber eq '{number}'"));
    let v = api
        .get(
            &format!("/admin/teams/telephoneNumberManagement/numberAssignments?$filter={filter}"),
            &[],
        )
        .await?;
    Ok(v.get("value")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|n| n.get("assignmentTargetId"))
        .and_then(Value::as_str)
        .map(str::to_string))
}

/// Poll a telephone number operation until it ends, backing off from the
/// initial interval to the cap.
async fn poll(api: &Api, location: &str) -> Result<(), String> {
    let mut wait = api.settings.poll_initial;
    let deadline = tokio::time::Instant::now() + api.settings.poll_timeout;
    loop {
        let v = api.get(location, &[]).await.map_err(|e| e.to_string())?;
        let op = unwrap_single(v);
        match op.get("status").and_then(Value::as_str).unwrap_or("") {
            "succeeded" => return Ok(()),
            "failed" | "skipped" => {
                let detail = op["numbers"]
                    .as_array()
                    .and_then(|n| {
                        n.iter()
                            .find_map(|x| x.get("statusDetail").and_then(Value::as_str))
                    })
                    .unwrap_or("the number operation failed");
                return Err(detail.to_string());
            }
            _ => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "the number operation did not finish within {}s",
                api.settings.poll_timeout.as_secs()
            ));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2)
            .min(api.settings.poll_max)
            .max(Duration::from_millis(1));
    }
}
