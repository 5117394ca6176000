//! Workload identity federation end to end (issue 12, item 1): a loopback
//! stand-in for the CI's token service (GitHub Actions' and Azure
//! Pipelines' shapes) issuing unsigned JWTs with chosen claims, a token
//! file, and the emulator as Entra and Graph with a federated credential.
//! `roster` runs as a process: plans succeed with each source; expired,
//! wrong-audience, wrong-subject and missing tokens fail clearly without
//! printing the token, even with `RUST_LOG=debug`; a long apply renews
//! its Entra token (with a fresh OIDC token) before it expires. Nothing
//! connects beyond 127.0.0.1: every proxy variable points at the stand-in.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::ci_tokens::{
    ADO_ACCESS_TOKEN, AUDIENCE, CiTokens, Claims, Env, GITHUB_REQUEST_TOKEN, ISSUER,
    SERVICE_CONNECTION, SUBJECT, jwt,
};
use crate::common::emu::Emu;
use crate::common::roster;
fn tenant(users: usize) -> Value {
    let users: Vec<Value> = (0..users)
        .map(|i| json!({ "id": format!("u{i}"), "userPrincipalName": format!("user{i}@contoso.com"), "city": "London" }))
        .collect();
    json!({
        "format_version": 1,
        "tenantId": "contoso",
        "users": users,
        "policies": [{ "policyType": "TenantDialPlan", "name": "London", "policyId": "dp1" }],
        "policyAssignments": [],
        "numberAssignments": [],
    })
}

const CONFIG: &str = r#"
tenant "contoso" {
    provider "graph" tenant-id="contoso" client-id="app" endpoint="ENDPOINT" PROVIDER
    safety max-changed-percent=100
}
range "london" type="direct-routing" {
    block "+442071230000" "+442071230099"
}
persona "uk" {
    policies { TenantDialPlan "London" }
    number "london"
}
rule "UK" persona="uk" { when { city "London" } }
"#;

/// The emulator (with the federated credential for `SUBJECT`, and the
/// default required secret) over a tenant of `users` Londoners, and a
/// config directory whose graph provider carries `provider`.
fn setup(
    users: usize,
    provider: &str,
    tweak: impl FnOnce(&mut roster::emulator::Options),
) -> (tempfile::TempDir, Emu) {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("tenant.json");
    std::fs::write(&seed, tenant(users).to_string()).unwrap();
    let emu = Emu::start(&seed, |o| {
        o.federated = Some(roster::emulator::Federated {
            issuer: ISSUER.into(),
            subject: SUBJECT.into(),
            audience: AUDIENCE.into(),
        });
        tweak(o);
    });
    let cfg = dir.path().join("config");
    std::fs::create_dir(&cfg).unwrap();
    std::fs::write(
        cfg.join("tenant.kdl"),
        CONFIG
            .replace("ENDPOINT", &emu.url())
            .replace("PROVIDER", provider),
    )
    .unwrap();
    (dir, emu)
}

struct Run {
    code: i32,
    out: String,
}

/// `roster ARGS -C DIR/config` with only the CI variables given, at debug
/// log level, every proxy pointing at `trap` (loopback).
fn run(dir: &Path, trap: &CiTokens, args: &[&str], env: &[(&str, String)]) -> Run {
    let mut cmd = roster();
    for var in [
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "SYSTEM_OIDCREQUESTURI",
        "SYSTEM_ACCESSTOKEN",
        "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
        "AZURE_FEDERATED_TOKEN_FILE",
        "ROSTER_TEST_SECRET",
    ] {
        cmd.env_remove(var);
    }
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        cmd.env(var, trap.url()).env(var.to_lowercase(), trap.url());
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("RUST_LOG", "debug");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .args(args)
        .arg("-C")
        .arg(dir.join("config"))
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr),
    }
}

/// No issued OIDC token, nor a part of it, nor a request credential.
fn assert_no_token(out: &str, issued: &[String]) {
    for t in issued {
        for part in t.split('.').filter(|p| p.len() > 8) {
            assert!(!out.contains(part), "a token part was printed:\n{out}");
        }
    }
    for s in [GITHUB_REQUEST_TOKEN, ADO_ACCESS_TOKEN, "emu."] {
        assert!(!out.contains(s), "`{s}` was printed:\n{out}");
    }
}

