//! Pacing of writes under Graph's write limit (3,000 per 150 s per app and
//! tenant, a sliding window): writes go unpaced until the service first
//! refuses one with `WriteLimitExceeded`; its `Retry-After` is honoured
//! exactly (no write is sent before it), and when it ends the writes that
//! fitted in the window give the rate (writes admitted / time from the
//! first write to the end of the wait). From then on writes are spaced at that
//! rate (3% under it), a little slower after each further refusal (one
//! decrease per round, multiplicative) and a little faster after a window's
//! worth of writes went through, so the pace settles just under the limit
//! instead of bouncing off it. While Graph says the window is over
//! 80% full (`x-ms-throttle-limit-percentage`) and the rate is not known
//! yet, writes go one request at a time (else two), so the first refusal
//! costs at most a request or two's writes; once the window's size is
//! known, no request carries more writes than fit in it. [`Pace`] is the pure state (the caller passes the
//! time); [`Pacer`] shares it between tasks. It must not send anything.

use std::time::Duration;

use tokio::time::Instant;

/// How much slower after a refusal (per round), and how much faster after
/// a window's worth of writes without one (so a pace learnt too slow, when
/// others wrote in the same window, catches up).
const DECREASE: f64 = 1.05;
const INCREASE: f64 = 0.99;
/// The pace learnt at the first refusal, this much slower: just under the
/// limit, not on it.
const MARGIN: f64 = 1.03;
/// `x-ms-throttle-limit-percentage` from which writes go one at a time
/// until the rate is known.
const CAREFUL_SHARE: f64 = 0.8;

/// The pacing state.
#[derive(Debug, Clone)]
pub struct Pace {
    /// Time between two writes; `None` until the first refusal.
    interval: Option<Duration>,
    /// No write goes before this.
    next: Instant,
    /// When the first write was sent.
    first: Option<Instant>,
    /// Writes admitted before the rate was known: the window's size.
    admitted: u64,
    /// Writes admitted since the last change of pace.
    streak: u64,
    /// Bumped at each change of pace: a refusal of a write sent before the
    /// change is part of the round already reacted to.
    epoch: u64,
    careful: bool,
    /// Refused before the rate was known: the rate is learnt when the wait
    /// ends (by then every write in flight has said whether it fitted).
    learning: bool,
}

/// When a reservation may be sent, and the round it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub at: Instant,
    pub epoch: u64,
    /// Wait until `at`, then reserve again (the rate is being learnt).
    pub again: bool,
}

impl Pace {
    pub fn new(now: Instant) -> Self {
        Pace {
            interval: None,
            next: now,
            first: None,
            admitted: 0,
            streak: 0,
            epoch: 0,
            careful: false,
            learning: false,
        }
    }

    /// Reserve `n` writes sent together (one request, or one `$batch`):
    /// they go when the last of their slots comes, so the window has room
    /// for all of them.
    pub fn reserve(&mut self, n: u32, now: Instant) -> Slot {
        self.first.get_or_insert(now);
        if self.learning {
            if now < self.next {
                return Slot {
                    at: self.next,
                    epoch: self.epoch,
                    again: true,
                };
            }
            // The window held what was admitted since the first write, and
            // had room again once that write left it.
            let first = self.first.unwrap_or(now);
            let window = self.next.saturating_duration_since(first);
            let admitted = u32::try_from(self.admitted.max(1)).unwrap_or(u32::MAX);
            self.interval = Some(
                (window / admitted)
                    .mul_f64(MARGIN)
                    .max(Duration::from_micros(100)),
            );
            self.admitted = u64::from(admitted);
            self.learning = false;
        }
        let start = self.next.max(now);
        let at = match self.interval {
            None => start,
            Some(iv) => {
                let at = start + iv * n.saturating_sub(1);
                self.next = at + iv;
                at
            }
        };
        Slot {
            at,
            epoch: self.epoch,
            again: false,
        }
    }

