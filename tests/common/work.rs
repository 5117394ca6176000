//! A temporary copy of `tests/fixtures/workflow` (a config and its tenant
//! snapshot) and `roster` runs in it: the setup of the CLI suites.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{fixture, roster};

/// A temporary copy of the workflow config and its snapshot.
pub struct Work {
    pub dir: tempfile::TempDir,
}

impl Work {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for name in ["roster.kdl", "tenant.json"] {
            std::fs::copy(fixture("workflow").join(name), dir.path().join(name)).unwrap();
        }
        Work { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn config(&self) -> &Path {
        self.dir.path()
    }

    pub fn tenant(&self) -> String {
        std::fs::read_to_string(self.path("tenant.json")).unwrap()
    }

    pub fn tenant_json(&self) -> Value {
        serde_json::from_str(&self.tenant()).unwrap()
    }

    pub fn set_tenant(&self, v: &Value) {
        std::fs::write(
            self.path("tenant.json"),
            serde_json::to_string_pretty(v).unwrap(),
        )
        .unwrap();
    }

    pub fn edit_config(&self, from: &str, to: &str) {
        let p = self.path("roster.kdl");
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "`{from}` not in the config");
        std::fs::write(&p, text.replace(from, to)).unwrap();
    }

    /// `roster -C DIR ARGS…`, stdin not a terminal.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(&[], args)
    }

    /// `roster -C DIR ARGS…` with `env` set, stdin not a terminal.
    pub fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        let out = roster()
            .envs(env.iter().copied())
            .arg("-C")
            .arg(self.config())
            .args(args)
            .write_stdin("")
            .output()
            .unwrap();
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    pub fn save_plan(&self, name: &str) -> (Output, PathBuf) {
        let path = self.path(name);
        let out = self.run(&["plan", "--out", path.to_str().unwrap()]);
        (out, path)
    }

    /// Edit the saved plan at `path`, apply it: refused, and the tenant
    /// unchanged.
    pub fn apply_edited(&self, path: &Path, edit: impl FnOnce(&mut Value)) -> Output {
        let mut plan: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        edit(&mut plan);
        std::fs::write(path, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
        let before = self.tenant();
        let out = self.run(&["apply", path.to_str().unwrap()]);
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(self.tenant(), before, "a refused plan changes nothing");
        out
    }
}

#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}