fn token_requests(emu: &Emu, status: u16) -> u64 {
    emu.count("POST /{tenant}/oauth2/v2.0/token", Some(status))
}

#[test]
fn plan_succeeds_with_each_source() {
    let ci = CiTokens::start(Claims::default());
    let file_dir = tempfile::tempdir().unwrap();
    let token_file = file_dir.path().join("token");
    std::fs::write(&token_file, jwt(&Claims::default(), AUDIENCE, 900)).unwrap();
    let file = token_file.to_string_lossy().to_string();
    let sc = format!("service-connection-id=\"{SERVICE_CONNECTION}\"");
    let file_env = || vec![("AZURE_FEDERATED_TOKEN_FILE", file.clone())];
    // (provider settings, environment, whether the token comes from the
    // CI's service rather than the file)
    let cases: Vec<(String, Env, bool)> = vec![
        ("federated=\"github\"".into(), ci.github_env(), true),
        (
            format!("federated=\"azure-pipelines\" {sc}"),
            ci.pipelines_env(),
            true,
        ),
        (
            format!("federated=\"file\" federated-token-file=\"{file}\""),
            vec![],
            false,
        ),
        ("federated=\"file\"".into(), file_env(), false),
        ("federated=\"auto\"".into(), ci.github_env(), true),
        (format!("federated=\"auto\" {sc}"), ci.pipelines_env(), true),
        ("federated=\"auto\"".into(), file_env(), false),
    ];
    for (provider, env, from_service) in cases {
        let (dir, emu) = setup(3, &provider, |_| {});
        let before = ci.issued().len();
        let r = run(dir.path(), &ci, &["plan"], &env);
        assert_eq!(r.code, 0, "{provider}: {}", r.out);
        assert!(r.out.contains("user0@contoso.com"), "{provider}: {}", r.out);
        assert_eq!(token_requests(&emu, 200), 1, "{provider}");
        let from_ci = ci.issued().len() - before;
        assert_eq!(from_ci, usize::from(from_service), "{provider}");
        let mut issued = ci.issued();
        issued.push(std::fs::read_to_string(&token_file).unwrap());
        assert_no_token(&r.out, &issued);
    }
}

#[test]
fn refused_tokens_are_clear_errors_without_the_token() {
    let cases: Vec<(Claims, &str, Vec<&str>)> = vec![
        (
            Claims {
                exp: -60,
                ..Claims::default()
            },
            "expired",
            vec!["700024", "valid time range", "federated token"],
        ),
        (
            Claims {
                aud: Some("api://SomethingElse".into()),
                ..Claims::default()
            },
            "wrong audience",
            vec![
                "70021",
                "Assertion Audience: 'api://SomethingElse'",
                "api://AzureADTokenExchange",
            ],
        ),
        (
            Claims {
                sub: "repo:contoso/teams:pull_request".into(),
                ..Claims::default()
            },
            "wrong subject",
            vec![
                "70021",
                "Assertion Subject: 'repo:contoso/teams:pull_request'",
                "federated credential",
            ],
        ),
    ];
    for (claims, what, expect) in cases {
        let ci = CiTokens::start(claims);
        let (dir, emu) = setup(2, "federated=\"github\"", |_| {});
        let r = run(dir.path(), &ci, &["plan"], &ci.github_env());
        assert_eq!(r.code, 1, "{what}: {}", r.out);
        for e in expect {
            assert!(r.out.contains(e), "{what}: `{e}` missing:\n{}", r.out);
        }
        assert!(!ci.issued().is_empty(), "{what}: no token was issued");
        assert_no_token(&r.out, &ci.issued());
        assert_eq!(token_requests(&emu, 200), 0, "{what}");
    }
}

