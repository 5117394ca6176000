//! The file provider: a tenant snapshot on disk is the live tenant.
//!
//! Writes change an in-memory [`LiveState`] with the same rules Graph
//! applies (unknown policy or user: error; a number held by someone else:
//! error; Calling Plan and Operator Connect numbers must be in the
//! inventory), and `commit` writes the whole file to a temporary file
//! beside it and renames it over the old one, keeping unknown fields.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Outcome, Provider, ProviderError};
use crate::apply::schedule::Write;
use crate::live::LiveState;
use crate::numbers::E164;
use crate::snapshot;

pub struct FileProvider {
    path: PathBuf,
    original: Option<String>,
    live: Option<Arc<LiveState>>,
    dirty: bool,
}

impl FileProvider {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileProvider {
            path: path.into(),
            original: None,
            live: None,
            dirty: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn load(&mut self) -> Result<&mut Arc<LiveState>, ProviderError> {
        if self.live.is_none() {
            let file = self.path.display().to_string();
            let text = std::fs::read_to_string(&self.path).map_err(|source| {
                snapshot::SnapshotError::Io {
                    file: file.clone(),
                    source,
                }
            })?;
            let snap = snapshot::parse(&file, &text)?;
            self.live = Some(Arc::new(snapshot::into_live(&file, snap)?));
            self.original = Some(text);
        }
        Ok(self.live.as_mut().expect("loaded above"))
    }
}

impl Provider for FileProvider {
    fn kind(&self) -> &'static str {
        "file"
    }

    fn fetch(&mut self) -> Result<Arc<LiveState>, ProviderError> {
        self.load().cloned()
    }

    fn execute(&mut self, writes: &[Write]) -> Vec<Outcome> {
        let live = match self.load() {
            Ok(l) => Arc::make_mut(l),
            Err(e) => {
                return writes
                    .iter()
                    .flat_map(Write::user_ids)
                    .map(|u| Outcome::failed(&u, e.to_string()))
                    .collect();
            }
        };
        let index = user_index(live);
        let mut out = Vec::new();
        for w in writes {
            apply_write(live, &index, w, &mut out);
        }
        self.dirty = true;
        out
    }

    fn commit(&mut self) -> Result<(), ProviderError> {
        if !self.dirty {
            return Ok(());
        }
        let (Some(original), Some(live)) = (&self.original, &self.live) else {
            return Ok(());
        };
        let text =
            snapshot::patch(original, live).map_err(|e| ProviderError::Other(e.to_string()))?;
        write_atomic(&self.path, text.as_bytes(), |_| Ok(())).map_err(|source| {
            ProviderError::Write {
                file: self.path.display().to_string(),
                source,
            }
        })?;
        self.original = Some(text);
        self.dirty = false;
        Ok(())
    }
}

/// User id -> index into `live.users` (build once per batch of writes).
pub fn user_index(live: &LiveState) -> HashMap<String, usize> {
    live.users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.clone(), i))
        .collect()
}

/// Apply one write to a live state as Graph would; push one outcome per user.
pub fn apply_write(
    live: &mut LiveState,
    index: &HashMap<String, usize>,
    w: &Write,
    out: &mut Vec<Outcome>,
) {
    match w {
        Write::AssignPolicy {
            policy_type,
            policy,
            user_ids,
        } => {
            let instance = live.policy(policy_type, policy).map(|p| p.name.clone());
            let mut targets = Vec::new();
            for id in user_ids {
                match (&instance, index.get(id)) {
                    (None, _) => out.push(Outcome::failed(
                        id,
                        format!("policy `{policy}` of type `{policy_type}` does not exist"),
                    )),
                    (_, None) => {
                        out.push(Outcome::failed(id, format!("user `{id}` does not exist")))
                    }
                    (Some(_), Some(&i)) => targets.push((i, id)),
                }
            }
            if let Some(name) = instance {
                for (i, id) in targets {
                    live.users[i]
                        .policies
                        .insert(policy_type.clone(), name.clone());
                    out.push(Outcome::ok(id));
                }
            }
        }
        Write::RemovePolicy {
            policy_type,
            user_ids,
        } => {
            for id in user_ids {
                match index.get(id) {
                    Some(&i) => {
                        live.users[i].policies.remove(policy_type);
                        out.push(Outcome::ok(id));
                    }
                    None => out.push(Outcome::failed(id, format!("user `{id}` does not exist"))),
                }
            }
        }
        Write::ReleaseNumber { user_id, number } => {
            let Ok(n) = E164::parse_lenient(number) else {
                out.push(Outcome::failed(
                    user_id,
                    format!("`{number}` is not a telephone number"),
                ));
                return;
            };
            match live.numbers.get(&n) {
                Some(a) if a.target.as_deref() == Some(user_id.as_str()) => {
                    live.unassign_number(n);
                    out.push(Outcome::ok(user_id));
                }
                // Already released (e.g. an apply retried): nothing to do.
                Some(a) if !a.is_held() => out.push(Outcome::ok(user_id)),
                None => out.push(Outcome::ok(user_id)),
                Some(_) => out.push(Outcome::failed(
                    user_id,
                    format!("Telephone Number '{n}' is not assigned to user '{user_id}'"),
                )),
            }
        }
        Write::AssignNumber {
            user_id,
            number,
            number_type,
            location_id,
        } => {
            let Ok(n) = E164::parse_lenient(number) else {
                out.push(Outcome::failed(
                    user_id,
                    format!("`{number}` is not a telephone number"),
                ));
                return;
            };
            if !index.contains_key(user_id) {
                out.push(Outcome::failed(
                    user_id,
                    format!("user `{user_id}` does not exist"),
                ));
                return;
            }
            match live.assign_number(n, user_id, *number_type, "primary", location_id.as_deref()) {
                Ok(()) => out.push(Outcome::ok(user_id)),
                Err(e) => out.push(Outcome::failed(user_id, e)),
            }
        }
    }
}

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
