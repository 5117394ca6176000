//! A [`Snapshot`] to a [`LiveState`], checking that it is consistent
//! (references resolve, numbers are valid and held once): from one
//! snapshot ([`into_live`]), or from its users and numbers in the pages
//! Graph gave them ([`into_live_pages`], the same result without copying
//! the pages into one list). Pure.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use super::{SnapAssignment, SnapNumber, SnapUser, Snapshot, SnapshotError, invalid};
use crate::catalog::USER_ATTRIBUTE_COUNT;
use crate::live::{
    Attrs, Group, GroupPolicyAssignment, LiveState, NumberAssignment, PolicyType, User,
};
use crate::numbers::{E164, NumberType};

/// Check a snapshot's consistency and turn it into a [`LiveState`].
pub fn to_live(file: &str, snap: &Snapshot) -> Result<LiveState, SnapshotError> {
    into_live(file, snap.clone())
}

/// [`to_live`], moving the snapshot's strings instead of copying them (the
/// file provider and the Graph provider read 100,000s of users this way).
pub fn into_live(file: &str, mut snap: Snapshot) -> Result<LiveState, SnapshotError> {
    let users = std::mem::take(&mut snap.users);
    let numbers = std::mem::take(&mut snap.number_assignments);
    into_live_pages(file, snap, vec![users], vec![numbers])
}

/// [`into_live`] of `snap` with its users and number assignments given
/// apart, as the pages they were read in (in order, the snapshot's own
/// lists ignored): the same live state and the same errors, at the same
/// JSON paths (`$.users[i]` counts across the pages), without first
/// copying the pages into one list (the Graph provider reads 500,000
/// users 999 a page).
pub fn into_live_pages<U: PagedUser>(
    file: &str,
    snap: Snapshot,
    users: Vec<Vec<U>>,
    numbers: Vec<Vec<SnapNumber>>,
) -> Result<LiveState, SnapshotError> {
    let Snapshot {
        tenant_id,
        groups,
        policies,
        policy_assignments,
        group_policy_assignments,
        subscribed_skus,
        ..
    } = snap;
    let (snap_users, number_assignments) = (users, numbers);
    let licensing = super::licences::licensing(file, subscribed_skus)?;
    let n = snap_users.iter().map(Vec::len).sum();
    let mut upns: Fast<Cow<'_, str>, usize> = Fast::with_capacity_and_hasher(n, Default::default());
    let mut index: Fast<&str, usize> = Fast::with_capacity_and_hasher(n, Default::default());
    for (i, u) in snap_users.iter().flatten().enumerate() {
        if u.id().trim().is_empty() {
            return Err(invalid(
                file,
                &format!("$.users[{i}].id"),
                "a user has an empty `id`".into(),
                "every user needs its Entra object id",
            ));
        }
        if index.insert(u.id(), i).is_some() {
            return Err(invalid(
                file,
                &format!("$.users[{i}].id"),
                format!("duplicate user id `{}`", u.id()),
                "user ids are unique: remove the repeated user",
            ));
        }
        if let Some(first) = upns.insert(upn_key(u.upn()), i) {
            return Err(invalid(
                file,
                &format!("$.users[{i}].userPrincipalName"),
                format!(
                    "duplicate userPrincipalName `{}` (also $.users[{first}])",
                    u.upn()
                ),
                "user principal names are unique without regard to case",
            ));
        }
        if licensing.is_some() {
            u.check_licences(file, i)?;
        }
    }
    drop(upns);

    // The direct assignments and the numbers, each checked against the
    // users, side by side (an assignment's error is reported first, as
    // when one followed the other).
    let (assigned, numbers) = std::thread::scope(|s| {
        let numbers = s.spawn(|| numbers_of(file, number_assignments, &index));
        let assigned = assigned_of(file, policy_assignments, &index, n);
        let numbers = numbers.join().expect("reading numbers does not panic");
        (assigned, numbers)
    });
    let (assigned, numbers) = (assigned?, numbers?);
    drop(index);

    let users = users_from(snap_users, assigned, licensing.is_some());
    let mut live = LiveState {
        tenant_id,
        users,
        numbers,
        licensing,
        ..LiveState::default()
    };
    let mut group_ids: HashSet<String, foldhash::fast::RandomState> = HashSet::default();
    for (i, g) in groups.into_iter().enumerate() {
        if !group_ids.insert(g.id.clone()) {
            return Err(invalid(
                file,
                &format!("$.groups[{i}].id"),
                format!("duplicate group id `{}`", g.id),
                "group ids are unique",
            ));
        }
        live.groups.push(Group {
            id: g.id,
            display_name: g.display_name,
            members: g.members,
        });
    }
    for p in &policies {
        let ty = canonical_type(&p.policy_type);
        live.add_policy(&ty, &p.name, &p.policy_id);
    }
    for g in group_policy_assignments {
        live.group_policies.push(GroupPolicyAssignment {
            group_id: g.group_id,
            policy_type: canonical_type(&g.policy_type),
            policy_name: g.policy_name,
            rank: g.rank,
        });
    }
    live.finish();
    Ok(live)
}

