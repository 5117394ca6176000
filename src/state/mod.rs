//! roster's own state, kept between runs: the number [`quarantine`] and
//! the directory census of the last apply (for the sanity guard,
//! [`crate::apply::guard`]).
//!
//! It lives in a state directory (`.roster-state/` beside the manifests by
//! default). Every read-modify-write holds the exclusive lock beside the
//! file it changes ([`crate::files::lock_beside`]), so two runs never both
//! win; files are replaced atomically. A state file that is corrupt, or written by a newer roster,
//! is refused with its path and never overwritten. This module is an I/O
//! edge; the pure core only sees the values it reads.

pub mod journal;
pub mod quarantine;
pub mod watch;

use std::path::{Path, PathBuf};

pub use quarantine::Quarantine;

/// The default state directory, relative to the config directory.
pub const DEFAULT_DIR: &str = ".roster-state";

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "cannot use the state directory `{path}`: {source}\nhint: roster keeps its number quarantine there; make the folder writable, or point `state` in the tenant settings elsewhere"
    )]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
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
}

/// A state directory on local disk.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        StateDir { dir: dir.into() }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn quarantine_path(&self) -> PathBuf {
        self.dir.join("quarantine.json")
    }

    fn io(&self, path: &Path) -> impl Fn(std::io::Error) -> StateError {
        let path = path.display().to_string();
        move |source| StateError::Io {
            path: path.clone(),
            source,
        }
    }

    /// A state file as JSON: `None` when there is none yet; refused when
    /// corrupt or newer than `supported`.
    fn read_json(
        &self,
        path: &Path,
        supported: u32,
    ) -> Result<Option<serde_json::Value>, StateError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(path)(e)),
        };
        let corrupt = |message: String| StateError::Corrupt {
            path: path.display().to_string(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
        let found = value
            .get("format_version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| corrupt("it has no `format_version`".into()))?;
        if found > u64::from(supported) {
            return Err(StateError::Newer {
                path: path.display().to_string(),
                found: found as u32,
                supported,
            });
        }
        Ok(Some(value))
    }

    fn census_path(&self) -> PathBuf {
        self.dir.join("directory.json")
    }

    /// The directory census of the last apply, if any.
    pub fn census(&self) -> Result<Option<crate::apply::guard::Census>, StateError> {
        let path = self.census_path();
        let Some(value) = self.read_json(&path, crate::apply::guard::CENSUS_FORMAT_VERSION)? else {
            return Ok(None);
        };
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| StateError::Corrupt {
                path: path.display().to_string(),
                message: e.to_string(),
            })
    }

    /// Record the directory census of this apply (atomically).
    pub fn save_census(&self, census: &crate::apply::guard::Census) -> Result<(), StateError> {
        std::fs::create_dir_all(&self.dir).map_err(self.io(&self.dir))?;
        let path = self.census_path();
        let mut text = serde_json::to_string_pretty(census).expect("a census serialises");
        text.push('\n');
        crate::files::write_atomic(&path, text.as_bytes(), |_| Ok(())).map_err(self.io(&path))
    }

    fn journal_path(&self) -> PathBuf {
        self.dir.join("journal.jsonl")
    }

    /// Append one apply to the journal (a line of JSON), under the lock
    /// beside it, flushed to disk before returning.
    pub fn append_journal(&self, entry: &journal::Entry) -> Result<(), StateError> {
        use std::io::Write as _;
        std::fs::create_dir_all(&self.dir).map_err(self.io(&self.dir))?;
        let path = self.journal_path();
        let _lock = crate::files::lock_beside(&path, std::time::Duration::from_secs(60), |_| {})
            .map_err(|e| StateError::Io {
                path: path.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })?;
        let mut line = serde_json::to_string(entry).expect("an entry serialises");
        line.push('\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(self.io(&path))?;
        f.write_all(line.as_bytes()).map_err(self.io(&path))?;
        f.sync_all().map_err(self.io(&path))
    }

    /// Every journal entry, oldest first (none when there is no journal).
    pub fn journal(&self) -> Result<Vec<journal::Entry>, StateError> {
        let path = self.journal_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(&path)(e)),
        };
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                let v: serde_json::Value =
                    serde_json::from_str(l).map_err(|e| StateError::Corrupt {
                        path: format!("{}:{}", path.display(), i + 1),
                        message: e.to_string(),
                    })?;
                let found = v
                    .get("format_version")
                    .and_then(|f| f.as_u64())
                    .unwrap_or(0);
                if found > u64::from(journal::JOURNAL_FORMAT_VERSION) {
                    return Err(StateError::Newer {
                        path: format!("{}:{}", path.display(), i + 1),
                        found: found as u32,
                        supported: journal::JOURNAL_FORMAT_VERSION,
                    });
                }
                serde_json::from_value(v).map_err(|e| StateError::Corrupt {
                    path: format!("{}:{}", path.display(), i + 1),
                    message: e.to_string(),
                })
            })
            .collect()
    }

    /// The quarantine as recorded (empty when there is no file yet).
    pub fn quarantine(&self) -> Result<Quarantine, StateError> {
        let path = self.quarantine_path();
        let Some(value) = self.read_json(&path, quarantine::QUARANTINE_FORMAT_VERSION)? else {
            return Ok(Quarantine::new());
        };
        let corrupt = |message: String| StateError::Corrupt {
            path: path.display().to_string(),
            message,
        };
        let q: Quarantine = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
        // Times are compared as text, which is right only in this one form.
        if let Some((n, t)) = q.numbers.iter().find_map(|(n, e)| {
            [&e.released_at, &e.until]
                .into_iter()
                .find(|t| !quarantine::is_utc_time(t))
                .map(|t| (n, t))
        }) {
            return Err(corrupt(format!(
                "the entry of `{n}` has the time `{t}`; times are written `YYYY-MM-DDTHH:MM:SSZ`"
            )));
        }
        Ok(q)
    }

    /// Change the quarantine under the directory's lock: read it, let
    /// `change` edit it, write it back atomically.
    pub fn update_quarantine(
        &self,
        change: impl FnOnce(&mut Quarantine),
    ) -> Result<Quarantine, StateError> {
        std::fs::create_dir_all(&self.dir).map_err(self.io(&self.dir))?;
        let path = self.quarantine_path();
        // Changes take milliseconds; a minute is a holder that hangs.
        let _lock = crate::files::lock_beside(&path, std::time::Duration::from_secs(60), |_| {})
            .map_err(|e| StateError::Io {
                path: path.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })?;
        let mut q = self.quarantine()?;
        change(&mut q);
        let mut text = serde_json::to_string_pretty(&q).expect("the quarantine serialises");
        text.push('\n');
        crate::files::write_atomic(&path, text.as_bytes(), |_| Ok(())).map_err(self.io(&path))?;
        Ok(q)
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
