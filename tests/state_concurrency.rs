//! Issue 11, the state store's lock under real concurrency: two applies
//! against one tenant (through the Graph emulator, slowed down) and one
//! `azure-blob` store (Azurite) take turns, and neither loses its journal
//! entry; an apply killed with SIGKILL mid-way leaves its lock (taken over
//! by the next apply, its process being gone) and its unfinished journal
//! entry, so every change roster made is on record.
//!
//! The guarantee tested: right after the kill, every user the tenant shows
//! changed is named by the killed apply's unfinished entry (written before
//! its first change); once the next apply has run, that entry is settled with the outcome
//! as found, and each user's state in the tenant is the `after` of the
//! newest entry naming them: the journal and the tenant agree.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use roster::state::StateDir;

use crate::common::azurite::Azurite;
use crate::common::emu::{self, Emu, SECRET};
use crate::state_store::{CS_ENV, azure_store, state_line};

const USERS: usize = 120;

fn tenant() -> Value {
    let users: Vec<Value> = (0..USERS)
        .map(|i| json!({ "id": format!("j{i:03}"), "userPrincipalName": format!("j{i:03}@contoso.com"), "city": "York" }))
        .collect();
    json!({
        "format_version": 1,
        "tenantId": "contoso",
        "users": users,
        "policies": [{ "policyType": "TenantDialPlan", "name": "North", "policyId": "dp1" }],
        "policyAssignments": [],
        "numberAssignments": [],
    })
}

struct Setup {
    dir: tempfile::TempDir,
    emu: Emu,
    az: Azurite,
}

