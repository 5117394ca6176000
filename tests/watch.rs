//! Issue 14, `reconcile --watch` through the Graph emulator: joiners,
//! movers and leavers made in the directory while the watcher runs are
//! handled by incremental rounds (only the changed users read and
//! planned); an expired delta link falls back to a full round; an idle
//! incremental round costs a handful of requests; the end state is the one
//! a full round reaches (the plan after is empty); a restarted watcher
//! resumes from the stored delta link; the metrics endpoint answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::emu::{self, Emu, SECRET};
use crate::emulator_delta::http;

const CONFIG: &str = r#"
tenant "contoso" {
    provider "graph" tenant-id="contoso" client-id="app" client-secret-env="ROSTER_TEST_SECRET"
    safety max-changed-percent=100
    leavers release-number=#true reset-policies=#true
}
range "office" type="direct-routing" {
    block "+441130000000" "+441130000099"
}
range "remote" type="direct-routing" {
    block "+441139990000" "+441139990099"
}
persona "sales" {
    policies { TeamsCallingPolicy "Restricted"; TenantDialPlan "North" }
}
persona "office" {
    policies { TeamsCallingPolicy "AllOn"; TenantDialPlan "North" }
    number "office"
}
persona "remote" {
    policies { TeamsCallingPolicy "Restricted" }
    number "remote"
}
rule "Sales" persona="sales" { when { memberOf "Sales" } }
rule "Leeds" persona="office" { when { city "Leeds" } }
rule "York" persona="remote" { when { city "York" } }
"#;

const GUID: &str = "0b4c5d6e-1111-4222-8333-444455556666";

fn tenant() -> Value {
    let mut users = Vec::new();
    for (id, city) in [
        ("a1", "Leeds"),
        ("a2", "Leeds"),
        ("y1", "York"),
        ("s1", "Hull"),
    ] {
        users.push(
            json!({ "id": id, "userPrincipalName": format!("{id}@contoso.com"), "city": city }),
        );
    }
    // Object ids are GUIDs in Graph: one here, read back by id.
    users.push(json!({ "id": GUID, "userPrincipalName": "g1@contoso.com", "city": "Leeds" }));
    json!({
        "format_version": 1,
        "tenantId": "contoso",
        "users": users,
        "groups": [{ "id": "g-sales", "displayName": "Sales", "members": ["s1"] }],
        "policies": [
            { "policyType": "TeamsCallingPolicy", "name": "AllOn", "policyId": "p1" },
            { "policyType": "TeamsCallingPolicy", "name": "Restricted", "policyId": "p2" },
            { "policyType": "TenantDialPlan", "name": "North", "policyId": "dp1" }
        ],
        "policyAssignments": [],
        "numberAssignments": [],
    })
}

fn setup(dir: &Path) -> Emu {
    setup_with(dir, CONFIG)
}

fn setup_with(dir: &Path, config: &str) -> Emu {
    emu::serve(dir, &tenant(), config, |_| {})
}

