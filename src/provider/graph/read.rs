//! Reading a tenant through Graph into a tenant snapshot: users, the groups
//! the manifests name (members resolved transitively by Graph), direct
//! policy assignments from `userConfigurations` ([`super::configs`]), the
//! number inventory, and
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
use super::configs::configurations;
use super::http::Api;
pub(super) use super::pages::{Page, joined};
use super::pages::{chain, first_page_bytes, flatten, rows};
use crate::snapshot::{
    self, SnapAssignment, SnapGroup, SnapNumber, SnapPolicy, SnapSku, SnapUser, Snapshot,
};

/// The user properties roster selects.
pub const USER_SELECT: &str = "id,userPrincipalName,displayName,accountEnabled,mail,givenName,surname,jobTitle,department,companyName,employeeType,employeeId,officeLocation,city,state,country,postalCode,usageLocation,preferredLanguage,onPremisesExtensionAttributes,assignedLicenses";

/// The largest page each endpoint takes (`/users`: 999; `numberAssignments`:
/// 1000; `userConfigurations`: [`super::configs`]). A tenant that rejects
/// one with a 400 is asked at its default page size.
const USERS_TOP: usize = 999;
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

/// The users, each page made `U`s by `page` as it is read.
async fn users<U: Send + 'static>(
    api: Arc<Api>,
    progress: Option<indicatif::ProgressBar>,
    page: fn(Vec<SnapUser>) -> Vec<U>,
) -> Result<Vec<Vec<U>>, GraphError> {
    let path = format!("/users?$select={USER_SELECT}");
    let (url, body, _) = first_page_bytes(&api, &path, &[USERS_TOP]).await?;
    chain(
        api,
        url,
        body,
        rows(move |rows: Vec<SnapUser>| {
            tick(progress.as_ref(), rows.len());
            page(rows)
        }),
    )
    .await
}

pub(super) fn tick(progress: Option<&indicatif::ProgressBar>, n: usize) {
    if let Some(p) = progress {
        p.inc(n as u64);
    }
}

/// The number inventory. `numberAssignments` pages by `$skip`, so once the
/// first page has shown the page size, the next [`NUMBER_WINDOW`] pages are
/// asked at once; the first short (or empty) page ends the inventory, and at
/// most `NUMBER_WINDOW - 1` requests past it are wasted.
async fn numbers(
    api: Arc<Api>,
    progress: Option<indicatif::ProgressBar>,
) -> Result<Vec<Vec<SnapNumber>>, GraphError> {
    let (url, body, top) = first_page_bytes(&api, NUMBERS, &[NUMBERS_TOP]).await?;
    let page: Page<SnapNumber> = parse(&api, url, body).await?;
    let (first, link) = (page.value, page.next_link);
    let step = first.len();
    tick(progress.as_ref(), step);
    if step == 0 || (link.is_none() && top != Some(step)) {
        return Ok(vec![first]);
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
            return Ok(pages);
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
                return Ok(pages);
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
    let read = fetch_pages(api, wanted, progress, |page| page).await?;
    Ok(Snapshot {
        users: flatten(read.users),
        number_assignments: flatten(read.numbers),
        ..read.rest
    })
}

/// What [`fetch_pages`] read: a snapshot but for its users and number
/// assignments, which stay in the pages they came in (a live state is
/// built from them without copying them into one list first:
/// [`snapshot::into_live_pages`]). Users come as `U`: snapshot users, or
/// live users made as their pages arrived ([`snapshot::live_users`]).
pub struct Pages<U = SnapUser> {
    pub rest: Snapshot,
    pub users: Vec<Vec<U>>,
    pub numbers: Vec<Vec<SnapNumber>>,
}

/// [`fetch`], its users and numbers left in their pages, each page of
/// users made `U`s by `page` as it is read.
pub async fn fetch_pages<U: snapshot::PagedUser + 'static>(
    api: Arc<Api>,
    wanted: &Wanted,
    progress: Option<&indicatif::MultiProgress>,
    page: fn(Vec<SnapUser>) -> Vec<U>,
) -> Result<Pages<U>, GraphError> {
    // The lookups start with a few slots and take over each chain's when
    // it ends (the number window's too): the requests in flight stay within
    // the limiter's, and the chains never queue behind the lookups.
    let slots = Arc::new(tokio::sync::Semaphore::new(LOOKUPS_AT_ONCE));
    let users = tokio::spawn(then_free(
        slots.clone(),
        1,
        users(api.clone(), chain_bar(progress, "users", None), page),
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
    let ids: HashSet<&str, foldhash::fast::RandomState> =
        users.iter().flatten().map(|u| u.id()).collect();
    let policy_assignments: Vec<SnapAssignment> = direct
        .into_iter()
        .filter(|a| ids.contains(a.user_id.as_str()))
        .collect();
    drop(ids);
    let rest = Snapshot {
        format_version: snapshot::SNAPSHOT_FORMAT_VERSION,
        tenant_id: String::new(),
        users: Vec::new(),
        groups,
        policies,
        policy_assignments,
        group_policy_assignments: group_assignments,
        number_assignments: Vec::new(),
        // Graph always has licence data: a user without licences has none.
        subscribed_skus: Some(subscribed_skus),
    };
    Ok(Pages {
        rest,
        users,
        numbers,
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