impl Setup {
    fn new(latency: Duration) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let az = Azurite::start();
        az.create_container("roster");
        let seed = dir.path().join("tenant.json");
        std::fs::write(&seed, tenant().to_string()).unwrap();
        std::fs::create_dir(dir.path().join("config")).unwrap();
        let config = format!(
            r#"
tenant "contoso" {{
    provider "graph" tenant-id="contoso" client-id="app" client-secret-env="ROSTER_TEST_SECRET"
    safety max-changed-percent=100
    {}
}}
range "old" type="direct-routing" {{
    block "+441130000000" "+441130000999"
}}
persona "joiner" {{
    policies {{ TenantDialPlan "North" }}
    number "old"
}}
rule "York" persona="joiner" {{ when {{ city "York" }} }}
"#,
            state_line(&az.endpoint(), "roster")
        );
        std::fs::write(dir.path().join("config/tenant.kdl"), config).unwrap();
        let emu = Emu::start(&seed, |o| o.latency = latency);
        Setup { dir, emu, az }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("roster"));
        cmd.env("ROSTER_TEST_SECRET", SECRET)
            .env(CS_ENV, self.az.connection_string())
            .env("NO_COLOR", "1")
            .arg("-C")
            .arg(self.dir.path().join("config"))
            .args(["--graph-endpoint", &self.emu.url()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    }

    fn state(&self) -> StateDir {
        azure_store(&self.az, "roster")
    }

    /// Wait until an apply holds the lock; its record.
    fn wait_for_lock(&self, child: &mut Child) -> roster::state::LockRecord {
        let state = self.state();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Some((rec, _)) = state.current_lock().unwrap()
                && rec.released.is_none()
            {
                return rec;
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "the apply ended before it locked"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no apply took the lock");
    }
}

fn stderr_of(child: Child) -> (bool, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Each user's (dial plan, numbers) in the emulator.
fn live_states(emu: &Emu) -> std::collections::BTreeMap<String, (Option<String>, Vec<String>)> {
    let live = emu.live();
    live.users
        .iter()
        .map(|u| {
            (
                u.id.clone(),
                (
                    u.policies.get("TenantDialPlan").cloned(),
                    emu::numbers_held(&live, &u.id),
                ),
            )
        })
        .collect()
}

#[test]
fn two_applies_take_turns_and_neither_loses_its_journal_entry() {
    let s = Setup::new(Duration::from_millis(60));
    let first_users: Vec<String> = (0..USERS / 2)
        .flat_map(|i| ["--user".to_string(), format!("j{i:03}@contoso.com")])
        .collect();
    let mut args = vec!["apply", "--auto-approve"];
    args.extend(first_users.iter().map(String::as_str));
    let mut first = s.cmd(&args).spawn().unwrap();
    let holder = s.wait_for_lock(&mut first);

    // One that will not wait fails at once, naming the holder.
    let out = s
        .cmd(&["apply", "--auto-approve", "--lock-timeout", "0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    for part in [&holder.id, &holder.host, &holder.since, &holder.holder] {
        assert!(stderr.contains(part.as_str()), "`{part}` in {stderr}");
    }

    // One that waits runs when the first is done, on the tenant it left.
    let second = s.cmd(&["apply", "--auto-approve"]).spawn().unwrap();
    let (ok1, err1) = stderr_of(first);
    let (ok2, err2) = stderr_of(second);
    assert!(ok1, "{err1}");
    assert!(ok2, "{err2}");
    assert!(err2.contains("waiting for the lock"), "{err2}");

    let journal = s.state().journal().unwrap();
    assert_eq!(journal.len(), 2, "both applies are on record");
    let mut named: Vec<&str> = journal
        .iter()
        .flat_map(|e| e.users.iter().map(|u| u.id.as_str()))
        .collect();
    named.sort();
    let all = named.len();
    named.dedup();
    assert_eq!(
        (all, named.len()),
        (USERS, USERS),
        "each user in exactly one entry"
    );
    assert!(journal.iter().all(|e| !e.unfinished));
    let live = live_states(&s.emu);
    let last = roster::state::journal::last_after(&journal);
    for (id, (dial, numbers)) in &live {
        let after = &last[id];
        assert_eq!(after.policies.get("TenantDialPlan"), dial.as_ref(), "{id}");
        assert_eq!(&after.numbers, numbers, "{id}");
    }
}

#[test]
fn a_killed_apply_leaves_its_lock_and_its_unfinished_entry() {
    let s = Setup::new(Duration::from_millis(100));
    let seed = live_states(&s.emu);
    let mut child = s.cmd(&["apply", "--auto-approve"]).spawn().unwrap();
    let lock = s.wait_for_lock(&mut child);
    assert_eq!(lock.pid, child.id());
    // Mid-way: the dial plans are assigned (one batch), some numbers too.
    let numbered = |s: &Setup| {
        live_states(&s.emu)
            .values()
            .filter(|(_, n)| !n.is_empty())
            .count()
    };
    let started = Instant::now();
    while numbered(&s) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the apply changed nothing"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup, no last write.
    child.wait().unwrap();
    let done = numbered(&s);
    assert!(done < USERS, "killed mid-way: {done} of {USERS} numbered");

    let journal = s.state().journal().unwrap();
    assert_eq!(journal.len(), 1);
    assert!(
        journal[0].unfinished,
        "the killed apply is on record as unfinished"
    );
    let killed = live_states(&s.emu);
    for (id, state) in &killed {
        if seed.get(id) != Some(state) {
            assert!(
                journal[0].users.iter().any(|u| &u.id == id),
                "{id} changed by the killed apply is named by its entry"
            );
        }
    }

    // Its lock outlives it, naming it; on this host, where its process is
    // visibly gone, the next apply takes it over at once (elsewhere, when
    // the lease runs out, or by `roster unlock`: see `state_store`).
    let (left, _) = s.state().current_lock().unwrap().unwrap();
    assert_eq!(
        (left.id.as_str(), left.released.as_deref()),
        (lock.id.as_str(), None)
    );
    let out = s.cmd(&["history"]).stdout(Stdio::piped()).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("did not finish"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // The next apply does the rest and records it: the journal and the
    // tenant agree.
    let (ok, stderr) = stderr_of(
        s.cmd(&["apply", "--auto-approve", "--lock-timeout", "0"])
            .spawn()
            .unwrap(),
    );
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains(&format!("took over the lock `{}`", lock.id))
            && stderr.contains(&format!("its process {} is gone", lock.pid)),
        "{stderr}"
    );
    let journal = s.state().journal().unwrap();
    assert_eq!(journal.len(), 2);
    assert!(journal[0].interrupted && !journal[0].unfinished && !journal[1].unfinished);
    assert!(stderr.contains("did not finish"), "{stderr}");
    let live = live_states(&s.emu);
    let last = roster::state::journal::last_after(&journal);
    for (id, (dial, numbers)) in &live {
        assert_ne!(
            seed.get(id),
            Some(&(dial.clone(), numbers.clone())),
            "{id} converged"
        );
        let after = last
            .get(id)
            .unwrap_or_else(|| panic!("{id} is not on record"));
        assert_eq!(after.policies.get("TenantDialPlan"), dial.as_ref(), "{id}");
        assert_eq!(&after.numbers, numbers, "{id}");
    }
    let status = s.cmd(&["plan", "--detailed-exitcode"]).status().unwrap();
    assert_eq!(status.code(), Some(0), "nothing left to do");
}
