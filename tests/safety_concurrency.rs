//! Two `roster apply` on one tenant snapshot at once: neither loses the
//! other's writes (the file provider's lock and its commit-time merge), a
//! second apply that cannot get the lock fails naming the holder, and a
//! read-only plan never waits for the lock.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::work::Work;

/// `roster -C DIR apply --auto-approve --user UPN`, started, not awaited.
fn spawn_apply(w: &Work, upn: &str) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin("roster"))
        .arg("-C")
        .arg(w.config())
        .args(["apply", "--auto-approve", "--user", upn])
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Whether a plan limited to `upn` shows no changes.
fn converged(w: &Work, upn: &str) -> bool {
    let out = w.run(&["plan", "--user", upn, "--detailed-exitcode"]);
    assert_ne!(out.code, 1, "{out:?}");
    out.code == 0
}

#[test]
fn two_applies_at_once_keep_both_users_changes() {
    // A race is not hit every time: several rounds, each on a fresh copy.
    let users = ["amy@contoso.com", "dan@contoso.com"];
    let mut lost = Vec::new();
    for round in 0..5 {
        let w = Work::new();
        for u in users {
            assert!(!converged(&w, u), "{u} must need changes");
        }
        let children: Vec<_> = users.iter().map(|u| spawn_apply(&w, u)).collect();
        for (u, child) in users.iter().zip(children) {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}, apply for {u}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for u in users {
            if !converged(&w, u) {
                lost.push(format!("round {round}: {u}"));
            }
        }
    }
    assert!(lost.is_empty(), "changes lost: {lost:?}");
}

/// The lock on `w`'s snapshot, held by this test process.
fn hold(w: &Work) -> roster::files::FileLock {
    roster::files::lock_beside(&w.path("tenant.json"), Duration::ZERO, |_| {
        panic!("nobody else holds it")
    })
    .unwrap()
}

#[test]
fn an_apply_that_cannot_get_the_lock_fails_naming_the_holder() {
    let w = Work::new();
    let before = w.tenant();
    let held = hold(&w);
    let holder = format!("process {} on `", std::process::id());
    for timeout in ["0", "1s"] {
        let start = Instant::now();
        let out = w.run(&["apply", "--auto-approve", "--lock-timeout", timeout]);
        assert_eq!(out.code, 1, "{timeout}: {out:?}");
        assert!(out.stderr.contains("is locked by another apply"), "{out:?}");
        assert!(out.stderr.contains(&holder), "{out:?}");
        assert!(out.stderr.contains("tenant.json.lock"), "{out:?}");
        assert!(out.stderr.contains("hint:"), "{out:?}");
        assert!(out.stderr.contains("--lock-timeout"), "{out:?}");
        assert_eq!(
            w.tenant(),
            before,
            "{timeout}: the snapshot must not change"
        );
        // Nothing was planned: the lock comes before the live state is read.
        assert!(!out.stdout.contains("Plan:"), "{out:?}");
        let waits = out.stderr.matches("waiting for the lock").count();
        if timeout == "0" {
            assert_eq!(waits, 0, "{out:?}");
        } else {
            assert_eq!(waits, 1, "{out:?}");
            assert!(start.elapsed() >= Duration::from_secs(1));
            assert!(out.stderr.contains("waited 1s"), "{out:?}");
        }
    }
    // reconcile takes it too.
    let out = w.run(&["reconcile", "--once", "--lock-timeout", "0"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("is locked by another apply"), "{out:?}");
    assert_eq!(w.tenant(), before);
    drop(held);
    let out = w.run(&["apply", "--auto-approve", "--lock-timeout", "0"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_ne!(w.tenant(), before);
}

#[test]
fn an_apply_waits_for_the_holder_and_a_plan_does_not() {
    let w = Work::new();
    let held = hold(&w);
    // A read-only plan neither waits nor fails.
    let out = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(!out.stderr.contains("lock"), "{out:?}");

    let child = spawn_apply(&w, "amy@contoso.com");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!converged(&w, "amy@contoso.com"), "amy's apply must wait");
    drop(held);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("waiting for the lock").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("process {} on `", std::process::id())),
        "{stderr}"
    );
    assert!(converged(&w, "amy@contoso.com"));
}

#[test]
fn a_lock_timeout_must_be_a_duration() {
    let w = Work::new();
    let out = w.run(&["apply", "--auto-approve", "--lock-timeout", "soon"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("`soon` is not a duration"), "{out:?}");
}