    /// `n` writes were admitted; `share` is the fuller window's share Graph
    /// reported with them, if it did.
    pub fn admitted(&mut self, n: u32, share: Option<f64>) {
        match self.interval {
            None => {
                self.admitted += u64::from(n);
                if share.is_some_and(|s| s >= CAREFUL_SHARE) {
                    self.careful = true;
                }
            }
            Some(iv) => {
                self.streak += u64::from(n);
                if self.streak >= self.admitted.max(1) {
                    self.interval = Some(iv.mul_f64(INCREASE));
                    self.streak = 0;
                    self.epoch += 1;
                }
            }
        }
    }

    /// A write of round `epoch` was refused at `now` with `retry_after`.
    pub fn throttled(&mut self, retry_after: Duration, epoch: u64, now: Instant) {
        let until = now + retry_after;
        if until > self.next {
            self.next = until;
        }
        if epoch != self.epoch {
            return;
        }
        self.epoch += 1;
        self.streak = 0;
        self.careful = false;
        match self.interval {
            None => self.learning = true,
            Some(iv) => self.interval = Some(iv.mul_f64(DECREASE)),
        }
    }

    /// Writes go one request at a time (the window is nearly full and the
    /// rate is not known yet).
    pub fn careful(&self) -> bool {
        self.careful && self.interval.is_none() && !self.learning
    }

    /// The writes per second the pace allows, once known.
    pub fn rate(&self) -> Option<f64> {
        self.interval.map(|iv| 1.0 / iv.as_secs_f64().max(1e-9))
    }
}

/// Write requests in flight while the rate is not known: enough to go far
/// beyond any write limit (40 writes a round trip), few enough that the
/// first refusal costs little.
const UNPACED_IN_FLIGHT: u32 = 2;

/// [`Pace`] shared by the tasks of one connection.
pub struct Pacer {
    pace: std::sync::Mutex<Pace>,
    unpaced: std::sync::Arc<tokio::sync::Semaphore>,
}

/// A reservation being used: its round, and the place in flight it holds
/// while the rate is not known.
pub struct Ticket {
    pub epoch: u64,
    _in_flight: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer {
            pace: std::sync::Mutex::new(Pace::new(Instant::now())),
            unpaced: std::sync::Arc::new(tokio::sync::Semaphore::new(UNPACED_IN_FLIGHT as usize)),
        }
    }
}

impl Pacer {
    fn pace(&self) -> std::sync::MutexGuard<'_, Pace> {
        self.pace.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait for the turn of `n` writes sent together.
    pub async fn acquire(&self, n: u32) -> Ticket {
        let in_flight = if self.pace().rate().is_none() {
            // Careful: every place, so one request at a time.
            let places = if self.pace().careful() {
                UNPACED_IN_FLIGHT
            } else {
                1
            };
            self.unpaced.clone().acquire_many_owned(places).await.ok()
        } else {
            None
        };
        let slot = loop {
            let slot = self.pace().reserve(n, Instant::now());
            tokio::time::sleep_until(slot.at).await;
            if !slot.again {
                break slot;
            }
        };
        Ticket {
            epoch: slot.epoch,
            _in_flight: in_flight,
        }
    }

    /// The most writes to send together: the window's size once known.
    pub fn most_at_once(&self) -> Option<u32> {
        let p = self.pace();
        p.interval
            .map(|_| u32::try_from(p.admitted.max(1)).unwrap_or(u32::MAX))
    }

    pub fn admitted(&self, n: u32, share: Option<f64>) {
        if n > 0 {
            self.pace().admitted(n, share);
        }
    }

    pub fn throttled(&self, retry_after: Duration, epoch: u64) {
        let mut p = self.pace();
        p.throttled(retry_after, epoch, Instant::now());
        tracing::debug!(
            wait_ms = retry_after.as_millis() as u64,
            rate = p.rate().unwrap_or(0.0),
            "write limit reached: pacing writes"
        );
    }
}

