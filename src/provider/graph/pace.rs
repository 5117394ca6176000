//! Pacing of writes under Graph's write limit (3,000 per 150 s per app and
//! tenant, a sliding window): writes go unpaced until the service first
//! refuses one with `WriteLimitExceeded`; its `Retry-After` is honoured
//! exactly (no write is sent before it), and when it ends the writes that
//! fitted teach the window: its size (the writes admitted) and its span
//! (from the first write to the end of the wait). From then on the client
//! keeps the same window over its own writes: a write goes when the write
//! a window's size before it has left the (learnt) span, so the writes of
//! the first window are replayed at the pace they left, and a steady pace
//! is the limit's rate (1% under it). A further refusal makes the window
//! 5% smaller (once per round); a window's worth of writes without one 1%
//! larger again (never beyond what was learnt), so the pace settles just
//! under the limit instead of bouncing off it. While Graph says the window is over 80%
//! full (`x-ms-throttle-limit-percentage`) and the window is not known
//! yet, writes go one request at a time (else two), so the first refusal
//! costs at most a request or two's writes; once the window is known, no
//! request carries more writes than fit in it. [`Pace`] is the pure state
//! (the caller passes the time); [`Pacer`] shares it between tasks. It must
//! not send anything.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// How much smaller the window after a refusal (per round); a window's
/// worth of writes without one makes it 1% larger again, never beyond
/// what was learnt.
const SHRINK: f64 = 0.95;
/// The span learnt at the first refusal, this much wider: just under the
/// limit, not on it.
const MARGIN: f64 = 1.01;
/// `x-ms-throttle-limit-percentage` from which writes go one at a time
/// until the window is known.
const CAREFUL_SHARE: f64 = 0.8;

/// The window learnt at the first refusal.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Window {
    size: usize,
    span: Duration,
    learnt: usize,
}

/// The pacing state.
#[derive(Debug, Clone)]
pub struct Pace {
    window: Option<Window>,
    /// When the writes went, oldest first (the last `size` once known).
    sent: VecDeque<Instant>,
    /// No write goes before this.
    gate: Instant,
    /// Writes admitted before the window was known.
    admitted: u64,
    /// Writes admitted since the last change of pace.
    streak: u64,
    /// Bumped at each change of pace: a refusal of a write sent before the
    /// change is part of the round already reacted to.
    epoch: u64,
    careful: bool,
    /// Refused before the window was known: it is learnt when the wait
    /// ends (by then every write in flight has said whether it fitted).
    learning: bool,
}

/// When a reservation may be sent, and the round it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub at: Instant,
    pub epoch: u64,
    /// Wait until `at`, then reserve again (the window is being learnt).
    pub again: bool,
}

impl Pace {
    pub fn new(now: Instant) -> Self {
        Pace {
            window: None,
            sent: VecDeque::new(),
            gate: now,
            admitted: 0,
            streak: 0,
            epoch: 0,
            careful: false,
            learning: false,
        }
    }

    /// Reserve `n` writes sent together (one request, or one `$batch`):
    /// they go when the last of them has room in the window.
    pub fn reserve(&mut self, n: u32, now: Instant) -> Slot {
        let n = n.max(1) as usize;
        if self.learning {
            if now < self.gate {
                return Slot {
                    at: self.gate,
                    epoch: self.epoch,
                    again: true,
                };
            }
            self.learn(now);
        }
        let mut at = self.gate.max(now);
        if let Some(w) = self.window {
            // The last of the n needs the write `size` before it gone.
            if let Some(k) = (self.sent.len() + n).checked_sub(w.size + 1)
                && let Some(&t) = self.sent.get(k)
            {
                at = at.max(t + w.span);
            }
            if let Some(&last) = self.sent.back() {
                at = at.max(last);
            }
        }
        self.sent.extend(std::iter::repeat_n(at, n));
        if let Some(w) = self.window {
            while self.sent.len() > w.size {
                self.sent.pop_front();
            }
        }
        Slot {
            at,
            epoch: self.epoch,
            again: false,
        }
    }

    /// The wait is over: the writes admitted were the window, the first of
    /// them left it just now.
    fn learn(&mut self, now: Instant) {
        let size = usize::try_from(self.admitted.max(1)).unwrap_or(usize::MAX);
        let first = self.sent.front().copied().unwrap_or(now);
        let learnt = self.gate.saturating_duration_since(first);
        // What was sent beyond the window was refused: it is sent again.
        self.sent.truncate(size);
        self.window = Some(Window {
            size,
            span: learnt.mul_f64(MARGIN),
            learnt: size,
        });
        self.learning = false;
    }

