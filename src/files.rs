//! Files at the edge: writing a file roster owns (plans, reports, tenant
//! snapshots, emulator state, formatted manifests) atomically, and reading
//! a tenant snapshot file.
//!
//! Everything here is I/O; the pure core (manifest, rules, numbers,
//! desired, plan) never calls it.

use std::io::Write as _;
use std::path::Path;

/// Write `bytes` to a temporary file beside `path`, flush it to disk, then
/// rename it over `path`: a reader sees the old file or the new one, never a
/// torn one. `before_rename` runs on the synced temporary file (tests use it
/// to fail on purpose); when anything fails, `path` is untouched and the
/// temporary file is removed. The file keeps its permissions; a new file
/// gets the usual `rw-r--r--` (the temporary file starts private).
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
    let mut tmp = tempfile::Builder::new()
        .prefix(".roster-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    match std::fs::metadata(path) {
        Ok(m) => tmp.as_file().set_permissions(m.permissions())?,
        Err(_) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                tmp.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(0o644))?;
            }
        }
    }
    tmp.as_file().sync_all()?;
    before_rename(tmp.as_file())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
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
    fn permissions_are_kept_and_new_files_are_readable() {
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
        assert_eq!(mode(&new), 0o644);
    }
}
