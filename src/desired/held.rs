//! The numbers each user holds, by index into [`LiveState::users`]: one
//! flat list and offsets instead of a map of vectors (one allocation
//! instead of one per holder, and no hashing per lookup). The same lists,
//! in the same order, as [`LiveState::numbers_by_holder`] gives a user's
//! object id. Pure.

use std::collections::HashMap;

use crate::live::{LiveState, NumberAssignment};
use crate::numbers::E164;

pub struct HeldNumbers<'a> {
    /// For each user, its holder slot (users sharing an object id share
    /// one).
    slot: Vec<u32>,
    /// `flat[starts[s]..starts[s + 1]]` are the numbers of slot `s`.
    starts: Vec<u32>,
    flat: Vec<&'a NumberAssignment>,
    /// The number of each of `flat` (read with the rest, for
    /// [`HeldNumbers::numbers`]).
    numbers: Vec<E164>,
}

impl<'a> HeldNumbers<'a> {
    pub fn of(live: &'a LiveState) -> Self {
        let mut by_id: HashMap<&str, u32, foldhash::fast::FixedState> =
            HashMap::with_capacity_and_hasher(live.users.len(), Default::default());
        let slot: Vec<u32> = live
            .users
            .iter()
            .map(|u| {
                let next = by_id.len() as u32;
                *by_id.entry(u.id.as_str()).or_insert(next)
            })
            .collect();
        // Holder slot of each held number, in number order.
        let owners: Vec<(u32, E164, &NumberAssignment)> = live
            .numbers
            .values()
            .filter(|n| n.is_held())
            .filter_map(|n| Some((*by_id.get(n.target.as_deref()?)?, n.number, n)))
            .collect();
        let mut starts = vec![0u32; by_id.len() + 1];
        for (s, _, _) in &owners {
            starts[*s as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut fill = starts.clone();
        let mut flat: Vec<Option<&NumberAssignment>> = vec![None; owners.len()];
        let mut numbers: Vec<Option<E164>> = vec![None; owners.len()];
        for (s, number, n) in owners {
            let at = &mut fill[s as usize];
            flat[*at as usize] = Some(n);
            numbers[*at as usize] = Some(number);
            *at += 1;
        }
        HeldNumbers {
            slot,
            starts,
            flat: flat.into_iter().flatten().collect(),
            numbers: numbers.into_iter().flatten().collect(),
        }
    }

    /// The numbers the user at `index` holds, in number order.
    pub fn of_user(&self, index: usize) -> &[&'a NumberAssignment] {
        let s = self.slot[index] as usize;
        &self.flat[self.starts[s] as usize..self.starts[s + 1] as usize]
    }

    /// The same lists, by number: what the desired state keeps for the
    /// diff (which finds each number again in the live state).
    pub fn numbers(self) -> HeldIndex {
        HeldIndex {
            slot: self.slot,
            starts: self.starts,
            flat: self.numbers,
        }
    }
}

/// [`HeldNumbers`] by number, owned: the numbers each user of the live
/// state the desired state was computed from holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeldIndex {
    slot: Vec<u32>,
    starts: Vec<u32>,
    flat: Vec<E164>,
}

impl HeldIndex {
    /// The numbers each user of `live` holds.
    pub fn of(live: &LiveState) -> HeldIndex {
        HeldNumbers::of(live).numbers()
    }

    /// The numbers the user at `index` holds, in number order; `None`
    /// when the index was made for fewer users (or not made).
    pub fn of_user(&self, index: usize) -> Option<&[E164]> {
        let s = *self.slot.get(index)? as usize;
        Some(&self.flat[self.starts[s] as usize..self.starts[s + 1] as usize])
    }

    /// Whether it was made for a live state of `users` users.
    pub fn covers(&self, users: usize) -> bool {
        self.slot.len() == users
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::User;
    use crate::numbers::{E164, NumberType};

    #[test]
    fn every_user_gets_the_numbers_numbers_by_holder_gives_its_id() {
        let mut live = LiveState {
            users: vec![
                User::new("u1", "a@x.com"),
                User::new("u2", "b@x.com"),
                User::new("u3", "c@x.com"),
                // The same object id twice: both see its numbers.
                User::new("u1", "d@x.com"),
            ],
            ..LiveState::default()
        };
        for (num, target) in [
            ("+442071230003", Some("u1")),
            ("+442071230001", Some("u1")),
            ("+442071230002", Some("u3")),
            ("+442071230004", Some("gone")),
            ("+442071230005", None),
        ] {
            let n = E164::parse(num).unwrap();
            live.numbers.insert(
                n,
                NumberAssignment::for_test(n, NumberType::DirectRouting, target),
            );
        }
        let held = HeldNumbers::of(&live);
        let by_holder = live.numbers_by_holder();
        for (i, u) in live.users.iter().enumerate() {
            let want: &[&NumberAssignment] = by_holder.get(u.id.as_str()).map_or(&[], |v| v);
            assert_eq!(held.of_user(i), want, "{}", u.upn);
        }
        assert_eq!(held.of_user(0).len(), 2);
        assert!(held.of_user(1).is_empty());
        let index = held.numbers();
        assert!(index.covers(4) && !index.covers(5));
        for (i, u) in live.users.iter().enumerate() {
            let want: Vec<E164> = by_holder
                .get(u.id.as_str())
                .map_or(Vec::new(), |v| v.iter().map(|n| n.number).collect());
            assert_eq!(index.of_user(i), Some(&want[..]), "{}", u.upn);
        }
        assert_eq!(index.of_user(4), None);
        assert!(!HeldIndex::default().covers(4));
    }
}
