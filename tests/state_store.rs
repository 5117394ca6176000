//! Issue 11, the state store: both backends keep one compare-and-swap
//! contract (the `azure-blob` one against Azurite, a real Azure Storage
//! API); a store that cannot be used fails the apply before any change; a
//! lock whose lease ran out is taken over and a live one is not; `roster
//! unlock` breaks only the lock it names. Concurrency and interruption are
//! in `state_concurrency`.

use std::sync::Arc;

use roster::state::azure::{AzureAuth, AzureConfig, AzureStore};
use roster::state::store::{FileStore, Put, Store, check_contract};
use roster::state::{LockRecord, StateDir};

use crate::common::azurite::{ACCOUNT, Azurite};
use crate::common::roster;
use crate::common::work::{Output, Work};

/// The variable the tests' configs name for the connection string.
pub const CS_ENV: &str = "ROSTER_TEST_STORAGE";

/// The azure-blob store of `container` under `contoso/` on `az`.
pub fn azure_store(az: &Azurite, container: &str) -> StateDir {
    let store = AzureStore::open(AzureConfig {
        account: ACCOUNT.into(),
        container: container.into(),
        prefix: "contoso/".into(),
        endpoint: None,
        auth: AzureAuth::ConnectionString {
            value: az.connection_string(),
            from: CS_ENV.into(),
        },
    })
    .unwrap();
    StateDir::on(Arc::new(store))
}

/// The tenant settings line of that store.
pub fn state_line(endpoint: &str, container: &str) -> String {
    format!(
        "state \"azure-blob\" account=\"{ACCOUNT}\" container=\"{container}\" path=\"contoso/\" endpoint=\"{endpoint}\" connection-string-env=\"{CS_ENV}\""
    )
}

/// `roster -C DIR ARGS…` with the connection string `cs`.
fn run(w: &Work, cs: &str, args: &[&str]) -> Output {
    w.run_env(&[(CS_ENV, cs)], args)
}

/// The workflow config with its state in `container` on `az`.
fn work_on(az: &Azurite, container: &str) -> Work {
    let w = Work::new();
    w.edit_config(
        "    provider \"file\" path=\"tenant.json\"\n",
        &format!(
            "    provider \"file\" path=\"tenant.json\"\n    {}\n",
            state_line(&az.endpoint(), container)
        ),
    );
    w
}

fn lock_record(id: &str, expires: &str) -> LockRecord {
    LockRecord {
        format_version: 1,
        id: id.into(),
        holder: "https://github.com/contoso/teams/actions/runs/42".into(),
        host: "ci-runner-7".into(),
        pid: 4242,
        command: "apply".into(),
        since: "2026-01-01T00:00:00Z".into(),
        expires: expires.into(),
        released: None,
        broken_by: None,
    }
}

fn put_lock(state: &StateDir, rec: &LockRecord) {
    let bytes = serde_json::to_vec(rec).unwrap();
    let cond = match state.store().get("lock.json").unwrap() {
        Some(o) => Put::Update(o.version),
        None => Put::Create,
    };
    state.store().put("lock.json", &bytes, cond).unwrap();
}

#[test]
fn both_backends_keep_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    check_contract(&FileStore::new(dir.path().join("state")));

    let az = Azurite::start();
    az.create_container("roster");
    let state = azure_store(&az, "roster");
    state.probe().unwrap();
    check_contract(state.store());

    // The state operations over it: the quarantine by compare-and-swap
    // from many writers at once loses no one's change.
    std::thread::scope(|s| {
        for i in 0..6 {
            let state = &state;
            s.spawn(move || {
                let n = roster::numbers::E164::parse(&format!("+4411300000{i:02}")).unwrap();
                state
                    .update_quarantine(|q| {
                        q.record(n, "a@x", "2026-01-01T00:00:00Z", "2026-01-08T00:00:00Z")
                    })
                    .unwrap();
            });
        }
    });
    assert_eq!(state.quarantine().unwrap().numbers.len(), 6);
    // Objects live under the prefix, as the settings say.
    assert!(
        state
            .store()
            .locate("quarantine.json")
            .ends_with("roster/contoso/quarantine.json")
    );
    assert!(
        state
            .store()
            .list()
            .unwrap()
            .contains(&"quarantine.json".to_string())
    );

    // A corrupt object is refused with its place and left as it is.
    let v = state
        .store()
        .get("quarantine.json")
        .unwrap()
        .unwrap()
        .version;
    state
        .store()
        .put("quarantine.json", b"{ torn", Put::Update(v))
        .unwrap();
    let err = state.update_quarantine(|_| {}).unwrap_err().to_string();
    assert!(
        err.contains("roster/contoso/quarantine.json") && err.contains("not valid"),
        "{err}"
    );
    assert_eq!(
        state.store().get("quarantine.json").unwrap().unwrap().bytes,
        b"{ torn"
    );
}