/// A running watcher whose stdout lines arrive on a channel; killed on drop.
struct Watcher {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Watcher {
    fn start(dir: &Path, emu: &Emu, extra: &[&str]) -> Watcher {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("roster"))
            .env("ROSTER_TEST_SECRET", SECRET)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .arg("-C")
            .arg(dir.join("config"))
            .args(["--graph-endpoint", &emu.url(), "reconcile", "--watch"])
            .args(["--poll", "200ms"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watcher {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next round line that `want` accepts (others are passed over).
    fn until(&mut self, what: &str, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(" round: ") && want(&line) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!(
            "no round line {what}; lines so far:\n{}",
            self.seen.join("\n")
        );
    }

    /// The next incremental round that saw a user and applied something.
    fn applied_delta(&mut self) -> String {
        self.until("of a delta round that applied", |l| {
            l.contains("delta round") && l.contains("s: applied:")
        })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request to the emulator's test endpoints: (status, body).
fn test_endpoint(emu: &Emu, method: &str, path: &str, body: &Value) -> (u16, String) {
    let (status, _, body) = http(emu, method, path, &[], &body.to_string());
    (status, body)
}

fn change(emu: &Emu, method: &str, path: &str, body: Value) {
    let (status, text) = test_endpoint(emu, method, path, &body);
    assert_eq!(status, 200, "{method} {path}: {text}");
}

/// (calling policy, dial plan, numbers held) of a user, as the emulator holds them.
fn user_state(emu: &Emu, upn: &str) -> (Option<String>, Option<String>, Vec<String>) {
    let live = emu.live();
    let u = live.users.iter().find(|u| u.upn == upn).expect(upn);
    (
        u.policies.get("TeamsCallingPolicy").cloned(),
        u.policies.get("TenantDialPlan").cloned(),
        emu::numbers_held(&live, &u.id),
    )
}

/// A number of the request count in a round line.
fn requests(line: &str) -> u64 {
    line.split(", ")
        .find_map(|p| p.strip_suffix(" requests"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in {line}"))
}

fn plan_is_empty(dir: &Path, emu: &Emu) -> bool {
    let out = emu::plan(dir, emu);
    assert_ne!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.code() == Some(0)
}

#[test]
fn joiners_movers_and_leavers_are_handled_by_incremental_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let emu = setup(dir.path());
    let mut w = Watcher::start(dir.path(), &emu, &[]);
    let first = w.until("of the first full round", |l| l.contains("full round"));
    assert!(first.contains("5 users seen"), "{first}");
    assert_eq!(
        user_state(&emu, "a1@contoso.com"),
        (
            Some("AllOn".into()),
            Some("North".into()),
            vec!["+441130000000".into()]
        )
    );
    // Idle: the delta link only.
    let idle = w.until("of an idle delta round", |l| {
        l.contains("delta round: 0 users seen")
    });
    assert!(requests(&idle) < 5, "{idle}");

    // A property no rule reads changes: the user is read again (by its
    // GUID) and found converged.
    change(
        &emu,
        "PATCH",
        &format!("/_emulator/users/{GUID}"),
        json!({ "department": "Finance" }),
    );
    let line = w.until("of the attribute change", |l| {
        l.contains("delta round: 1 users seen")
    });
    assert!(line.contains("1 users seen, 0 changes"), "{line}");
    assert!(line.contains("converged"), "{line}");

    // A joiner gets its persona's policies and the next free number.
    change(
        &emu,
        "POST",
        "/_emulator/users",
        json!({ "id": "j1", "userPrincipalName": "j1@contoso.com", "city": "Leeds" }),
    );
    let line = w.applied_delta();
    assert!(line.contains("1 users seen, 1 changes"), "{line}");
    assert_eq!(
        user_state(&emu, "j1@contoso.com"),
        (
            Some("AllOn".into()),
            Some("North".into()),
            vec!["+441130000003".into()]
        )
    );
    // A joiner by group membership (the groups are read for it).
    change(
        &emu,
        "POST",
        "/_emulator/users",
        json!({ "id": "j2", "userPrincipalName": "j2@contoso.com", "city": "Leeds", "memberOf": ["g-sales"] }),
    );
    w.applied_delta();
    assert_eq!(
        user_state(&emu, "j2@contoso.com"),
        (Some("Restricted".into()), Some("North".into()), vec![])
    );

    // A mover changes persona: new policies, its number from the new range.
    change(
        &emu,
        "PATCH",
        "/_emulator/users/a2",
        json!({ "city": "York" }),
    );
    w.applied_delta();
    let (calling, _, numbers) = user_state(&emu, "a2@contoso.com");
    assert_eq!(calling.as_deref(), Some("Restricted"));
    assert_eq!(numbers, vec!["+441139990001"]);

    // A leaver: number released, managed policies reset.
    change(&emu, "POST", "/_emulator/users/a1/disable", json!({}));
    w.applied_delta();
    assert_eq!(user_state(&emu, "a1@contoso.com"), (None, None, vec![]));

    // The next joiner skips the quarantined numbers, as a full round would.
    change(
        &emu,
        "POST",
        "/_emulator/users",
        json!({ "id": "j3", "userPrincipalName": "j3@contoso.com", "city": "Leeds" }),
    );
    w.applied_delta();
    assert_eq!(user_state(&emu, "j3@contoso.com").2, vec!["+441130000004"]);

    // A deleted user is a tombstone: seen, nothing to do.
    change(&emu, "DELETE", "/_emulator/users/y1", json!({}));
    let line = w.until("of the deletion", |l| {
        l.contains("delta round: 1 users seen, 0 changes")
    });
    assert!(line.contains("converged"), "{line}");
    drop(w);
    // The incremental rounds reached what a full round would.
    assert!(plan_is_empty(dir.path(), &emu));
}

#[test]
fn an_expired_delta_link_falls_back_to_a_full_round() {
    let dir = tempfile::tempdir().unwrap();
    let emu = setup(dir.path());
    let mut w = Watcher::start(dir.path(), &emu, &[]);
    w.until("of the first full round", |l| l.contains("full round"));
    w.until("of a delta round", |l| l.contains("delta round"));
    let (status, _) = test_endpoint(&emu, "POST", "/_emulator/delta/expire", &json!({}));
    assert_eq!(status, 204);
    change(
        &emu,
        "POST",
        "/_emulator/users",
        json!({ "id": "j1", "userPrincipalName": "j1@contoso.com", "city": "York" }),
    );
    let line = w.until("of the fallback full round", |l| l.contains("full round"));
    assert!(line.contains("6 users seen, 1 changes"), "{line}");
    assert_eq!(user_state(&emu, "j1@contoso.com").2, vec!["+441139990001"]);
    // Then incremental again, from a fresh link.
    w.until("of a delta round after", |l| {
        l.contains("delta round: 0 users seen")
    });
    assert_eq!(emu.count("GET /users/delta", Some(410)), 1);
}

#[test]
fn a_restarted_watcher_resumes_from_the_stored_delta_link() {
    let dir = tempfile::tempdir().unwrap();
    let emu = setup(dir.path());
    let mut w = Watcher::start(dir.path(), &emu, &["--rounds", "2"]);
    w.until("of the first full round", |l| l.contains("full round"));
    w.until("of a delta round", |l| l.contains("delta round"));
    assert!(w.child.wait().unwrap().success());
    let stored: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("config/.roster-state/watch.json")).unwrap(),
    )
    .unwrap();
    assert!(
        stored["delta_link"]
            .as_str()
            .is_some_and(|l| l.contains("deltatoken=")),
        "{stored}"
    );
    assert!(stored["full_round_digest"].is_string(), "{stored}");
    // A joiner while no watcher runs.
    change(
        &emu,
        "POST",
        "/_emulator/users",
        json!({ "id": "j1", "userPrincipalName": "j1@contoso.com", "city": "Leeds" }),
    );
    let mut w = Watcher::start(dir.path(), &emu, &["--rounds", "2"]);
    // The full round at start applies it; the stored link still shows it
    // (a link from now would not), and nothing is left to do.
    let full = w.until("of the first full round", |l| l.contains("full round"));
    assert!(full.contains("1 changes"), "{full}");
    let delta = w.until("of the resumed delta round", |l| l.contains("delta round"));
    assert!(delta.contains("1 users seen, 0 changes"), "{delta}");
}

#[test]
fn the_metrics_endpoint_counts_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let emu = setup(dir.path());
    let mut w = Watcher::start(dir.path(), &emu, &["--metrics-addr", "127.0.0.1:0"]);
    w.until("of a delta round", |l| l.contains("delta round"));
    let addr = w
        .seen
        .iter()
        .find_map(|l| l.split("metrics on http://").nth(1))
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .expect("the metrics address is printed")
        .to_string();
    let mut conn = TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    conn.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("text/plain; version=0.0.4"), "{text}");
    assert!(
        text.contains("roster_rounds_total{kind=\"full\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("roster_rounds_total{kind=\"delta\"} "),
        "{text}"
    );
    assert!(text.contains("roster_failures_total 0\n"), "{text}");
    assert!(
        !text.contains("roster_last_success_timestamp_seconds 0\n"),
        "{text}"
    );
    assert!(!text.contains("roster_requests_total 0\n"), "{text}");
}

#[test]
fn sigterm_stops_the_watcher_between_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let emu = setup(dir.path());
    let mut w = Watcher::start(dir.path(), &emu, &[]);
    w.until("of a delta round", |l| l.contains("delta round"));
    let sent = Command::new("kill")
        .args(["-TERM", &w.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = w.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    // Every line, up to the end of its output.
    let rest: Vec<String> = w.lines.iter().collect();
    assert!(
        rest.iter()
            .any(|l| l.ends_with("reconcile stopped by signal")),
        "{rest:?}"
    );
}

#[test]
fn a_refused_full_round_is_repeated_not_followed_by_incremental_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let config = CONFIG.replace("max-changed-percent=100", "max-changed-users=1");
    let emu = setup_with(dir.path(), &config);
    let mut w = Watcher::start(dir.path(), &emu, &["--rounds", "2"]);
    for _ in 0..2 {
        let line = w.until("of a full round", |l| l.contains(" round: "));
        assert!(line.contains("full round"), "{line}");
        assert!(line.contains("not applied"), "{line}");
    }
    assert!(w.child.wait().unwrap().success());
    assert_eq!(
        emu.count("GET /users/delta", None),
        1,
        "only the link at start"
    );
}
