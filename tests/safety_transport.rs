//! Credentials never travel in clear text and never print (issue 9, item
//! 3): a fake token endpoint on loopback that records every byte and echoes
//! the secret and a token back in its error; URLs that are neither https
//! nor loopback refused before any lookup or connection. These tests only
//! ever connect to 127.0.0.1: every run sets `HTTP_PROXY`/`ALL_PROXY` to a
//! loopback recorder too, so even a regression could not reach another
//! address.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::roster;

const SECRET: &str = "Xq8~Sup3r.Secr3t_Value-42";
const TOKEN: &str = "fAkEt0kEn.9f8e7d6c5b4a3210";
const JWT: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb3N0ZXIifQ.c2lnbmF0dXJlLXBhcnQ";

/// A loopback HTTP/1.1 server that records every byte it receives and
/// answers each request as `answer` says for its request line (for a
/// redirect, the body is the `Location`). Stopped on drop.
struct Recorder {
    port: u16,
    received: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Recorder {
    fn start(status: u16, body: String) -> Recorder {
        Recorder::answering(move |_| (status, body.clone()))
    }

    fn answering(answer: impl Fn(&str) -> (u16, String) + Send + 'static) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (rec, halt) = (received.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => serve(conn, &rec, &answer),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Recorder {
            port,
            received,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn received(&self) -> String {
        String::from_utf8_lossy(&self.received.lock().unwrap()).into_owned()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Read one request (headers, then `Content-Length` bytes), record it,
/// answer and close.
fn serve(mut conn: TcpStream, rec: &Mutex<Vec<u8>>, answer: &dyn Fn(&str) -> (u16, String)) {
    let buf = crate::common::http::read_request(&mut conn);
    rec.lock().unwrap().extend_from_slice(&buf);
    let text = String::from_utf8_lossy(&buf);
    let (status, mut body) = answer(text.lines().next().unwrap_or(""));
    // A redirect's `body` is where it points.
    let location = if (300..400).contains(&status) {
        format!("Location: {}\r\n", std::mem::take(&mut body))
    } else {
        String::new()
    };
    crate::common::http::answer(&mut conn, status, &location, &body);
}

const GRAPH_CONFIG: &str = r#"
tenant "contoso" {
    provider "graph" tenant-id="contoso" client-id="app" client-secret-env="ROSTER_TEST_SECRET" SETTINGS
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

fn config(settings: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tenant.kdl"),
        GRAPH_CONFIG.replace("SETTINGS", settings),
    )
    .unwrap();
    dir
}

struct Run {
    code: i32,
    out: String,
    took: Duration,
}

/// `roster ARGS -C DIR` with the secret set and every proxy variable
/// pointing at `trap` (loopback) for every host but loopback, so nothing
/// can leave this machine.
fn run(dir: &Path, trap: &Recorder, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = roster();
    cmd.env("ROSTER_TEST_SECRET", SECRET);
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env(var, trap.url());
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost,::1")
        .env("no_proxy", "127.0.0.1,localhost,::1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd
        .args(args)
        .arg("-C")
        .arg(dir)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr),
        took: started.elapsed(),
    }
}

fn assert_no_secret(text: &str) {
    for (what, s) in [
        ("the client secret", SECRET),
        (
            "the client secret, form-encoded",
            "Xq8%7ESup3r.Secr3t_Value-42",
        ),
        ("the bearer token", TOKEN),
        ("the JWT", JWT),
    ] {
        assert!(!text.contains(s), "{what} was printed:\n{text}");
    }
}

#[test]
fn a_token_endpoint_echoing_the_secret_and_a_token_never_gets_them_printed() {
    let trap = Recorder::start(502, String::new());
    // The identity platform's error shape, echoing the form it was sent,
    // the secret and a token in every field a careless client might print.
    let body = serde_json::json!({
        "error": "invalid_client",
        "error_description": format!(
            "AADSTS7000215: Invalid client secret provided: '{SECRET}' (request body client_id=app&client_secret=Xq8%7ESup3r.Secr3t_Value-42&scope=x). Authorization: Bearer {TOKEN} assertion {JWT}"
        ),
        "error_codes": [7000215],
        "access_token": TOKEN,
        "client_secret": SECRET,
    })
    .to_string();
    let idp = Recorder::start(400, body);
    let dir = config("");
    let endpoint = idp.url();
    for (log, env) in [
        (vec![], vec![]),
        (vec![], vec![("RUST_LOG", "debug")]),
        (vec!["--log-format", "json"], vec![("RUST_LOG", "debug")]),
        (vec!["--log-format", "json"], vec![("RUST_LOG", "trace")]),
    ] {
        let mut args = vec!["plan", "--graph-endpoint", endpoint.as_str()];
        args.extend(log);
        let r = run(dir.path(), &trap, &args, &env);
        assert_ne!(r.code, 0, "{}", r.out);
        assert_no_secret(&r.out);
        // Still informative: who refused, the status, the error code.
        assert!(
            r.out
                .contains("the identity platform refused the credentials (400 invalid_client)"),
            "{}",
            r.out
        );
        assert!(r.out.contains("AADSTS7000215"), "{}", r.out);
        assert!(r.out.contains("[redacted]"), "{}", r.out);
    }
    // The endpoint did get the secret (so the echo was real), the proxy
    // nothing.
    let got = idp.received();
    assert!(got.starts_with("POST /contoso/oauth2/v2.0/token"), "{got}");
    assert!(
        got.contains("client_secret=Xq8%7ESup3r.Secr3t_Value-42"),
        "{got}"
    );
    assert_eq!(trap.received(), "");
}

#[test]
fn a_graph_endpoint_over_plain_http_beyond_loopback_is_refused_before_any_lookup() {
    let trap = Recorder::start(502, String::new());
    let dir = config("");
    let r = run(
        dir.path(),
        &trap,
        &["plan", "--graph-endpoint", "http://roster-test.invalid/"],
        &[("RUST_LOG", "debug")],
    );
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(
        r.out.contains(
            "refusing to send credentials over plain HTTP to `http://roster-test.invalid/` (from `--graph-endpoint`)"
        ),
        "{}",
        r.out
    );
    assert!(r.out.contains("hint: use an https:// URL"), "{}", r.out);
    assert!(
        r.out
            .contains("loopback host (127.0.0.0/8, ::1, localhost)"),
        "{}",
        r.out
    );
    // No lookup, no retries: refused at once.
    assert!(r.took < Duration::from_secs(5), "took {:?}", r.took);
    assert_no_secret(&r.out);
    assert_eq!(trap.received(), "");
}

#[test]
fn plain_http_to_a_private_address_in_the_tenant_settings_is_refused_naming_the_setting() {
    let trap = Recorder::start(502, String::new());
    for (settings, origin, url) in [
        (
            r#"endpoint="http://10.1.2.3/""#,
            "the `endpoint` of the graph provider in the tenant settings",
            "http://10.1.2.3/",
        ),
        (
            r#"endpoint="http://127.0.0.1:9/" authority="http://10.1.2.3:8080""#,
            "the `authority` of the graph provider in the tenant settings",
            "http://10.1.2.3:8080/",
        ),
    ] {
        let dir = config(settings);
        for cmd in ["plan", "snapshot"] {
            let mut args = vec![cmd];
            if cmd == "snapshot" {
                args.extend(["--out", "/dev/null"]);
            }
            let r = run(dir.path(), &trap, &args, &[]);
            assert_eq!(r.code, 1, "{}", r.out);
            let want = format!("plain HTTP to `{url}` (from {origin})");
            assert!(r.out.contains(&want), "{want}\n{}", r.out);
            assert!(r.took < Duration::from_secs(5), "took {:?}", r.took);
        }
    }
    assert_eq!(trap.received(), "");
}

/// Graph on loopback: a token for anyone, and a first page of users whose
/// `@odata.nextLink` is `link`.
fn graph_linking_to(link: &'static str) -> Recorder {
    Recorder::answering(move |line| {
        let body = if line.contains("/oauth2/v2.0/token") {
            serde_json::json!({ "token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN })
        } else if line.starts_with("GET /v1.0/users?") {
            serde_json::json!({ "value": [], "@odata.nextLink": link })
        } else {
            serde_json::json!({ "value": [] })
        };
        (200, body.to_string())
    })
}

#[test]
fn a_link_from_graph_to_plain_http_beyond_loopback_gets_no_token() {
    // Graph on loopback, whose first page of users links to a private
    // address over plain HTTP.
    let graph = graph_linking_to("http://10.1.2.3/v1.0/users?$skiptoken=2");
    plan_refused_by_link(
        &graph,
        "plain HTTP to `http://10.1.2.3/v1.0/users?$skiptoken=2` (from a link in an answer of Graph)",
    );
    assert!(graph.received().contains(&format!("Bearer {TOKEN}")));
}

/// `roster plan` through `graph` (a trap behind every proxy variable)
/// fails saying `refusal`, prints no secret, and reaches nothing but
/// `graph`.
fn plan_refused_by_link(graph: &Recorder, refusal: &str) {
    let trap = Recorder::start(502, String::new());
    let dir = config("");
    let endpoint = graph.url();
    let r = run(
        dir.path(),
        &trap,
        &["plan", "--graph-endpoint", &endpoint],
        &[("RUST_LOG", "debug")],
    );
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(r.out.contains(refusal), "{}", r.out);
    assert_no_secret(&r.out);
    assert_eq!(trap.received(), "");
}

#[test]
fn a_link_from_graph_to_another_host_gets_no_token() {
    // Graph on loopback, whose first page of users links (over https, so
    // the transport check alone would let it through) to another host.
    let graph = graph_linking_to("https://graph.contoso.example/v1.0/users?$skiptoken=2");
    plan_refused_by_link(
        &graph,
        "refusing to follow a link to `https://graph.contoso.example/v1.0/users?$skiptoken=2` from an answer of Graph",
    );
    // Exactly one request for the users' first page: the foreign link was
    // never asked, by the read-ahead or otherwise.
    assert_eq!(graph.received().matches("GET /v1.0/users?").count(), 1);
}

#[test]
fn a_redirect_of_the_token_request_to_plain_http_beyond_loopback_is_not_followed() {
    let trap = Recorder::start(502, String::new());
    // 307 keeps the method and the body: following it would resend the
    // form with the secret.
    let idp = Recorder::start(307, "http://10.1.2.3/contoso/oauth2/v2.0/token".into());
    let dir = config("");
    let endpoint = idp.url();
    let r = run(
        dir.path(),
        &trap,
        &["plan", "--graph-endpoint", &endpoint],
        &[("RUST_LOG", "debug")],
    );
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(
        r.out.contains(
            "refusing to send credentials over plain HTTP to `http://10.1.2.3/contoso/oauth2/v2.0/token` (from a redirect of the token request)"
        ),
        "{}",
        r.out
    );
    assert_no_secret(&r.out);
    assert!(idp.received().contains("client_secret="));
    assert_eq!(trap.received(), "", "the redirect was followed");
}

/// Graph on loopback whose first page of users names its next page before
/// `value`, and holds a row with a key `@odata.nextLink` of its own near
/// the page's end: the read-ahead's guess (the last such key) is wrong.
#[test]
fn a_read_ahead_guess_the_page_contradicts_is_dropped_for_the_pages_own_link() {
    let port = Arc::new(std::sync::atomic::AtomicU16::new(0));
    let seen = port.clone();
    let graph = Recorder::answering(move |line| {
        let base = format!("http://127.0.0.1:{}/v1.0", seen.load(Ordering::SeqCst));
        let user = |id: &str| {
            serde_json::json!({ "id": id, "userPrincipalName": format!("{id}@contoso.example"),
                "accountEnabled": true, "city": "London" })
        };
        let body = if line.contains("/oauth2/v2.0/token") {
            serde_json::json!({ "token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN })
        } else if line.starts_with("GET /v1.0/users?") && line.contains("skiptoken=2") {
            serde_json::json!({ "value": [user("u2")] })
        } else if line.starts_with("GET /v1.0/users?") && line.contains("skiptoken=") {
            serde_json::json!({ "value": [user("wrong")] })
        } else if line.starts_with("GET /v1.0/users?") {
            let mut row = user("u1");
            row["@odata.nextLink"] = format!("{base}/users?$skiptoken=guess").into();
            let page = serde_json::json!({ "value": [row] });
            // The page's own link first, as Graph may write it.
            let link = serde_json::json!(format!("{base}/users?$skiptoken=2"));
            let text = page.to_string();
            return (200, format!("{{\"@odata.nextLink\":{link},{}", &text[1..]));
        } else {
            serde_json::json!({ "value": [] })
        };
        (200, body.to_string())
    });
    port.store(graph.port, Ordering::SeqCst);
    let trap = Recorder::start(502, String::new());
    let dir = config("");
    let out = dir.path().join("snapshot.json");
    let endpoint = graph.url();
    let r = run(
        dir.path(),
        &trap,
        &[
            "snapshot",
            "--graph-endpoint",
            &endpoint,
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.out);
    let snapshot: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let ids: Vec<&str> = snapshot["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["u1", "u2"], "the page's own link is followed");
    let received = graph.received();
    assert_eq!(received.matches("skiptoken=2").count(), 1, "{received}");
    assert_eq!(trap.received(), "");
}
