//! The emulator on a public address (issue 9, item 4): beyond loopback it
//! refuses to start without a required client id and secret, and warns it
//! is a test server when it does. These tests bind `0.0.0.0` but only ever
//! connect to 127.0.0.1; every emulator they start is killed at the end.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{fixture, http};

const SECRET: &str = "emulator-test-secret-77";

/// A running `roster emulator`, killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn emulator(args: &[&str]) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("roster"));
    cmd.env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env("EMU_TEST_SECRET", SECRET)
        .arg("emulator")
        .arg("--tenant")
        .arg(fixture("workflow/tenant.json"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// One HTTP/1.1 request with a form body to 127.0.0.1: (status, body).
fn request(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let (status, _, body) = http::request(("127.0.0.1", port), method, path, &form, body);
    (status, body)
}

fn token(port: u16, client_id: &str, secret: &str) -> (u16, String) {
    let form = format!(
        "grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&client_id={client_id}&client_secret={secret}"
    );
    request(port, "POST", "/contoso/oauth2/v2.0/token", &form)
}

#[test]
fn beyond_loopback_without_credentials_the_emulator_refuses_to_start() {
    for extra in [
        &[][..],
        &["--client-id", "roster-dev"][..],
        &["--client-secret-env", "EMU_TEST_SECRET"][..],
    ] {
        let mut args = vec!["--listen", "0.0.0.0:0"];
        args.extend(extra);
        let started = Instant::now();
        let mut child = Running(emulator(&args).spawn().unwrap());
        // It must exit on its own, promptly, not stay running.
        let status = loop {
            if let Some(s) = child.0.try_wait().unwrap() {
                break s;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "the emulator kept running on 0.0.0.0 with {extra:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        child
            .0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(status.code(), Some(1), "{err}");
        assert!(
            err.contains("refusing to listen on 0.0.0.0:0 without credentials"),
            "{err}"
        );
        assert!(
            err.contains("--client-id ID --client-secret-env VAR"),
            "{err}"
        );
        assert!(!err.contains("listening on"), "{err}");
    }
}

#[test]
fn beyond_loopback_with_credentials_it_warns_and_refuses_a_wrong_secret() {
    let mut child = Running(
        emulator(&[
            "--listen",
            "0.0.0.0:0",
            "--client-id",
            "roster-dev",
            "--client-secret-env",
            "EMU_TEST_SECRET",
        ])
        .spawn()
        .unwrap(),
    );
    // Read stderr until the listening line gives the port.
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.0.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let port: u16 = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(15))
            .unwrap_or_else(|_| panic!("no listening line: {lines:?}"));
        lines.push(line.clone());
        if let Some(rest) = line.strip_prefix("roster emulator listening on http://0.0.0.0:") {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    let text = lines.join("\n");
    assert!(
        text.contains("warning: the roster emulator is a test server, not Microsoft Graph"),
        "{text}"
    );
    assert!(text.contains("beyond loopback"), "{text}");

    // Only the required credentials get a token.
    let (status, body) = token(port, "roster-dev", "wrong-secret-123");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"invalid_client\""), "{body}");
    assert!(!body.contains("access_token"), "{body}");
    let (status, body) = token(port, "someone-else", SECRET);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"unauthorized_client\""), "{body}");
    let (status, body) = token(port, "roster-dev", SECRET);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("access_token"), "{body}");

    // A client assertion (whose signature the emulator cannot check) is no
    // way around the secret.
    let claims = |v: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
    };
    let jwt = format!(
        "{}.{}.sig",
        claims(r#"{"alg":"PS256","x5t#S256":"x"}"#),
        claims(r#"{"iss":"roster-dev","sub":"roster-dev","exp":99999999999}"#)
    );
    let form = format!(
        "grant_type=client_credentials&scope=x%2F.default&client_id=roster-dev&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={jwt}"
    );
    let (status, body) = request(port, "POST", "/contoso/oauth2/v2.0/token", &form);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"invalid_client\""), "{body}");

    // The test endpoints show the whole tenant: beyond loopback, not
    // without a token.
    let (status, body) = request(port, "GET", "/_emulator/snapshot", "");
    assert_eq!(status, 401, "{body}");
    drop(child);
}
