//! Reading a tenant through Graph into a tenant snapshot: users, the groups
//! the manifests name (members resolved transitively by Graph), direct
//! policy assignments from `userConfigurations`, the number inventory, and
//! policy ids for every policy name the manifests use, and the tenant's
//! licence SKUs (`/subscribedSkus`, one request). The independent
//! chains run concurrently, each at the largest page its endpoint takes and
//! parsing its pages beside the network ([`super::pages`]), and the number
//! pages (addressed by `$skip`) several at a time; the group and policy
//! lookups go 20 to a `$batch` beside them ([`super::lookups`]) and take
//! over each chain's slots when it ends. It does not
//! write, and it names a policy as the tenant does, never after one
//! assignment's spelling.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use serde_json::Value;
use tokio::task::JoinSet;

use super::GraphError;
use super::http::Api;
pub(super) use super::pages::{Page, joined};
use super::pages::{chain, first_page_bytes, flatten};
use crate::snapshot::{
    self, SnapAssignment, SnapGroup, SnapGroupAssignment, SnapNumber, SnapPolicy, SnapSku,
    SnapUser, Snapshot,
};

/// The user properties roster selects.
pub const USER_SELECT: &str = "id,userPrincipalName,displayName,accountEnabled,mail,givenName,surname,jobTitle,department,companyName,employeeType,employeeId,officeLocation,city,state,country,postalCode,usageLocation,preferredLanguage,onPremisesExtensionAttributes,assignedLicenses";

/// The largest page each endpoint takes (`/users`: 999; `userConfigurations`:
/// undocumented, 999 as `/users`; `numberAssignments`: 1000). A tenant that
/// rejects one with a 400 is asked at its default page size.
const USERS_TOP: usize = 999;
const CONFIGS_TOP: usize = 999;
const NUMBERS_TOP: usize = 1000;
const NUMBERS: &str = "/admin/teams/telephoneNumberManagement/numberAssignments";
/// Number pages asked at once once the page size is known.
const NUMBER_WINDOW: usize = 4;
/// Lookup requests in flight at once (each a `$batch` of up to 20 group or
/// policy lookups): the chains of pages come first, the lookups fill in
/// beside them.
pub(super) const LOOKUPS_AT_ONCE: usize = 2;

/// What the manifests need resolved beyond users, assignments and numbers.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    /// (policy type, policy name) pairs the personas use.
    pub policies: BTreeSet<(String, String)>,
    /// Group display names or object ids that `memberOf` conditions name.
    pub groups: BTreeSet<String>,
    /// Read every group of the tenant and its members, not only those
    /// named (for `roster import`, which learns rules over any group).
    pub all_groups: bool,
}

impl Wanted {
    pub fn from_manifest(m: &crate::manifest::Manifest) -> Self {
        let mut w = Wanted::default();
        for p in &m.personas {
            for s in &p.policies {
                if let Some(name) = &s.policy {
                    w.policies
                        .insert((s.policy_type.value.clone(), name.clone()));
                }
            }
        }
        let mut conds: Vec<&crate::manifest::Condition> =
            m.rules.iter().flat_map(|r| r.when.iter()).collect();
        if let Some(t) = &m.tenant {
            conds.extend(t.scope.iter());
        }
        while let Some(c) = conds.pop() {
            match c {
                crate::manifest::Condition::All(cs, _)
                | crate::manifest::Condition::Any(cs, _)
                | crate::manifest::Condition::Not(cs, _) => conds.extend(cs.iter()),
                crate::manifest::Condition::Attr(a) if a.attribute == crate::catalog::MEMBER_OF => {
                    w.groups
                        .extend(a.values.iter().map(|v| v.trim().to_string()));
                }
                crate::manifest::Condition::Attr(_) => {}
            }
        }
        w
    }
}

/// Single-entity GETs may come wrapped in `{"value": {…}}` (as the docs
/// show) or bare: accept both.
pub fn unwrap_single(v: Value) -> Value {
    match v {
        Value::Object(mut m)
            if m.get("value").is_some_and(Value::is_object) && !m.contains_key("id") =>
        {
            m.remove("value").unwrap_or(Value::Null)
        }
        other => other,
    }
}

pub(super) fn odata_string(s: &str) -> String {
    s.replace('\'', "''")
}

