//! roster's own state, kept between runs: the number [`quarantine`], the
//! apply [`journal`], the directory census of the last apply (for the
//! sanity guard, [`crate::apply::guard`]) and the apply [`lock`].
//!
//! It lives in a state store ([`store::Store`]): a directory (`file`,
//! `.roster-state/` beside the manifests by default) or an Azure Blob
//! container ([`azure`]). Every write is compare-and-swap over the version
//! read, retried from a fresh read when another writer came first, so two
//! runs never both win and neither loses the other's change. The journal
//! is one object (`journal.jsonl`, a line of JSON per apply) appended by
//! read-modify-CAS: the file layout of the `file` store is the one earlier
//! versions wrote. A state object that is corrupt, or written by a newer
//! roster, is refused with its place and never overwritten. This module is
//! an I/O edge; the pure core only sees the values it reads.

pub mod azure;
pub mod journal;
pub mod lock;
pub mod quarantine;
pub mod store;
pub mod watch;

use std::path::PathBuf;
use std::sync::Arc;

pub use lock::{LockRecord, LockRequest, StateLock};
pub use quarantine::Quarantine;
pub use store::{FileStore, Store, StoreError};

/// The default state directory, relative to the config directory.
pub const DEFAULT_DIR: &str = ".roster-state";

const QUARANTINE_KEY: &str = "quarantine.json";
const CENSUS_KEY: &str = "directory.json";
const JOURNAL_KEY: &str = "journal.jsonl";

/// How often a compare-and-swap is tried before giving up: each loss means
/// another writer won, so this many in a row is a store that is hammered.
const CAS_TRIES: u32 = 30;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the state file `{path}` is not valid: {message}\nhint: it is left as it is; restore it from a backup, or move it away to start an empty quarantine"
    )]
    Corrupt { path: String, message: String },
    #[error(
        "the state file `{path}` has format version {found}, newer than this roster reads ({supported})\nhint: it is left as it is; upgrade roster"
    )]
    Newer {
        path: String,
        found: u32,
        supported: u32,
    },
    /// Another apply holds the lock.
    #[error(
        "{store} is locked by another run: {holder}\nhint: let it finish and run again, or wait longer with `--lock-timeout` (e.g. `--lock-timeout 10m`); if that run died, its lease ends at {}, or break the lock now with `roster unlock {}`",
        holder.expires,
        holder.id
    )]
    Locked {
        store: String,
        holder: Box<LockRecord>,
    },
    /// `roster unlock` refused.
    #[error("{0}")]
    Unlock(String),
}

/// roster's state, in a store.
#[derive(Debug, Clone)]
pub struct StateDir {
    store: Arc<dyn Store>,
}

