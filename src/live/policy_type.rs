//! A policy type's name as the live and the desired state hold it: a
//! catalog type (the 46 of [`crate::catalog::POLICY_TYPES`], spelled as
//! the catalog does) is a reference to the catalog's text with its rank in
//! sorted order; any other text is kept as written. A tenant of 500,000
//! users holds millions of direct assignments of a few dozen types: the
//! catalog's are not allocated once per assignment, and two of them
//! compare by rank, not byte by byte. It reads, compares, orders and
//! hashes exactly as the text does (and borrows as `str`, so maps keyed by
//! it are looked up by text). Pure.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::LazyLock;

use crate::catalog::POLICY_TYPES;

#[derive(Clone)]
pub struct PolicyType(Repr);

#[derive(Clone)]
enum Repr {
    /// A catalog type, exactly as the catalog spells it, with its rank in
    /// byte order among the catalog's.
    Known(&'static str, u8),
    /// Any other text (never a catalog type's exact spelling).
    Other(Box<str>),
}

/// The catalog's types in byte order.
static SORTED: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut sorted = POLICY_TYPES.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert!(sorted.len() <= 256, "a rank fits in a byte");
    sorted
});

impl PolicyType {
    /// The type written `name` (exactly; not matched without regard to
    /// case: [`crate::catalog::policy_type`] does that).
    pub fn new(name: &str) -> Self {
        match SORTED.binary_search(&name) {
            Ok(rank) => PolicyType(Repr::Known(SORTED[rank], rank as u8)),
            Err(_) => PolicyType(Repr::Other(name.into())),
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Known(name, _) => name,
            Repr::Other(name) => name,
        }
    }
}

impl From<&str> for PolicyType {
    fn from(name: &str) -> Self {
        PolicyType::new(name)
    }
}

impl From<&String> for PolicyType {
    fn from(name: &String) -> Self {
        PolicyType::new(name)
    }
}

impl From<String> for PolicyType {
    fn from(name: String) -> Self {
        match SORTED.binary_search(&name.as_str()) {
            Ok(rank) => PolicyType(Repr::Known(SORTED[rank], rank as u8)),
            Err(_) => PolicyType(Repr::Other(name.into_boxed_str())),
        }
    }
}

impl From<&PolicyType> for PolicyType {
    fn from(ty: &PolicyType) -> Self {
        ty.clone()
    }
}

impl Deref for PolicyType {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for PolicyType {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for PolicyType {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for PolicyType {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Repr::Known(_, a), Repr::Known(_, b)) => a == b,
            // A catalog spelling is always `Known`: the two never meet.
            (Repr::Other(a), Repr::Other(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for PolicyType {}

impl PartialEq<str> for PolicyType {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for PolicyType {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Ord for PolicyType {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.0, &other.0) {
            (Repr::Known(_, a), Repr::Known(_, b)) => a.cmp(b),
            _ => self.as_str().cmp(other.as_str()),
        }
    }
}

impl PartialOrd for PolicyType {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hash for PolicyType {
    /// As the text hashes (`Borrow<str>` requires it).
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl serde::Serialize for PolicyType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl From<PolicyType> for String {
    fn from(ty: PolicyType) -> String {
        match ty.0 {
            Repr::Known(name, _) => name.to_string(),
            Repr::Other(name) => name.into_string(),
        }
    }
}

impl std::fmt::Display for PolicyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for PolicyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::hash::BuildHasher;

    #[test]
    fn catalog_types_are_known_and_other_text_is_kept_as_written() {
        for &t in POLICY_TYPES {
            let ty = PolicyType::new(t);
            assert!(matches!(ty.0, Repr::Known(..)), "{t}");
            assert_eq!(ty.as_str(), t);
            assert!(matches!(PolicyType::from(t.to_string()).0, Repr::Known(..)));
        }
        for t in ["teamscallingpolicy", "TeamsCallingPolicy ", "", "Custom"] {
            let ty = PolicyType::from(t.to_string());
            assert!(matches!(ty.0, Repr::Other(_)), "{t:?}");
            assert_eq!(&*ty, t);
            assert_eq!(ty, PolicyType::new(t));
        }
    }

    fn any_type() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(POLICY_TYPES).prop_map(str::to_string),
            "[A-Za-z]{0,24}",
            proptest::sample::select(POLICY_TYPES).prop_map(|t| format!("{t}x")),
            proptest::sample::select(POLICY_TYPES).prop_map(|t| t[..t.len() - 1].to_string()),
        ]
    }

    proptest! {
        /// Equal, ordered and hashed exactly as the text is.
        #[test]
        fn compares_as_its_text(a in any_type(), b in any_type()) {
            let (x, y) = (PolicyType::from(a.clone()), PolicyType::new(&b));
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            prop_assert_eq!(x == y, a == b);
            prop_assert_eq!(x == *b.as_str(), a == b);
            let state = std::collections::hash_map::RandomState::new();
            prop_assert_eq!(state.hash_one(&x), state.hash_one(a.as_str()));
        }
    }
}
