//! Reading groups and their members from Graph: the groups the manifests'
//! `memberOf` conditions name (found by id or display name), or, for
//! `roster import`, every group of the tenant. Each group's user members
//! come from `transitiveMembers` at the largest page the tenant takes. Only
//! reads; [`super::read`] folds the groups into the snapshot.

use std::sync::Arc;

use serde_json::Value;
use tokio::task::JoinSet;

use super::GraphError;
use super::http::Api;
use super::read::{LOOKUPS_AT_ONCE, first_page, follow, is_guid, joined, odata_string, urlencode};
use crate::snapshot::SnapGroup;

pub(super) async fn group(api: Arc<Api>, key: String) -> Result<Vec<SnapGroup>, GraphError> {
    let filter = if is_guid(&key) {
        format!("id eq '{}'", odata_string(&key))
    } else {
        format!("displayName eq '{}'", odata_string(&key))
    };
    let url = format!(
        "/groups?$filter={}&$select=id,displayName",
        urlencode(&filter)
    );
    let mut found = Vec::new();
    api.pages(&url, &[], |v| {
        found.push((
            v.get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            v.get("displayName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        ));
        Ok(())
    })
    .await?;
    let mut out = Vec::new();
    for (id, name) in found {
        let members = members(&api, &id).await?;
        out.push(SnapGroup {
            id,
            display_name: name,
            members,
        });
    }
    Ok(out)
}

/// The user members of group `id`, transitively.
async fn members(api: &Api, id: &str) -> Result<Vec<String>, GraphError> {
    let mut members = Vec::new();
    // The largest page first; a tenant that refuses it (400) is read at
    // the endpoint's own page size.
    for top in ["&$top=999", ""] {
        members.clear();
        let url = format!(
            "/groups/{id}/transitiveMembers/microsoft.graph.user?$select=id&$count=true{top}"
        );
        let read = api
            .pages(&url, &[("ConsistencyLevel", "eventual")], |v| {
                if let Some(m) = v.get("id").and_then(Value::as_str) {
                    members.push(m.to_string());
                }
                Ok(())
            })
            .await;
        match read {
            Err(GraphError::Api { status: 400, .. }) if !top.is_empty() => continue,
            other => {
                other?;
                break;
            }
        }
    }
    Ok(members)
}

/// Every group of the tenant with its members (one listing, then each
/// group's members, `LOOKUPS_AT_ONCE` groups at a time).
pub(super) async fn all_groups(api: Arc<Api>) -> Result<Vec<SnapGroup>, GraphError> {
    let mut found: Vec<(String, String)> = Vec::new();
    let (page, _) = first_page::<Listed>(&api, "/groups?$select=id,displayName", &[999]).await?;
    follow(&api, page, |g| {
        found.push((g.id, g.display_name.unwrap_or_default()))
    })
    .await?;
    let slots = Arc::new(tokio::sync::Semaphore::new(LOOKUPS_AT_ONCE));
    let mut reads: JoinSet<Result<SnapGroup, GraphError>> = JoinSet::new();
    for (id, display_name) in found {
        let (api, slots) = (api.clone(), slots.clone());
        reads.spawn(async move {
            let _slot = slots.acquire_owned().await;
            let members = members(&api, &id).await?;
            Ok(SnapGroup {
                id,
                display_name,
                members,
            })
        });
    }
    let mut out = Vec::new();
    while let Some(done) = reads.join_next().await {
        out.push(joined(done)??);
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// A group as `/groups` lists it.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    id: String,
    display_name: Option<String>,
}
