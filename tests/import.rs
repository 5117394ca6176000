//! `roster import` (issue 13, item 1): converge a tenant with roster, import
//! it, and plan the import against the same tenant: at most 2% of the users
//! change and at most 5% are user overrides. The output validates, is
//! formatted, passes its own rule tests, is the same bytes every time, and
//! never lands half-written or over a folder that holds something.

use std::path::{Path, PathBuf};

use crate::common::{repo, roster};

/// The benchmark's generator (compiled into the test binary once).
use crate::graph_equals_file::synth;

/// Copy a config directory (without roster's state) into `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let target = to.join(&name);
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Apply `config` to its tenant snapshot until a plan shows no changes.
fn converge(config: &Path) {
    roster()
        .args(["-C"])
        .arg(config)
        .args(["apply", "--auto-approve", "--force"])
        .assert()
        .success();
}

/// Import `config`'s tenant into `out`; the report printed.
fn import(config: &Path, out: &Path, format: &str) -> String {
    let run = roster()
        .arg("-C")
        .arg(config)
        .arg("import")
        .arg("--out")
        .arg(out)
        .args(["--format", format])
        .assert()
        .success();
    String::from_utf8(run.get_output().stdout.clone()).unwrap()
}

/// The number after `label` in the report.
fn reported(report: &str, label: &str) -> usize {
    let line = report
        .lines()
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("no `{label}` in:\n{report}"));
    let after = &line[line.find(label).unwrap() + label.len()..];
    after
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no number after `{label}` in `{line}`"))
}

/// Plan the imported manifests against `tenant`: (users changed, in scope).
fn plan(out: &Path, tenant: &Path) -> (u64, u64) {
    let run = roster()
        .arg("-C")
        .arg(out)
        .arg("--tenant")
        .arg(tenant)
        .args(["plan", "--format", "json"])
        .assert()
        .success();
    let plan: serde_json::Value = serde_json::from_slice(&run.get_output().stdout).unwrap();
    assert_eq!(plan["errors"].as_array().map(Vec::len), Some(0), "{plan}");
    let s = &plan["summary"];
    (
        s["users_changed"].as_u64().unwrap(),
        s["users_in_scope"].as_u64().unwrap(),
    )
}

/// The output is valid, formatted and passes its own tests.
fn assert_clean(out: &Path) {
    for args in [&["validate"][..], &["fmt", "--check"], &["test"]] {
        roster().arg("-C").arg(out).args(args).assert().success();
    }
}

/// Import a converged tenant and check the issue's numbers.
fn check_coverage(config: &Path, tenant: &Path, format: &str) -> String {
    let out = config.parent().unwrap().join(format!("imported-{format}"));
    let report = import(config, &out, format);
    let described = reported(&report, "users (");
    let overrides = reported(&report, "user overrides:");
    let by_rules = reported(&report, "explained by rules:");
    assert_eq!(by_rules + overrides, described, "{report}");
    let loaded = roster::config_dir::load(&out).unwrap();
    assert_eq!(loaded.manifest.users.len(), overrides);
    assert!(!loaded.manifest.rules.is_empty(), "{report}");
    assert!(
        overrides * 100 <= described * 5,
        "{overrides} of {described} users are overrides:\n{report}"
    );
    let (changed, in_scope) = plan(&out, tenant);
    assert!(
        changed * 100 <= in_scope * 2,
        "a plan after import changes {changed} of {in_scope} users:\n{report}"
    );
    assert_eq!(
        reported(&report, "a plan right after import changes"),
        changed as usize,
        "the report is the plan's"
    );
    assert_clean(&out);
    report
}

#[test]
fn importing_the_converged_example_describes_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    copy_dir(&repo("examples/tenant-config"), &config);
    converge(&config);
    let tenant = config.join("tenant.json");
    let kdl = check_coverage(&config, &tenant, "kdl");
    let toml = check_coverage(&config, &tenant, "toml");
    assert_eq!(
        kdl.replace("imported-kdl", "X"),
        toml.replace("imported-toml", "X"),
        "KDL and TOML describe the tenant alike"
    );
    // The tenant settings come along.
    let settings = std::fs::read_to_string(dir.path().join("imported-kdl/tenant.kdl")).unwrap();
    assert!(settings.contains("tenant \"northwind\""), "{settings}");
    assert!(
        settings.contains("usageLocation \"GB\" \"IE\" \"DE\" \"US\""),
        "{settings}"
    );
}

#[test]
fn importing_a_converged_synthetic_tenant_describes_it() {
    let dir = tempfile::tempdir().unwrap();
    synth::scale::run(3_000, dir.path(), 7, 0.0).expect("synthetic tenant");
    let config = dir.path().join("config");
    converge(&config);
    let report = check_coverage(&config, &dir.path().join("tenant.json"), "kdl");
    // Its personas are the tenant's bundles: dozens, named after what
    // their users share.
    let personas = reported(&report, "ranges, ");
    assert!(personas >= 20, "{report}");
}

