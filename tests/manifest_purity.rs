//! The manifest language stays pure (issue 8, item 2): nothing under
//! `src/manifest/`, `src/format/`, nor `src/rules.rs` or `src/catalog.rs`,
//! reaches for the file system, the environment, git, the network, async
//! runtimes or the clock, and `manifest` never depends on `rules` (rules
//! may depend on manifest). Reading files is `config_dir`'s job.

use std::path::{Path, PathBuf};

use crate::common::repo;

/// Paths that mean I/O (or a layer above the manifest language).
const FORBIDDEN: &[&str] = &[
    "std::fs",
    "std::env",
    "std::net",
    "std::process",
    "std::time",
    "SystemTime",
    "Instant::",
    "OffsetDateTime",
    "git2",
    "tokio",
    "reqwest",
    "ignore::",
    "crate::config_dir",
    "crate::files",
    "crate::gitops",
    "crate::provider",
    "crate::apply",
    "crate::cli",
    "crate::emulator",
    "crate::snapshot",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file, without comments (doc links may name anything).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn violations(files: &[PathBuf], forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).expect("source is UTF-8");
        let code = code(&text);
        for word in forbidden {
            if code.contains(word) {
                found.push(format!("{} uses `{word}`", f.display()));
            }
        }
    }
    found
}

#[test]
fn the_manifest_language_touches_no_io() {
    let mut files = Vec::new();
    rust_files(&repo("src/manifest"), &mut files);
    rust_files(&repo("src/format"), &mut files);
    files.extend(["src/format.rs", "src/rules.rs", "src/catalog.rs"].map(repo));
    assert!(files.len() > 20, "found only {files:?}");
    let found = violations(&files, FORBIDDEN);
    assert!(
        found.is_empty(),
        "I/O in the pure core:\n{}",
        found.join("\n")
    );
}

#[test]
fn manifest_does_not_depend_on_rules() {
    let mut files = Vec::new();
    rust_files(&repo("src/manifest"), &mut files);
    let found = violations(&files, &["crate::rules", "crate::desired", "crate::plan"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_check_sees_what_it_looks_for() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("x.rs");
    std::fs::write(&file, "//! std::fs in a comment is fine\nuse std::fs;\n").unwrap();
    assert_eq!(violations(&[file], &["std::fs"]).len(), 1);
}
