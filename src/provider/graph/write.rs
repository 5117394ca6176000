//! Writing through Graph: policy assignments in calls of many users per
//! `assign`/`unassign` (a rejected call is split to find the users at
//! fault), numbers through `assignNumber`/`unassignNumber` with polling of
//! the operation. Calls go 20 to a `$batch`, many batches at once, paced
//! under Graph's write limit by the HTTP layer; the operations a batch of
//! number calls started are polled together, 20 to a `$batch`. A number
//! operation that timed out is checked before it is sent again, so a
//! retried apply never double-applies.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::GraphError;
use super::batch::{Item, MAX_BATCH};
use super::http::{Api, Retry};
use super::read::{unwrap_single, urlencode};
use crate::live::LiveState;
use crate::numbers::{E164, NumberType};
use crate::plan::schedule::Step;
use crate::provider::Outcome;

pub async fn execute(api: Arc<Api>, live: Arc<LiveState>, writes: &[Step]) -> Vec<Outcome> {
    let mut calls: Vec<Call> = Vec::new();
    let mut numbers: Vec<NumberJob> = Vec::new();
    let mut out = Vec::new();
    for w in writes.iter().cloned() {
        match prepare(&live, w) {
            Prepared::Call(c) => calls.push(c),
            Prepared::Number(n) => numbers.push(n),
            Prepared::Failed(o) => out.extend(o),
        }
    }
    let mut tasks: JoinSet<Vec<Outcome>> = JoinSet::new();
    let mut calls = calls.into_iter().peekable();
    while calls.peek().is_some() {
        let chunk: Vec<Call> = calls.by_ref().take(MAX_BATCH).collect();
        let api = api.clone();
        tasks.spawn(async move { policy_calls(&api, chunk).await });
    }
    let mut numbers = numbers.into_iter().peekable();
    while numbers.peek().is_some() {
        let chunk: Vec<NumberJob> = numbers.by_ref().take(MAX_BATCH).collect();
        let api = api.clone();
        tasks.spawn(async move { number_ops(&api, chunk).await });
    }
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(o) => out.extend(o),
            Err(e) => tracing::error!(error = %e, "a write task failed"),
        }
    }
    out
}

/// One `assign`/`unassign` call for many users.
struct Call {
    path: &'static str,
    users: Vec<String>,
    items: Vec<Value>,
}

/// One `assignNumber`/`unassignNumber`.
struct NumberJob {
    action: &'static str,
    user: String,
    number: E164,
    body: Value,
    assign: bool,
}

enum Prepared {
    Call(Call),
    Number(NumberJob),
    Failed(Vec<Outcome>),
}

const ASSIGN: &str = "/admin/teams/policy/userAssignments/assign";
const UNASSIGN: &str = "/admin/teams/policy/userAssignments/unassign";
const NUMBER_ACTIONS: &str = "/admin/teams/telephoneNumberManagement/numberAssignments";

fn prepare(live: &LiveState, w: Step) -> Prepared {
    match w {
        Step::AssignPolicy {
            policy_type,
            policy,
            user_ids,
        } => {
            let Some(p) = live.policy(&policy_type, &policy) else {
                let msg =
                    format!("policy `{policy}` of type `{policy_type}` has no id in the tenant");
                return Prepared::Failed(
                    user_ids
                        .iter()
                        .map(|u| Outcome::failed(u, msg.clone()))
                        .collect(),
                );
            };
            let items: Vec<Value> = user_ids
                .iter()
                .map(|u| json!({ "@odata.type": "#microsoft.graph.teamsAdministration.teamsPolicyUserAssignment", "userId": u, "policyType": policy_type, "policyId": p.id }))
                .collect();
            Prepared::Call(Call {
                path: ASSIGN,
                users: user_ids,
                items,
            })
        }
        Step::RemovePolicy {
            policy_type,
            user_ids,
        } => {
            let items: Vec<Value> = user_ids
                .iter()
                .map(|u| json!({ "@odata.type": "#microsoft.graph.teamsAdministration.teamsPolicyUserAssignment", "userId": u, "policyType": policy_type }))
                .collect();
            Prepared::Call(Call {
                path: UNASSIGN,
                users: user_ids,
                items,
            })
        }
        Step::ReleaseNumber { user_id, number } => {
            let t = live
                .numbers
                .get(&number)
                .and_then(|a| a.number_type)
                .unwrap_or(NumberType::DirectRouting);
            Prepared::Number(NumberJob {
                action: "unassignNumber",
                body: json!({ "telephoneNumber": number, "numberType": t.graph_name() }),
                user: user_id,
                number,
                assign: false,
            })
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
            Prepared::Number(NumberJob {
                action: "assignNumber",
                user: user_id,
                number,
                body,
                assign: true,
            })
        }
    }
}

