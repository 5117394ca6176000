//! Snapshot text straight to a [`LiveState`] ([`parse_live`]): the same
//! result as [`parse`] then [`into_live`], without the intermediate
//! [`super::Snapshot`] and on every core.
//!
//! One pass ([`layout::scan`]) finds the top-level members and where each
//! array element lies; the elements are parsed in chunks on several threads
//! straight into live values ([`super::quick`] when they are written
//! plainly, else `serde` into [`super::direct`]); the checks `into_live`
//! makes (unique ids and UPNs, references that resolve, numbers listed
//! once) are made on the result. The fast path only decides *whether* the
//! text is a valid snapshot: on anything it does not accept it steps aside,
//! and the slow path runs and explains the problem in its own words (same
//! message, same JSON path). Pure.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::direct::{AssignmentIn, LicenceCheck, NumberIn, Text, UserIn, attribute_ids};
use super::layout::{self, Member};
use super::parse::strip_bom;
use super::{
    SNAPSHOT_FORMAT_VERSION, SnapGroup, SnapGroupAssignment, SnapLicence, SnapPolicy, SnapSku,
    SnapshotError, into_live, parse,
};
use crate::live::{Group, GroupPolicyAssignment, LiveState, NumberAssignment, PolicyType};
use crate::numbers::{E164, NumberType};
use index::Index;
use rows::{Order, Row, by_key, in_order, prefix, settle, user_order};

/// Parse snapshot text and check it into a [`LiveState`]: what
/// `into_live(file, parse(file, text)?)` returns, errors included, faster.
pub fn parse_live(file: &str, text: &str) -> Result<LiveState, SnapshotError> {
    // A thread per MiB of text, up to the machine's cores (at most 8).
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get().min(8))
        .min(text.len() / (1 << 20) + 1);
    match fast(strip_bom(text), threads) {
        Some(live) => Ok(live),
        None => into_live(file, parse(file, text)?),
    }
}

/// Elements per chunk of work.
pub(super) const USERS_PER_CHUNK: usize = 4096;
const ENTRIES_PER_CHUNK: usize = 16384;

/// The top-level members the snapshot defines, by key.
const KEYS: [&str; 9] = [
    "format_version",
    "tenantId",
    "users",
    "groups",
    "policies",
    "policyAssignments",
    "groupPolicyAssignments",
    "numberAssignments",
    "subscribedSkus",
];

/// A direct assignment: the user's place in the file, policy type, policy
/// name.
pub(super) type Assigned = (u32, PolicyType, String);

/// A piece of work of the parallel parse, and what it gives.
enum Task {
    Groups,
    Users(Range<usize>),
    Order,
    Memberships,
    Assignments(Range<usize>),
    Numbers(Range<usize>),
}

enum Done {
    Groups(Vec<SnapGroup>),
    /// Rows, the order of the rows by (key, id), and whether any UPN has
    /// white space around it.
    Users(Vec<Option<Row>>, Vec<Order>, bool),
    /// Direct assignments (user's place in the file, policy type, policy
    /// name), in one bucket per chunk of users.
    Assignments(Vec<Vec<Assigned>>),
    /// The users' places in the file, in order ([`user_order`]).
    Order(Vec<u32>),
    /// Each user's groups, by place in the file
    /// ([`crate::live::memberships`]).
    Memberships(Vec<Vec<u32>>),
    Numbers(Vec<NumberAssignment>),
}