/// Direct assignments per user (by place in `index`), checked against the
/// users.
fn assigned_of(
    file: &str,
    policy_assignments: Vec<SnapAssignment>,
    index: &Fast<&str, usize>,
    n: usize,
) -> Result<Vec<Vec<(PolicyType, String)>>, SnapshotError> {
    // A tenant spells each type in few ways: look each spelling up once.
    let mut assigned: Vec<Vec<(PolicyType, String)>> = vec![Vec::new(); n];
    let mut types: Fast<String, PolicyType> = Fast::default();
    for (i, a) in policy_assignments.into_iter().enumerate() {
        let Some(&ui) = index.get(a.user_id.as_str()) else {
            return Err(invalid(
                file,
                &format!("$.policyAssignments[{i}].userId"),
                format!("assignment to user `{}`, who does not exist", a.user_id),
                "remove the assignment or add the user to `users`",
            ));
        };
        let ty = match types.get(&a.policy_type) {
            Some(t) => t.clone(),
            None => {
                let t = assigned_type(&a.policy_type);
                types.insert(a.policy_type.clone(), t.clone());
                t
            }
        };
        if assigned[ui].iter().any(|(t, _)| *t == ty) {
            return Err(invalid(
                file,
                &format!("$.policyAssignments[{i}]"),
                format!("user `{}` has two direct assignments of `{ty}`", a.user_id),
                "a user has at most one direct assignment per policy type",
            ));
        }
        assigned[ui].push((ty, a.policy_name));
    }

    Ok(assigned)
}

/// The number inventory as the live state keeps it, checked against the
/// users (`index`).
fn numbers_of(
    file: &str,
    number_assignments: Vec<Vec<SnapNumber>>,
    index: &Fast<&str, usize>,
) -> Result<BTreeMap<E164, NumberAssignment>, SnapshotError> {
    // Numbers come in order from Graph and from `from_live`: while they do,
    // none can be listed twice, and the map is built in one go at the end.
    let mut ascending: Vec<(E164, NumberAssignment)> =
        Vec::with_capacity(number_assignments.iter().map(Vec::len).sum());
    let mut numbers = BTreeMap::new();
    for (i, n) in number_assignments.into_iter().flatten().enumerate() {
        let number_type = match &n.number_type {
            Some(t) => Some(NumberType::from_graph(t).ok_or_else(|| {
                invalid(
                    file,
                    &format!("$.numberAssignments[{i}].numberType"),
                    format!("unknown number type `{t}`"),
                    "use `directRouting`, `callingPlan` or `operatorConnect`",
                )
            })?),
            None => None,
        };
        let entry = NumberAssignment {
            number: n.telephone_number,
            number_type,
            target: n.assignment_target_id.filter(|t| !t.is_empty()),
            category: n.assignment_category,
            status: n.assignment_status,
            capabilities: n.capabilities,
            location_id: n.location_id,
        };
        if entry.status.eq_ignore_ascii_case("userAssigned") {
            match &entry.target {
                Some(t) if index.contains_key(t.as_str()) => {}
                Some(t) => {
                    return Err(invalid(
                        file,
                        &format!("$.numberAssignments[{i}].assignmentTargetId"),
                        format!(
                            "number `{}` is assigned to user `{t}`, who does not exist",
                            entry.number
                        ),
                        "fix the target, or mark the number `unassigned`",
                    ));
                }
                None => {
                    return Err(invalid(
                        file,
                        &format!("$.numberAssignments[{i}]"),
                        format!(
                            "number `{}` is `userAssigned` with no `assignmentTargetId`",
                            entry.number
                        ),
                        "give the holder's object id, or mark the number `unassigned`",
                    ));
                }
            }
        }
        if numbers.is_empty()
            && ascending
                .last()
                .is_none_or(|(last, _)| *last < entry.number)
        {
            ascending.push((entry.number, entry));
            continue;
        }
        if numbers.is_empty() {
            numbers = std::mem::take(&mut ascending).into_iter().collect();
        }
        if let Some(prev) = numbers.get(&entry.number) {
            let prev: &NumberAssignment = prev;
            let message = if prev.is_held() && entry.is_held() {
                format!("number `{}` is held by two targets", entry.number)
            } else {
                format!("number `{}` is listed twice", entry.number)
            };
            return Err(invalid(
                file,
                &format!("$.numberAssignments[{i}].telephoneNumber"),
                message,
                "a number appears once in the inventory and belongs to one user at most",
            ));
        }
        numbers.insert(entry.number, entry);
    }
    if numbers.is_empty() {
        numbers = ascending.into_iter().collect();
    }
    Ok(numbers)
}

