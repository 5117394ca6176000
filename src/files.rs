//! Files at the edge: writing a file roster owns (plans, reports, tenant
//! snapshots, emulator state, formatted manifests) atomically, reading
//! a tenant snapshot file (mapped when large: [`Text`]), and the exclusive
//! lock beside a file that keeps
//! two roster writers apart ([`lock_beside`]).
//!
//! Everything here is I/O; the pure core (manifest, rules, numbers,
//! desired, plan) never calls it.

use std::io::Write as _;
use std::path::Path;

/// Write `bytes` to a temporary file beside `path`, flush it to disk, then
/// rename it over `path` and flush the folder ([`sync_dir`]): a reader sees
/// the old file or the new one, never a torn one, and after a crash the new
/// one stays. `before_rename` runs on the synced temporary file (tests use it
/// to fail on purpose); when anything fails, `path` is untouched and the
/// temporary file is removed. The file keeps its permissions; a new file
/// gets `rw-rw-rw-` less the process's umask, as `open(2)` would give it
/// (the temporary file starts private). Temporary files that an earlier
/// roster left behind when it was killed are removed first.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce(&std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    // A symlink is followed: the file it points to is replaced, the link
    // stays. A FIFO or a device (`--out /dev/stdout`) cannot be replaced by
    // renaming (as root that would replace the device node): write into it.
    let target = resolve_links(path)?;
    if let Ok(m) = std::fs::metadata(&target)
        && !m.is_file()
    {
        let mut f = std::fs::OpenOptions::new().write(true).open(&target)?;
        return f.write_all(bytes);
    }
    let path = target.as_path();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    remove_stale_temporaries(dir);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TMP_PREFIX}{}-", std::process::id()))
        .suffix(TMP_SUFFIX)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    match std::fs::metadata(path) {
        Ok(m) => tmp.as_file().set_permissions(m.permissions())?,
        Err(_) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                tmp.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(0o666 & !umask()))?;
            }
        }
    }
    tmp.as_file().sync_all()?;
    before_rename(tmp.as_file())?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Flush the entries of the folder `dir` to disk, after a rename into it:
/// without it a crash soon after may bring back the old file, or none, in
/// place of the new one. A folder that cannot be opened (not readable, or
/// on a platform where folders are not opened as files) or a file system
/// that does not sync folders is passed over; any other failure is an
/// error (the new file is in place then, but may not survive a crash).
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(test)]
    tests::synced(dir);
    #[cfg(unix)]
    {
        let Ok(folder) = std::fs::File::open(dir) else {
            return Ok(());
        };
        match folder.sync_all() {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported
                ) =>
            {
                Ok(())
            }
            r => r,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

const TMP_PREFIX: &str = ".roster-";
const TMP_SUFFIX: &str = ".tmp";

/// Remove the temporary files of writes that never finished: those named
/// with the id of a process that no longer runs (`.roster-PID-….tmp`), and
/// older ones without an id once they are an hour old. A temporary file of
/// a write still under way in another process is left alone. Best effort:
/// a file that cannot be removed is passed over.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(middle) = name
            .strip_prefix(TMP_PREFIX)
            .and_then(|n| n.strip_suffix(TMP_SUFFIX))
        else {
            continue;
        };
        let pid = middle
            .split_once('-')
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        let stale = match pid {
            Some(pid) => pid != std::process::id() && !process_exists(pid),
            None => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(3600)),
        };
        if stale && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a process with this id runs on this machine.
#[cfg(unix)]
pub(crate) fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // Signal 0 checks existence and permission without sending anything.
    // SAFETY: kill(2) with signal 0 has no effect on the target.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
pub(crate) fn process_exists(_pid: u32) -> bool {
    true
}

/// The process's file mode creation mask.
#[cfg(unix)]
fn umask() -> u32 {
    // Linux shows it without changing it; elsewhere set it and put it back.
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("Umask:"))
        && let Ok(mask) = u32::from_str_radix(line["Umask:".len()..].trim(), 8)
    {
        return mask;
    }
    // SAFETY: umask(2) cannot fail; the old mask is restored at once.
    unsafe {
        let old = libc::umask(0o022);
        libc::umask(old);
        old as u32
    }
}

/// Whether `a` and `b` name the same existing file (through links, `..`,
/// hard links and all).
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
    }
}

/// Check, without changing anything, that [`write_atomic`] could write
/// `path` now: its folder exists and takes new files, and an existing
/// target can be replaced. Used before a tenant is changed, so a report
/// that cannot be written is found before, not after.
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    let target = resolve_links(path)?;
    if let Ok(m) = std::fs::metadata(&target) {
        if m.is_dir() {
            return Err(std::io::Error::other("it is a directory"));
        }
        if !m.is_file() {
            return std::fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .map(drop);
        }
    }
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(&format!("{TMP_PREFIX}{}-", std::process::id()))
        .suffix(TMP_SUFFIX)
        .tempfile_in(dir)
        .map(drop)
}