#[test]
fn the_same_tenant_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    copy_dir(&repo("examples/tenant-config"), &config);
    let read = |out: &PathBuf| -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = std::fs::read_dir(out)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().to_string(),
                    std::fs::read_to_string(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    import(&config, &a, "toml");
    import(&config, &b, "toml");
    assert_eq!(read(&a), read(&b));
    assert!(read(&a).len() >= 5);

    // From a snapshot alone (no manifests): no tenant settings to copy.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let c = dir.path().join("c");
    roster()
        .current_dir(&empty)
        .arg("--tenant")
        .arg(config.join("tenant.json"))
        .args(["import", "--out"])
        .arg(&c)
        .assert()
        .success();
    let files: Vec<String> = read(&c).into_iter().map(|f| f.0).collect();
    assert!(!files.contains(&"tenant.kdl".to_string()), "{files:?}");
    assert!(files.contains(&"rules.kdl".to_string()), "{files:?}");
    roster()
        .arg("-C")
        .arg(&c)
        .arg("validate")
        .assert()
        .success();
}

#[test]
fn a_non_empty_out_is_refused_and_nothing_is_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    copy_dir(&repo("examples/tenant-config"), &config);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let run = roster()
        .arg("-C")
        .arg(&config)
        .args(["import", "--out"])
        .arg(&out)
        .assert()
        .code(1);
    let stderr = String::from_utf8(run.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("exists and is not empty") && stderr.contains("--force"),
        "{stderr}"
    );
    let listing = |p: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(listing(&out), ["keep.txt"]);
    assert_eq!(
        listing(dir.path()),
        ["config", "out"],
        "no temporary folder left"
    );

    // The config directory itself, or a folder holding it: never, even forced.
    for target in [&config, &dir.path().to_path_buf()] {
        let run = roster()
            .arg("-C")
            .arg(&config)
            .args(["import", "--force", "--out"])
            .arg(target)
            .assert()
            .code(1);
        let stderr = String::from_utf8(run.get_output().stderr.clone()).unwrap();
        assert!(stderr.contains("holds the config directory"), "{stderr}");
    }

    // Inside the config directory, its manifests would join the config's.
    let run = roster()
        .arg("-C")
        .arg(&config)
        .args(["import", "--out"])
        .arg(config.join("imported"))
        .assert()
        .code(1);
    let stderr = String::from_utf8(run.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("inside the config directory"), "{stderr}");
    assert!(!config.join("imported").exists());

    // With --force, the folder is replaced as a whole.
    roster()
        .arg("-C")
        .arg(&config)
        .args(["import", "--force", "--out"])
        .arg(&out)
        .assert()
        .success();
    let files = listing(&out);
    assert!(!files.contains(&"keep.txt".to_string()), "{files:?}");
    assert!(files.contains(&"rules.kdl".to_string()), "{files:?}");
    assert_eq!(listing(dir.path()), ["config", "out"]);

    // A missing parent folder is named.
    let run = roster()
        .arg("-C")
        .arg(&config)
        .args(["import", "--out"])
        .arg(dir.path().join("no/such"))
        .assert()
        .code(1);
    let stderr = String::from_utf8(run.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn importing_through_graph_reads_the_same_tenant() {
    use crate::common::emu::{Emu, SECRET};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    copy_dir(&repo("examples/tenant-config"), &config);
    converge(&config);
    let tenant = config.join("tenant.json");
    let by_file = import(&config, &dir.path().join("by-file"), "kdl");

    let emu = Emu::start(&tenant, |_| {});
    let graph = dir.path().join("graph");
    std::fs::create_dir(&graph).unwrap();
    std::fs::write(
        graph.join("tenant.kdl"),
        r#"tenant "northwind" {
    provider "graph" tenant-id="contoso" client-id="app" client-secret-env="ROSTER_TEST_SECRET"
    scope {
        usageLocation "GB" "IE" "DE" "US"
        not { userPrincipalName starts-with="svc-" }
    }
}
"#,
    )
    .unwrap();
    let out = dir.path().join("by-graph");
    let run = roster()
        .env("ROSTER_TEST_SECRET", SECRET)
        .arg("-C")
        .arg(&graph)
        .args(["--graph-endpoint", &emu.url(), "import", "--out"])
        .arg(&out)
        .assert()
        .success();
    let by_graph = String::from_utf8(run.get_output().stdout.clone()).unwrap();
    assert_eq!(
        reported(&by_graph, "users ("),
        reported(&by_file, "users ("),
        "{by_graph}\n{by_file}"
    );
    // Every group is read for an import, so Graph learns the same rules
    // as the file: as few overrides.
    assert_eq!(
        reported(&by_graph, "user overrides:"),
        reported(&by_file, "user overrides:"),
        "{by_graph}\n{by_file}"
    );
    let (changed, in_scope) = plan(&out, &tenant);
    assert!(changed * 100 <= in_scope * 2, "{changed} of {in_scope}");
    assert_clean(&out);
    let settings = std::fs::read_to_string(out.join("tenant.kdl")).unwrap();
    assert!(
        settings.contains("client-secret-env=\"ROSTER_TEST_SECRET\""),
        "{settings}"
    );
    assert!(
        settings.contains("    scope {\n        usageLocation"),
        "the scope as written: {settings}"
    );
    assert!(!settings.contains(SECRET), "{settings}");
}