    /// `n` writes were admitted; `share` is the fuller window's share Graph
    /// reported with them, if it did.
    pub fn admitted(&mut self, n: u32, share: Option<f64>) {
        match &mut self.window {
            None => {
                self.admitted += u64::from(n);
                if share.is_some_and(|s| s >= CAREFUL_SHARE) {
                    self.careful = true;
                }
            }
            Some(w) => {
                self.streak += u64::from(n);
                if self.streak >= w.size as u64 {
                    w.size = (w.size + w.size.div_ceil(100)).min(w.learnt);
                    self.streak = 0;
                    self.epoch += 1;
                }
            }
        }
    }

    /// A write of round `epoch` was refused at `now` with `retry_after`.
    pub fn throttled(&mut self, retry_after: Duration, epoch: u64, now: Instant) {
        let until = now + retry_after;
        if until > self.gate {
            self.gate = until;
        }
        if epoch != self.epoch {
            return;
        }
        self.epoch += 1;
        self.streak = 0;
        self.careful = false;
        match &mut self.window {
            None => self.learning = true,
            Some(w) => w.size = (w.size as f64 * SHRINK).floor().max(1.0) as usize,
        }
    }

    /// Writes go one request at a time (the window is nearly full and not
    /// known yet).
    pub fn careful(&self) -> bool {
        self.careful && self.window.is_none() && !self.learning
    }

    /// The writes per second the pace allows, once known.
    pub fn rate(&self) -> Option<f64> {
        self.window
            .map(|w| w.size as f64 / w.span.as_secs_f64().max(1e-9))
    }

    /// The most writes to send together: the window's size, once known.
    pub fn most_at_once(&self) -> Option<u32> {
        self.window
            .map(|w| u32::try_from(w.size).unwrap_or(u32::MAX))
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
        self.pace().most_at_once()
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
    fn unpaced_until_refused_then_the_first_window_is_replayed() {
        let t0 = Instant::now();
        let mut p = Pace::new(t0);
        // 100 writes fit: 50 at t0, 50 at t0+1s.
        for i in 0..100 {
            let at = if i < 50 { t0 } else { t0 + ms(1000) };
            assert_eq!(p.reserve(1, at).at, at);
        }
        p.admitted(100, None);
        // The 101st is refused at t0+2s: room again at t0+10s.
        let s = p.reserve(1, t0 + ms(2000));
        p.throttled(ms(8000), s.epoch, t0 + ms(2000));
        // Until then writes wait, and ask again (writes still in flight may
        // yet say they fitted).
        let wait = p.reserve(1, t0 + ms(2001));
        assert!(wait.again && wait.at == t0 + ms(10_000));
        assert_eq!(p.rate(), None);
        // A window of 100 writes over 10 s (10.1 s with the margin): the
        // first 50 go again as the first 50 leave, the next 50 as the
        // second 50 leave.
        let now = t0 + ms(10_000);
        let span = ms(10_000).mul_f64(MARGIN);
        let first = p.reserve(1, now);
        assert_eq!(p.most_at_once(), Some(100));
        assert!((p.rate().unwrap() - 100.0 / span.as_secs_f64()).abs() < 1e-9);
        assert_eq!((first.at, first.again), (t0 + span, false));
        assert_eq!(p.reserve(49, now).at, t0 + span);
        assert_eq!(p.reserve(1, now).at, t0 + ms(1000) + span);
        // Several together go when the last of them has room.
        assert_eq!(p.reserve(49, now).at, t0 + ms(1000) + span);
        // Then the replayed writes themselves leave.
        assert_eq!(p.reserve(1, now).at, t0 + span + span);
    }

    #[test]
    fn one_decrease_per_round_and_retry_after_is_honoured_exactly() {
        let t0 = Instant::now();
        let mut p = Pace::new(t0);
        let a = p.reserve(10, t0);
        p.admitted(10, None);
        let b = p.reserve(1, t0);
        // Two refusals of the same round: the second only moves the gate.
        p.throttled(ms(1000), a.epoch, t0);
        p.throttled(ms(1500), b.epoch, t0);
        assert_eq!(p.reserve(1, t0).at, t0 + ms(1500));
        // The first write leaves the learnt window (with the margin).
        assert_eq!(
            p.reserve(1, t0 + ms(1500)).at,
            t0 + ms(1500).mul_f64(MARGIN)
        );
        let rate = p.rate().unwrap();
        assert!((rate - 10.0 / 1.5 / MARGIN).abs() < 1e-6, "{rate}");
        // A refusal of a later round makes the window 5% smaller.
        let c = p.reserve(1, t0 + ms(1600));
        p.throttled(ms(10), c.epoch, t0 + ms(1700));
        assert_eq!(p.most_at_once(), Some(9));
        // A window's worth of admitted writes makes it 1% larger, never
        // beyond what was learnt.
        p.admitted(9, None);
        assert_eq!(p.most_at_once(), Some(10));
        p.admitted(10, None);
        assert_eq!(p.most_at_once(), Some(10));
    }

    #[test]
    fn a_nearly_full_window_makes_writes_careful_until_it_is_known() {
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
