//! The live state of a tenant as one plain value: users with their rule
//! attributes and direct policy assignments, groups (membership resolved
//! transitively), the policy instances that exist, the number inventory,
//! and (when the source recorded them) the tenant's licences.
//!
//! Every provider produces a [`LiveState`]; the planner only reads it. No I/O.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::catalog::{ATTRIBUTES, USER_ATTRIBUTE_COUNT};
use crate::numbers::{E164, NumberType};

mod attrs;
mod policies;
mod policy_type;
pub use attrs::Attrs;
pub use policies::Policies;
pub use policy_type::PolicyType;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveState {
    pub tenant_id: String,
    /// Sorted by lower-cased user principal name.
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    /// Policy instances that exist, per canonical policy type, by lower-cased
    /// name. `Global` is implicit and never listed.
    pub policies: BTreeMap<String, BTreeMap<String, PolicyInstance>>,
    /// The number inventory and every number held, by number.
    pub numbers: BTreeMap<E164, NumberAssignment>,
    /// Group policy assignments (shown by `explain`; never changed).
    pub group_policies: Vec<GroupPolicyAssignment>,
    /// The tenant's licence SKUs (Graph `subscribedSkus`). `None` when the
    /// source did not record licences (a snapshot without
    /// `subscribedSkus`): roster then does not check licensing, and every
    /// user's [`User::licences`] is empty.
    pub licensing: Option<Licensing>,
}

/// The licence SKUs a tenant subscribes to, each with its service plans.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Licensing {
    /// In the order the source listed them.
    pub skus: Vec<Sku>,
}

/// A Graph `subscribedSku`, reduced to what roster reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Sku {
    pub sku_id: String,
    /// `MCOEV`, `SPE_E5`, … (may be empty).
    pub part_number: String,
    pub service_plans: Vec<ServicePlan>,
}

/// A service plan of a SKU (Graph `servicePlanInfo`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServicePlan {
    pub id: String,
    /// `MCOEV`, `MCOPSTN1`, … (may be empty).
    pub name: String,
}

/// One of a user's licences (Graph `assignedLicense`): a SKU, less the
/// service plans disabled for this user.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignedLicence {
    pub sku_id: String,
    /// Service plan ids turned off for this user.
    pub disabled_plans: Vec<String>,
}

/// [`crate::catalog::AttrId`]s of the attributes a [`User`] also keeps as
/// fields.
const UPN_ATTR: usize = 0;
const DISPLAY_NAME_ATTR: usize = 2;

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub upn: String,
    pub display_name: Option<String>,
    pub account_enabled: bool,
    /// Rule attributes by [`crate::catalog::AttrId`] (all but `memberOf`), as
    /// the directory holds them.
    pub attrs: Attrs,
    /// Direct policy assignments: policy type -> policy name.
    pub policies: Policies,
    /// Indexes into [`LiveState::groups`] of every group the user belongs
    /// to, directly or through nesting; sorted.
    pub groups: Vec<u32>,
    /// Licences assigned to the user (Graph `assignedLicenses`); empty when
    /// none or when [`LiveState::licensing`] is `None`.
    pub licences: Vec<AssignedLicence>,
}

impl User {
    pub fn new(id: impl Into<String>, upn: impl Into<String>) -> Self {
        User {
            id: id.into(),
            upn: upn.into(),
            display_name: None,
            account_enabled: true,
            attrs: Attrs::default(),
            policies: Policies::new(),
            groups: Vec::new(),
            licences: Vec::new(),
        }
    }

    /// A rule attribute as the directory holds it. `userPrincipalName` and
    /// `displayName` fall back to the user's own fields, so a user built
    /// with [`User::new`] (tests, providers that fill only the fields) can
    /// still be matched on them.
    pub fn attr(&self, id: usize) -> Option<&str> {
        match self.attrs.get(id) {
            Some(v) => Some(v),
            None if id == UPN_ATTR => Some(&self.upn),
            None if id == DISPLAY_NAME_ATTR => self.display_name.as_deref(),
            None => None,
        }
    }

    pub fn set_attr(&mut self, name: &str, value: Option<String>) {
        if let Some(id) = attr_id(name)
            && id < USER_ATTRIBUTE_COUNT
        {
            self.attrs.set(id, value.as_deref());
        }
    }

    pub fn attr_name(id: usize) -> &'static str {
        ATTRIBUTES[id]
    }
}

