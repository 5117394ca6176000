//! The users of the fast path ([`super`]) as rows in chunks, in the
//! order of the file: their sort keys, their order (the chunks' sorted runs
//! merged), their policies and groups set in place on the cores, and the
//! users moved out in order. Pure.

use std::collections::HashSet;

use super::{Assigned, USERS_PER_CHUNK};
use crate::live::{Prefix, User};

/// A user as parsed, with its sort key (lower-cased UPN; `None` when the
/// UPN is its own lower case, as most are).
pub(super) struct Row {
    pub lower: Option<String>,
    pub user: User,
}

impl Row {
    pub(super) fn new(user: User) -> Row {
        let upn = &user.upn;
        let lower = (!upn.is_ascii() || upn.bytes().any(|c| c.is_ascii_uppercase()))
            .then(|| upn.to_lowercase());
        Row { lower, user }
    }

    pub(super) fn key(&self) -> &str {
        self.lower.as_deref().unwrap_or(&self.user.upn)
    }
}

/// A row's place in the sort: the first 24 bytes of its key (big-endian,
/// so integers compare as the bytes do) and its index. Sorting these
/// touches no row but on a tie (24 bytes: UPNs often share their first
/// 16, `firstname.lastname`, and a tie reads two rows from memory).
pub(super) type Order = (Prefix, u32);

pub(super) use crate::live::sort_prefix as prefix;

pub(super) fn by_key(a: &Row, b: &Row) -> std::cmp::Ordering {
    a.key().cmp(b.key()).then_with(|| a.user.id.cmp(&b.user.id))
}

/// The users' places in the file (chunk × [`USERS_PER_CHUNK`] + row), in
/// order: `order` holds them in sorted runs (one per chunk). `None` when
/// two UPNs are the same without regard to case (and surrounding white
/// space, when `trimmed` says some UPN has it).
pub(super) fn user_order(
    parts: &[Vec<Option<Row>>],
    mut order: Vec<Order>,
    trimmed: bool,
) -> Option<Vec<u32>> {
    let row = |i: u32| {
        let i = i as usize;
        parts[i / USERS_PER_CHUNK][i % USERS_PER_CHUNK]
            .as_ref()
            .expect("just parsed")
    };
    // A stable sort merges the runs.
    order.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| by_key(row(a.1), row(b.1))));
    if trimmed {
        let mut seen = HashSet::with_capacity(order.len());
        if !order
            .iter()
            .all(|&(_, i)| seen.insert(row(i).user.upn.trim().to_lowercase()))
        {
            return None;
        }
    } else if order
        .windows(2)
        .any(|w| w[0].0 == w[1].0 && row(w[0].1).key() == row(w[1].1).key())
    {
        return None;
    }
    Some(order.into_iter().map(|(_, i)| i).collect())
}

/// The users of `parts`, moved out in `order` ([`user_order`]).
pub(super) fn in_order(mut parts: Vec<Vec<Option<Row>>>, order: Vec<u32>) -> Vec<User> {
    order
        .into_iter()
        .map(|i| {
            let i = i as usize;
            parts[i / USERS_PER_CHUNK][i % USERS_PER_CHUNK]
                .take()
                .expect("each row is taken once")
                .user
        })
        .collect()
}

/// Give the users (in chunks of rows, in file order) their direct
/// assignments (`buckets[c]` holds those of chunk `c`, by place in the
/// file) and their groups (`groups`, by place in the file), a run of
/// chunks per thread; `false` when a user has two of one type.
pub(super) fn settle(
    parts: &mut [Vec<Option<Row>>],
    buckets: Vec<Vec<Vec<Assigned>>>,
    mut groups: Vec<Vec<u32>>,
    threads: usize,
) -> bool {
    let per = parts.len().div_ceil(threads.max(1)).max(1);
    let set = |base: usize,
               rows: &mut [Vec<Option<Row>>],
               assigned: Vec<Vec<Vec<Assigned>>>,
               groups: &mut [Vec<u32>]| {
        fn row(rows: &mut [Vec<Option<Row>>], at: usize) -> &mut User {
            &mut rows[at / USERS_PER_CHUNK][at % USERS_PER_CHUNK]
                .as_mut()
                .expect("just parsed")
                .user
        }
        for (at, g) in groups.iter_mut().enumerate() {
            row(rows, at).groups = std::mem::take(g);
        }
        assigned
            .into_iter()
            .flatten()
            .flatten()
            .all(|(at, ty, name)| {
                row(rows, at as usize - base)
                    .policies
                    .insert(ty, name)
                    .is_none()
            })
    };
    std::thread::scope(|s| {
        let mut groups = groups.as_mut_slice();
        let mut work = Vec::new();
        let mut buckets = buckets.into_iter();
        for (t, rows) in parts.chunks_mut(per).enumerate() {
            let assigned: Vec<_> = buckets.by_ref().take(rows.len()).collect();
            let n: usize = rows.iter().map(Vec::len).sum();
            let (mine, rest) = groups.split_at_mut(n);
            groups = rest;
            work.push((t * per * USERS_PER_CHUNK, rows, assigned, mine));
        }
        let mut work = work.into_iter();
        let first = work.next();
        let spawned: Vec<_> = work
            .map(|(base, rows, assigned, g)| s.spawn(move || set(base, rows, assigned, g)))
            .collect();
        let first = first.is_none_or(|(base, rows, assigned, g)| set(base, rows, assigned, g));
        spawned
            .into_iter()
            .all(|h| h.join().expect("setting policies does not panic"))
            && first
    })
}
