//! git: read the manifests as they are at a revision straight from the
//! object database (no checkout, the working tree untouched), and describe
//! the commit a plan was made from. `git2` with default features off: no
//! network, no OpenSSL.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Repository, StatusOptions, TreeWalkMode, TreeWalkResult};

use crate::manifest::{self, Sources};
use crate::plan::GitInfo;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(
        "`{dir}` is not inside a git repository\nhint: `--ref` and `--base` read the manifests from git history; run roster inside the repository that holds the config"
    )]
    NotARepo { dir: String },
    #[error(
        "git revision `{rev}` cannot be resolved: {message}\nhint: fetch it first (in CI: check out with full history, e.g. `fetch-depth: 0`)"
    )]
    Revision { rev: String, message: String },
    #[error("the config directory `{path}` does not exist at `{rev}`")]
    MissingDir { path: String, rev: String },
    #[error("git: {0}")]
    Git(String),
}

impl From<git2::Error> for GitError {
    fn from(e: git2::Error) -> Self {
        GitError::Git(e.message().to_string())
    }
}

/// The repository holding a config directory, and where the directory is
/// inside it.
pub struct Git {
    repo: Repository,
    /// The config directory relative to the work tree (`""` for the root).
    rel: PathBuf,
}

impl Git {
    /// `Ok(None)` when the directory is not in a git work tree.
    pub fn discover(config_dir: &Path) -> Result<Option<Git>, GitError> {
        let abs = match config_dir.canonicalize() {
            Ok(p) => p,
            Err(_) => return Ok(None),
        };
        let repo = match Repository::discover(&abs) {
            Ok(r) => r,
            Err(_) => return Ok(None),
        };
        let Some(workdir) = repo.workdir().and_then(|w| w.canonicalize().ok()) else {
            return Ok(None);
        };
        let rel = abs
            .strip_prefix(&workdir)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Ok(Some(Git { repo, rel }))
    }

    pub fn open(config_dir: &Path) -> Result<Git, GitError> {
        Self::discover(config_dir)?.ok_or_else(|| GitError::NotARepo {
            dir: config_dir.display().to_string(),
        })
    }

    /// The commit checked out, its branch, and whether the config directory
    /// has uncommitted changes.
    pub fn head(&self) -> Result<Option<GitInfo>, GitError> {
        let head = match self.repo.head() {
            Ok(h) => h,
            // A repository without commits yet.
            Err(_) => return Ok(None),
        };
        let commit = head.peel_to_commit()?.id().to_string();
        let reference = if head.is_branch() {
            head.name().ok().map(str::to_string)
        } else {
            None
        };
        let mut opts = StatusOptions::new();
        opts.include_untracked(true).include_ignored(false);
        if !self.rel.as_os_str().is_empty() {
            opts.pathspec(self.rel.to_string_lossy().replace('\\', "/"));
        }
        let dirty = !self.repo.statuses(Some(&mut opts))?.is_empty();
        Ok(Some(GitInfo {
            commit,
            reference,
            dirty,
        }))
    }

    /// The manifests of the config directory as they are at `rev`, read
    /// from the object database, with the commit they came from.
    pub fn sources_at(&self, rev: &str) -> Result<(Sources, GitInfo), GitError> {
        let object = self
            .repo
            .revparse_single(rev)
            .map_err(|e| GitError::Revision {
                rev: rev.to_string(),
                message: e.message().to_string(),
            })?;
        let commit = object.peel_to_commit().map_err(|e| GitError::Revision {
            rev: rev.to_string(),
            message: e.message().to_string(),
        })?;
        let root = commit.tree()?;
        let tree = if self.rel.as_os_str().is_empty() {
            root
        } else {
            let entry = root.get_path(&self.rel).map_err(|_| GitError::MissingDir {
                path: self.rel.display().to_string(),
                rev: rev.to_string(),
            })?;
            entry
                .to_object(&self.repo)?
                .peel_to_tree()
                .map_err(|_| GitError::MissingDir {
                    path: self.rel.display().to_string(),
                    rev: rev.to_string(),
                })?
        };
        // `.rosterignore` as it was at that revision.
        let mut ignore = ignore::gitignore::GitignoreBuilder::new("");
        if let Ok(e) = tree.get_path(Path::new(".rosterignore"))
            && let Ok(blob) = self.repo.find_blob(e.id())
        {
            for line in String::from_utf8_lossy(blob.content()).lines() {
                let _ = ignore.add_line(None, line);
            }
        }
        let ignore = ignore.build().map_err(|e| GitError::Git(e.to_string()))?;
        let mut files: Vec<(String, git2::Oid)> = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            let name = entry.name().unwrap_or_default();
            let path = format!("{dir}{name}");
            let is_dir = entry.kind() == Some(ObjectType::Tree);
            if name.starts_with('.')
                || (is_dir && name == "target")
                || ignore.matched(&path, is_dir).is_ignore()
            {
                return TreeWalkResult::Skip;
            }
            if entry.kind() == Some(ObjectType::Blob) && manifest::is_manifest_path(&path) {
                files.push((path, entry.id()));
            }
            TreeWalkResult::Ok
        })?;
        files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let mut sources = Sources::default();
        for (path, oid) in files {
            let blob = self.repo.find_blob(oid)?;
            if blob.size() > crate::manifest::MAX_FILE_BYTES {
                return Err(GitError::Git(format!(
                    "manifest `{path}` at `{rev}` is {} bytes, over the limit of {} bytes for one manifest; split it into several files",
                    blob.size(),
                    crate::manifest::MAX_FILE_BYTES
                )));
            }
            let text = String::from_utf8(blob.content().to_vec()).map_err(|_| {
                GitError::Git(format!("manifest `{path}` at `{rev}` is not valid UTF-8"))
            })?;
            sources.add(path, text);
        }
        let reference = self
            .repo
            .resolve_reference_from_short_name(rev)
            .ok()
            .and_then(|r| r.name().ok().map(str::to_string))
            .or_else(|| Some(rev.to_string()));
        Ok((
            sources,
            GitInfo {
                commit: commit.id().to_string(),
                reference,
                dirty: false,
            },
        ))
    }
}