/// The [`crate::catalog::AttrId`] [`User::set_attr`] gives `name`.
pub(crate) fn attr_id(name: &str) -> Option<usize> {
    // `extensionAttributeN` by its number: the common case, and the one
    // a large tenant has fifteen of per user.
    name.strip_prefix("extensionAttribute")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| (1..=15).contains(n))
        .map(|n| crate::catalog::FIRST_EXTENSION_ATTRIBUTE + n - 1)
        .or_else(|| crate::catalog::attribute(name))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: String,
    pub display_name: String,
    /// Direct members: user ids and group ids.
    pub members: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PolicyInstance {
    pub policy_type: String,
    pub name: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupPolicyAssignment {
    pub group_id: String,
    pub policy_type: String,
    pub policy_name: String,
    pub rank: u32,
}

/// A Graph `numberAssignment`, reduced to what roster reads.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberAssignment {
    pub number: E164,
    pub number_type: Option<NumberType>,
    /// Object id of the user, resource account or other target holding it.
    pub target: Option<String>,
    /// `primary`, `private`, `alternate`.
    pub category: Option<String>,
    /// Graph `assignmentStatus` (`unassigned`, `userAssigned`, …).
    pub status: String,
    pub capabilities: Vec<String>,
    pub location_id: Option<String>,
}

impl NumberAssignment {
    /// A number for unit tests: `target`'s primary number (user-assigned),
    /// or free without one.
    #[cfg(test)]
    pub(crate) fn for_test(number: E164, kind: NumberType, target: Option<&str>) -> Self {
        NumberAssignment {
            number,
            number_type: Some(kind),
            target: target.map(str::to_string),
            category: target.map(|_| "primary".to_string()),
            status: if target.is_some() {
                "userAssigned"
            } else {
                "unassigned"
            }
            .into(),
            capabilities: vec!["userAssignment".into()],
            location_id: None,
        }
    }

    pub fn is_held(&self) -> bool {
        !self.status.eq_ignore_ascii_case("unassigned") || self.target.is_some()
    }

    pub fn can_assign_to_user(&self) -> bool {
        self.capabilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case("userAssignment"))
    }

    pub fn is_primary(&self) -> bool {
        self.category
            .as_deref()
            .is_none_or(|c| c.eq_ignore_ascii_case("primary"))
    }
}