/// A map of keys from the snapshot being read, for one conversion (a fast
/// hash: 100,000s of ids are looked up).
type Fast<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The key a user principal name is unique by: trimmed, lower-cased
/// (borrowed when it already is).
fn upn_key(upn: &str) -> Cow<'_, str> {
    let t = upn.trim();
    if t.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Cow::Owned(t.to_lowercase())
    } else {
        Cow::Borrowed(t)
    }
}

/// A user as a page of users brings it: a snapshot user, or one already
/// made a live user as its page arrived ([`live_users`]; the Graph
/// provider's pages, whose licences are always read).
pub trait PagedUser: Send + Sized {
    fn id(&self) -> &str;
    fn upn(&self) -> &str;
    /// Check user `i`'s licences (each names a SKU id).
    fn check_licences(&self, file: &str, i: usize) -> Result<(), SnapshotError>;
    /// The live user with its direct assignments (type, policy name) and,
    /// when `licences`, its licences; `ids` is [`attribute_ids`].
    fn into_user(
        self,
        ids: &[Option<usize>],
        policies: Vec<(PolicyType, String)>,
        licences: bool,
    ) -> User;
}

/// The catalog ids of a snapshot user's plain rule attributes, in
/// [`SnapUser::ATTRIBUTE_NAMES`] order.
fn attribute_ids() -> Vec<Option<usize>> {
    SnapUser::ATTRIBUTE_NAMES
        .iter()
        .map(|a| crate::catalog::attribute(a))
        .collect()
}

/// A page of snapshot users as live users, licences kept (no policies
/// yet: [`into_live_pages`] gives them): the Graph provider converts each
/// page as it arrives, beside the network, rather than all at the end.
pub fn live_users(page: Vec<SnapUser>) -> Vec<User> {
    let ids = attribute_ids();
    page.into_iter()
        .map(|u| u.into_user(&ids, Vec::new(), true))
        .collect()
}

impl PagedUser for SnapUser {
    fn id(&self) -> &str {
        &self.id
    }

    fn upn(&self) -> &str {
        &self.user_principal_name
    }

    fn check_licences(&self, file: &str, i: usize) -> Result<(), SnapshotError> {
        super::licences::check_user(file, i, self)
    }