/// The path a chain of symlinks ends at (which may not exist yet).
fn resolve_links(path: &Path) -> std::io::Result<std::path::PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other(format!(
        "too many levels of symbolic links at `{}`",
        path.display()
    )))
}

/// Read and check a tenant snapshot file.
pub fn read_snapshot(
    path: &Path,
) -> Result<(crate::snapshot::Snapshot, crate::live::LiveState), crate::snapshot::SnapshotError> {
    use crate::snapshot::{SnapshotError, parse, to_live};
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Io {
        file: file.clone(),
        source,
    })?;
    let snap = parse(&file, &text)?;
    let live = to_live(&file, &snap)?;
    Ok((snap, live))
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// Each folder [`sync_dir`] flushed on this thread, with the names
        /// in it at that moment.
        static SYNCED: std::cell::RefCell<Vec<(std::path::PathBuf, Vec<String>)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }

    pub(super) fn synced(dir: &Path) {
        let names = std::fs::read_dir(dir)
            .map(|d| {
                let mut n: Vec<String> = d
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                n.sort();
                n
            })
            .unwrap_or_default();
        SYNCED.with(|s| s.borrow_mut().push((dir.to_path_buf(), names)));
    }

    fn take_synced() -> Vec<(std::path::PathBuf, Vec<String>)> {
        SYNCED.with(|s| std::mem::take(&mut *s.borrow_mut()))
    }

    #[test]
    fn the_folder_is_synced_after_the_rename() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        take_synced();
        write_atomic(&path, b"{}", |_| Ok(())).unwrap();
        // Once, after the new name is in place (no temporary file left).
        assert_eq!(
            take_synced(),
            vec![(dir.path().to_path_buf(), vec!["plan.json".to_string()])]
        );
        // Also when an existing file is replaced.
        write_atomic(&path, b"[]", |_| Ok(())).unwrap();
        assert_eq!(take_synced().len(), 1);
        // A failed write renames nothing and syncs nothing.
        write_atomic(&path, b"x", |_| Err(std::io::Error::other("no"))).unwrap_err();
        assert_eq!(take_synced(), vec![]);
        // A folder that cannot be opened is passed over.
        assert!(sync_dir(&dir.path().join("missing")).is_ok());
        assert!(sync_dir(dir.path()).is_ok());
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tenant.json");
        std::fs::write(&path, "old").unwrap();
        let err =
            write_atomic(&path, b"new", |_| Err(std::io::Error::other("disk full"))).unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("tenant.json")]);
        write_atomic(&path, b"new", |_| Ok(())).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_and_special_files_written_into() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_atomic(&link, b"new", |_| Ok(())).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        // A character device is written into, never replaced.
        write_atomic(Path::new("/dev/null"), b"x", |_| Ok(())).unwrap();
        assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
    }

    #[cfg(unix)]
    #[test]
    fn permissions_are_kept_and_new_files_follow_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.json");
        std::fs::write(&old, "x").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&old, b"y", |_| Ok(())).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&old), 0o640);
        let new = dir.path().join("new.json");
        write_atomic(&new, b"z", |_| Ok(())).unwrap();
        assert_eq!(mode(&new), 0o666 & !umask());
    }

    #[test]
    fn temporaries_of_dead_writers_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = |name: &str| dir.path().join(name);
        // A pid far above any pid_max: no such process.
        std::fs::write(tmp(".roster-4194999-abc.tmp"), "torn").unwrap();
        // This very process: a write under way.
        let mine = format!(".roster-{}-def.tmp", std::process::id());
        std::fs::write(tmp(&mine), "busy").unwrap();
        // An old-style name without a pid, fresh: kept (it may be in use).
        std::fs::write(tmp(".roster-XyZ123.tmp"), "fresh").unwrap();
        std::fs::write(tmp("other.tmp"), "not ours").unwrap();
        write_atomic(&tmp("plan.json"), b"{}", |_| Ok(())).unwrap();
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let mut want = vec![
            ".roster-XyZ123.tmp".to_string(),
            mine,
            "other.tmp".into(),
            "plan.json".into(),
        ];
        want.sort();
        assert_eq!(names, want);
    }

    #[test]
    fn same_file_sees_through_links_and_dots() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        std::fs::write(&a, "x").unwrap();
        let dotted = dir.path().join("sub/../a.json");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert!(same_file(&a, &dotted));
        #[cfg(unix)]
        {
            let link = dir.path().join("link.json");
            std::os::unix::fs::symlink(&a, &link).unwrap();
            assert!(same_file(&a, &link));
        }
        assert!(!same_file(&a, &dir.path().join("missing.json")));
    }

    #[test]
    fn check_writable_finds_missing_folders_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_writable(&dir.path().join("r.json")).is_ok());
        assert!(check_writable(&dir.path().join("no/such/r.json")).is_err());
        assert!(check_writable(dir.path()).is_err());
        // Nothing is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

// The lock beside a file (`files/lock.rs`).
mod lock;
pub use lock::{FileLock, LockError, LockHolder, hostname, lock_beside, lock_path};
// A large file's text, mapped (`files/text.rs`).
mod text;
pub use text::Text;
