//! Per-user work split over the machine's cores: contiguous chunks of the
//! users, one thread each, results joined in user order, so the outcome
//! never depends on how many threads there were. Used by rule evaluation
//! and the first pass of [`super::compute`], and by the plan's diff. Pure:
//! no I/O; threads only.

use std::ops::Range;

/// Users per thread below which another thread does not pay.
const MIN_CHUNK: usize = 2048;

/// How many threads `n` users are worth (at most 8, at most the cores).
pub(crate) fn threads_for(n: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .clamp(1, 8)
        .min(n / MIN_CHUNK + 1)
}

/// `f` over `0..n` in `threads` contiguous chunks (one thread each), the
/// chunks' results in order.
pub(crate) fn map_chunks_with<T: Send>(
    n: usize,
    threads: usize,
    f: impl Fn(Range<usize>) -> T + Sync,
) -> Vec<T> {
    let threads = threads.max(1);
    if threads == 1 {
        return vec![f(0..n)];
    }
    let chunk = n.div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let parts: Vec<_> = (0..threads)
            .map(|t| {
                let range = (t * chunk).min(n)..((t + 1) * chunk).min(n);
                scope.spawn(move || f(range))
            })
            .collect();
        parts
            .into_iter()
            .map(|h| h.join().expect("per-user work does not panic"))
            .collect()
    })
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
                assert_eq!(parts.len(), threads, "n={n} threads={threads}");
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
