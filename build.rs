//! Build script: names the commit a binary was built from, for
//! `roster --version` (`roster 0.1.0 (abc1234 2026-11-30)`).
//!
//! It sets `ROSTER_VERSION` for the crate and nothing else: no code
//! generation, no dependencies, no network. The commit comes from
//! `ROSTER_BUILD_COMMIT` and `ROSTER_BUILD_DATE` when the build sets them
//! (the release workflow and the Dockerfile do), otherwise from `git` in the
//! source tree; without either (a source tarball, no git installed) the
//! version is the bare package version. The date is the commit's date, not
//! the build's, so a rebuild of the same commit gives the same binary.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=ROSTER_BUILD_COMMIT");
    println!("cargo:rerun-if-env-changed=ROSTER_BUILD_DATE");

    let package = env!("CARGO_PKG_VERSION");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let (commit, date) = match non_empty("ROSTER_BUILD_COMMIT") {
        Some(commit) => (Some(commit), non_empty("ROSTER_BUILD_DATE")),
        None => from_git(&manifest_dir),
    };
    let version = match (commit, date) {
        (Some(commit), Some(date)) => format!("{package} ({} {date})", short(&commit)),
        (Some(commit), None) => format!("{package} ({})", short(&commit)),
        _ => package.to_string(),
    };
    println!("cargo:rustc-env=ROSTER_VERSION={version}");
}

fn non_empty(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The first 7 characters of a commit id.
fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

/// Runs `git` in `dir`; `None` when git is missing or fails (not a
/// checkout).
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        // `format-local` dates in UTC, whatever the machine's zone.
        .env("TZ", "UTC")
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// The commit id and commit date (`YYYY-MM-DD`, UTC) of `HEAD`, and the
/// files whose change means a new commit is checked out.
fn from_git(dir: &Path) -> (Option<String>, Option<String>) {
    let Some(commit) = git(dir, &["rev-parse", "--verify", "HEAD"]) else {
        return (None, None);
    };
    let date = git(
        dir,
        &[
            "-c",
            "log.showSignature=false",
            "log",
            "-1",
            "--date=format-local:%Y-%m-%d",
            "--format=%cd",
            "HEAD",
        ],
    );
    watch_head(dir);
    (Some(commit), date)
}

/// `rerun-if-changed` on `HEAD`, the branch it points to and `packed-refs`,
/// in the git directory (a worktree has its own `HEAD` and shares the
/// refs). Only existing files are named: cargo reruns the script on every
/// build for a missing one.
fn watch_head(dir: &Path) {
    let absolute = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { dir.join(p) }
    };
    let Some(git_dir) = git(dir, &["rev-parse", "--git-dir"]).map(absolute) else {
        return;
    };
    let common = git(dir, &["rev-parse", "--git-common-dir"])
        .map(absolute)
        .unwrap_or_else(|| git_dir.clone());
    let mut watched = vec![git_dir.join("HEAD"), common.join("packed-refs")];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git_dir.join(&branch));
        watched.push(common.join(&branch));
    }
    for path in watched {
        if path.is_file() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
