//! A user's rule attributes, compact: the values present, in attribute
//! order, in one string, with where each ends. A large tenant holds
//! hundreds of thousands of users with about twenty values each; one
//! allocation for the text (and one for the ends) instead of an
//! allocation per value and a slot for every attribute keeps the live
//! state small and quick to build and to free. Pure.

use crate::catalog::{ATTRIBUTES, AttrId, USER_ATTRIBUTE_COUNT};

const _: () = assert!(USER_ATTRIBUTE_COUNT <= 64, "one bit per attribute");

/// Values by [`AttrId`] (`memberOf` excluded): each present (possibly
/// empty) or absent. Two equal sets of values are equal as values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Attrs {
    /// Bit `id` set when attribute `id` has a value.
    present: u64,
    /// Where each present value ends in `text`, in id order.
    ends: Box<[u32]>,
    text: Box<str>,
}

impl Attrs {
    /// Attributes from `slots`, indexed by id (ids past the user
    /// attributes are ignored).
    pub fn from_slots<S: AsRef<str>>(slots: &[Option<S>]) -> Attrs {
        let slots = &slots[..slots.len().min(USER_ATTRIBUTE_COUNT)];
        let mut present = 0u64;
        let mut len = 0usize;
        for (id, v) in slots.iter().enumerate() {
            if let Some(v) = v {
                present |= 1 << id;
                len += v.as_ref().len();
            }
        }
        if present == 0 {
            return Attrs::default();
        }
        assert!(len <= u32::MAX as usize, "a user's attributes fit in 4 GiB");
        let mut text = String::with_capacity(len);
        let mut ends = Vec::with_capacity(present.count_ones() as usize);
        for v in slots.iter().flatten() {
            text.push_str(v.as_ref());
            ends.push(text.len() as u32);
        }
        Attrs {
            present,
            ends: ends.into_boxed_slice(),
            text: text.into_boxed_str(),
        }
    }

    /// The value of attribute `id`, if it has one.
    #[inline]
    pub fn get(&self, id: AttrId) -> Option<&str> {
        if id >= 64 || self.present & (1 << id) == 0 {
            return None;
        }
        let rank = (self.present & ((1u64 << id) - 1)).count_ones() as usize;
        let start = match rank {
            0 => 0,
            r => self.ends[r - 1] as usize,
        };
        Some(&self.text[start..self.ends[rank] as usize])
    }

    /// Give attribute `id` `value` (or none). Rebuilds the whole set: for
    /// building a user one attribute at a time, not in a loop over users'
    /// many attributes ([`Attrs::from_slots`] is for that).
    pub fn set(&mut self, id: AttrId, value: Option<&str>) {
        if id >= USER_ATTRIBUTE_COUNT {
            return;
        }
        let mut slots: Vec<Option<&str>> = (0..USER_ATTRIBUTE_COUNT).map(|i| self.get(i)).collect();
        slots[id] = value;
        *self = Attrs::from_slots(&slots);
    }

    /// The attributes that have a value, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (AttrId, &str)> {
        (0..USER_ATTRIBUTE_COUNT).filter_map(|id| self.get(id).map(|v| (id, v)))
    }
}

impl std::fmt::Debug for Attrs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(id, v)| (ATTRIBUTES[id], v)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_as_set_and_absent_differs_from_empty() {
        let mut slots: Vec<Option<String>> = vec![None; USER_ATTRIBUTE_COUNT];
        slots[1] = Some("amy@x.com".into());
        slots[5] = Some(String::new());
        slots[USER_ATTRIBUTE_COUNT - 1] = Some("Ünïcode ✓".into());
        let a = Attrs::from_slots(&slots);
        for (id, want) in slots.iter().enumerate() {
            assert_eq!(a.get(id), want.as_deref(), "attribute {id}");
        }
        assert_eq!(a.get(USER_ATTRIBUTE_COUNT), None);
        assert_eq!(a.get(200), None);
        assert_eq!(
            a.iter().collect::<Vec<_>>(),
            vec![
                (1, "amy@x.com"),
                (5, ""),
                (USER_ATTRIBUTE_COUNT - 1, "Ünïcode ✓")
            ]
        );
        assert_eq!(
            format!("{a:?}"),
            r#"{"mail": "amy@x.com", "jobTitle": "", "extensionAttribute15": "Ünïcode ✓"}"#
        );
    }

    #[test]
    fn set_changes_one_value_and_equal_values_are_equal() {
        let mut a = Attrs::default();
        assert_eq!(a.iter().count(), 0);
        a.set(9, Some("E1"));
        a.set(3, Some("Amy"));
        a.set(9, Some("E22"));
        a.set(4, Some("Lee"));
        a.set(4, None);
        a.set(
            USER_ATTRIBUTE_COUNT,
            Some("memberOf is not a user attribute"),
        );
        let mut slots: Vec<Option<&str>> = vec![None; USER_ATTRIBUTE_COUNT];
        slots[3] = Some("Amy");
        slots[9] = Some("E22");
        assert_eq!(a, Attrs::from_slots(&slots));
        assert_eq!(a.get(9), Some("E22"));
        assert_eq!(a.get(4), None);
        a.set(3, None);
        a.set(9, None);
        assert_eq!(a, Attrs::default());
    }
}
