//! The emulator's lookup tables over the tenant ([`Index`]): users by id and
//! principal name, the snapshot JSON of each user, groups by id, the users
//! of each group (transitively) and the groups each user is a direct
//! member of, group policy assignments by group, and numbers by holder. They
//! let a request cost what its page holds, not what the tenant holds. The
//! tables derived from users and groups are built once, and again only
//! when a test endpoint changes the directory ([`super::directory`]); numbers by holder is kept right by
//! [`Index::move_number`], which every write that changes a number's target
//! must call. It must not decide what a request answers.

use std::collections::BTreeSet;

use super::state::UserJson;
use crate::live::LiveState;
use crate::numbers::E164;

/// A map keyed by ids (a fast hash: every page looks up each of its
/// users a few times).
pub type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Debug, Default)]
pub struct Index {
    /// User id -> index into `live.users`.
    pub user: Map<String, usize>,
    /// ASCII-lower-cased user principal name -> index into `live.users`.
    upn: Map<String, usize>,
    /// Index into `live.users` -> index into the snapshot's users (file order).
    pub json_of: Vec<u32>,
    /// Group id -> index into `live.groups`.
    pub group: Map<String, u32>,
    /// Index into `live.groups` -> users (indexes into `live.users`, ascending)
    /// who belong to it directly or through nesting.
    pub group_users: Vec<Vec<u32>>,
    /// Index into `live.users` -> groups the user is a direct member of.
    pub direct_groups: Vec<Vec<u32>>,
    /// Group id -> indexes into `live.group_policies`, ascending.
    pub group_policies: Map<String, Vec<usize>>,
    /// Target id -> the numbers whose `target` it is (held or not).
    holder: Map<String, BTreeSet<E164>>,
}

impl Index {
    /// Build every table. `users_json` is the snapshot's users, any order.
    pub fn build(live: &LiveState, users_json: &[UserJson]) -> Index {
        let user: Map<String, usize> = live
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.clone(), i))
            .collect();
        let mut upn = Map::with_capacity_and_hasher(live.users.len(), Default::default());
        for (i, u) in live.users.iter().enumerate() {
            // The first user by sort order wins, as a linear search finds it.
            upn.entry(u.upn.to_ascii_lowercase()).or_insert(i);
        }
        let mut json_of = vec![u32::MAX; live.users.len()];
        for (j, v) in users_json.iter().enumerate() {
            if let Some(&i) = user.get(&*v.id)
                && json_of[i] == u32::MAX
            {
                json_of[i] = j as u32;
            }
        }
        let mut group = Map::with_capacity_and_hasher(live.groups.len(), Default::default());
        for (g, grp) in live.groups.iter().enumerate() {
            group.entry(grp.id.clone()).or_insert(g as u32);
        }
        let mut group_users = vec![Vec::new(); live.groups.len()];
        let mut direct_groups = vec![Vec::new(); live.users.len()];
        for (i, u) in live.users.iter().enumerate() {
            for &g in &u.groups {
                group_users[g as usize].push(i as u32);
            }
        }
        for (g, grp) in live.groups.iter().enumerate() {
            for m in &grp.members {
                if let Some(&i) = user.get(m)
                    && !direct_groups[i].contains(&(g as u32))
                {
                    direct_groups[i].push(g as u32);
                }
            }
        }
        let mut group_policies: Map<String, Vec<usize>> = Map::default();
        for (k, gp) in live.group_policies.iter().enumerate() {
            group_policies
                .entry(gp.group_id.clone())
                .or_default()
                .push(k);
        }
        let mut holder: Map<String, BTreeSet<E164>> = Map::default();
        for n in live.numbers.values() {
            if let Some(t) = &n.target {
                holder.entry(t.clone()).or_default().insert(n.number);
            }
        }
        Index {
            user,
            upn,
            json_of,
            group,
            group_users,
            direct_groups,
            group_policies,
            holder,
        }
    }

    /// A user by object id, or by principal name without regard to ASCII case.
    pub fn find_user(&self, key: &str) -> Option<usize> {
        self.user
            .get(key)
            .or_else(|| self.upn.get(&key.to_ascii_lowercase()))
            .copied()
    }

    /// The numbers whose target is `target` (held or not), in number order.
    pub fn numbers_of(&self, target: &str) -> impl Iterator<Item = E164> + '_ {
        self.holder.get(target).into_iter().flatten().copied()
    }

    /// Number `n` moved from target `old` to `new` (either may be none).
    pub fn move_number(&mut self, n: E164, old: Option<&str>, new: Option<&str>) {
        if old == new {
            return;
        }
        if let Some(o) = old
            && let Some(set) = self.holder.get_mut(o)
        {
            set.remove(&n);
            if set.is_empty() {
                self.holder.remove(o);
            }
        }
        if let Some(t) = new {
            self.holder.entry(t.to_string()).or_default().insert(n);
        }
    }

    /// Every (target, number) pair the index holds, for checks.
    #[cfg(test)]
    pub fn holder_pairs(&self) -> BTreeSet<(String, E164)> {
        self.holder
            .iter()
            .flat_map(|(t, ns)| ns.iter().map(move |n| (t.clone(), *n)))
            .collect()
    }
}

#[cfg(test)]
#[path = "index_tests.rs"]
mod tests;
