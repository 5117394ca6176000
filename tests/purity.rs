//! The pure core stays pure (issue 8, item 2): the manifest language
//! (`src/manifest/`, `src/format/`, `rules.rs`, `catalog.rs`) and the engine
//! (`numbers/`, `live.rs`, `licensing.rs`, `desired/`, `plan/`, `issue.rs`, `explain.rs`,
//! `snapshot/`, the apply gate and verification, the quarantine's data,
//! the importer `import/`)
//! never reach for the file system, the environment, git, the network,
//! async runtimes or the clock, nor for the edges (`files`, `config_dir`,
//! `gitops`, `provider`, `cli`, `emulator`). And the layers point one way:
//! `manifest` never depends on `rules`, `desired` or `plan`; `desired` never
//! on `plan`; `provider` never on `apply` or the emulator. Reading and
//! writing files is the edges' job.

use std::path::{Path, PathBuf};

use crate::common::repo;

/// Paths that mean I/O (or a layer above the manifest language).
const FORBIDDEN: &[&str] = &[
    "std::fs",
    "std::env",
    "std::net",
    "std::process",
    "std::thread::sleep",
    "SystemTime",
    "Instant::",
    "UNIX_EPOCH",
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

/// The engine: everything between the loaded manifests and live state and
/// the plan, and the checks of a saved plan.
fn engine_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["src/numbers", "src/desired", "src/plan", "src/snapshot"] {
        rust_files(&repo(dir), &mut files);
    }
    files.extend(
        [
            "src/live.rs",
            "src/licensing.rs",
            "src/issue.rs",
            "src/explain.rs",
            "src/apply/gate.rs",
            "src/apply/verify.rs",
            "src/apply/revert.rs",
            "src/state/quarantine.rs",
        ]
        .map(repo),
    );
    files
}

#[test]
fn the_engine_touches_no_io() {
    let files = engine_files();
    assert!(files.len() > 20, "found only {files:?}");
    // The snapshot types name the error of reading a file; they read none.
    let forbidden: Vec<&str> = FORBIDDEN
        .iter()
        .copied()
        .filter(|w| *w != "crate::snapshot" && *w != "crate::apply")
        .chain(["crate::state::StateDir", "crate::explain"])
        .collect();
    let found: Vec<String> = violations(&files, &forbidden)
        .into_iter()
        // explain.rs is the explanation itself.
        .filter(|v| !v.contains("src/explain.rs uses `crate::explain`"))
        .collect();
    assert!(found.is_empty(), "I/O in the engine:\n{}", found.join("\n"));
}

#[test]
fn the_importer_touches_no_io() {
    let mut files = Vec::new();
    rust_files(&repo("src/import"), &mut files);
    assert!(files.len() >= 6, "found only {files:?}");
    let found = violations(&files, FORBIDDEN);
    assert!(
        found.is_empty(),
        "I/O in the importer:\n{}",
        found.join("\n")
    );
}

#[test]
fn layers_point_one_way() {
    let mut desired = Vec::new();
    rust_files(&repo("src/desired"), &mut desired);
    rust_files(&repo("src/numbers"), &mut desired);
    let found = violations(&desired, &["crate::plan", "crate::apply"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
    let mut numbers = Vec::new();
    rust_files(&repo("src/numbers"), &mut numbers);
    let found = violations(
        &numbers,
        &["crate::manifest", "crate::live", "crate::desired"],
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
    let mut providers = Vec::new();
    rust_files(&repo("src/provider"), &mut providers);
    let found = violations(
        &providers,
        &["crate::apply", "crate::emulator", "crate::cli"],
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
    let mut plan = Vec::new();
    rust_files(&repo("src/plan"), &mut plan);
    let found = violations(&plan, &["crate::apply", "crate::provider"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
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
