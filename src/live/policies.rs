//! A user's direct policy assignments (policy type -> policy name), as a
//! list sorted by type: most users have a handful, and a tenant of
//! 500,000 users has millions. A sorted list is a fraction of the memory
//! of a B-tree node per user, is built by pushing in order, and is read
//! by a binary search or by walking two sorted lists side by side. It reads
//! like the map it replaces (`get`, `insert`, `remove`, `iter`, ...). Pure.

use super::PolicyType;

/// Policy type -> policy name; at most one name per type.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Policies(Vec<(PolicyType, String)>);

impl Policies {
    pub fn new() -> Self {
        Policies(Vec::new())
    }

    fn find(&self, ty: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(t, _)| t.as_str().cmp(ty))
    }

    /// The policy assigned for type `ty`.
    pub fn get(&self, ty: &str) -> Option<&String> {
        self.find(ty).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, ty: &str) -> bool {
        self.find(ty).is_ok()
    }

    /// Assign `name` for type `ty`; the name it replaces, if any.
    pub fn insert(&mut self, ty: impl Into<PolicyType>, name: String) -> Option<String> {
        let ty = ty.into();
        // Types mostly arrive in order: check the end first.
        if self.0.last().is_none_or(|(last, _)| *last < ty) {
            self.0.push((ty, name));
            return None;
        }
        match self.find(&ty) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, name)),
            Err(i) => {
                self.0.insert(i, (ty, name));
                None
            }
        }
    }

    /// Take the assignment of type `ty` away; the name it had.
    pub fn remove(&mut self, ty: &str) -> Option<String> {
        self.find(ty).ok().map(|i| self.0.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// (type, name), by type.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&PolicyType, &String)> {
        self.0.iter().map(|(t, n)| (t, n))
    }

    pub fn keys(&self) -> impl ExactSizeIterator<Item = &PolicyType> {
        self.0.iter().map(|(t, _)| t)
    }

    pub fn values(&self) -> impl ExactSizeIterator<Item = &String> {
        self.0.iter().map(|(_, n)| n)
    }
}

impl<'a> IntoIterator for &'a Policies {
    type Item = (&'a PolicyType, &'a String);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (PolicyType, String)>,
        fn(&'a (PolicyType, String)) -> (&'a PolicyType, &'a String),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(t, n)| (t, n))
    }
}

impl IntoIterator for Policies {
    type Item = (PolicyType, String);
    type IntoIter = std::vec::IntoIter<(PolicyType, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<T: Into<PolicyType>, N: Into<String>> FromIterator<(T, N)> for Policies {
    /// As a map is collected: the last of a repeated type wins.
    fn from_iter<I: IntoIterator<Item = (T, N)>>(iter: I) -> Self {
        let mut p = Policies::new();
        p.extend(iter);
        p
    }
}

impl<T: Into<PolicyType>, N: Into<String>> Extend<(T, N)> for Policies {
    fn extend<I: IntoIterator<Item = (T, N)>>(&mut self, iter: I) {
        for (t, n) in iter {
            self.insert(t, n.into());
        }
    }
}

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn reads_and_changes_like_a_sorted_map() {
        let ops: &[(&str, Option<&str>)] = &[
            ("TeamsMeetingPolicy", Some("M1")),
            ("TeamsCallingPolicy", Some("C1")),
            ("TenantDialPlan", Some("D1")),
            ("TeamsCallingPolicy", Some("C2")),
            ("TeamsAppSetupPolicy", Some("A1")),
            ("TenantDialPlan", None),
            ("NotThere", None),
            ("OnlineVoiceRoutingPolicy", Some("V1")),
        ];
        let mut p = Policies::new();
        let mut m: BTreeMap<String, String> = BTreeMap::new();
        for (ty, name) in ops {
            match name {
                Some(n) => assert_eq!(
                    p.insert(ty.to_string(), n.to_string()),
                    m.insert(ty.to_string(), n.to_string())
                ),
                None => assert_eq!(p.remove(ty), m.remove(*ty)),
            }
            assert!(
                p.iter()
                    .map(|(t, n)| (t.as_str(), n))
                    .eq(m.iter().map(|(t, n)| (t.as_str(), n)))
            );
            assert_eq!(p.len(), m.len());
            for (ty, _) in ops {
                assert_eq!(p.get(ty), m.get(*ty), "{ty}");
                assert_eq!(p.contains_key(ty), m.contains_key(*ty));
            }
            assert!(
                p.keys()
                    .map(|t| t.as_str())
                    .eq(m.keys().map(String::as_str))
            );
            assert!(p.values().eq(m.values()));
        }
        let collected: Policies = [("b", "1"), ("a", "2"), ("b", "3")].into_iter().collect();
        assert_eq!(format!("{collected:?}"), r#"{"a": "2", "b": "3"}"#);
        assert!(
            collected
                .into_iter()
                .map(|(t, n)| (String::from(t), n))
                .eq([("a".to_string(), "2".to_string()), ("b".into(), "3".into())])
        );
        assert!(Policies::default().is_empty());
    }
}