    fn into_user(
        mut self,
        ids: &[Option<usize>],
        policies: Vec<(PolicyType, String)>,
        licences: bool,
    ) -> User {
        let values = self.take_attributes();
        let ext = self.on_premises_extension_attributes.take();
        let mut user = User::new(self.id, self.user_principal_name);
        user.display_name = self.display_name;
        user.account_enabled = self.account_enabled;
        let mut slots: [Option<String>; USER_ATTRIBUTE_COUNT] = std::array::from_fn(|_| None);
        for (id, value) in ids.iter().zip(values) {
            if let (Some(id), Some(v)) = (id, value) {
                slots[*id] = Some(v);
            }
        }
        // As `User::set_attr` would, one key after another.
        for (k, v) in ext.into_iter().flatten() {
            if let Some(id) = crate::live::attr_id(&k)
                && id < USER_ATTRIBUTE_COUNT
            {
                slots[id] = v;
            }
        }
        user.attrs = Attrs::from_slots(&slots);
        user.policies = policies.into_iter().collect();
        let held = self.assigned_licenses.take();
        if licences {
            user.licences = super::licences::user_licences(held);
        }
        user
    }
}

impl PagedUser for User {
    fn id(&self) -> &str {
        &self.id
    }

    fn upn(&self) -> &str {
        &self.upn
    }

    fn check_licences(&self, file: &str, i: usize) -> Result<(), SnapshotError> {
        match self
            .licences
            .iter()
            .position(|l| l.sku_id.trim().is_empty())
        {
            Some(j) => Err(super::licences::blank_sku(file, i, j, &self.upn)),
            None => Ok(()),
        }
    }

    fn into_user(
        mut self,
        _: &[Option<usize>],
        policies: Vec<(PolicyType, String)>,
        licences: bool,
    ) -> User {
        self.policies = policies.into_iter().collect();
        if !licences {
            self.licences = Vec::new();
        }
        self
    }
}

/// Users of one page (or part of one) and their direct assignments.
type Run<U> = (Vec<U>, Vec<Vec<(PolicyType, String)>>);

/// Turn users, in pages (and their direct assignments, and their
/// licences when the snapshot records licences) into live users, moving
/// their strings; runs of whole pages are converted on the machine's
/// cores.
fn users_from<U: PagedUser>(
    pages: Vec<Vec<U>>,
    assigned: Vec<Vec<(PolicyType, String)>>,
    licences: bool,
) -> Vec<User> {
    let ids = attribute_ids();
    let convert =
        |(u, policies): (U, Vec<(PolicyType, String)>)| u.into_user(&ids, policies, licences);
    let n: usize = pages.iter().map(Vec::len).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .clamp(1, 8)
        .min(n / 4096 + 1);
    if threads <= 1 {
        return pages
            .into_iter()
            .flatten()
            .zip(assigned)
            .map(convert)
            .collect();
    }
    // Runs of whole pages of about `n / threads` users each (a single page
    // is split), each with its users' assignments.
    let chunk = n.div_ceil(threads);
    let mut runs: Vec<Vec<Run<U>>> = vec![Vec::new()];
    let (mut in_run, mut assigned) = (0, assigned.into_iter());
    for mut page in pages {
        while !page.is_empty() {
            if in_run >= chunk {
                runs.push(Vec::new());
                in_run = 0;
            }
            let take = page.len().min(chunk - in_run);
            let rest = page.split_off(take);
            let policies: Vec<_> = assigned.by_ref().take(take).collect();
            in_run += take;
            if let Some(run) = runs.last_mut() {
                run.push((page, policies));
            }
            page = rest;
        }
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .into_iter()
            .map(|run| {
                scope.spawn(|| {
                    run.into_iter()
                        .flat_map(|(users, policies)| users.into_iter().zip(policies))
                        .map(convert)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(n);
        for h in handles {
            out.extend(h.join().expect("converting users does not panic"));
        }
        out
    })
}

/// The catalog spelling of a policy type; unknown types are kept as written.
pub(super) fn canonical_type(t: &str) -> String {
    crate::catalog::policy_type(t)
        .map(str::to_string)
        .unwrap_or_else(|| t.to_string())
}

/// [`canonical_type`], as a user's direct assignments hold it.
pub(super) fn assigned_type(t: &str) -> PolicyType {
    PolicyType::new(crate::catalog::policy_type(t).unwrap_or(t))
}

#[cfg(test)]
#[path = "to_live_tests.rs"]
mod tests;
