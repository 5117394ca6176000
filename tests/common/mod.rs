//! Helpers shared by the test suites.
#![allow(dead_code)]

pub mod emu;

use std::path::PathBuf;

/// Absolute path of a file or directory under `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Absolute path under the repository root.
pub fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The `roster` binary built for this test run.
pub fn roster() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("roster").expect("roster binary");
    cmd.env("NO_COLOR", "1").env_remove("RUST_LOG");
    cmd
}
