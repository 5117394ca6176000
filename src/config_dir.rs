//! The config directory on disk: which files are manifests, and reading
//! them into [`Sources`].
//!
//! This is the file-system edge of the manifest language. It walks the
//! directory (recursively, skipping hidden folders, `target/` and what
//! `.rosterignore` names), reads each manifest as UTF-8 and hands the texts
//! to the pure [`manifest::parse`]. It owns no language rules of its own:
//! what a manifest says is decided under [`crate::manifest`], which never
//! reads a file.

use std::path::{Path, PathBuf};

use crate::manifest::{self, Loaded, Sources};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "config directory `{path}` cannot be read: {source}\nhint: pass the directory that holds your manifests with `-C DIR`"
    )]
    Dir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot walk config directory: {0}")]
    Walk(String),
    #[error("manifest `{path}` cannot be read: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("manifest `{path}` is not valid UTF-8\nhint: save it as UTF-8")]
    Utf8 { path: String },
    #[error(
        "no manifests (`*.kdl`, `*.toml`) found under `{path}`\nhint: pass the directory that holds your manifests with `-C DIR`"
    )]
    Empty { path: String },
}

/// Read every manifest under `dir`, in byte order of the relative path, and
/// parse them.
pub fn load(dir: &Path) -> Result<Loaded, LoadError> {
    Ok(manifest::parse(read(dir)?))
}

/// Read every manifest under `dir`, in byte order of the relative path.
pub fn read(dir: &Path) -> Result<Sources, LoadError> {
    let mut sources = Sources::default();
    for (rel, path) in manifest_paths(dir)? {
        let text = read_manifest(&rel, &path)?;
        sources.add(rel, text);
    }
    Ok(sources)
}

/// One manifest's text; `rel` names it in errors.
pub fn read_manifest(rel: &str, path: &Path) -> Result<String, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::File {
        path: rel.to_string(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| LoadError::Utf8 {
        path: rel.to_string(),
    })
}

/// The manifests [`load`] reads, in its order: (path relative to `dir`
/// with `/` separators, full path).
pub fn manifest_paths(dir: &Path) -> Result<Vec<(String, PathBuf)>, LoadError> {
    let meta = std::fs::metadata(dir).map_err(|source| LoadError::Dir {
        path: dir.display().to_string(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(LoadError::Dir {
            path: dir.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
        });
    }
    let mut paths = Vec::new();
    let walker = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .hidden(true)
        .add_custom_ignore_filename(".rosterignore")
        .filter_entry(|e| {
            !(e.depth() > 0
                && e.file_name() == "target"
                && e.file_type().is_some_and(|t| t.is_dir()))
        })
        .build();
    for entry in walker {
        let entry = entry.map_err(|e| LoadError::Walk(e.to_string()))?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        if manifest::is_manifest_path(&rel) {
            paths.push((rel, entry.path().to_path_buf()));
        }
    }
    if paths.is_empty() {
        return Err(LoadError::Empty {
            path: dir.display().to_string(),
        });
    }
    paths.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_manifests_in_byte_order_and_skips_the_rest() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for (rel, text) in [
            ("b.kdl", "persona \"b\"\n"),
            ("a/Z.toml", "[persona.z]\n"),
            ("a/a.kdl", "persona \"a\"\n"),
            ("notes.md", "not a manifest"),
            (".hidden/x.kdl", "persona \"hidden\"\n"),
            ("target/y.kdl", "persona \"built\"\n"),
            ("ignored.kdl", "persona \"ignored\"\n"),
            (".rosterignore", "ignored.kdl\n"),
        ] {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let sources = read(root).unwrap();
        let paths: Vec<&str> = sources.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a/Z.toml", "a/a.kdl", "b.kdl"]);
    }

    #[test]
    fn errors_name_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("bad.kdl"), [0xff, 0xfe]).unwrap();
        let err = read(tmp.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "manifest `bad.kdl` is not valid UTF-8\nhint: save it as UTF-8"
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(read(empty.path()), Err(LoadError::Empty { .. })));
        let missing = empty.path().join("missing");
        assert!(matches!(load(&missing), Err(LoadError::Dir { .. })));
    }
}
