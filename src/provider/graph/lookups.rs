//! The lookups of a read in JSON batches: GETs sent 20 to a `$batch`
//! ([`super::batch`]), the batches at once, each holding one of the read's
//! lookup slots while it is in flight (a batch is one request in flight,
//! whatever it carries); and the policy lookups (`getPolicyId`, one per
//! policy name the manifests use) made with them. The group lookups and
//! member pages ([`super::groups`]) go the same way. Only reads; what an
//! answer means is the caller's, and an item's error is the error the
//! same GET alone would have met.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::GraphError;
use super::batch::{Item, MAX_BATCH};
use super::http::{Api, Retry};
use super::read::{joined, odata_string, urlencode};
use crate::snapshot::SnapPolicy;

/// Headers sent with every GET of a lookup.
pub(super) type Headers = &'static [(&'static str, &'static str)];

/// The answers (bodies) to `GET url` for each of `urls`, in their order.
/// A URL is below the version root (`/groups?…`) or a link Graph gave; a
/// link below the API's base is batched by its path, any other is asked on
/// its own (and checked as every link is). `headers` go with each GET.
pub(super) async fn get_all(
    api: &Arc<Api>,
    slots: &Arc<Semaphore>,
    urls: Vec<String>,
    headers: Headers,
) -> Vec<Result<Value, GraphError>> {
    let mut out: Vec<Option<Result<Value, GraphError>>> = urls.iter().map(|_| None).collect();
    let (mut batched, mut single) = (Vec::new(), Vec::new());
    for (i, url) in urls.into_iter().enumerate() {
        match below_base(&api.base, &url) {
            Some(path) => batched.push((i, path)),
            None => single.push((i, url)),
        }
    }
    type Answers = Vec<(usize, Result<Value, GraphError>)>;
    let mut tasks: JoinSet<Answers> = JoinSet::new();
    for chunk in batched.chunks(MAX_BATCH) {
        let (api, slots, chunk) = (api.clone(), slots.clone(), chunk.to_vec());
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await;
            let items: Vec<Item> = chunk
                .iter()
                .map(|(_, url)| Item {
                    method: Method::GET,
                    url: url.clone(),
                    body: None,
                })
                .collect();
            let replies = api.batch_with(&items, headers, Retry::Always).await;
            chunk
                .into_iter()
                .zip(replies)
                .map(|((i, _), r)| (i, r.map(|r| r.body.unwrap_or(Value::Null))))
                .collect()
        });
    }
    for (i, url) in single {
        let (api, slots) = (api.clone(), slots.clone());
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await;
            vec![(i, api.get(&url, headers).await)]
        });
    }
    while let Some(done) = tasks.join_next().await {
        match joined(done) {
            Ok(answers) => {
                for (i, r) in answers {
                    out[i] = Some(r);
                }
            }
            Err(e) => {
                // Which GETs the task carried is lost with it: every GET
                // still unanswered fails so.
                let text = e.to_string();
                for o in out.iter_mut().filter(|o| o.is_none()) {
                    *o = Some(Err(GraphError::Transport(text.clone())));
                }
            }
        }
    }
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err(GraphError::Unexpected("no answer".into()))))
        .collect()
}

/// `url` as a batch item's URL (below the version root), unless it is a
/// link elsewhere than below `base` (the API's `{endpoint}/v1.0`).
fn below_base(base: &str, url: &str) -> Option<String> {
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Some(url.to_string());
    }
    url.strip_prefix(base)
        .filter(|rest| rest.starts_with('/'))
        .map(str::to_string)
}

/// The rows of a page and its `@odata.nextLink` (a body that is not a
/// page has neither).
pub(super) fn rows(body: Value) -> (Vec<Value>, Option<String>) {
    let Value::Object(mut page) = body else {
        return (Vec::new(), None);
    };
    let next = page
        .get("@odata.nextLink")
        .and_then(Value::as_str)
        .map(str::to_string);
    match page.remove("value") {
        Some(Value::Array(rows)) => (rows, next),
        _ => (Vec::new(), next),
    }
}