/// The live state, or `None` when the slow path must decide.
fn fast(text: &str, threads: usize) -> Option<LiveState> {
    let members = layout::scan(text, threads)?;
    let mut known: [Option<&Member>; 9] = [None; 9];
    for m in &members {
        match KEYS.iter().position(|k| *k == m.key) {
            // A repeated field is an error.
            Some(i) if known[i].is_some() => return None,
            Some(i) => known[i] = Some(m),
            None => {
                serde_json::from_str::<IgnoredAny>(m.value).ok()?;
            }
        }
    }
    let [
        version,
        tenant,
        users,
        groups,
        policies,
        assignments,
        group_assignments,
        numbers,
        skus,
    ] = known;
    if serde_json::from_str::<u32>(version?.value).ok()? != SNAPSHOT_FORMAT_VERSION {
        return None;
    }
    let tenant_id: String = section(tenant)?;
    let policies: Vec<SnapPolicy> = section(policies)?;
    let group_assignments: Vec<SnapGroupAssignment> = section(group_assignments)?;
    let skus: Option<Vec<SnapSku>> = section(skus)?;
    let licensing = super::licences::licensing("", skus).ok()?;
    let none = Member {
        key: "",
        value: "[]",
        bounds: Vec::new(),
    };
    let users = users?;
    let groups = groups.unwrap_or(&none);
    let assignments = assignments.unwrap_or(&none);
    let numbers = numbers.unwrap_or(&none);
    for m in [users, groups, assignments, numbers] {
        if !m.value.starts_with('[') {
            return None;
        }
    }
    let chunks =
        |n: usize, size: usize| (0..n.div_ceil(size)).map(move |c| c * size..n.min((c + 1) * size));

    // First the users (and the groups beside them), in chunks on threads.
    let mut tasks = vec![Task::Groups];
    tasks.extend(chunks(users.len(), USERS_PER_CHUNK).map(Task::Users));
    let ids = attribute_ids();
    let licences = licensing.is_some();
    let done = run(tasks.len(), threads, |t| match &tasks[t] {
        Task::Groups => serde_json::from_str(groups.value).ok().map(Done::Groups),
        Task::Users(r) => users_of(text, users, r.clone(), &ids, licences),
        _ => None,
    })?;
    let mut done = done.into_iter();
    let Some(Done::Groups(snap_groups)) = done.next() else {
        return None;
    };
    let mut parts: Vec<Vec<Option<Row>>> = Vec::with_capacity(tasks.len());
    let mut runs = Vec::with_capacity(users.len());
    let mut trimmed = false;
    for (c, d) in done.enumerate() {
        let Done::Users(rows, o, t) = d else {
            return None;
        };
        let base = (c * USERS_PER_CHUNK) as u32;
        runs.extend(o.into_iter().map(|(p, i)| (p, base + i)));
        parts.push(rows);
        trimmed |= t;
    }
    let mut group_ids = HashSet::with_capacity(snap_groups.len());
    if !snap_groups.iter().all(|g| group_ids.insert(g.id.as_str())) {
        return None;
    }
    drop(group_ids);
    let groups: Vec<Group> = snap_groups
        .into_iter()
        .map(|g| Group {
            id: g.id,
            display_name: g.display_name,
            members: g.members,
        })
        .collect();

    // Then, on the cores at once: the users' order (the sorted runs
    // merged), their ids indexed by place in the file (built by the first
    // task that needs it), group membership, and what refers to users,
    // resolved as it is parsed.
    let user_count = users.len();
    let user_chunks = parts.len();
    let index: OnceLock<Option<Index>> = OnceLock::new();
    let index_of = || {
        index
            .get_or_init(|| {
                let mut index = Index::with_capacity(user_count);
                for (at, row) in parts.iter().flatten().enumerate() {
                    let id = row.as_ref().expect("just parsed").user.id.as_str();
                    if !index.insert(id, at as u32) {
                        return None; // two users of one id
                    }
                }
                Some(index)
            })
            .as_ref()
    };
    let mut tasks = vec![Task::Order, Task::Memberships];
    tasks.extend(chunks(assignments.len(), ENTRIES_PER_CHUNK).map(Task::Assignments));
    tasks.extend(chunks(numbers.len(), ENTRIES_PER_CHUNK).map(Task::Numbers));
    let done = run(tasks.len(), threads, |t| match &tasks[t] {
        Task::Order => user_order(&parts, runs.clone(), trimmed).map(Done::Order),
        Task::Memberships => {
            let index = index_of()?;
            Some(Done::Memberships(crate::live::memberships(
                &groups,
                user_count,
                |id| index.get(id),
            )))
        }
        Task::Assignments(r) => {
            assignments_of(text, assignments, r.clone(), index_of()?, user_chunks)
        }
        Task::Numbers(r) => {
            let index = index_of()?;
            let mut out = Vec::with_capacity(r.len());
            let mut quick = super::quick::Numbers::new();
            for k in r.clone() {
                let element = numbers.element(text, k);
                let n = match quick.read(element) {
                    Some(n) => n,
                    None => serde_json::from_str(element).ok()?,
                };
                out.push(number(n, index)?);
            }
            Some(Done::Numbers(out))
        }
        _ => None,
    })?;
    drop((runs, index));
    let mut order = Vec::new();
    let mut number_parts = Vec::new();
    let mut memberships = Vec::new();
    let mut buckets: Vec<Vec<Vec<Assigned>>> = (0..user_chunks).map(|_| Vec::new()).collect();
    for d in done {
        match d {
            Done::Order(o) => order = o,
            Done::Assignments(a) => {
                for (c, b) in a.into_iter().enumerate() {
                    buckets[c].push(b);
                }
            }
            Done::Numbers(n) => number_parts.push(n),
            Done::Memberships(m) => memberships = m,
            _ => return None,
        }
    }
    // The number map is built on a core of its own while the users get
    // their policies and groups and are put in order.
    let listed = numbers.len();
    let (numbers, users) = std::thread::scope(|s| {
        let numbers = s.spawn(move || {
            // Collected at its size first (the map is built from a `Vec`,
            // in place).
            let mut list = Vec::with_capacity(listed);
            for part in number_parts {
                list.extend(part.into_iter().map(|n| (n.number, n)));
            }
            list.into_iter()
                .collect::<BTreeMap<E164, NumberAssignment>>()
        });
        let users =
            settle(&mut parts, buckets, memberships, threads).then(|| in_order(parts, order));
        (
            numbers
                .join()
                .expect("building the number map does not panic"),
            users,
        )
    });
    let users = users?;
    if numbers.len() != listed {
        return None; // a number listed twice
    }

    let mut live = LiveState {
        tenant_id,
        users,
        groups,
        numbers,
        licensing,
        ..LiveState::default()
    };
    for p in &policies {
        let ty = super::to_live::canonical_type(&p.policy_type);
        live.add_policy(&ty, &p.name, &p.policy_id);
    }
    live.group_policies = group_assignments
        .into_iter()
        .map(|g| GroupPolicyAssignment {
            group_id: g.group_id,
            policy_type: super::to_live::canonical_type(&g.policy_type),
            policy_name: g.policy_name,
            rank: g.rank,
        })
        .collect();
    Some(live)
}