#[test]
fn a_store_that_cannot_be_used_fails_the_apply_before_any_change() {
    let az = Azurite::start();
    az.create_container("roster");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    // Unreachable: nothing listens there.
    let w = Work::new();
    w.edit_config(
        "    provider \"file\" path=\"tenant.json\"\n",
        &format!(
            "    provider \"file\" path=\"tenant.json\"\n    {}\n",
            state_line(&format!("http://127.0.0.1:{closed}/{ACCOUNT}"), "roster")
        ),
    );
    let before = w.tenant();
    let out = run(&w, &az.connection_string(), &["apply", "--auto-approve"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("cannot reach the azure-blob state store `devstoreaccount1/roster/contoso/`"),
        "{out:?}"
    );
    assert!(out.stderr.contains("nothing was changed"), "{out:?}");
    assert_eq!(w.tenant(), before, "the tenant is unchanged");

    // A container that does not exist.
    let w = work_on(&az, "missing");
    let out = run(&w, &az.connection_string(), &["apply", "--auto-approve"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("the container `missing` does not exist"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("az storage container create"),
        "{out:?}"
    );
    assert_eq!(w.tenant(), before);

    // Access refused: another key. The key never shows.
    let w = work_on(&az, "roster");
    let wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ==";
    let cs = az
        .connection_string()
        .replace(crate::common::azurite::KEY, wrong);
    let out = run(&w, &cs, &["apply", "--auto-approve"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("refused access"), "{out:?}");
    assert!(
        out.stderr.contains(CS_ENV),
        "the hint names the variable: {out:?}"
    );
    assert!(
        !out.stderr.contains(wrong) && !out.stdout.contains(wrong),
        "{out:?}"
    );
    assert_eq!(w.tenant(), before);

    // No credentials at all: the file provider has no app to lend.
    let out = roster()
        .env_remove(CS_ENV)
        .arg("-C")
        .arg(w.config())
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("has no credentials") && stderr.contains(CS_ENV),
        "{stderr}"
    );
    assert_eq!(w.tenant(), before);

    // Plain http off loopback is refused before anything is sent.
    let w = Work::new();
    w.edit_config(
        "    provider \"file\" path=\"tenant.json\"\n",
        &format!(
            "    provider \"file\" path=\"tenant.json\"\n    {}\n",
            state_line("http://storage.example.com/x", "roster")
        ),
    );
    let out = run(&w, &az.connection_string(), &["apply", "--auto-approve"]);
    assert!(out.stderr.contains("plain HTTP"), "{out:?}");
    assert_eq!(w.tenant(), before);

    // The same store, reachable: the apply runs and is on record there.
    let w = work_on(&az, "roster");
    let out = run(&w, &az.connection_string(), &["apply", "--auto-approve"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("recorded in the azure-blob state store"),
        "{out:?}"
    );
    assert_ne!(w.tenant(), before);
    let journal = azure_store(&az, "roster").journal().unwrap();
    assert_eq!(journal.len(), 1);
    assert!(!journal[0].unfinished);
    let out = run(
        &w,
        &az.connection_string(),
        &["history", "--user", "dan@contoso.com"],
    );
    assert!(out.stdout.contains("dan@contoso.com (applied)"), "{out:?}");
    assert!(!w.path(".roster-state").exists(), "nothing kept locally");
}

#[test]
fn a_lock_whose_lease_ran_out_is_taken_over_and_a_live_one_is_not() {
    let az = Azurite::start();
    az.create_container("roster");
    let w = work_on(&az, "roster");
    let state = azure_store(&az, "roster");
    let before = w.tenant();

    put_lock(&state, &lock_record("live-lock-1", "2999-01-01T00:00:00Z"));
    let out = run(
        &w,
        &az.connection_string(),
        &["apply", "--auto-approve", "--lock-timeout", "0"],
    );
    assert_ne!(out.code, 0, "{out:?}");
    for part in [
        "live-lock-1",
        "actions/runs/42",
        "ci-runner-7",
        "since 2026-01-01T00:00:00Z",
        "roster unlock live-lock-1",
        "--lock-timeout",
    ] {
        assert!(out.stderr.contains(part), "`{part}` in {out:?}");
    }
    assert_eq!(w.tenant(), before);

    put_lock(&state, &lock_record("dead-lock-2", "2000-01-01T00:00:00Z"));
    let out = run(
        &w,
        &az.connection_string(),
        &["apply", "--auto-approve", "--lock-timeout", "0"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("took over the lock `dead-lock-2`"),
        "{out:?}"
    );
    assert_ne!(w.tenant(), before);
    // The apply let its own lock go when it ended.
    let (rec, _) = state.current_lock().unwrap().unwrap();
    assert_ne!(rec.id, "dead-lock-2");
    assert!(rec.released.is_some(), "{rec:?}");
}

#[test]
fn unlock_breaks_the_lock_it_names_and_only_that() {
    let w = Work::new();
    let state = StateDir::new(w.path(".roster-state"));
    let out = w.run(&["unlock"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("is not locked"), "{out:?}");

    put_lock(&state, &lock_record("stale-7", "2999-01-01T00:00:00Z"));
    let out = w.run(&["unlock"]);
    assert!(
        out.stdout.contains("stale-7") && out.stdout.contains("roster unlock stale-7"),
        "{out:?}"
    );
    let out = w.run(&["unlock", "other-id"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("is `stale-7`, not `other-id`"),
        "{out:?}"
    );
    assert!(state.current_lock().unwrap().unwrap().0.released.is_none());

    let before = w.tenant();
    assert_ne!(
        w.run(&["apply", "--auto-approve", "--lock-timeout", "0"])
            .code,
        0
    );
    assert_eq!(w.tenant(), before);

    let out = w.run(&["unlock", "stale-7"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("broke lock `stale-7` held by https://github.com/contoso/teams/actions/runs/42 on host `ci-runner-7`"), "{out:?}");
    assert!(out.stdout.contains("roster plan"), "{out:?}");
    let (rec, _) = state.current_lock().unwrap().unwrap();
    assert!(rec.released.is_some() && rec.broken_by.is_some(), "{rec:?}");
    let out = w.run(&["unlock", "stale-7"]);
    assert!(out.stderr.contains("already let go"), "{out:?}");

    let out = w.run(&["apply", "--auto-approve", "--lock-timeout", "0"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        !out.stderr.contains("took over"),
        "a broken lock is free: {out:?}"
    );
}

#[test]
fn without_a_connection_string_the_app_asks_for_a_storage_token() {
    let az = Azurite::start();
    az.create_container("roster");
    // A token endpoint that records what it was asked.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let authority = format!("http://{}", listener.local_addr().unwrap());
    let asked = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let request = crate::common::http::read_request(&mut conn);
        crate::common::http::answer(
            &mut conn,
            200,
            "",
            r#"{"access_token":"storage-token-0123456789","token_type":"Bearer","expires_in":3600}"#,
        );
        String::from_utf8_lossy(&request).into_owned()
    });
    let conn = roster::provider::graph::Connection {
        tenant_id: "contoso".into(),
        client_id: "roster-app".into(),
        credential: roster::provider::graph::Credential::Secret(
            roster::provider::graph::Secret::new("app-secret-0123456789"),
        ),
        endpoint: authority.clone(),
        authority,
        settings: Default::default(),
    };
    let store = AzureStore::open(AzureConfig {
        account: ACCOUNT.into(),
        container: "roster".into(),
        prefix: String::new(),
        endpoint: Some(az.endpoint()),
        auth: AzureAuth::App(Box::new(conn)),
    })
    .unwrap();
    // Azurite takes no bearer tokens over plain http: refused, and the
    // message says which app needs which role.
    let err = store.probe().unwrap_err().to_string();
    let request = asked.join().unwrap();
    assert!(
        request.starts_with("POST /contoso/oauth2/v2.0/token"),
        "{request}"
    );
    assert!(
        request.contains("scope=https%3A%2F%2Fstorage.azure.com%2F.default"),
        "{request}"
    );
    assert!(request.contains("client_id=roster-app"), "{request}");
    assert!(err.contains("refused access"), "{err}");
    assert!(
        err.contains("`roster-app`") && err.contains("Storage Blob Data Contributor"),
        "{err}"
    );
    assert!(
        !err.contains("storage-token-0123456789") && !err.contains("app-secret"),
        "{err}"
    );
}
