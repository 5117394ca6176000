//! An exclusive advisory lock beside a file (the tenant snapshot's
//! `tenant.json.lock`) that names its holder: how two roster writers take
//! turns. Only the primitive: when to take it is the caller's choice (the
//! file provider's). I/O at the edge, like the rest of [`crate::files`].

use std::io::Write as _;
use std::path::Path;

use super::resolve_links;

/// Who holds a [`FileLock`], as written into the lock file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockHolder {
    pub pid: u32,
    pub host: String,
    /// The holder's command line.
    pub command: String,
    /// When the holder took the lock (RFC 3339, UTC).
    pub since: String,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "process {} on `{}` (`{}`) since {}",
            self.pid, self.host, self.command, self.since
        )
    }
}

/// An exclusive OS advisory lock (`flock(2)`, `LockFileEx` on Windows) on
/// the sidecar file `<target>.lock`, held until dropped. The lock file
/// exists while the lock is held and names its holder; the holder removes
/// it when it lets go (Windows: empties it). The OS releases the lock of a
/// process that dies, so a crash never leaves the target locked: the file
/// it leaves behind is taken over by the next one. Advisory: it keeps out
/// other roster processes that take it, not other writers.
#[derive(Debug)]
pub struct FileLock {
    file: std::fs::File,
    path: std::path::PathBuf,
}

impl FileLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Remove the file while still holding the lock (a waiter that then
        // gets the lock on it sees it is gone and opens a new one); closing
        // releases the lock. Windows cannot remove an open file: empty it.
        #[cfg(unix)]
        if is_at(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
        #[cfg(not(unix))]
        let _ = self.file.set_len(0);
    }
}

/// Whether the open `file` is the one at `path` now (not removed or
/// replaced since it was opened).
fn is_at(file: &std::fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process held the lock for the whole timeout.
    #[error("`{}` is locked by {}", path.display(), holder.as_ref().map_or_else(|| "another process".to_string(), |h| h.to_string()))]
    Busy {
        path: std::path::PathBuf,
        holder: Option<LockHolder>,
        waited: std::time::Duration,
    },
    #[error("cannot lock `{}`: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The lock file of `target`: `<target>.lock` beside the file a chain of
/// symlinks ends at, so every path to one file shares one lock.
pub fn lock_path(target: &Path) -> std::io::Result<std::path::PathBuf> {
    let mut name = resolve_links(target)?.into_os_string();
    name.push(".lock");
    Ok(name.into())
}

/// Take the exclusive lock beside `target` ([`lock_path`]), waiting up to
/// `timeout` (zero: one try). `on_wait` is called once, with the holder,
/// when the lock is busy and the caller is about to wait. The lock file is
/// created (honouring the umask) when missing; this process is then
/// written into it as the holder.
pub fn lock_beside(
    target: &Path,
    timeout: std::time::Duration,
    on_wait: impl FnOnce(Option<&LockHolder>),
) -> Result<FileLock, LockError> {
    let io = |path: &Path, source| LockError::Io {
        path: path.to_path_buf(),
        source,
    };
    let path = lock_path(target).map_err(|e| io(target, e))?;
    let started = std::time::Instant::now();
    let mut on_wait = Some(on_wait);
    let file = loop {
        // Opened afresh on each try: the holder removes the file when it
        // lets go, and a lock on a removed file locks nothing.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        match fs4::FileExt::try_lock(&file) {
            Ok(()) if is_at(&file, &path) => break file,
            // Locked just as its holder removed it: try the new one.
            Ok(()) => continue,
            Err(fs4::TryLockError::Error(e)) => return Err(io(&path, e)),
            Err(fs4::TryLockError::WouldBlock) => {}
        }
        drop(file);
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(LockError::Busy {
                holder: read_holder(&path),
                path,
                waited,
            });
        }
        if let Some(f) = on_wait.take() {
            f(read_holder(&path).as_ref());
        }
        std::thread::sleep(
            std::time::Duration::from_millis(50).min(timeout.saturating_sub(waited)),
        );
    };
    let holder = LockHolder {
        pid: std::process::id(),
        host: hostname(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        since: now_utc(),
    };
    let lock = FileLock { file, path };
    let mut text = serde_json::to_string(&holder).unwrap_or_default();
    text.push('\n');
    let write = lock
        .file
        .set_len(0)
        .and_then(|()| (&lock.file).write_all(text.as_bytes()));
    write.map_err(|e| io(&lock.path, e))?;
    Ok(lock)
}