impl LiveState {
    pub fn user_by_id(&self) -> HashMap<&str, usize> {
        self.users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.as_str(), i))
            .collect()
    }

    /// Find a user by UPN (without regard to case) or object id.
    pub fn find_user(&self, key: &str) -> Option<&User> {
        self.find_user_index(key).map(|i| &self.users[i])
    }

    /// Index of the user a UPN (without regard to case) or object id names.
    pub fn find_user_index(&self, key: &str) -> Option<usize> {
        let k = key.trim();
        self.users
            .iter()
            .position(|u| same_name(u.upn.trim(), k) || same_name(&u.id, k))
    }

    /// Numbers held by each user id, sorted.
    pub fn numbers_by_holder(&self) -> HashMap<&str, Vec<&NumberAssignment>> {
        let mut out: HashMap<&str, Vec<&NumberAssignment>> = HashMap::new();
        for n in self.numbers.values() {
            if let Some(t) = &n.target
                && n.is_held()
            {
                out.entry(t.as_str()).or_default().push(n);
            }
        }
        out
    }

    pub fn policy(&self, policy_type: &str, name: &str) -> Option<&PolicyInstance> {
        self.policies
            .get(policy_type)
            .and_then(|m| m.get(&name.to_lowercase()))
    }

    pub fn add_policy(&mut self, policy_type: &str, name: &str, id: &str) {
        self.policies
            .entry(policy_type.to_string())
            .or_default()
            .insert(
                name.to_lowercase(),
                PolicyInstance {
                    policy_type: policy_type.to_string(),
                    name: name.to_string(),
                    id: id.to_string(),
                },
            );
    }

    /// Give number `n` to the user `user_id` as Graph's `assignNumber` does
    /// (the caller has checked the user exists), or say why not in Graph's
    /// words: held by someone else, or a Calling Plan / Operator Connect
    /// number the tenant has not acquired for users.
    pub fn assign_number(
        &mut self,
        n: E164,
        user_id: &str,
        number_type: NumberType,
        category: &str,
        location_id: Option<&str>,
    ) -> Result<(), String> {
        match self.numbers.get(&n) {
            Some(a) if a.is_held() && a.target.as_deref() != Some(user_id) => {
                return Err(format!(
                    "Telephone Number '{n}' has already been assigned to another user"
                ));
            }
            None if number_type.needs_inventory() => {
                return Err(format!(
                    "Telephone Number '{n}' is not found from tenant '{}'",
                    self.tenant_id
                ));
            }
            Some(a) if number_type.needs_inventory() && !a.can_assign_to_user() => {
                return Err(format!(
                    "Telephone Number '{n}' cannot be assigned to a user (no userAssignment capability)"
                ));
            }
            _ => {}
        }
        let a = self.numbers.entry(n).or_insert_with(|| NumberAssignment {
            number: n,
            number_type: Some(number_type),
            target: None,
            category: None,
            status: "unassigned".into(),
            capabilities: vec!["userAssignment".into()],
            location_id: None,
        });
        a.target = Some(user_id.to_string());
        a.category = Some(category.to_string());
        a.status = "userAssigned".into();
        a.number_type = Some(number_type);
        if let Some(l) = location_id {
            a.location_id = Some(l.to_string());
        }
        Ok(())
    }

    /// Take number `n` back from whoever holds it (it stays in the
    /// inventory, unassigned); returns the former holder.
    pub fn unassign_number(&mut self, n: E164) -> Option<String> {
        let a = self.numbers.get_mut(&n)?;
        a.status = "unassigned".into();
        a.category = None;
        a.target.take()
    }

    /// Sort users by lower-cased UPN and resolve every user's transitive
    /// group membership. Call after building or changing users and groups.
    pub fn finish(&mut self) {
        // By (lower-cased UPN, id), stably: the keys borrowed from the
        // users where lower-casing changes nothing, the users then moved
        // into the order found.
        // Sorted on the keys' first 24 bytes, copied beside the indexes,
        // and on the keys themselves only on a tie: most comparisons then
        // read no user's memory.
        let order = {
            let keys: Vec<(Cow<str>, &str)> = self
                .users
                .iter()
                .map(|u| (lowercase(&u.upn), u.id.as_str()))
                .collect();
            let mut order: Vec<(Prefix, u32)> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| (sort_prefix(&k.0), i as u32))
                .collect();
            order.sort_by(|a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| keys[a.1 as usize].cmp(&keys[b.1 as usize]))
            });
            order
        };
        let mut users: Vec<Option<User>> = std::mem::take(&mut self.users)
            .into_iter()
            .map(Some)
            .collect();
        self.users = order
            .into_iter()
            .map(|(_, i)| users[i as usize].take().expect("each user is moved once"))
            .collect();
        resolve_groups(self);
    }
}

/// The first 24 bytes of a sort key, as big-endian integers.
pub(crate) type Prefix = (u128, u64);

/// The first 24 bytes of `key` as big-endian integers (zeros after its
/// end), so integers compare as the bytes do: a smaller prefix is a
/// smaller key; equal ones say nothing. Sorting these beside indexes
/// touches the keys themselves only on a tie (24 bytes: UPNs often share
/// their first 16, `firstname.lastname`).
pub(crate) fn sort_prefix(key: &str) -> Prefix {
    let mut bytes = [0u8; 24];
    let n = key.len().min(24);
    bytes[..n].copy_from_slice(&key.as_bytes()[..n]);
    let (high, low) = bytes.split_at(16);
    (
        u128::from_be_bytes(high.try_into().expect("16 bytes")),
        u64::from_be_bytes(low.try_into().expect("8 bytes")),
    )
}