/// Up to 20 policy calls in one `$batch`; a call answered 400 is split.
async fn policy_calls(api: &Api, calls: Vec<Call>) -> Vec<Outcome> {
    let items: Vec<Item> = calls
        .iter()
        .map(|c| Item {
            method: Method::POST,
            url: c.path.to_string(),
            body: Some(json!({ "value": c.items })),
        })
        .collect();
    let replies = api.batch(&items, Retry::Always).await;
    let mut out = Vec::new();
    for (c, r) in calls.into_iter().zip(replies) {
        match r {
            Ok(_) => out.extend(c.users.iter().map(|u| Outcome::ok(u))),
            Err(GraphError::Api { status: 400, .. }) if c.users.len() > 1 => {
                out.extend(policy_batch(api, c.path, &c.users, c.items).await)
            }
            Err(e) => {
                let msg = e.to_string();
                out.extend(c.users.iter().map(|u| Outcome::failed(u, msg.clone())));
            }
        }
    }
    out
}

/// Up to 20 number operations in one `$batch`, then their operations
/// polled together.
async fn number_ops(api: &Api, jobs: Vec<NumberJob>) -> Vec<Outcome> {
    let items: Vec<Item> = jobs
        .iter()
        .map(|j| Item {
            method: Method::POST,
            url: format!("{NUMBER_ACTIONS}/{}", j.action),
            body: Some(j.body.clone()),
        })
        .collect();
    let replies = api.batch(&items, Retry::NotOnTimeout).await;
    let mut out = Vec::new();
    let mut polls: Vec<(String, String)> = Vec::new();
    for (j, r) in jobs.into_iter().zip(replies) {
        match r {
            Ok(reply) => match reply.headers.get("location").and_then(|l| l.to_str().ok()) {
                Some(l) => polls.push((j.user, l.to_string())),
                None => out.push(Outcome::ok(&j.user)),
            },
            Err(GraphError::Timeout { .. }) => {
                // The request may have been carried out: look before sending again.
                out.push(match number_state(api, j.number).await {
                    Ok(Some(holder)) if j.assign && holder == j.user => Outcome::ok(&j.user),
                    Ok(None) if !j.assign => Outcome::ok(&j.user),
                    Ok(_) => number_op(api, j.action, &j.user, j.number, j.body, j.assign).await,
                    Err(e) => Outcome::failed(&j.user, e.to_string()),
                })
            }
            Err(e) => out.push(Outcome::failed(&j.user, e.to_string())),
        }
    }
    out.extend(poll_all(api, polls).await);
    out
}

/// Poll many operations together (20 to a `$batch`) until each ends,
/// backing off from the initial interval to the cap between rounds.
async fn poll_all(api: &Api, ops: Vec<(String, String)>) -> Vec<Outcome> {
    let mut out = Vec::new();
    // An operation whose location is not below the API's base is polled
    // on its own.
    let (mut pending, elsewhere): (Vec<_>, Vec<_>) =
        ops.into_iter().partition(|(_, l)| l.starts_with(&api.base));
    for (user, l) in elsewhere {
        out.push(match poll(api, &l).await {
            Ok(()) => Outcome::ok(&user),
            Err(e) => Outcome::failed(&user, e),
        });
    }
    let mut wait = api.settings.poll_initial;
    let deadline = tokio::time::Instant::now() + api.settings.poll_timeout;
    while !pending.is_empty() {
        let items: Vec<Item> = pending
            .iter()
            .map(|(_, l)| Item {
                method: Method::GET,
                url: l[api.base.len()..].to_string(),
                body: None,
            })
            .collect();
        let replies = api.batch(&items, Retry::Always).await;
        let mut running = Vec::new();
        for ((user, l), r) in pending.into_iter().zip(replies) {
            match r.map(|r| operation_state(r.body.unwrap_or(Value::Null))) {
                Ok(Some(Ok(()))) => out.push(Outcome::ok(&user)),
                Ok(Some(Err(detail))) => out.push(Outcome::failed(&user, detail)),
                Ok(None) => running.push((user, l)),
                Err(e) => out.push(Outcome::failed(&user, e.to_string())),
            }
        }
        pending = running;
        if pending.is_empty() {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            let msg = format!(
                "the number operation did not finish within {}s",
                api.settings.poll_timeout.as_secs()
            );
            out.extend(pending.iter().map(|(u, _)| Outcome::failed(u, msg.clone())));
            break;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2)
            .min(api.settings.poll_max)
            .max(Duration::from_millis(1));
    }
    out
}

/// What an operation says: `None` while it runs, else how it ended.
fn operation_state(v: Value) -> Option<Result<(), String>> {
    let op = unwrap_single(v);
    match op.get("status").and_then(Value::as_str).unwrap_or("") {
        "succeeded" => Some(Ok(())),
        "failed" | "skipped" => {
            let detail = op["numbers"]
                .as_array()
                .and_then(|n| {
                    n.iter()
                        .find_map(|x| x.get("statusDetail").and_then(Value::as_str))
                })
                .unwrap_or("the number operation failed");
            Some(Err(detail.to_string()))
        }
        _ => None,
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
        if let Some(end) = operation_state(v) {
            return end;
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
