//! The user overrides' keys (lower-cased, trimmed UPNs), looked up by
//! every user's UPN and object id: twice per user and plan, in `decide`
//! and in the check for overrides that name nobody. Most users have no
//! override, so a lookup first asks a table of the keys' first two bytes
//! (16 Kib): a value whose first two bytes (trimmed, lower-cased ASCII)
//! begin no key is refused there, without lower-casing or hashing it.
//! Exactly as [`rules::normalized`] then a hash lookup would decide. Pure.

use std::collections::HashMap;

use crate::rules;

type Map<V> = HashMap<String, V, foldhash::fast::FixedState>;

/// Keys (normalised as [`rules::normalized`] does) to values.
pub(super) struct Keys<V> {
    map: Map<V>,
    /// Bit `pair(a, b)` set when a key begins with the ASCII bytes `a b`.
    pairs: Box<[u64; PAIR_WORDS]>,
}

const PAIR_WORDS: usize = 128 * 128 / 64;

fn pair(a: u8, b: u8) -> usize {
    usize::from(a.to_ascii_lowercase()) << 7 | usize::from(b.to_ascii_lowercase())
}

/// The first two bytes of `s` when both are ASCII.
fn ascii_pair(s: &str) -> Option<(u8, u8)> {
    match s.as_bytes() {
        [a, b, ..] if a.is_ascii() && b.is_ascii() => Some((*a, *b)),
        _ => None,
    }
}

impl<V> Keys<V> {
    /// From keys normalised already (a later value for a key wins).
    pub fn new(entries: impl IntoIterator<Item = (String, V)>) -> Self {
        let map: Map<V> = entries.into_iter().collect();
        let mut pairs = Box::new([0u64; PAIR_WORDS]);
        for (a, b) in map.keys().filter_map(|k| ascii_pair(k)) {
            let p = pair(a, b);
            pairs[p / 64] |= 1 << (p % 64);
        }
        Keys { map, pairs }
    }

    /// The key `raw` normalises to, and its value.
    pub fn get(&self, raw: &str) -> Option<(&str, &V)> {
        if self.map.is_empty() {
            return None;
        }
        // Lower-casing maps an ASCII byte to one ASCII byte and leaves the
        // rest of a text after it: a normalised value starting with two
        // ASCII bytes starts with those bytes lower-cased. (A key shorter
        // than that, or not starting so, can only be met on the full path.)
        if let Some((a, b)) = ascii_pair(rules::trimmed(raw)) {
            let p = pair(a, b);
            if self.pairs[p / 64] >> (p % 64) & 1 == 0 {
                return None;
            }
        }
        self.map
            .get_key_value(rules::normalized(raw).as_ref())
            .map(|(k, v)| (k.as_str(), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plain<'a>(keys: &'a [String], raw: &str) -> Option<&'a str> {
        let n = rules::normalized(raw);
        keys.iter().find(|k| **k == n).map(String::as_str)
    }

    #[test]
    fn found_as_a_hash_lookup_of_the_normalised_value_would_find() {
        let keys: Vec<String> = ["ann@x.com", "b", "été@x", "Σ", "42", ""]
            .iter()
            .map(|k| rules::normalize(k))
            .collect();
        let set = Keys::new(keys.iter().map(|k| (k.clone(), ())));
        for raw in [
            " ANN@X.COM ",
            "ann@x.com",
            "ann@x.co",
            "B",
            " b",
            "bb",
            "ÉTÉ@X",
            "σ",
            "42",
            "4",
            "",
            "  ",
            "an",
            "zz@x.com",
        ] {
            assert_eq!(set.get(raw).map(|(k, _)| k), plain(&keys, raw), "{raw:?}");
        }
        assert!(Keys::<()>::new([]).get("ann@x.com").is_none());
    }

    proptest! {
        #[test]
        fn agrees_with_the_plain_lookup(
            keys in proptest::collection::vec("[ aAbB\u{c9}\u{e9}\u{3a3}1@.]{0,4}", 0..6),
            raws in proptest::collection::vec("[ aAbB\u{c9}\u{e9}\u{3a3}1@.\t]{0,5}", 0..20),
        ) {
            let keys: Vec<String> = keys.iter().map(|k| rules::normalize(k)).collect();
            let set = Keys::new(keys.iter().map(|k| (k.clone(), ())));
            for raw in &raws {
                prop_assert_eq!(set.get(raw).map(|(k, _)| k), plain(&keys, raw), "{:?}", raw);
            }
        }
    }
}