/// The holder named in a lock file. The holder writes its name just after
/// taking the lock, so a read may come too early: try a few times.
fn read_holder(path: &Path) -> Option<LockHolder> {
    for _ in 0..10 {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(holder) = serde_json::from_str(&text)
        {
            return Some(holder);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}

/// This machine's host name.
pub fn hostname() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname(2) writes
        // at most that many bytes.
        let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if r == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            return String::from_utf8_lossy(&buf[..end]).into_owned();
        }
    }
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown host".into())
}

/// RFC 3339 UTC time, to the second.
fn now_utc() -> String {
    let t = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_second_lock_waits_then_fails_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("tenant.json");
        std::fs::write(&target, "{}").unwrap();
        let held = lock_beside(&target, Duration::ZERO, |_| panic!("free")).unwrap();
        assert_eq!(held.path(), dir.path().join("tenant.json.lock"));
        let text = std::fs::read_to_string(held.path()).unwrap();
        let me: LockHolder = serde_json::from_str(&text).unwrap();
        assert_eq!(me.pid, std::process::id());
        assert_eq!(me.host, hostname());

        // Zero: one try, no wait.
        let err = lock_beside(&target, Duration::ZERO, |_| panic!("no wait")).unwrap_err();
        let LockError::Busy { holder, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(holder.as_ref(), Some(&me));
        assert!(err.to_string().contains(&format!("process {}", me.pid)));

        // A timeout: told once who holds it, then fails after the timeout.
        let start = Instant::now();
        let mut told = Vec::new();
        let err = lock_beside(&target, Duration::from_millis(300), |h| {
            told.push(h.cloned())
        })
        .unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert_eq!(told, vec![Some(me.clone())]);
        assert!(matches!(err, LockError::Busy { .. }));

        // Released and removed on drop; the target untouched.
        drop(held);
        #[cfg(unix)]
        assert!(!dir.path().join("tenant.json.lock").exists());
        let again = lock_beside(&target, Duration::ZERO, |_| panic!("free")).unwrap();
        drop(again);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "{}");
    }

    #[test]
    fn a_waiter_gets_the_lock_when_the_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("tenant.json");
        let held = lock_beside(&target, Duration::ZERO, |_| ()).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(held);
        });
        let mut waited = false;
        let lock = lock_beside(&target, Duration::from_secs(30), |_| waited = true).unwrap();
        assert!(waited);
        releaser.join().unwrap();
        drop(lock);
    }

    #[test]
    fn a_lock_file_left_by_a_dead_holder_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("tenant.json");
        let stale = r#"{"pid":4194999,"host":"h","command":"roster apply","since":"x"}"#;
        std::fs::write(dir.path().join("tenant.json.lock"), stale).unwrap();
        let lock = lock_beside(&target, Duration::ZERO, |_| panic!("free")).unwrap();
        let text = std::fs::read_to_string(lock.path()).unwrap();
        let holder: LockHolder = serde_json::from_str(&text).unwrap();
        assert_eq!(holder.pid, std::process::id());
    }

    /// Writers that read, wait and write a counter under the lock never
    /// interleave, while holders remove the lock file as they let go.
    #[test]
    fn holders_never_overlap() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("counter");
        std::fs::write(&target, "0").unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let target = target.clone();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        let _lock = lock_beside(&target, Duration::from_secs(60), |_| ()).unwrap();
                        let n: u32 = std::fs::read_to_string(&target).unwrap().parse().unwrap();
                        std::thread::sleep(Duration::from_millis(2));
                        std::fs::write(&target, (n + 1).to_string()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "40");
    }

    /// The race the removal on release opens: a waiter that opened the
    /// lock file before the holder removed it must see it is stale.
    #[cfg(unix)]
    #[test]
    fn a_removed_lock_file_is_seen_as_stale() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("tenant.json");
        let held = lock_beside(&target, Duration::ZERO, |_| ()).unwrap();
        let early = std::fs::File::open(held.path()).unwrap();
        assert!(is_at(&early, held.path()));
        let path = held.path().to_path_buf();
        drop(held);
        assert!(!is_at(&early, &path));
        let _new = lock_beside(&target, Duration::ZERO, |_| ()).unwrap();
        assert!(!is_at(&early, &path));
    }

    #[cfg(unix)]
    #[test]
    fn every_link_to_a_file_shares_one_lock() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, "{}").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        assert_eq!(lock_path(&link).unwrap(), dir.path().join("real.json.lock"));
        let _held = lock_beside(&real, Duration::ZERO, |_| ()).unwrap();
        assert!(lock_beside(&link, Duration::ZERO, |_| ()).is_err());
    }
}