pub(super) fn is_guid(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

async fn users(
    api: Arc<Api>,
    progress: Option<indicatif::ProgressBar>,
) -> Result<Vec<SnapUser>, GraphError> {
    let path = format!("/users?$select={USER_SELECT}");
    let (url, body, _) = first_page_bytes(&api, &path, &[USERS_TOP]).await?;
    let pages = chain(api, url, body, move |rows: Vec<SnapUser>| {
        tick(progress.as_ref(), rows.len());
        rows
    })
    .await?;
    Ok(flatten(pages))
}

fn tick(progress: Option<&indicatif::ProgressBar>, n: usize) {
    if let Some(p) = progress {
        p.inc(n as u64);
    }
}

/// A `userConfiguration`, as far as roster reads it (every field may be
/// missing or null).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Configuration {
    id: Option<String>,
    effective_policy_assignments: Option<Vec<Effective>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Effective {
    policy_type: Option<String>,
    policy_assignment: Option<Assigned>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Assigned {
    display_name: Option<String>,
    policy_id: Option<String>,
    assignment_type: Option<String>,
    group_id: Option<String>,
}

/// What one page of configurations says: direct assignments in order,
/// and the group assignments and policies it shows, keyed as the read
/// keeps them (a later page's overrides an earlier one's).
type ConfigPage = (
    Vec<SnapAssignment>,
    Vec<((String, String), SnapGroupAssignment)>,
    Vec<((String, String), SnapPolicy)>,
);

fn config_page(rows: Vec<Configuration>) -> ConfigPage {
    let (mut direct, mut groups, mut policies) = (Vec::new(), Vec::new(), Vec::new());
    for c in rows {
        let user = c.id.unwrap_or_default();
        for e in c.effective_policy_assignments.into_iter().flatten() {
            let ty = e.policy_type.unwrap_or_default();
            let a = e.policy_assignment.unwrap_or_default();
            let name = a.display_name.unwrap_or_default();
            let name = match name.strip_prefix("Tag:") {
                Some(rest) => rest.to_string(),
                None => name,
            };
            let id = a.policy_id.unwrap_or_default();
            if !id.is_empty() {
                policies.push((
                    (ty.to_lowercase(), name.to_lowercase()),
                    SnapPolicy {
                        policy_type: ty.clone(),
                        name: name.clone(),
                        policy_id: id,
                    },
                ));
            }
            match a.assignment_type.as_deref() {
                Some(t) if t.eq_ignore_ascii_case("direct") => direct.push(SnapAssignment {
                    user_id: user.clone(),
                    policy_type: ty,
                    policy_name: name,
                }),
                Some(t) if t.eq_ignore_ascii_case("group") => {
                    let group_id = a.group_id.unwrap_or_default();
                    groups.push((
                        (group_id.clone(), ty.clone()),
                        SnapGroupAssignment {
                            group_id,
                            policy_type: ty,
                            policy_name: name,
                            rank: 0,
                        },
                    ));
                }
                _ => {}
            }
        }
    }
    (direct, groups, policies)
}

async fn configurations(
    api: Arc<Api>,
    progress: Option<indicatif::ProgressBar>,
) -> Result<
    (
        Vec<SnapAssignment>,
        Vec<SnapGroupAssignment>,
        Vec<SnapPolicy>,
    ),
    GraphError,
> {
    let (url, body, _) =
        first_page_bytes(&api, "/admin/teams/userConfigurations", &[CONFIGS_TOP]).await?;
    let pages = chain(api, url, body, move |rows: Vec<Configuration>| {
        tick(progress.as_ref(), rows.len());
        config_page(rows)
    })
    .await?;
    let mut direct = Vec::with_capacity(pages.iter().map(|p| p.0.len()).sum());
    let mut groups = BTreeMap::new();
    let mut policies = BTreeMap::new();
    for (d, g, p) in pages {
        direct.extend(d);
        groups.extend(g);
        policies.extend(p);
    }
    Ok((
        direct,
        groups.into_values().collect(),
        policies.into_values().collect(),
    ))
}

/// The number inventory. `numberAssignments` pages by `$skip`, so once the
/// first page has shown the page size, the next [`NUMBER_WINDOW`] pages are
/// asked at once; the first short (or empty) page ends the inventory, and at
/// most `NUMBER_WINDOW - 1` requests past it are wasted.
async fn numbers(
    api: Arc<Api>,
    progress: Option<indicatif::ProgressBar>,
) -> Result<Vec<SnapNumber>, GraphError> {
    let (url, body, top) = first_page_bytes(&api, NUMBERS, &[NUMBERS_TOP]).await?;
    let page: Page<SnapNumber> = parse(&api, url, body).await?;
    let (first, link) = (page.value, page.next_link);
    let step = first.len();
    tick(progress.as_ref(), step);
    if step == 0 || (link.is_none() && top != Some(step)) {
        return Ok(first);
    }
    let mut pages = vec![first];
    let mut inflight: JoinSet<Result<(usize, Vec<SnapNumber>), GraphError>> = JoinSet::new();
    let mut arrived: BTreeMap<usize, Vec<SnapNumber>> = BTreeMap::new();
    let (mut issued, mut wanted) = (1usize, 1usize);
    loop {
        while inflight.len() < NUMBER_WINDOW {
            let (api, k) = (api.clone(), issued);
            inflight.spawn(async move {
                let url = format!("{NUMBERS}?$top={step}&$skip={}", k * step);
                let mut body = Vec::new();
                api.get_bytes(&url, &[], &mut body).await?;
                let page: Page<SnapNumber> = parse(&api, url, body).await?;
                Ok((k, page.value))
            });
            issued += 1;
        }
        let Some(done) = inflight.join_next().await else {
            return Ok(flatten(pages));
        };
        let (k, items) = joined(done)??;
        arrived.insert(k, items);
        while let Some(items) = arrived.remove(&wanted) {
            let short = items.len() < step;
            tick(progress.as_ref(), items.len());
            pages.push(items);
            wanted += 1;
            if short {
                inflight.abort_all();
                return Ok(flatten(pages));
            }
        }
    }
}

/// The answer to `GET url` (its bytes `body`) as `T`, parsed on a blocking
/// thread.
async fn parse<T: serde::de::DeserializeOwned + Send + 'static>(
    api: &Arc<Api>,
    url: String,
    body: Vec<u8>,
) -> Result<T, GraphError> {
    let api = api.clone();
    joined(tokio::task::spawn_blocking(move || api.parse_as(&url, &body)).await)?
}

/// The tenant's licence SKUs and their service plans: one request (the
/// endpoint does not page).
async fn skus(api: Arc<Api>) -> Result<Vec<SnapSku>, GraphError> {
    let page: Page<SnapSku> = api
        .get_as(
            "/subscribedSkus?$select=skuId,skuPartNumber,servicePlans",
            &[],
        )
        .await?;
    Ok(page.value)
}

/// The first page of `path` at the largest `$top` the tenant takes: each of
/// `tops` in turn, the next on a 400, and at last none (the endpoint's own
/// default). Also says which `$top` was taken.
pub(super) async fn first_page<T: serde::de::DeserializeOwned>(
    api: &Api,
    path: &str,
    tops: &[usize],
) -> Result<(Page<T>, Option<usize>), GraphError> {
    let sep = if path.contains('?') { '&' } else { '?' };
    for &top in tops {
        match api.get_as(&format!("{path}{sep}$top={top}"), &[]).await {
            Err(GraphError::Api { status: 400, .. }) => continue,
            other => return other.map(|page| (page, Some(top))),
        }
    }
    Ok((api.get_as(path, &[]).await?, None))
}

/// Every row of `page` and of the pages its `@odata.nextLink`s lead to,
/// each page folded in as it arrives.
pub(super) async fn follow<T: serde::de::DeserializeOwned>(
    api: &Api,
    page: Page<T>,
    mut each: impl FnMut(T),
) -> Result<(), GraphError> {
    let mut page = page;
    loop {
        page.value.into_iter().for_each(&mut each);
        match page.next_link {
            Some(l) => page = api.get_as(&l, &[]).await?,
            None => return Ok(()),
        }
    }
}

pub fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// One progress bar per chain (users, configurations, numbers, lookups)
/// under `multi`, when there is one (a terminal).
fn chain_bar(
    multi: Option<&indicatif::MultiProgress>,
    name: &str,
    len: Option<usize>,
) -> Option<indicatif::ProgressBar> {
    let multi = multi?;
    let (bar, template) = match len {
        Some(n) => (
            indicatif::ProgressBar::new(n as u64),
            "{spinner} {prefix:>15}: {pos}/{len} ({elapsed})",
        ),
        None => (
            indicatif::ProgressBar::new_spinner(),
            "{spinner} {prefix:>15}: {pos} ({per_sec}, {elapsed})",
        ),
    };
    let bar = multi.add(bar);
    bar.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_prefix(name.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}

/// Read everything roster needs into a snapshot: the chains of pages
/// (users, configurations, numbers) start at once, the group and policy
/// lookups beside them in `$batch`es, a few batches at a time.
pub async fn fetch(
    api: Arc<Api>,
    wanted: &Wanted,
    progress: Option<&indicatif::MultiProgress>,
) -> Result<Snapshot, GraphError> {
    // The lookups start with a few slots and take over each chain's when
    // it ends (the number window's too): the requests in flight stay within
    // the limiter's, and the chains never queue behind the lookups.
    let slots = Arc::new(tokio::sync::Semaphore::new(LOOKUPS_AT_ONCE));
    let users = tokio::spawn(then_free(
        slots.clone(),
        1,
        users(api.clone(), chain_bar(progress, "users", None)),
    ));
    let configs = tokio::spawn(then_free(
        slots.clone(),
        1,
        configurations(api.clone(), chain_bar(progress, "configurations", None)),
    ));
    let numbers = tokio::spawn(then_free(
        slots.clone(),
        NUMBER_WINDOW,
        numbers(api.clone(), chain_bar(progress, "numbers", None)),
    ));
    let lookup_bar = chain_bar(
        progress,
        "groups, policies",
        Some(wanted.groups.len() + wanted.policies.len()),
    );
    let mut lookups: JoinSet<Result<Lookup, GraphError>> = JoinSet::new();
    // Beside the lookups: a failure surfaces after the main reads', so a
    // tenant lacking a Teams permission is told that first.
    let sku_api = api.clone();
    lookups.spawn(async move { skus(sku_api).await.map(Lookup::Skus) });
    // The lookups go 20 to a `$batch`, the batches at once, each holding a
    // slot: the groups first (their member pages follow them).
    if wanted.all_groups {
        let api = api.clone();
        lookups.spawn(async move { super::groups::all_groups(api).await.map(Lookup::Groups) });
    } else if !wanted.groups.is_empty() {
        let (api, slots) = (api.clone(), slots.clone());
        let keys = wanted.groups.iter().cloned().collect();
        lookups.spawn(async move {
            super::groups::groups(api, slots, keys)
                .await
                .map(Lookup::Groups)
        });
    }
    if !wanted.policies.is_empty() {
        let (api, slots) = (api.clone(), slots.clone());
        let pairs = wanted.policies.iter().cloned().collect();
        lookups.spawn(async move {
            super::lookups::policies(api, slots, pairs)
                .await
                .map(Lookup::Policies)
        });
    }
    // A chain that fails stops the others.
    let _stop = AbortOnDrop(vec![
        users.abort_handle(),
        configs.abort_handle(),
        numbers.abort_handle(),
    ]);
    let (users, configs, numbers) = tokio::try_join!(
        async { joined(users.await)? },
        async { joined(configs.await)? },
        async { joined(numbers.await)? },
    )?;
    let mut groups = Vec::new();
    let mut seen_groups = HashSet::new();
    let (direct, group_assignments, seen_policies) = configs;
    // A policy is named as the tenant names it (what `getPolicyId` answers,
    // and what a snapshot file lists), not after whichever assignment
    // showed it last: one policy may be assigned in several spellings.
    let mut policies = Vec::new();
    let mut subscribed_skus = Vec::new();
    while let Some(done) = lookups.join_next().await {
        let looked_up = match joined(done)?? {
            Lookup::Groups(gs) => {
                for g in gs {
                    if seen_groups.insert(g.id.clone()) {
                        groups.push(g);
                    }
                }
                wanted.groups.len()
            }
            Lookup::Policies(ps) => {
                policies.extend(ps);
                wanted.policies.len()
            }
            Lookup::Skus(skus) => {
                subscribed_skus = skus;
                0
            }
        };
        if let Some(b) = &lookup_bar {
            b.inc(looked_up as u64);
        }
    }
    groups.sort_by(|a, b| a.id.cmp(&b.id));
    // Looked-up names first: the stable sort and `dedup_by` keep them.
    policies.extend(seen_policies);
    policies.sort_by(|a, b| {
        (a.policy_type.to_lowercase(), a.name.to_lowercase())
            .cmp(&(b.policy_type.to_lowercase(), b.name.to_lowercase()))
    });
    policies.dedup_by(|a, b| {
        a.policy_type.eq_ignore_ascii_case(&b.policy_type) && a.name.eq_ignore_ascii_case(&b.name)
    });
    // Keep what belongs to the users read (resource accounts and others may
    // appear in userConfigurations too).
    let ids: HashSet<&str> = users.iter().map(|u| u.id.as_str()).collect();
    let policy_assignments: Vec<SnapAssignment> = direct
        .into_iter()
        .filter(|a| ids.contains(a.user_id.as_str()))
        .collect();
    Ok(Snapshot {
        format_version: snapshot::SNAPSHOT_FORMAT_VERSION,
        tenant_id: String::new(),
        users,
        groups,
        policies,
        policy_assignments,
        group_policy_assignments: group_assignments,
        number_assignments: numbers,
        // Graph always has licence data: a user without licences has none.
        subscribed_skus: Some(subscribed_skus),
    })
}

/// `read`'s result, once it has given `n` slots to the lookups.
async fn then_free<T>(
    slots: Arc<tokio::sync::Semaphore>,
    n: usize,
    read: impl std::future::Future<Output = T>,
) -> T {
    let r = read.await;
    slots.add_permits(n);
    r
}

struct AbortOnDrop(Vec<tokio::task::AbortHandle>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

enum Lookup {
    Groups(Vec<SnapGroup>),
    Policies(Vec<SnapPolicy>),
    Skus(Vec<SnapSku>),
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
