//! The apply lock: one object (`lock.json`) in the state store saying
//! which apply runs against the tenant, who runs it, since when, and until
//! when its lease holds. Taking it, renewing it and letting it go are
//! compare-and-swap writes over the version read, so two applies never
//! both hold it; nothing is deleted (no store roster speaks has a
//! conditional delete): a lock let go, or broken with `roster unlock`,
//! stays as a record marked `released`.
//!
//! A holder renews its lease from a background thread while it runs; a
//! holder that dies stops renewing, and once its lease has run out the
//! next apply takes the lock over (and says so). A holder on this very
//! host whose process is gone (killed, crashed) is taken over at once. Leases are compared on
//! the clocks of the machines involved, so they are minutes long, not
//! seconds. This module decides nothing about applies; the CLI takes the
//! lock around them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::store::{Put, Store, StoreError, Version};
use super::{StateDir, StateError};

/// The lock object's key.
pub const LOCK_KEY: &str = "lock.json";
/// The lock object's format.
pub const LOCK_FORMAT_VERSION: u32 = 1;
/// How long a lock holds without renewal.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10 * 60);

/// The lock as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRecord {
    pub format_version: u32,
    /// The lock ID (`roster unlock ID`).
    pub id: String,
    /// Who took it: a CI run's URL or `user@host`.
    pub holder: String,
    pub host: String,
    pub pid: u32,
    /// What runs under it (`apply`, `reconcile`).
    pub command: String,
    /// When it was taken (RFC 3339, UTC).
    pub since: String,
    /// When the lease runs out unless renewed (RFC 3339, UTC).
    pub expires: String,
    /// When it was let go or broken; absent while held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released: Option<String>,
    /// Who broke it with `roster unlock`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken_by: Option<String>,
}

impl std::fmt::Display for LockRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "lock `{}` held by {} on host `{}` (process {}, `roster {}`) since {}, lease until {}",
            self.id, self.holder, self.host, self.pid, self.command, self.since, self.expires
        )
    }
}

impl LockRecord {
    /// Whether it holds at `now`.
    pub fn is_live(&self, now: &str) -> bool {
        self.released.is_none() && self.expires.as_str() > now
    }

    /// Whether its holder ran on this host and its process is gone: it can
    /// renew nothing, whatever its lease says. (Hosts are told apart by
    /// name: give machines that share a store distinct host names.)
    pub fn holder_is_gone(&self) -> bool {
        self.host == crate::files::hostname()
            && self.pid != std::process::id()
            && !crate::files::process_exists(self.pid)
    }
}

/// Now, and now plus `d`, in the one text form the lock compares.
pub fn stamp(later: Duration) -> (String, String) {
    let format = time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let l = time::Duration::try_from(later)
        .ok()
        .and_then(|d| t.checked_add(d))
        .unwrap_or(t);
    (
        t.format(&format).unwrap_or_default(),
        l.format(&format).unwrap_or_default(),
    )
}

/// Who asks for the lock, and how long to wait.
#[derive(Debug, Clone)]
pub struct LockRequest {
    pub holder: String,
    pub command: String,
    pub lease: Duration,
    /// How long to wait while another holds it (zero: one try).
    pub timeout: Duration,
}

/// A lock held: renewed in the background, let go when dropped.
#[derive(Debug)]
pub struct StateLock {
    store: Arc<dyn Store>,
    held: Arc<Mutex<(LockRecord, Version)>>,
    lost: Arc<AtomicBool>,
    stop: Option<mpsc::Sender<()>>,
    renewer: Option<std::thread::JoinHandle<()>>,
    taken_over: Option<LockRecord>,
}

impl StateLock {
    pub fn id(&self) -> String {
        self.record().id
    }

    pub fn record(&self) -> LockRecord {
        self.held
            .lock()
            .map(|h| h.0.clone())
            .unwrap_or_else(|p| p.into_inner().0.clone())
    }

    /// The expired lock this one replaced, if it did.
    pub fn taken_over(&self) -> Option<&LockRecord> {
        self.taken_over.as_ref()
    }