#[test]
fn missing_tokens_are_clear_errors() {
    let ci = CiTokens::start(Claims::default());
    let (dir, _emu) = setup(2, "federated=\"github\"", |_| {});
    // Not in GitHub Actions (or no `id-token: write`), and no fallback.
    let r = run(dir.path(), &ci, &["plan"], &[]);
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(r.out.contains("ACTIONS_ID_TOKEN_REQUEST_URL"), "{}", r.out);
    assert!(r.out.contains("id-token: write"), "{}", r.out);
    // Half the variables.
    let half = vec![ci.github_env()[0].clone()];
    let r = run(dir.path(), &ci, &["plan"], &half);
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(
        r.out.contains("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        "{}",
        r.out
    );
    // The service answers without a token.
    ci.empty.store(true, Ordering::SeqCst);
    let r = run(dir.path(), &ci, &["plan"], &ci.github_env());
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(r.out.contains("holds no `value`"), "{}", r.out);
    assert_no_token(&r.out, &[]);
    ci.empty.store(false, Ordering::SeqCst);
    // A token file that is not there, or empty.
    let (dir, _emu) = setup(2, "federated=\"file\"", |_| {});
    let gone = dir.path().join("no-such-token");
    let r = run(
        dir.path(),
        &ci,
        &["plan"],
        &[("AZURE_FEDERATED_TOKEN_FILE", gone.to_string_lossy().into())],
    );
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(r.out.contains("cannot read"), "{}", r.out);
    // Azure Pipelines without a service connection.
    let (dir, _emu) = setup(2, "federated=\"azure-pipelines\"", |_| {});
    let r = run(dir.path(), &ci, &["plan"], &ci.pipelines_env());
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(r.out.contains("service-connection-id"), "{}", r.out);
    assert_no_token(&r.out, &ci.issued());
}

#[test]
fn the_secret_is_the_fallback_where_the_ci_gives_no_token() {
    let ci = CiTokens::start(Claims::default());
    let (dir, emu) = setup(
        2,
        "federated=\"github\" client-secret-env=\"ROSTER_TEST_SECRET\"",
        |_| {},
    );
    let secret = vec![("ROSTER_TEST_SECRET", crate::common::emu::SECRET.to_string())];
    let r = run(dir.path(), &ci, &["plan"], &secret);
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(r.out.contains("warning: federated=\"github\""), "{}", r.out);
    assert!(ci.issued().is_empty());
    assert!(!r.out.contains(crate::common::emu::SECRET), "{}", r.out);
    // With the CI's token available, federation wins.
    let mut env = ci.github_env();
    env.extend(secret);
    let r = run(dir.path(), &ci, &["plan"], &env);
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(!r.out.contains("warning"), "{}", r.out);
    assert_eq!(ci.issued().len(), 1);
    assert_eq!(token_requests(&emu, 200), 2);
}

#[test]
fn auto_passes_over_a_half_set_source() {
    let ci = CiTokens::start(Claims::default());
    let half = vec![ci.github_env()[0].clone()];
    // With a fallback: a warning, and the secret.
    let (dir, _emu) = setup(
        2,
        "federated=\"auto\" client-secret-env=\"ROSTER_TEST_SECRET\"",
        |_| {},
    );
    let mut env = half.clone();
    env.push(("ROSTER_TEST_SECRET", crate::common::emu::SECRET.to_string()));
    let r = run(dir.path(), &ci, &["plan"], &env);
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(r.out.contains("warning: federated=\"auto\""), "{}", r.out);
    assert!(
        r.out.contains("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        "{}",
        r.out
    );
    // A half-set source, then a complete one: the complete one.
    let (dir, emu) = setup(2, "federated=\"auto\"", |_| {});
    let file = dir.path().join("token");
    std::fs::write(&file, jwt(&Claims::default(), AUDIENCE, 77)).unwrap();
    let mut env = half.clone();
    env.push(("AZURE_FEDERATED_TOKEN_FILE", file.to_string_lossy().into()));
    let r = run(dir.path(), &ci, &["plan"], &env);
    assert_eq!(r.code, 0, "{}", r.out);
    assert_eq!(token_requests(&emu, 200), 1);
    // Nothing else: the half-set source is the error.
    let r = run(dir.path(), &ci, &["plan"], &half);
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(
        r.out.contains(
            "`ACTIONS_ID_TOKEN_REQUEST_URL` is set but `ACTIONS_ID_TOKEN_REQUEST_TOKEN` is not"
        ),
        "{}",
        r.out
    );
    assert!(ci.issued().is_empty());
}

#[test]
fn the_emulator_takes_issuer_and_subject_together() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("tenant.json");
    std::fs::write(&seed, tenant(1).to_string()).unwrap();
    let out = roster()
        .arg("--tenant")
        .arg(&seed)
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .args(["--federated-issuer", ISSUER])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--federated-subject"), "{err}");
}

#[test]
fn the_oidc_request_url_must_be_https_or_loopback() {
    let ci = CiTokens::start(Claims::default());
    let (dir, _emu) = setup(2, "federated=\"github\"", |_| {});
    let env = vec![
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "http://192.0.2.10/token?api-version=2.0".to_string(),
        ),
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            GITHUB_REQUEST_TOKEN.into(),
        ),
    ];
    let r = run(dir.path(), &ci, &["plan"], &env);
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(
        r.out
            .contains("refusing to send credentials over plain HTTP"),
        "{}",
        r.out
    );
    assert!(r.out.contains("ACTIONS_ID_TOKEN_REQUEST_URL"), "{}", r.out);
    assert!(ci.issued().is_empty());
    assert_no_token(&r.out, &[]);
}