/// Whether a `429` is about the write limit (`x-ms-throttle-information:
/// WriteLimitExceeded`, or a scope whose limit is `Write`).
pub fn write_limit(information: Option<&str>, scope: Option<&str>) -> bool {
    information.is_some_and(|i| i.eq_ignore_ascii_case("WriteLimitExceeded"))
        || scope.is_some_and(|s| s.split('/').nth(1).is_some_and(|l| l == "Write"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn unpaced_until_refused_then_spaced_at_the_rate_that_fitted() {
        let t0 = Instant::now();
        let mut p = Pace::new(t0);
        // 100 writes go at once and fit.
        for _ in 0..100 {
            assert_eq!(p.reserve(1, t0).at, t0);
        }
        p.admitted(100, None);
        // The 101st is refused at t0+1s: room again at t0+10s.
        let s = p.reserve(1, t0 + ms(1000));
        p.throttled(ms(9000), s.epoch, t0 + ms(1000));
        // Until then writes wait, and ask again (writes still in flight may
        // yet say they fitted).
        let wait = p.reserve(1, t0 + ms(1001));
        assert!(wait.again && wait.at == t0 + ms(10_000));
        assert_eq!(p.rate(), None);
        // 100 writes per 10 s: one every 103 ms (3% under the limit), the
        // first at t0+10s.
        let now = t0 + ms(10_000);
        let first = p.reserve(1, now);
        assert!((p.rate().unwrap() - 10.0 / MARGIN).abs() < 1e-6);
        assert_eq!((first.at, first.again), (t0 + ms(10_000), false));
        assert_eq!(p.reserve(1, now).at, t0 + ms(10_103));
        // Five together go when the last of their slots comes.
        assert_eq!(p.reserve(5, now).at, t0 + ms(10_618));
        assert_eq!(p.reserve(1, now).at, t0 + ms(10_721));
    }

    #[test]
    fn one_decrease_per_round_and_retry_after_is_honoured_exactly() {
        let t0 = Instant::now();
        let mut p = Pace::new(t0);
        let a = p.reserve(1, t0);
        let b = p.reserve(1, t0);
        p.admitted(10, None);
        // Two refusals of the same round: the second only moves the gate.
        p.throttled(ms(1000), a.epoch, t0);
        p.throttled(ms(1500), b.epoch, t0);
        assert_eq!(p.reserve(1, t0).at, t0 + ms(1500));
        assert_eq!(p.reserve(1, t0 + ms(1500)).at, t0 + ms(1500));
        let rate = p.rate().unwrap();
        assert!((rate - 10.0 / 1.5 / MARGIN).abs() < 1e-6, "{rate}");
        // A refusal of a later round slows down by 5%.
        let c = p.reserve(1, t0);
        p.throttled(ms(10), c.epoch, t0 + ms(1700));
        let slower = p.rate().unwrap();
        assert!((slower - rate / DECREASE).abs() < 1e-6, "{slower} {rate}");
        // A window's worth of admitted writes speeds up by 1%.
        p.admitted(10, None);
        assert!((p.rate().unwrap() - slower / INCREASE).abs() < 1e-6);
    }

    #[test]
    fn a_nearly_full_window_makes_writes_careful_until_the_rate_is_known() {
        let t0 = Instant::now();
        let mut p = Pace::new(t0);
        p.admitted(1, Some(0.5));
        assert!(!p.careful());
        p.admitted(1, Some(0.85));
        assert!(p.careful());
        let s = p.reserve(1, t0);
        p.throttled(ms(100), s.epoch, t0);
        assert!(!p.careful());
        p.reserve(1, t0 + ms(100));
        assert!(!p.careful() && p.rate().is_some());
    }

    #[test]
    fn write_refusals_are_told_from_others() {
        assert!(write_limit(Some("WriteLimitExceeded"), None));
        assert!(write_limit(None, Some("Tenant_Application/Write/app/t")));
        assert!(!write_limit(
            Some("ResourceUnitLimitExceeded"),
            Some("Tenant_Application/ReadWrite/app/t")
        ));
        assert!(!write_limit(None, None));
    }
}
