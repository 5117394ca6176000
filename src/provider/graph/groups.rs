//! Reading groups and their members from Graph: the groups the manifests'
//! `memberOf` conditions name (found by id or display name, the lookups 20
//! to a `$batch`), or, for `roster import`, every group of the tenant.
//! Each group's user members come from `transitiveMembers` at the largest
//! page the tenant takes, the first pages of 20 groups in one `$batch`
//! ([`super::lookups`]), then each long list's next pages one after the
//! other, the lists side by side. Only reads; [`super::read`] folds the
//! groups into the snapshot.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::GraphError;
use super::http::Api;
use super::lookups::{Headers, get_all, rows};
use super::read::{LOOKUPS_AT_ONCE, first_page, follow, is_guid, joined, odata_string, urlencode};
use crate::snapshot::SnapGroup;

/// Advanced query (the cast to users, `$count`) needs this on every page.
const ADVANCED: Headers = &[("ConsistencyLevel", "eventual")];

/// The groups `keys` name (an object id, else a display name, which may
/// name several groups), each once, with their members; in the order
/// found.
pub(super) async fn groups(
    api: Arc<Api>,
    slots: Arc<Semaphore>,
    keys: Vec<String>,
) -> Result<Vec<SnapGroup>, GraphError> {
    let urls = keys.iter().map(|k| filter_url(k)).collect();
    let mut found: Vec<(String, String)> = Vec::new();
    let mut seen = HashSet::new();
    for answer in get_all(&api, &slots, urls, &[]).await {
        let (rows, next) = rows(answer?);
        let mut add = |v: Value| {
            let id = text(&v, "id");
            if seen.insert(id.clone()) {
                found.push((id, text(&v, "displayName")));
            }
            Ok::<(), GraphError>(())
        };
        for v in rows {
            add(v)?;
        }
        // A name that many groups share may take more than a page.
        if let Some(next) = next {
            api.pages(&next, &[], &mut add).await?;
        }
    }
    with_members(&api, &slots, found).await
}

/// The groups `found` (id, display name), each with its user members as
/// [`members_of`] reads them, in the same order.
async fn with_members(
    api: &Arc<Api>,
    slots: &Arc<Semaphore>,
    found: Vec<(String, String)>,
) -> Result<Vec<SnapGroup>, GraphError> {
    let ids: Vec<String> = found.iter().map(|(id, _)| id.clone()).collect();
    let members = members_of(api, slots, &ids).await?;
    Ok(found
        .into_iter()
        .zip(members)
        .map(|((id, display_name), members)| SnapGroup {
            id,
            display_name,
            members,
        })
        .collect())
}