/// `s.to_lowercase()`, borrowed when `s` has no upper-case letter in ASCII
/// and nothing outside it.
pub fn lowercase(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Equal without regard to case (Unicode-aware, as the manifests compare).
fn same_name(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// Every group each user belongs to, through any depth of nesting (cycles
/// tolerated). Linear in members times nesting depth.
pub(crate) fn resolve_groups(live: &mut LiveState) {
    // Users by id (a fast hash: the map lives for this call); a user whose
    // id an earlier user has shares its groups.
    type Index<'a> = HashMap<&'a str, u32, foldhash::fast::RandomState>;
    let mut user_index = Index::with_capacity_and_hasher(live.users.len(), Default::default());
    let mut same_as = Vec::new();
    for (i, u) in live.users.iter().enumerate() {
        if let Some(&first) = user_index.get(u.id.as_str()) {
            same_as.push((i, first as usize));
        } else {
            user_index.insert(u.id.as_str(), i as u32);
        }
    }
    let groups = memberships(&live.groups, live.users.len(), |id| {
        user_index.get(id).copied()
    });
    drop(user_index);
    for (u, g) in live.users.iter_mut().zip(groups) {
        u.groups = g;
    }
    for (i, first) in same_as {
        live.users[i].groups = live.users[first].groups.clone();
    }
}

/// Every user's groups (of `users` users; `user_of` finds a member's
/// index by object id): the indexes of the groups that list it, directly or
/// through nesting, sorted. A member that is a group is a group, whatever
/// `user_of` says.
pub(crate) fn memberships(
    groups: &[Group],
    users: usize,
    user_of: impl Fn(&str) -> Option<u32>,
) -> Vec<Vec<u32>> {
    let mut group_index: HashMap<&str, u32, foldhash::fast::RandomState> =
        HashMap::with_capacity_and_hasher(groups.len(), Default::default());
    for (i, g) in groups.iter().enumerate() {
        group_index.insert(g.id.as_str(), i as u32);
    }
    // parents[g] = groups that list g as a member; direct = (user, group)
    // for each group that lists a user.
    let mut parents: Vec<Vec<u32>> = vec![Vec::new(); groups.len()];
    let mut direct: Vec<(u32, u32)> = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        for m in &g.members {
            if let Some(&child) = group_index.get(m.as_str()) {
                parents[child as usize].push(gi as u32);
            } else if let Some(u) = user_of(m) {
                direct.push((u, gi as u32));
            }
        }
    }
    drop(group_index);
    // ancestors[g] = g and every group containing it, transitively.
    let ancestors: Vec<Vec<u32>> = (0..groups.len() as u32)
        .map(|g| {
            let mut seen = vec![g];
            let mut stack = vec![g];
            while let Some(x) = stack.pop() {
                for &p in &parents[x as usize] {
                    if !seen.contains(&p) {
                        seen.push(p);
                        stack.push(p);
                    }
                }
            }
            seen.sort_unstable();
            seen
        })
        .collect();
    let nested = ancestors.iter().any(|a| a.len() > 1);
    direct.sort_unstable();
    direct.dedup();
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); users];
    for run in direct.chunk_by(|a, b| a.0 == b.0) {
        let all = &mut out[run[0].0 as usize];
        if nested {
            all.extend(
                run.iter()
                    .flat_map(|&(_, g)| ancestors[g as usize].iter().copied()),
            );
            all.sort_unstable();
            all.dedup();
        } else {
            // Sorted and distinct already.
            all.extend(run.iter().map(|&(_, g)| g));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upn_and_display_name_are_attributes() {
        assert_eq!(ATTRIBUTES[UPN_ATTR], "userPrincipalName");
        assert_eq!(ATTRIBUTES[DISPLAY_NAME_ATTR], "displayName");
        let mut u = User::new("1", "Amy@x.com");
        u.display_name = Some("Amy".into());
        assert_eq!(u.attr(UPN_ATTR), Some("Amy@x.com"));
        assert_eq!(u.attr(DISPLAY_NAME_ATTR), Some("Amy"));
        assert_eq!(u.attr(5), None);
    }

    #[test]
    fn nested_groups_are_transitive_and_cycles_end() {
        let mut live = LiveState::default();
        live.users.push(User::new("u1", "a@x"));
        live.users.push(User::new("u2", "b@x"));
        let g = |id: &str, members: &[&str]| Group {
            id: id.into(),
            display_name: id.to_uppercase(),
            members: members.iter().map(|s| s.to_string()).collect(),
        };
        live.groups = vec![
            g("outer", &["inner"]),
            g("inner", &["u1", "loop"]),
            g("loop", &["inner"]),
            g("other", &["u2"]),
        ];
        live.finish();
        assert_eq!(live.users[0].groups, vec![0, 1, 2]);
        assert_eq!(live.users[1].groups, vec![3]);

        // Two users of one id (no source allows it) share its groups.
        live.users.push(User::new("u2", "c@x"));
        live.finish();
        assert_eq!(live.users[1].groups, vec![3]);
        assert_eq!(live.users[2].groups, vec![3]);
    }
}