impl StateDir {
    /// A state directory on local disk (the `file` store).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        StateDir::on(Arc::new(FileStore::new(dir)))
    }

    /// State in any store.
    pub fn on(store: Arc<dyn Store>) -> Self {
        StateDir { store }
    }

    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    fn shared_store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// The store, for messages (`the state directory `…``).
    pub fn name(&self) -> String {
        self.store.name()
    }

    /// Fail before any change when the store cannot be used.
    pub fn probe(&self) -> Result<(), StateError> {
        Ok(self.store.probe()?)
    }

    fn corrupt(&self, key: &str, message: String) -> StateError {
        StateError::Corrupt {
            path: self.store.locate(key),
            message,
        }
    }

    /// A state object as JSON with its version: `None` when there is none
    /// yet; refused when corrupt or newer than `supported`.
    fn read_json(
        &self,
        key: &str,
        supported: u32,
    ) -> Result<Option<(serde_json::Value, store::Version)>, StateError> {
        let Some(obj) = self.store.get(key)? else {
            return Ok(None);
        };
        Ok(Some((
            self.parse_json(key, &obj.bytes, supported)?,
            obj.version,
        )))
    }

    fn parse_json(
        &self,
        key: &str,
        bytes: &[u8],
        supported: u32,
    ) -> Result<serde_json::Value, StateError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| self.corrupt(key, e.to_string()))?;
        let found = value
            .get("format_version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| self.corrupt(key, "it has no `format_version`".into()))?;
        if found > u64::from(supported) {
            return Err(StateError::Newer {
                path: self.store.locate(key),
                found: found as u32,
                supported,
            });
        }
        Ok(value)
    }

    /// Read-modify-write of one object by compare-and-swap: `change` gets
    /// the object's bytes (none when there is none) and returns the new
    /// bytes, or refuses; a lost race reads again and calls it again.
    fn swap(
        &self,
        key: &str,
        mut change: impl FnMut(Option<&[u8]>) -> Result<Vec<u8>, StateError>,
    ) -> Result<(), StateError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let current = self.store.get(key)?;
            let bytes = change(current.as_ref().map(|o| o.bytes.as_slice()))?;
            let cond = match current {
                Some(o) => store::Put::Update(o.version),
                None => store::Put::Create,
            };
            match self.store.put(key, &bytes, cond) {
                Ok(_) => return Ok(()),
                Err(StoreError::Conflict { .. }) if tries < CAS_TRIES => {
                    std::thread::sleep(std::time::Duration::from_millis(
                        fastrand::u64(5..50) * u64::from(tries.min(10)),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The directory census of the last apply, if any.
    pub fn census(&self) -> Result<Option<crate::apply::guard::Census>, StateError> {
        let Some((value, _)) =
            self.read_json(CENSUS_KEY, crate::apply::guard::CENSUS_FORMAT_VERSION)?
        else {
            return Ok(None);
        };
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| self.corrupt(CENSUS_KEY, e.to_string()))
    }

    /// Record the directory census of this apply (a census that is corrupt
    /// or newer is refused, not replaced).
    pub fn save_census(&self, census: &crate::apply::guard::Census) -> Result<(), StateError> {
        let mut text = serde_json::to_string_pretty(census).expect("a census serialises");
        text.push('\n');
        self.swap(CENSUS_KEY, |old| {
            if let Some(old) = old {
                self.parse_json(CENSUS_KEY, old, crate::apply::guard::CENSUS_FORMAT_VERSION)?;
            }
            Ok(text.clone().into_bytes())
        })
    }

    /// Append one apply to the journal (a line of JSON) by compare-and-swap
    /// of the whole journal; a journal that is corrupt or newer is refused,
    /// never rewritten.
    pub fn append_journal(&self, entry: &journal::Entry) -> Result<(), StateError> {
        let mut line = serde_json::to_string(entry).expect("an entry serialises");
        line.push('\n');
        self.swap(JOURNAL_KEY, |old| {
            let mut text = match old {
                Some(old) => {
                    self.parse_journal(old)?;
                    String::from_utf8_lossy(old).into_owned()
                }
                None => String::new(),
            };
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&line);
            Ok(text.into_bytes())
        })
    }

    /// Record the finished entry of an apply: it takes the place of the
    /// apply's unfinished entry (one line per apply), or is appended when
    /// there is none.
    pub fn finish_journal(&self, entry: &journal::Entry) -> Result<(), StateError> {
        let line = serde_json::to_string(entry).expect("an entry serialises");
        self.swap(JOURNAL_KEY, |old| {
            let entries = match old {
                Some(old) => self.parse_journal(old)?,
                None => Vec::new(),
            };
            let text = old.map(String::from_utf8_lossy).unwrap_or_default();
            let mut lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            let at = entries
                .iter()
                .position(|e| e.id == entry.id && e.unfinished);
            match at {
                Some(i) => lines[i] = &line,
                None => lines.push(&line),
            }
            let mut out = lines.join("\n");
            out.push('\n');
            Ok(out.into_bytes())
        })
    }

    /// Every apply in the journal, oldest first (none when there is no
    /// journal): one entry per apply, the finished entry where there is
    /// one ([`journal::merge`]).
    pub fn journal(&self) -> Result<Vec<journal::Entry>, StateError> {
        match self.store.get(JOURNAL_KEY)? {
            Some(obj) => Ok(journal::merge(self.parse_journal(&obj.bytes)?)),
            None => Ok(Vec::new()),
        }
    }

    fn parse_journal(&self, bytes: &[u8]) -> Result<Vec<journal::Entry>, StateError> {
        let at = |i: usize| format!("{}:{}", self.store.locate(JOURNAL_KEY), i + 1);
        let text = std::str::from_utf8(bytes).map_err(|e| StateError::Corrupt {
            path: self.store.locate(JOURNAL_KEY),
            message: e.to_string(),
        })?;
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                let v: serde_json::Value =
                    serde_json::from_str(l).map_err(|e| StateError::Corrupt {
                        path: at(i),
                        message: e.to_string(),
                    })?;
                let found = v
                    .get("format_version")
                    .and_then(|f| f.as_u64())
                    .unwrap_or(0);
                if found > u64::from(journal::JOURNAL_FORMAT_VERSION) {
                    return Err(StateError::Newer {
                        path: at(i),
                        found: found as u32,
                        supported: journal::JOURNAL_FORMAT_VERSION,
                    });
                }
                serde_json::from_value(v).map_err(|e| StateError::Corrupt {
                    path: at(i),
                    message: e.to_string(),
                })
            })
            .collect()
    }

    /// The quarantine as recorded (empty when there is none yet).
    pub fn quarantine(&self) -> Result<Quarantine, StateError> {
        match self.store.get(QUARANTINE_KEY)? {
            Some(obj) => self.parse_quarantine(&obj.bytes),
            None => Ok(Quarantine::new()),
        }
    }

    fn parse_quarantine(&self, bytes: &[u8]) -> Result<Quarantine, StateError> {
        let value =
            self.parse_json(QUARANTINE_KEY, bytes, quarantine::QUARANTINE_FORMAT_VERSION)?;
        let q: Quarantine = serde_json::from_value(value)
            .map_err(|e| self.corrupt(QUARANTINE_KEY, e.to_string()))?;
        // Times are compared as text, which is right only in this one form.
        if let Some((n, t)) = q.numbers.iter().find_map(|(n, e)| {
            [&e.released_at, &e.until]
                .into_iter()
                .find(|t| !quarantine::is_utc_time(t))
                .map(|t| (n, t))
        }) {
            return Err(self.corrupt(
                QUARANTINE_KEY,
                format!(
                    "the entry of `{n}` has the time `{t}`; times are written `YYYY-MM-DDTHH:MM:SSZ`"
                ),
            ));
        }
        Ok(q)
    }

    /// Change the quarantine by compare-and-swap: read it, let `change`
    /// edit it, write it back (again from a fresh read when another writer
    /// came first, so `change` may run more than once).
    pub fn update_quarantine(
        &self,
        mut change: impl FnMut(&mut Quarantine),
    ) -> Result<Quarantine, StateError> {
        let mut result = Quarantine::new();
        self.swap(QUARANTINE_KEY, |old| {
            let mut q = match old {
                Some(b) => self.parse_quarantine(b)?,
                None => Quarantine::new(),
            };
            change(&mut q);
            let mut text = serde_json::to_string_pretty(&q).expect("the quarantine serialises");
            text.push('\n');
            result = q;
            Ok(text.into_bytes())
        })?;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numbers::E164;

    #[test]
    fn the_quarantine_survives_a_round_trip_and_bad_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join("state"));
        assert!(state.quarantine().unwrap().numbers.is_empty());
        let n = E164::parse("+15550001").unwrap();
        state
            .update_quarantine(|q| {
                q.record(n, "a@x", "2026-01-01T00:00:00Z", "2026-01-08T00:00:00Z")
            })
            .unwrap();
        assert!(state.quarantine().unwrap().numbers.contains_key(&n));

        let path = dir.path().join("state/quarantine.json");
        std::fs::write(&path, "{\"format_version\": 99, \"numbers\": {}}").unwrap();
        let err = state.update_quarantine(|_| {}).unwrap_err().to_string();
        assert!(
            err.contains("newer") && err.contains("quarantine.json"),
            "{err}"
        );
        assert!(std::fs::read_to_string(&path).unwrap().contains("99"));

        std::fs::write(
            &path,
            "{\"format_version\": 1, \"numbers\": {\"+15550001\": {\"released_at\": \"2026-01-01T00:00:00Z\", \"until\": \"never\", \"holder\": \"a\"}}}",
        )
        .unwrap();
        let err = state.quarantine().unwrap_err().to_string();
        assert!(err.contains("`never`"), "{err}");

        std::fs::write(&path, "{ torn").unwrap();
        let err = state.quarantine().unwrap_err().to_string();
        assert!(err.contains("not valid"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ torn");
    }
}