#[test]
fn a_long_apply_renews_its_token_before_it_expires() {
    let ci = CiTokens::start(Claims::default());
    // Entra tokens live 2 s; every number operation runs 3 s, so the
    // apply outlives its first token.
    let (dir, emu) = setup(3, "federated=\"github\"", |o| {
        o.token_lifetime = Duration::from_secs(2);
        o.operation_delay = Duration::from_secs(3);
    });
    let r = run(dir.path(), &ci, &["reconcile", "--once"], &ci.github_env());
    assert_eq!(r.code, 0, "{}", r.out);
    let live = emu.live();
    let held = live.numbers.values().filter(|n| n.target.is_some()).count();
    assert_eq!(held, 3, "not applied: {}", r.out);
    let renewed = token_requests(&emu, 200);
    assert!(renewed >= 2, "the token was never renewed ({renewed})");
    assert_eq!(
        emu.count_status(401),
        0,
        "a request met an expired token: {}",
        emu.emu.stats_json()
    );
    // A fresh OIDC token for each Entra token, each one different.
    let issued = ci.issued();
    assert_eq!(issued.len() as u64, renewed);
    let mut unique = issued.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), issued.len());
    assert_no_token(&r.out, &issued);
}

#[test]
fn both_languages_configure_federation_alike() {
    let kdl = roster::manifest::parse_str(
        "tenant.kdl",
        r#"tenant "t" { provider "graph" tenant-id="x" client-id="y" federated="azure-pipelines" service-connection-id="sc" federated-token-file="t.jwt" client-secret-env="S" }"#,
    );
    let toml = roster::manifest::parse_str(
        "tenant.toml",
        r#"[tenant]
name = "t"
provider = { kind = "graph", tenant-id = "x", client-id = "y", federated = "azure-pipelines", service-connection-id = "sc", federated-token-file = "t.jwt", client-secret-env = "S" }
"#,
    );
    for l in [&kdl, &toml] {
        assert!(
            !l.has_errors(),
            "{}",
            l.diagnostics.render(&l.sources, false)
        );
    }
    let graph = |l: &roster::manifest::Loaded| match l
        .manifest
        .settings()
        .provider
        .clone()
        .map(|p| p.value)
    {
        Some(roster::manifest::ProviderConfig::Graph(g)) => *g,
        other => panic!("{other:?}"),
    };
    let g = graph(&kdl);
    assert_eq!(g, graph(&toml));
    assert_eq!(
        g.federated,
        Some(roster::manifest::Federation::AzurePipelines)
    );
    assert_eq!(g.service_connection_id.as_deref(), Some("sc"));
    assert_eq!(g.federated_token_file.as_deref(), Some("t.jwt"));
    let bad = roster::manifest::parse_str(
        "tenant.kdl",
        r#"tenant "t" { provider "graph" tenant-id="x" client-id="y" federated="gitlab" }"#,
    );
    let text = bad.diagnostics.render(&bad.sources, false);
    assert!(
        text.contains("unknown federated token source `gitlab`"),
        "{text}"
    );
}
