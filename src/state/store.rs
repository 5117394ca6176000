//! Where roster's state lives: one small compare-and-swap interface,
//! [`Store`], over named objects (`quarantine.json`, `journal.jsonl`,
//! `directory.json`, `lock.json`), and its `file` backend, a directory
//! ([`FileStore`]); the `azure-blob` backend is [`super::azure`].
//!
//! Every write is conditional: [`Put::Create`] only where there is no
//! object yet, [`Put::Update`] only over the version read, so of two
//! writers that read the same version exactly one wins and the other gets
//! [`StoreError::Conflict`] (and reads again). There is no delete: the
//! object stores roster speaks offer no conditional delete, so nothing is
//! ever removed, a released lock is a record saying so. This module only
//! moves bytes: what they mean is [`super::StateDir`]'s.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The version of an object as read: a content hash (`file`) or the
/// entity tag (`azure-blob`). Opaque; only compared by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version(pub String);

/// An object as read, with its version.
#[derive(Debug, Clone)]
pub struct Object {
    pub bytes: Vec<u8>,
    pub version: Version,
}

/// The condition of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Put {
    /// Only when there is no object yet.
    Create,
    /// Only when the object is still at this version.
    Update(Version),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The condition of a write failed: another writer came first.
    #[error("another writer changed `{key}` first")]
    Conflict { key: String },
    /// The store cannot be used at all: unreachable, missing, or refused.
    #[error("{message}\nhint: {hint}")]
    Unavailable { message: String, hint: String },
    /// A local file could not be read or written.
    #[error(
        "cannot use the state directory `{path}`: {source}\nhint: roster keeps its number quarantine there; make the folder writable, or point `state` in the tenant settings elsewhere"
    )]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A place for roster's state objects, with compare-and-swap writes.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The store, for messages: `the state directory `…``.
    fn name(&self) -> String;
    /// Where `key` is, for messages: a path, or `account/container/key`.
    fn locate(&self, key: &str) -> String;
    /// The object, or `None` when there is none.
    fn get(&self, key: &str) -> Result<Option<Object>, StoreError>;
    /// Write `bytes` if `cond` holds; the new version.
    fn put(&self, key: &str, bytes: &[u8], cond: Put) -> Result<Version, StoreError>;
    /// The keys of every object, sorted.
    fn list(&self) -> Result<Vec<String>, StoreError>;
    /// Fail, saying why and what to do, when the store cannot be used (a
    /// network store unreachable, its container missing, access denied).
    fn probe(&self) -> Result<(), StoreError>;
}

/// The `file` backend: each object a file in a directory. A write holds
/// the exclusive lock beside its file ([`crate::files::lock_beside`]) while
/// it compares the file's content hash with the version and replaces the
/// file atomically, so the condition and the write are one step for every
/// roster process on the machine (and on a shared disk that honours
/// `flock`).
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

/// The content hash a file object's version is.
fn version_of(bytes: &[u8]) -> Version {
    Version(format!("{:x}", Sha256::digest(bytes)))
}

impl FileStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn io(&self, path: &Path) -> impl Fn(std::io::Error) -> StoreError {
        let path = path.display().to_string();
        move |source| StoreError::Io {
            path: path.clone(),
            source,
        }
    }

    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
        match std::fs::read(path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io(path)(e)),
        }
    }
}

impl Store for FileStore {
    fn name(&self) -> String {
        format!("the state directory `{}`", self.dir.display())
    }

    fn locate(&self, key: &str) -> String {
        self.dir.join(key).display().to_string()
    }

    fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        let path = self.dir.join(key);
        Ok(self.read(&path)?.map(|bytes| Object {
            version: version_of(&bytes),
            bytes,
        }))
    }

    fn put(&self, key: &str, bytes: &[u8], cond: Put) -> Result<Version, StoreError> {
        std::fs::create_dir_all(&self.dir).map_err(self.io(&self.dir))?;
        let path = self.dir.join(key);
        // Writes take milliseconds; a minute is a holder that hangs.
        let _lock = crate::files::lock_beside(&path, std::time::Duration::from_secs(60), |_| {})
            .map_err(|e| StoreError::Io {
                path: path.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })?;
        let now = self.read(&path)?.map(|b| version_of(&b));
        let holds = match (&cond, &now) {
            (Put::Create, None) => true,
            (Put::Update(want), Some(have)) => want == have,
            _ => false,
        };
        if !holds {
            return Err(StoreError::Conflict {
                key: key.to_string(),
            });
        }
        crate::files::write_atomic(&path, bytes, |f| f.sync_all()).map_err(self.io(&path))?;
        Ok(version_of(bytes))
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(&self.dir)(e)),
        };
        let mut keys = Vec::new();
        for entry in entries {
            let entry = entry.map_err(self.io(&self.dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
            if is_file && !name.ends_with(".lock") && !name.starts_with('.') {
                keys.push(name);
            }
        }
        keys.sort();
        Ok(keys)
    }

    fn probe(&self) -> Result<(), StoreError> {
        // A directory that is missing is made on the first write; one that
        // exists must be a directory we can list.
        match std::fs::metadata(&self.dir) {
            Ok(m) if !m.is_dir() => Err(StoreError::Io {
                path: self.dir.display().to_string(),
                source: std::io::Error::other("it is not a directory"),
            }),
            Ok(_) => self.list().map(drop),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io(&self.dir)(e)),
        }
    }
}

/// The contract every backend keeps, run by the unit tests here and by the
/// integration tests on Azurite: reads see writes, a stale or doubled
/// conditional write is refused, and of two writers racing from one read
/// exactly one wins.
#[doc(hidden)]
pub fn check_contract(store: &dyn Store) {
    let key = format!("contract-{}.json", uuid::Uuid::new_v4());
    assert!(store.get(&key).unwrap().is_none());
    let v1 = store.put(&key, b"one", Put::Create).unwrap();
    let read = store.get(&key).unwrap().expect("written");
    assert_eq!((read.bytes.as_slice(), &read.version), (&b"one"[..], &v1));
    assert!(matches!(
        store.put(&key, b"again", Put::Create),
        Err(StoreError::Conflict { .. })
    ));
    let v2 = store.put(&key, b"two", Put::Update(v1.clone())).unwrap();
    assert_ne!(v1, v2);
    assert!(matches!(
        store.put(&key, b"stale", Put::Update(v1.clone())),
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.get(&key).unwrap().unwrap().bytes, b"two");
    assert!(store.list().unwrap().contains(&key));

    // Two writers from one read, at once: exactly one wins.
    let wins = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for who in ["a", "b", "c", "d"] {
            let (v2, wins, key) = (&v2, &wins, &key);
            s.spawn(
                move || match store.put(key, who.as_bytes(), Put::Update(v2.clone())) {
                    Ok(_) => {
                        wins.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    Err(StoreError::Conflict { .. }) => {}
                    Err(e) => panic!("{e}"),
                },
            );
        }
    });
    assert_eq!(wins.into_inner(), 1, "exactly one writer wins");
    let after = store.get(&key).unwrap().unwrap().bytes;
    assert!(["a", "b", "c", "d"].iter().any(|w| w.as_bytes() == after));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_backend_keeps_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("state"));
        store.probe().unwrap();
        check_contract(&store);
        // Versions are content hashes: a file written by hand is read as it is.
        std::fs::write(dir.path().join("state/x.json"), b"by hand").unwrap();
        let got = store.get("x.json").unwrap().unwrap();
        assert_eq!(got.version, version_of(b"by hand"));
        assert!(!store.list().unwrap().iter().any(|k| k.ends_with(".lock")));
    }

    #[test]
    fn a_file_in_place_of_the_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        std::fs::write(&path, "").unwrap();
        let err = FileStore::new(&path).probe().unwrap_err().to_string();
        assert!(
            err.contains("not a directory") && err.contains("state"),
            "{err}"
        );
    }
}
