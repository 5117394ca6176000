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
    let (manifest, mut diagnostics) = lower_files(&sources.files);
    validate::validate(&manifest, &mut diagnostics);
    diagnostics.sort();
    Loaded {
        sources,
        manifest,
        diagnostics,
    }
}

/// Lower every file, in order, into one model. Files are lowered on the
/// machine's cores in runs of about equal size (parsing KDL and compiling
/// patterns is most of the work), each run into a model of its own; the
/// runs are then joined in file order, so the model and the diagnostics
/// are the same as lowering one file after another.
fn lower_files(files: &[SourceFile]) -> (Manifest, Diagnostics) {
    let total: usize = files.iter().map(|f| f.text.len()).sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Below this, a thread costs more than it saves.
    const WORTH_A_THREAD: usize = 16 << 10;
    let runs = cores.min(files.len()).min(total / WORTH_A_THREAD).max(1);
    if runs == 1 {
        return lower_run(files, 0);
    }
    let mut bounds = vec![0];
    let mut size = 0;
    for (i, f) in files.iter().enumerate() {
        size += f.text.len();
        if size * runs >= total * bounds.len() && bounds.len() < runs && i + 1 < files.len() {
            bounds.push(i + 1);
        }
    }
    bounds.push(files.len());
    let parts: Vec<(Manifest, Diagnostics)> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| scope.spawn(move || lower_run(&files[w[0]..w[1]], w[0])))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut manifest = Manifest::default();
    let mut diagnostics = Diagnostics::default();
    for (part, diags) in parts {
        diagnostics.items.extend(diags.items);
        let Manifest {
            tenant,
            ranges,
            personas,
            rules,
            users,
            tests,
        } = part;
        match (tenant, &manifest.tenant) {
            (Some(t), Some(first)) => diagnostics.push(lower::duplicate_tenant(t.span, first.span)),
            (Some(t), None) => manifest.tenant = Some(t),
            (None, _) => {}
        }
        manifest.ranges.extend(ranges);
        manifest.personas.extend(personas);
        manifest.rules.extend(rules);
        manifest.users.extend(users);
        manifest.tests.extend(tests);
    }
    (manifest, diagnostics)
}

/// Lower `files`, the first of which is file number `first`, one after
/// another.
fn lower_run(files: &[SourceFile], first: usize) -> (Manifest, Diagnostics) {
    let mut manifest = Manifest::default();
    let mut diagnostics = Diagnostics::default();
    for (i, f) in files.iter().enumerate() {
        let id = FileId((first + i) as u32);
        if f.path.ends_with(".kdl") {
            kdl::lower_file(&f.text, id, &mut manifest, &mut diagnostics);
        } else {
            toml::lower_file(&f.text, id, &mut manifest, &mut diagnostics);
        }
    }
    (manifest, diagnostics)
}

/// The largest manifest file roster reads (the edges refuse larger ones
/// before reading them). A real config is kilobytes (thousands of user
/// overrides are a few hundred); the KDL parser reads about 1.5 MB a
/// second, so this bounds validation to a few seconds.
pub const MAX_FILE_BYTES: usize = 4 << 20;

/// Parse one in-memory file (tests, fuzzing).
pub fn parse_str(path: &str, text: &str) -> Loaded {
    let mut sources = Sources::default();
    sources.add(path, text);
    parse(sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bundled example's files, padded so they are worth several
    /// threads, plus a second `tenant` in a later file and a broken file.
    fn sources() -> Vec<SourceFile> {
        macro_rules! example {
            ($($path:literal),*) => {
                [$(($path, include_str!(concat!("../../examples/tenant-config/", $path)))),*]
            };
        }
        let pad = format!("\n// {}\n", "padding ".repeat(4 << 10));
        let mut files: Vec<SourceFile> = example!(
            "personas-international.toml",
            "personas.kdl",
            "ranges/de.kdl",
            "ranges/ie.toml",
            "ranges/uk.kdl",
            "ranges/us.toml",
            "rules/00-leadership.kdl",
            "rules/05-contractors.toml",
            "rules/10-uk.kdl",
            "rules/20-ie.toml",
            "rules/30-us.toml",
            "rules/40-de.kdl",
            "tenant.kdl",
            "tests.kdl",
            "users.toml"
        )
        .into_iter()
        .map(|(path, text)| SourceFile {
            path: path.into(),
            text: std::sync::Arc::new(if path.ends_with(".kdl") {
                format!("{text}{pad}")
            } else {
                text.to_string()
            }),
        })
        .collect();
        for (path, text) in [
            ("zz-second.kdl", "tenant \"again\" {\n}\n"),
            ("zz-third.kdl", "rule \"x\" {\n"),
        ] {
            files.push(SourceFile {
                path: path.into(),
                text: std::sync::Arc::new(text.into()),
            });
        }
        files
    }

    #[test]
    fn lowering_on_several_threads_equals_lowering_in_one() {
        let files = sources();
        assert!(files.iter().map(|f| f.text.len()).sum::<usize>() > 4 * (16 << 10));
        let (one, mut one_diags) = lower_run(&files, 0);
        let (many, mut many_diags) = lower_files(&files);
        // As `parse` gives them: sorted by place (runs report a second
        // `tenant` when they are joined).
        one_diags.sort();
        many_diags.sort();
        assert_eq!(one, many);
        assert!(one.tenant.is_some() && !one.rules.is_empty());
        let show = |d: &Diagnostics| format!("{:?}", d.items);
        assert!(
            one_diags
                .items
                .iter()
                .any(|d| format!("{d:?}").contains("tenant")),
            "the second tenant is reported: {}",
            show(&one_diags)
        );
        assert_eq!(show(&one_diags), show(&many_diags));
    }
}