/// Direct assignments `range`, each with its user's index and the catalog
/// spelling of its policy type.
fn assignments_of(
    text: &str,
    assignments: &Member,
    range: Range<usize>,
    index: &Index,
    user_chunks: usize,
) -> Option<Done> {
    // A tenant spells each type in few ways: look each spelling up once.
    let mut types: Vec<(Cow<str>, PolicyType)> = Vec::new();
    let mut out: Vec<Vec<Assigned>> = (0..user_chunks).map(|_| Vec::new()).collect();
    let mut quick = super::quick::Assignments::new();
    // A user's assignments are usually written together: the last user
    // found is the first guess.
    let mut last: Option<(&str, u32)> = None;
    for k in range {
        let element = assignments.element(text, k);
        let a: AssignmentIn = match quick.read(element) {
            Some(a) => a,
            None => serde_json::from_str(element).ok()?,
        };
        let id = a.user_id.0.as_ref();
        let ui = match last {
            Some((l, ui)) if l == id => ui,
            _ => {
                let ui = index.get(id)?;
                if let Cow::Borrowed(id) = a.user_id.0 {
                    last = Some((id, ui));
                }
                ui
            }
        };
        let spelling = a.policy_type.0;
        let ty = match types.iter().find(|(s, _)| *s == spelling) {
            Some((_, t)) => t.clone(),
            None => {
                let t = super::to_live::assigned_type(&spelling);
                types.push((spelling, t.clone()));
                t
            }
        };
        out[ui as usize / USERS_PER_CHUNK].push((ui, ty, a.policy_name));
    }
    Some(Done::Assignments(out))
}

