//! Per-user work split over the machine's cores: contiguous chunks of the
//! users, several per thread and taken in turn, results joined in user
//! order, so the outcome
//! never depends on how many threads there were. Used by rule evaluation
//! and the first pass of [`super::compute`], and by the plan's diff. Pure:
//! no I/O; threads only.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Users per thread below which another thread does not pay.
const MIN_CHUNK: usize = 2048;

/// How many threads `n` users are worth (at most 8, at most the cores).
pub(crate) fn threads_for(n: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .clamp(1, 8)
        .min(n / MIN_CHUNK + 1)
}

/// Chunks per thread: threads take the next chunk as they finish one, so
/// a thread slowed (by a busier core, or costlier users) takes fewer.
const CHUNKS_PER_THREAD: usize = 8;
/// Users per chunk, at least.
const MIN_PIECE: usize = 512;

/// `f` over `0..n` in contiguous chunks taken in turn by `threads`
/// threads, the chunks' results in order.
pub(crate) fn map_chunks_with<T: Send>(
    n: usize,
    threads: usize,
    f: impl Fn(Range<usize>) -> T + Sync,
) -> Vec<T> {
    let threads = threads.max(1);
    if threads == 1 {
        return vec![f(0..n)];
    }
    let chunks = (threads * CHUNKS_PER_THREAD)
        .min(n.div_ceil(MIN_PIECE))
        .max(threads);
    let size = n.div_ceil(chunks);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut out = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            if k >= chunks {
                return out;
            }
            out.push((k, f((k * size).min(n)..((k + 1) * size).min(n))));
        }
    };
    let mut parts: Vec<(usize, T)> = std::thread::scope(|scope| {
        let spawned: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut parts = work();
        for h in spawned {
            parts.extend(h.join().expect("per-user work does not panic"));
        }
        parts
    });
    parts.sort_unstable_by_key(|(k, _)| *k);
    parts.into_iter().map(|(_, t)| t).collect()
}

/// [`map_chunks_with`] with as many threads as `n` users are worth.
pub(crate) fn map_chunks<T: Send>(n: usize, f: impl Fn(Range<usize>) -> T + Sync) -> Vec<T> {
    map_chunks_with(n, threads_for(n), f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_index_once_in_order_whatever_the_split() {
        for n in [0, 1, 7, 100, 4097] {
            for threads in 1..=9 {
                let parts = map_chunks_with(n, threads, |r| r.collect::<Vec<_>>());
                assert!(
                    parts.len() >= threads.min(n.max(1)),
                    "n={n} threads={threads}"
                );
                let joined: Vec<usize> = parts.into_iter().flatten().collect();
                assert_eq!(
                    joined,
                    (0..n).collect::<Vec<_>>(),
                    "n={n} threads={threads}"
                );
            }
        }
    }

    #[test]
    fn small_inputs_stay_on_one_thread() {
        assert_eq!(threads_for(0), 1);
        assert_eq!(threads_for(MIN_CHUNK - 1), 1);
        assert!(threads_for(1_000_000) <= 8);
    }
}
