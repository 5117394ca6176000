//! The manifest language: KDL and TOML files in a config directory, lowered
//! into one validated [`Manifest`].
//!
//! [`load_dir`] is the I/O edge (walk the directory, read files); [`parse`]
//! is pure and works on any set of [`Sources`], which is how a git revision
//! is read without a checkout.

pub mod diag;
mod kdl;
mod lower;
pub mod model;
pub mod schema;
pub mod source;
mod toml;
mod validate;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use diag::{Diagnostic, Diagnostics, Level};
pub use model::*;
pub use source::{FileId, SourceFile, Sources, Span, Spanned};

/// A parsed config directory: its files, the model, and every diagnostic.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub sources: Sources,
    pub manifest: Manifest,
    pub diagnostics: Diagnostics,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }

    /// `sha256:…` over every manifest's path and bytes, in read order: what
    /// a saved plan records so `apply` can tell the manifests changed.
    pub fn digest(&self) -> String {
        digest(&self.sources)
    }
}

pub fn digest(sources: &Sources) -> String {
    let mut h = Sha256::new();
    for f in &sources.files {
        h.update((f.path.len() as u64).to_le_bytes());
        h.update(f.path.as_bytes());
        h.update((f.text.len() as u64).to_le_bytes());
        h.update(f.text.as_bytes());
    }
    format!("sha256:{:x}", h.finalize())
}

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

/// Is this relative path a manifest file?
pub fn is_manifest_path(rel: &str) -> bool {
    rel.ends_with(".kdl") || rel.ends_with(".toml")
}

/// Read every manifest under `dir` (recursively, skipping hidden folders,
/// `target/` and what `.rosterignore` names), in byte order of the relative
/// path, and parse them.
pub fn load_dir(dir: &Path) -> Result<Loaded, LoadError> {
    let paths = manifest_paths(dir)?;
    let mut sources = Sources::default();
    for (rel, path) in paths {
        let bytes = std::fs::read(&path).map_err(|source| LoadError::File {
            path: rel.clone(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|_| LoadError::Utf8 { path: rel.clone() })?;
        sources.add(rel, text);
    }
    Ok(parse(sources))
}

/// The manifests [`load_dir`] reads, in its order: (path relative to
/// `dir` with `/` separators, full path).
pub fn manifest_paths(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>, LoadError> {
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
        if is_manifest_path(&rel) {
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

/// Parse and validate a set of manifest files. Pure.
pub fn parse(sources: Sources) -> Loaded {
    let mut manifest = Manifest::default();
    let mut diagnostics = Diagnostics::default();
    for (i, f) in sources.files.iter().enumerate() {
        let id = FileId(i as u32);
        if f.path.ends_with(".kdl") {
            kdl::lower_file(&f.text, id, &mut manifest, &mut diagnostics);
        } else {
            toml::lower_file(&f.text, id, &mut manifest, &mut diagnostics);
        }
    }
    validate::validate(&manifest, &mut diagnostics);
    diagnostics.sort();
    Loaded {
        sources,
        manifest,
        diagnostics,
    }
}

/// Parse one in-memory file (tests, fuzzing).
pub fn parse_str(path: &str, text: &str) -> Loaded {
    let mut sources = Sources::default();
    sources.add(path, text);
    parse(sources)
}