/// The policies of `wanted` ((type, name) pairs) as `getPolicyId` names
/// them, 20 lookups to a `$batch`, in the order of `wanted`; an unknown
/// name (a `404`, or no policy in the answer) is left out, and the plan
/// reports it as `unknown-policy`.
pub(super) async fn policies(
    api: Arc<Api>,
    slots: Arc<Semaphore>,
    wanted: Vec<(String, String)>,
) -> Result<Vec<SnapPolicy>, GraphError> {
    let urls = wanted.iter().map(|(t, n)| policy_url(t, n)).collect();
    let answers = get_all(&api, &slots, urls, &[]).await;
    let mut out = Vec::new();
    for ((ty, name), answer) in wanted.into_iter().zip(answers) {
        match answer {
            Ok(body) => out.extend(policy_of(ty, &name, &body)),
            Err(GraphError::Api { status: 404, .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn policy_url(ty: &str, name: &str) -> String {
    format!(
        "/admin/teams/policy/getPolicyId(type='{}',name='{}')",
        urlencode(&odata_string(ty)),
        urlencode(&odata_string(name))
    )
}

/// The policy a `getPolicyId` answer names first, named as the tenant
/// names it (without the `Tag:` prefix), else as it was asked.
fn policy_of(ty: String, name: &str, body: &Value) -> Option<SnapPolicy> {
    let p = body.get("value")?.as_array()?.first()?;
    let n = p.get("name").and_then(Value::as_str).unwrap_or(name);
    Some(SnapPolicy {
        name: n.strip_prefix("Tag:").unwrap_or(n).to_string(),
        policy_id: p
            .get("policyId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        policy_type: ty,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_get_policy_id_answer_names_the_policy_as_the_tenant_does() {
        let body = json!({ "value": [
            { "policyId": "p-1", "name": "Tag:AllOn" },
            { "policyId": "p-2", "name": "Other" } ] });
        let p = policy_of("TeamsMeetingPolicy".into(), "allon", &body).unwrap();
        assert_eq!(
            (
                p.policy_type.as_str(),
                p.name.as_str(),
                p.policy_id.as_str()
            ),
            ("TeamsMeetingPolicy", "AllOn", "p-1")
        );
        let bare = policy_of(
            "T".into(),
            "Asked",
            &json!({ "value": [{ "policyId": "x" }] }),
        );
        assert_eq!(bare.unwrap().name, "Asked");
        assert!(policy_of("T".into(), "n", &json!({ "value": [] })).is_none());
        assert!(policy_of("T".into(), "n", &Value::Null).is_none());
    }

    #[test]
    fn a_policy_url_quotes_and_encodes_the_name() {
        assert_eq!(
            policy_url("TeamsMeetingPolicy", "O'Brien all"),
            "/admin/teams/policy/getPolicyId(type='TeamsMeetingPolicy',name='O%27%27Brien%20all')"
        );
    }

    #[test]
    fn only_links_below_the_base_go_in_a_batch() {
        let base = "http://127.0.0.1:9/v1.0";
        let link = "http://127.0.0.1:9/v1.0/groups/g/transitiveMembers?$skiptoken=2";
        assert_eq!(
            below_base(base, link).as_deref(),
            Some("/groups/g/transitiveMembers?$skiptoken=2")
        );
        assert_eq!(
            below_base(base, "/groups?$top=1").as_deref(),
            Some("/groups?$top=1")
        );
        for elsewhere in [
            "http://127.0.0.1:9/beta/groups",
            "http://127.0.0.1:9/v1.0x/groups",
            "http://evil.example/v1.0/groups",
            "https://127.0.0.1:9/v1.0/groups",
        ] {
            assert_eq!(below_base(base, elsewhere), None, "{elsewhere}");
        }
    }

    #[test]
    fn rows_and_the_next_link_of_a_page() {
        let (rows_, next) =
            rows(json!({ "value": [{ "id": "a" }], "@odata.nextLink": "http://x/n" }));
        assert_eq!((rows_.len(), next.as_deref()), (1, Some("http://x/n")));
        let (rows_, next) = rows(json!({ "value": {} }));
        assert!(rows_.is_empty() && next.is_none());
        assert_eq!(rows(Value::Null), (Vec::new(), None));
    }
}