/// A small section's value (its default when absent).
fn section<'a, T: Deserialize<'a> + Default>(m: Option<&Member<'a>>) -> Option<T> {
    match m {
        Some(m) => serde_json::from_str(m.value).ok(),
        None => Some(T::default()),
    }
}

/// Users `range` of the `users` array, with their order by (lower-cased
/// UPN, id).
fn users_of(
    text: &str,
    users: &Member,
    range: Range<usize>,
    ids: &[Option<usize>],
    licences: bool,
) -> Option<Done> {
    let mut rows = Vec::with_capacity(range.len());
    let mut trimmed = false;
    let mut quick = super::quick::Users::new(ids, licences);
    for k in range {
        let element = users.element(text, k);
        let user = match quick.read(element) {
            Some(user) => user,
            None => user_by_serde(element, ids, licences)?,
        };
        if user.id.trim().is_empty() {
            return None;
        }
        trimmed |= user.upn.trim().len() != user.upn.len();
        rows.push(Some(Row::new(user)));
    }
    let row = |i: u32| rows[i as usize].as_ref().expect("just parsed");
    let mut order: Vec<Order> = (0..rows.len() as u32)
        .map(|i| (prefix(row(i).key()), i))
        .collect();
    order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| by_key(row(a.1), row(b.1))));
    Some(Done::Users(rows, order, trimmed))
}

/// A user read by `serde` ([`UserIn`]), licences kept when `licences`;
/// `None` when it does not parse or has a licence with a blank SKU id.
pub(super) fn user_by_serde(
    element: &str,
    ids: &[Option<usize>],
    licences: bool,
) -> Option<crate::live::User> {
    if licences {
        let mut u: UserIn<SnapLicence> = serde_json::from_str(element).ok()?;
        let mut user = u.take_user(ids);
        let held = u.assigned_licenses.take();
        if held.iter().flatten().any(|l| l.sku_id.trim().is_empty()) {
            return None;
        }
        user.licences = super::licences::user_licences(held);
        Some(user)
    } else {
        let mut u: UserIn<LicenceCheck> = serde_json::from_str(element).ok()?;
        Some(u.take_user(ids))
    }
}

/// A number inventory entry as the live state keeps it.
/// (`None` when its type is unknown, or it is `userAssigned` to no user
/// in `index`.)
fn number(n: NumberIn, index: &Index) -> Option<NumberAssignment> {
    let number_type = match &n.number_type {
        Some(Text(t)) => Some(NumberType::from_graph(t)?),
        None => None,
    };
    let target = n.assignment_target_id.filter(|t| !t.is_empty());
    if n.assignment_status.eq_ignore_ascii_case("userAssigned")
        && target.as_ref().is_none_or(|t| index.get(t).is_none())
    {
        return None;
    }
    Some(NumberAssignment {
        number: E164::parse_lenient(&n.telephone_number.0).ok()?,
        number_type,
        target,
        category: n.assignment_category,
        status: n.assignment_status,
        capabilities: n.capabilities,
        location_id: n.location_id,
    })
}

/// `f(0)`, …, `f(n - 1)` on `threads` threads (this one included), in
/// order; `None` as soon as one is `None`.
pub(super) fn run<T: Send>(
    n: usize,
    threads: usize,
    f: impl Fn(usize) -> Option<T> + Sync,
) -> Option<Vec<T>> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let work = || {
        let mut out = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break;
            }
            match f(i) {
                Some(t) => out.push((i, t)),
                None => failed.store(true, Ordering::Relaxed),
            }
        }
        out
    };
    let parts: Vec<Vec<(usize, T)>> = std::thread::scope(|s| {
        let spawned: Vec<_> = (1..threads.clamp(1, n.max(1)))
            .map(|_| s.spawn(work))
            .collect();
        let mut parts = vec![work()];
        parts.extend(
            spawned
                .into_iter()
                .map(|h| h.join().expect("parsing does not panic")),
        );
        parts
    });
    if failed.into_inner() {
        return None;
    }
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for (i, t) in parts.into_iter().flatten() {
        slots[i] = Some(t);
    }
    slots.into_iter().collect()
}

mod index;
mod rows;
#[cfg(test)]
mod tests;