    /// Whether another broke or took over this lock meanwhile.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Let the lock go now (dropping does the same, quietly).
    pub fn release(mut self) -> Result<(), StateError> {
        self.stop_renewing();
        let r = release(&*self.store, &self.held);
        self.held_release_done();
        r
    }

    fn stop_renewing(&mut self) {
        drop(self.stop.take());
        if let Some(h) = self.renewer.take() {
            let _ = h.join();
        }
    }

    fn held_release_done(&mut self) {
        self.lost.store(true, Ordering::SeqCst);
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        self.stop_renewing();
        if !self.lost.load(Ordering::SeqCst)
            && let Err(e) = release(&*self.store, &self.held)
        {
            eprintln!("warning: could not let the state store's lock go: {e}");
        }
    }
}

fn encode(r: &LockRecord) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(r).expect("a lock record serialises");
    text.push('\n');
    text.into_bytes()
}

/// Mark ours released, if it is still ours.
fn release(store: &dyn Store, held: &Mutex<(LockRecord, Version)>) -> Result<(), StateError> {
    let ours = held.lock().map(|h| h.0.id.clone()).unwrap_or_default();
    for _ in 0..10 {
        let Some(obj) = store.get(LOCK_KEY)? else {
            return Ok(());
        };
        let Ok(mut rec) = serde_json::from_slice::<LockRecord>(&obj.bytes) else {
            return Ok(());
        };
        if rec.id != ours || rec.released.is_some() {
            return Ok(());
        }
        rec.released = Some(stamp(Duration::ZERO).0);
        match store.put(LOCK_KEY, &encode(&rec), Put::Update(obj.version)) {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Renew the lease; false when the lock is no longer ours.
fn renew(store: &dyn Store, held: &Mutex<(LockRecord, Version)>, lease: Duration) -> bool {
    let Ok(mut h) = held.lock() else { return false };
    let (_, expires) = stamp(lease);
    let mut next = h.0.clone();
    next.expires = expires;
    match store.put(LOCK_KEY, &encode(&next), Put::Update(h.1.clone())) {
        Ok(v) => {
            *h = (next, v);
            true
        }
        // A failed write (the network) is tried again on the next tick;
        // a conflict means someone else wrote the lock: it is not ours.
        Err(StoreError::Conflict { .. }) => false,
        Err(e) => {
            eprintln!("warning: could not renew the state store's lock: {e}");
            true
        }
    }
}

impl StateDir {
    /// The lock as recorded (`None` when no apply ever took one).
    pub fn current_lock(&self) -> Result<Option<(LockRecord, Version)>, StateError> {
        let Some((value, version)) = self.read_json(LOCK_KEY, LOCK_FORMAT_VERSION)? else {
            return Ok(None);
        };
        let rec: LockRecord =
            serde_json::from_value(value).map_err(|e| self.corrupt(LOCK_KEY, e.to_string()))?;
        if ![&rec.since, &rec.expires]
            .iter()
            .all(|t| super::quarantine::is_utc_time(t))
        {
            return Err(self.corrupt(LOCK_KEY, "its times are not `YYYY-MM-DDTHH:MM:SSZ`".into()));
        }
        Ok(Some((rec, version)))
    }

    /// Take the lock, waiting up to `req.timeout` while another holds it
    /// (`on_wait` is told the holder once); a lock whose lease ran out is
    /// taken over. Fails naming the holder when the wait ends.
    pub fn lock(
        &self,
        req: &LockRequest,
        on_wait: impl FnOnce(&LockRecord),
    ) -> Result<StateLock, StateError> {
        let started = std::time::Instant::now();
        let mut on_wait = Some(on_wait);
        let (now, expires) = stamp(req.lease);
        let mut rec = LockRecord {
            format_version: LOCK_FORMAT_VERSION,
            id: uuid::Uuid::new_v4().to_string(),
            holder: req.holder.clone(),
            host: crate::files::hostname(),
            pid: std::process::id(),
            command: req.command.clone(),
            since: now,
            expires,
            released: None,
            broken_by: None,
        };
        loop {
            let current = self.current_lock()?;
            let (now, expires) = stamp(req.lease);
            let (cond, taken_over) = match current {
                None => (Put::Create, None),
                Some((old, v)) if !old.is_live(&now) || old.holder_is_gone() => {
                    let expired = old.released.is_none();
                    (Put::Update(v), expired.then_some(old))
                }
                Some((old, _)) => {
                    if started.elapsed() >= req.timeout {
                        return Err(StateError::Locked {
                            store: self.name(),
                            holder: Box::new(old),
                        });
                    }
                    if let Some(f) = on_wait.take() {
                        f(&old);
                    }
                    let left = req.timeout.saturating_sub(started.elapsed());
                    std::thread::sleep(
                        left.min(Duration::from_millis(500 + fastrand::u64(0..500))),
                    );
                    continue;
                }
            };
            rec.since = now;
            rec.expires = expires;
            match self.store().put(LOCK_KEY, &encode(&rec), cond) {
                Ok(version) => return Ok(self.hold(rec, version, req.lease, taken_over)),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn hold(
        &self,
        rec: LockRecord,
        version: Version,
        lease: Duration,
        taken_over: Option<LockRecord>,
    ) -> StateLock {
        let held = Arc::new(Mutex::new((rec, version)));
        let lost = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let store = self.shared_store();
        let (h, l) = (held.clone(), lost.clone());
        let every = (lease / 4).max(Duration::from_millis(100));
        let renewer = std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                if !renew(&*store, &h, lease) {
                    l.store(true, Ordering::SeqCst);
                    eprintln!(
                        "warning: the state store's lock was broken or taken over by another run; this apply is no longer protected from a concurrent one"
                    );
                    return;
                }
            }
        });
        StateLock {
            store: self.shared_store(),
            held,
            lost,
            stop: Some(stop),
            renewer: Some(renewer),
            taken_over,
        }
    }

    /// Break the lock `id` on purpose (`roster unlock ID`): refused when
    /// the current lock has another ID or is not held. Returns what it
    /// broke.
    pub fn unlock(&self, id: &str, by: &str) -> Result<LockRecord, StateError> {
        loop {
            let Some((mut rec, v)) = self.current_lock()? else {
                return Err(StateError::Unlock(format!(
                    "{} holds no lock\nhint: there is nothing to break",
                    self.name()
                )));
            };
            if rec.id != id {
                return Err(StateError::Unlock(format!(
                    "the current lock of {} is `{}`, not `{id}`: {rec}\nhint: check the ID (`roster unlock` prints the current lock when run without one)",
                    self.name(),
                    rec.id
                )));
            }
            if let Some(when) = &rec.released {
                return Err(StateError::Unlock(format!(
                    "the lock `{id}` was already let go at {when}\nhint: there is nothing to break"
                )));
            }
            let before = rec.clone();
            rec.released = Some(stamp(Duration::ZERO).0);
            rec.broken_by = Some(by.to_string());
            match self.store().put(LOCK_KEY, &encode(&rec), Put::Update(v)) {
                Ok(_) => return Ok(before),
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(timeout: Duration, lease: Duration) -> LockRequest {
        LockRequest {
            holder: "ci@host".into(),
            command: "apply".into(),
            lease,
            timeout,
        }
    }

    #[test]
    fn one_holder_at_a_time_and_the_loser_learns_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        let first = state
            .lock(&request(Duration::ZERO, DEFAULT_LEASE), |_| {})
            .unwrap();
        let err = state
            .lock(&request(Duration::ZERO, DEFAULT_LEASE), |_| {})
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&first.id()) && err.contains("ci@host"),
            "{err}"
        );
        assert!(err.contains("roster unlock"), "{err}");
        let id = first.id();
        first.release().unwrap();
        let (rec, _) = state.current_lock().unwrap().unwrap();
        assert_eq!(rec.id, id);
        assert!(rec.released.is_some());
        let second = state
            .lock(&request(Duration::ZERO, DEFAULT_LEASE), |_| {})
            .unwrap();
        assert!(second.taken_over().is_none(), "a released lock is free");
    }

    #[test]
    fn a_waiter_gets_the_lock_when_the_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        let first = state
            .lock(&request(Duration::ZERO, DEFAULT_LEASE), |_| {})
            .unwrap();
        let waited = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                drop(first);
            });
            let second = state
                .lock(&request(Duration::from_secs(20), DEFAULT_LEASE), |h| {
                    assert_eq!(h.holder, "ci@host");
                    waited.store(true, Ordering::SeqCst);
                })
                .unwrap();
            assert!(second.taken_over().is_none());
        });
        assert!(waited.into_inner());
    }

    #[test]
    fn leases_are_renewed_while_held_and_taken_over_when_run_out() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        // A short lease, renewed every quarter of it: still live after
        // three leases' time.
        let lease = Duration::from_secs(2);
        let held = state.lock(&request(Duration::ZERO, lease), |_| {}).unwrap();
        std::thread::sleep(lease * 3);
        assert!(!held.is_lost());
        assert!(state.lock(&request(Duration::ZERO, lease), |_| {}).is_err());
        // A holder that died: its renewer stops, the lease runs out.
        let id = held.id();
        let mut held = held;
        held.stop_renewing();
        held.lost.store(true, Ordering::SeqCst);
        drop(held);
        let (rec, v) = state.current_lock().unwrap().unwrap();
        let mut dead = rec.clone();
        dead.expires = "2000-01-01T00:00:00Z".into();
        state
            .store()
            .put(LOCK_KEY, &encode(&dead), Put::Update(v))
            .unwrap();
        let next = state.lock(&request(Duration::ZERO, lease), |_| {}).unwrap();
        assert_eq!(next.taken_over().map(|r| r.id.as_str()), Some(id.as_str()));
    }

    #[cfg(unix)]
    #[test]
    fn a_holder_whose_process_is_gone_on_this_host_is_taken_over_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let (now, expires) = stamp(DEFAULT_LEASE);
        let mut rec = LockRecord {
            format_version: LOCK_FORMAT_VERSION,
            id: "gone".into(),
            holder: "a@b".into(),
            host: crate::files::hostname(),
            pid: dead,
            command: "apply".into(),
            since: now,
            expires,
            released: None,
            broken_by: None,
        };
        assert!(rec.holder_is_gone());
        state
            .store()
            .put(LOCK_KEY, &encode(&rec), Put::Create)
            .unwrap();
        let next = state
            .lock(&request(Duration::ZERO, DEFAULT_LEASE), |_| {})
            .unwrap();
        assert_eq!(next.taken_over().map(|r| r.id.as_str()), Some("gone"));
        // Another host's holder, or a live process, is not judged so.
        rec.host = "elsewhere".into();
        assert!(!rec.holder_is_gone());
        rec.host = crate::files::hostname();
        rec.pid = std::process::id();
        assert!(!rec.holder_is_gone());
    }

    #[test]
    fn unlock_breaks_only_the_lock_named() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        let err = state.unlock("x", "me").unwrap_err().to_string();
        assert!(err.contains("no lock"), "{err}");
        let held = state
            .lock(&request(Duration::ZERO, DEFAULT_LEASE), |_| {})
            .unwrap();
        let err = state.unlock("not-it", "me").unwrap_err().to_string();
        assert!(
            err.contains(&held.id()) && err.contains("not `not-it`"),
            "{err}"
        );
        let broke = state.unlock(&held.id(), "me").unwrap();
        assert_eq!(broke.id, held.id());
        let (rec, _) = state.current_lock().unwrap().unwrap();
        assert_eq!(rec.broken_by.as_deref(), Some("me"));
        assert!(
            state
                .lock(&request(Duration::ZERO, DEFAULT_LEASE), |_| {})
                .is_ok()
        );
    }
}