fn filter_url(key: &str) -> String {
    let filter = if is_guid(key) {
        format!("id eq '{}'", odata_string(key))
    } else {
        format!("displayName eq '{}'", odata_string(key))
    };
    format!(
        "/groups?$filter={}&$select=id,displayName",
        urlencode(&filter)
    )
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The first page of group `id`'s user members, at 999 a page, else at
/// the endpoint's own page size.
fn members_url(id: &str, largest: bool) -> String {
    let top = if largest { "&$top=999" } else { "" };
    format!("/groups/{id}/transitiveMembers/microsoft.graph.user?$select=id&$count=true{top}")
}

/// One group's members as they are read.
#[derive(Default)]
struct Members {
    ids: Vec<String>,
    /// The page to ask next.
    next: Option<String>,
    /// Read at the largest page (until the tenant refuses it).
    largest: bool,
    /// How many members the first page announced (`@odata.count`).
    count: u64,
}

impl Members {
    /// Fold in a page: its members, and the link to the next.
    fn add(&mut self, body: Value) {
        let (rows, next) = rows(body);
        self.ids.extend(
            rows.iter()
                .filter_map(|v| v.get("id").and_then(Value::as_str))
                .map(str::to_string),
        );
        self.next = next;
    }
}

/// The user members of each group of `ids`, transitively, in the order of
/// `ids`. The first pages go 20 to a `$batch` (a group whose large page
/// the tenant refuses, 400, is asked again at the endpoint's page size, in
/// a batch too); then each long list follows its `@odata.nextLink`s on its
/// own, one page after the other as Graph links them, the longest lists
/// first and each holding a slot: a list's next page never waits for
/// other lists' pages, so the longest list costs its pages' round trips.
pub(super) async fn members_of(
    api: &Arc<Api>,
    slots: &Arc<Semaphore>,
    ids: &[String],
) -> Result<Vec<Vec<String>>, GraphError> {
    let mut reads: Vec<Members> = ids.iter().map(|_| Members::default()).collect();
    let mut asked: Vec<usize> = (0..ids.len()).collect();
    for largest in [true, false] {
        let urls = asked
            .iter()
            .map(|&i| members_url(&ids[i], largest))
            .collect();
        let answers = get_all(api, slots, urls, ADVANCED).await;
        let mut refused = Vec::new();
        for (i, answer) in asked.into_iter().zip(answers) {
            match answer {
                Ok(body) => {
                    let read = &mut reads[i];
                    read.largest = largest;
                    read.count = body
                        .get("@odata.count")
                        .and_then(Value::as_u64)
                        .unwrap_or(0);
                    read.add(body);
                }
                Err(GraphError::Api { status: 400, .. }) if largest => refused.push(i),
                Err(e) => return Err(e),
            }
        }
        asked = refused;
    }
    let mut long: Vec<usize> = (0..reads.len())
        .filter(|&i| reads[i].next.is_some())
        .collect();
    long.sort_by_key(|&i| std::cmp::Reverse(reads[i].count));
    let mut lists: JoinSet<Result<(usize, Members), GraphError>> = JoinSet::new();
    for i in long {
        let (api, slots, id) = (api.clone(), slots.clone(), ids[i].clone());
        let read = std::mem::take(&mut reads[i]);
        lists.spawn(async move {
            let _slot = slots.acquire_owned().await;
            Ok((i, follow_members(&api, &id, read).await?))
        });
    }
    while let Some(done) = lists.join_next().await {
        let (i, read) = joined(done)??;
        reads[i] = read;
    }
    Ok(reads.into_iter().map(|r| r.ids).collect())
}

/// The rest of group `id`'s list from `read.next` on; a refused large
/// page (400) reads the list again from the start at the endpoint's page
/// size.
async fn follow_members(api: &Api, id: &str, mut read: Members) -> Result<Members, GraphError> {
    while let Some(url) = read.next.take() {
        match api.get(&url, ADVANCED).await {
            Ok(body) => read.add(body),
            Err(GraphError::Api { status: 400, .. }) if read.largest => {
                read.ids.clear();
                read.largest = false;
                read.next = Some(members_url(id, false));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(read)
}

/// Every group of the tenant with its members (one listing, then the
/// members as [`members_of`] reads them, `LOOKUPS_AT_ONCE` batches at a
/// time), sorted by id.
pub(super) async fn all_groups(api: Arc<Api>) -> Result<Vec<SnapGroup>, GraphError> {
    let mut found: Vec<(String, String)> = Vec::new();
    let (page, _) = first_page::<Listed>(&api, "/groups?$select=id,displayName", &[999]).await?;
    follow(&api, page, |g| {
        found.push((g.id, g.display_name.unwrap_or_default()))
    })
    .await?;
    let slots = Arc::new(Semaphore::new(LOOKUPS_AT_ONCE));
    let mut out = with_members(&api, &slots, found).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_found_by_id_or_by_name() {
        assert_eq!(
            filter_url("0f1e2d3c-0000-4000-8000-000000000001"),
            "/groups?$filter=id%20eq%20%270f1e2d3c%2D0000%2D4000%2D8000%2D000000000001%27&$select=id,displayName"
        );
        assert_eq!(
            filter_url("Sales O'Neil"),
            "/groups?$filter=displayName%20eq%20%27Sales%20O%27%27Neil%27&$select=id,displayName"
        );
    }

    #[test]
    fn members_are_asked_at_the_largest_page_first() {
        assert_eq!(
            members_url("g1", true),
            "/groups/g1/transitiveMembers/microsoft.graph.user?$select=id&$count=true&$top=999"
        );
        assert_eq!(
            members_url("g1", false),
            "/groups/g1/transitiveMembers/microsoft.graph.user?$select=id&$count=true"
        );
    }
}
