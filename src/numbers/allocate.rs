//! Lowest-free number allocation over named pools: the last step of the
//! manifest language's "Number allocation" (pins and sticky numbers are
//! decided before, in `desired`).
//!
//! A pool is a range as the allocator needs it: its blocks, or for Calling
//! Plan and Operator Connect ranges the inventory numbers it may hand out.
//! Knows nothing of manifests or tenants; pure and deterministic.

use std::collections::{HashMap, HashSet};

use super::{E164, NumberType};

/// One range to allocate from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub name: String,
    pub kind: NumberType,
    pub location_id: Option<String>,
    pub candidates: Candidates,
}

/// Where a pool's numbers come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidates {
    /// Direct Routing: every number of these inclusive blocks.
    Blocks(Vec<(E164, E164)>),
    /// Calling Plan / Operator Connect: these inventory numbers only.
    Inventory(Vec<E164>),
}

/// A number the allocator handed out, and the pool it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocated {
    pub number: E164,
    pub kind: NumberType,
    pub pool: String,
    pub location_id: Option<String>,
}

/// Lowest-free allocation with one forward-only cursor per pool: numbers
/// only become taken during a plan, so a cursor never needs to move back.
pub struct Allocator {
    pools: HashMap<String, Cursor>,
}

struct Cursor {
    pool: Pool,
    state: CursorState,
}

enum CursorState {
    /// (block, next number to try).
    Blocks { block: usize, next: Option<E164> },
    /// Index of the next inventory number to try.
    Inventory { next: usize },
}

impl Allocator {
    pub fn new(pools: impl IntoIterator<Item = Pool>) -> Self {
        let mut out = HashMap::new();
        for mut pool in pools {
            let state = match &mut pool.candidates {
                Candidates::Blocks(blocks) => {
                    blocks.retain(|(from, to)| from <= to);
                    blocks.sort();
                    CursorState::Blocks {
                        block: 0,
                        next: blocks.first().map(|b| b.0),
                    }
                }
                Candidates::Inventory(numbers) => {
                    numbers.sort();
                    numbers.dedup();
                    CursorState::Inventory { next: 0 }
                }
            };
            out.insert(pool.name.clone(), Cursor { pool, state });
        }
        Allocator { pools: out }
    }

    /// The lowest number not in `taken` from the first of `names` that has
    /// one; it is added to `taken`. Unknown names are passed over.
    pub fn allocate(&mut self, names: &[String], taken: &mut HashSet<E164>) -> Option<Allocated> {
        for name in names {
            let Some(cursor) = self.pools.get_mut(name.as_str()) else {
                continue;
            };
            if let Some(n) = cursor.next_free(taken) {
                taken.insert(n);
                return Some(Allocated {
                    number: n,
                    kind: cursor.pool.kind,
                    pool: name.clone(),
                    location_id: cursor.pool.location_id.clone(),
                });
            }
        }
        None
    }
}

impl Cursor {
    fn next_free(&mut self, taken: &HashSet<E164>) -> Option<E164> {
        let free = |n: &E164| !taken.contains(n);
        match (&self.pool.candidates, &mut self.state) {
            (Candidates::Inventory(numbers), CursorState::Inventory { next }) => {
                while *next < numbers.len() {
                    let n = numbers[*next];
                    if free(&n) {
                        return Some(n);
                    }
                    *next += 1;
                }
                None
            }
            (Candidates::Blocks(blocks), CursorState::Blocks { block, next }) => loop {
                let (_, to) = *blocks.get(*block)?;
                match *next {
                    Some(n) if n <= to => {
                        if free(&n) {
                            return Some(n);
                        }
                        *next = n.next();
                    }
                    _ => {
                        *block += 1;
                        // Blocks are sorted and do not overlap (validated),
                        // but never step back below where we are.
                        *next = blocks.get(*block).map(|b| match *next {
                            Some(n) if n > b.0 => n,
                            _ => b.0,
                        });
                    }
                }
            },
            _ => unreachable!("a cursor's state matches its pool's candidates"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> E164 {
        E164::parse(s).unwrap()
    }

    fn blocks(name: &str, b: &[(&str, &str)]) -> Pool {
        Pool {
            name: name.into(),
            kind: NumberType::DirectRouting,
            location_id: None,
            candidates: Candidates::Blocks(b.iter().map(|(f, t)| (n(f), n(t))).collect()),
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lowest_free_in_block_order_skipping_taken() {
        let mut a = Allocator::new([blocks(
            "r",
            &[("+15550020", "+15550021"), ("+15550010", "+15550011")],
        )]);
        let mut taken: HashSet<E164> = [n("+15550010")].into();
        let got: Vec<_> = (0..4)
            .map(|_| a.allocate(&names(&["r"]), &mut taken).map(|x| x.number))
            .collect();
        assert_eq!(
            got,
            vec![
                Some(n("+15550011")),
                Some(n("+15550020")),
                Some(n("+15550021")),
                None
            ]
        );
        assert_eq!(taken.len(), 4);
    }

    #[test]
    fn falls_through_to_the_next_named_pool_and_reports_it() {
        let mut a = Allocator::new([
            blocks("small", &[("+15550010", "+15550010")]),
            blocks("big", &[("+15550100", "+15550199")]),
        ]);
        let mut taken = HashSet::new();
        let first = a.allocate(&names(&["small", "big"]), &mut taken).unwrap();
        let second = a.allocate(&names(&["small", "big"]), &mut taken).unwrap();
        assert_eq!(
            (first.pool.as_str(), first.number),
            ("small", n("+15550010"))
        );
        assert_eq!(
            (second.pool.as_str(), second.number),
            ("big", n("+15550100"))
        );
        assert!(a.allocate(&names(&["nope"]), &mut taken).is_none());
    }

    #[test]
    fn inventory_pools_hand_out_only_their_numbers_in_order() {
        let mut a = Allocator::new([Pool {
            name: "cp".into(),
            kind: NumberType::CallingPlan,
            location_id: Some("loc".into()),
            candidates: Candidates::Inventory(vec![n("+15550030"), n("+15550010"), n("+15550030")]),
        }]);
        let mut taken = HashSet::new();
        let x = a.allocate(&names(&["cp"]), &mut taken).unwrap();
        assert_eq!(x.number, n("+15550010"));
        assert_eq!(x.kind, NumberType::CallingPlan);
        assert_eq!(x.location_id.as_deref(), Some("loc"));
        assert_eq!(
            a.allocate(&names(&["cp"]), &mut taken).unwrap().number,
            n("+15550030")
        );
        assert!(a.allocate(&names(&["cp"]), &mut taken).is_none());
    }

    #[test]
    fn empty_blocks_are_ignored() {
        let mut a = Allocator::new([blocks("r", &[("+15550020", "+15550010")])]);
        assert!(a.allocate(&names(&["r"]), &mut HashSet::new()).is_none());
    }
}
