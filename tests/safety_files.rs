//! Issue 9, files: outputs honour the umask, never overwrite the live
//! snapshot or a manifest, an unwritable report is found before the tenant
//! changes, and the temporary files of killed writers are cleaned up.

use crate::common::work::Work;

#[cfg(unix)]
#[test]
fn new_outputs_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let w = Work::new();
    let bin = assert_cmd::cargo::cargo_bin("roster");
    let plan = w.path("plan.json");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"umask 077; exec "$0" -C "$1" plan --out "$2" >/dev/null"#)
        .arg(&bin)
        .arg(w.config())
        .arg(&plan)
        .env("NO_COLOR", "1")
        .status()
        .unwrap();
    assert!(status.success());
    let mode = std::fs::metadata(&plan).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o600,
        "a plan names people: umask 077 keeps it private"
    );
    let report = w.path("report.json");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"umask 027; exec "$0" -C "$1" apply "$2" --report "$3" >/dev/null 2>&1"#)
        .arg(&bin)
        .arg(w.config())
        .arg(&plan)
        .arg(&report)
        .status()
        .unwrap();
    assert!(status.success());
    let mode = std::fs::metadata(&report).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn a_plan_is_never_written_over_the_snapshot_or_a_manifest() {
    let w = Work::new();
    let tenant = w.tenant();
    let manifest = std::fs::read_to_string(w.path("roster.kdl")).unwrap();
    let out = w.run(&["plan", "--out", w.path("tenant.json").to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("live tenant snapshot"), "{out:?}");
    // The same file by another name.
    let dotted = w.config().join(".").join("tenant.json");
    let out = w.run(&["plan", "--out", dotted.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    let out = w.run(&["plan", "--out", w.path("roster.kdl").to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("manifest `roster.kdl`"), "{out:?}");
    assert_eq!(w.tenant(), tenant);
    assert_eq!(
        std::fs::read_to_string(w.path("roster.kdl")).unwrap(),
        manifest
    );
}

#[test]
fn a_report_over_the_snapshot_or_in_a_missing_folder_is_refused_before_any_change() {
    let w = Work::new();
    let tenant = w.tenant();
    let (out, plan) = w.save_plan("plan.json");
    assert_eq!(out.code, 0, "{out:?}");
    for report in [
        w.path("no-such-folder/report.json"),
        w.path("tenant.json"),
        w.path("roster.kdl"),
    ] {
        let out = w.run(&[
            "apply",
            plan.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ]);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains("the report"), "{out:?}");
        assert_eq!(w.tenant(), tenant, "the tenant must not change");
    }
}

#[test]
fn temporaries_left_by_a_killed_writer_are_removed_on_the_next_write() {
    let w = Work::new();
    // A pid above any pid_max: that writer is gone.
    let torn = w.path(".roster-4194999-Ab12Cd.tmp");
    std::fs::write(&torn, "half a plan").unwrap();
    let (out, _) = w.save_plan("plan.json");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!torn.exists());
}

#[test]
fn a_report_is_never_written_into_the_state_directory() {
    let w = Work::new();
    std::fs::create_dir(w.path(".roster-state")).unwrap();
    let out = w.run(&[
        "apply",
        "--auto-approve",
        "--report",
        w.path(".roster-state/quarantine.json").to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("state directory"), "{out:?}");
}
