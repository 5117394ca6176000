//! The manifest language: KDL and TOML files in a config directory, lowered
//! into one validated [`Manifest`].
//!
//! [`parse`] is pure and works on any set of [`Sources`]: the texts come
//! from the config directory ([`crate::config_dir`], the I/O edge) or from
//! a git revision ([`crate::gitops`]), read without a checkout. Nothing
//! here touches the file system, the environment, git, the network or the
//! clock.

pub mod depth;
pub mod diag;
mod kdl;
pub mod keys;
mod lower;
pub mod model;
pub mod pattern;
pub mod schema;
pub mod source;
mod toml;
mod validate;

use sha2::{Digest, Sha256};

pub use diag::{Diagnostic, Diagnostics, Level};
pub use model::*;
pub use pattern::Pattern;
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

/// Is this relative path a manifest file?
pub fn is_manifest_path(rel: &str) -> bool {
    rel.ends_with(".kdl") || rel.ends_with(".toml")
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
