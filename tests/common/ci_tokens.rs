//! A loopback stand-in for a CI's OIDC token service (GitHub Actions'
//! and Azure Pipelines' shapes) issuing unsigned JWTs with chosen claims,
//! for the workload identity federation tests. It listens on 127.0.0.1
//! only and is stopped on drop.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

pub const ISSUER: &str = "https://token.actions.githubusercontent.com";
pub const SUBJECT: &str = "repo:contoso/teams:environment:tenant";
pub const AUDIENCE: &str = "api://AzureADTokenExchange";
pub const GITHUB_REQUEST_TOKEN: &str = "gh-request-token-5f4e3d2c1b";
pub const ADO_ACCESS_TOKEN: &str = "ado-access-token-9a8b7c6d5e";
pub const SERVICE_CONNECTION: &str = "3f2d1c0b-aaaa-bbbb-cccc-123456789abc";

/// Environment variables for a run.
pub type Env = Vec<(&'static str, String)>;

/// Claims the stand-in puts in the tokens it issues.
#[derive(Clone)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    /// `None`: the audience the request asked for.
    pub aud: Option<String>,
    /// Seconds from now.
    pub exp: i64,
}

impl Default for Claims {
    fn default() -> Self {
        Claims {
            iss: ISSUER.into(),
            sub: SUBJECT.into(),
            aud: None,
            exp: 300,
        }
    }
}

/// An unsigned JWT (`alg: none`, a dummy signature part).
pub fn jwt(claims: &Claims, aud: &str, n: u64) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let e = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let body = json!({
        "iss": claims.iss, "sub": claims.sub,
        "aud": claims.aud.as_deref().unwrap_or(aud),
        "nbf": now - 5, "iat": now - 5, "exp": now + claims.exp,
        "jti": format!("oidc-{n}"),
    });
    format!(
        "{}.{}.{}",
        e(json!({"alg": "none", "typ": "JWT"})),
        e(body),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("unsigned-{n}"))
    )
}

/// The CI's token service on loopback: `GET /github?…&audience=…` with
/// `Authorization: bearer …` answers `{"value": JWT}`;
/// `POST /ado?api-version=7.1&serviceConnectionId=…` with
/// `Authorization: Bearer …` answers `{"oidcToken": JWT}`. Anything else
/// (a proxied request, a wrong credential) is answered 400/401.
pub struct CiTokens {
    port: u16,
    /// Every token issued, in order.
    issued: Arc<Mutex<Vec<String>>>,
    /// Answer with an empty JSON object instead of a token.
    pub empty: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CiTokens {
    pub fn start(claims: Claims) -> CiTokens {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let issued = Arc::new(Mutex::new(Vec::new()));
        let empty = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (i, e, halt) = (issued.clone(), empty.clone(), stop.clone());
        let counter = AtomicU64::new(0);
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => serve(conn, &|request: &str| {
                        answer(request, &claims, &e, &counter, &i)
                    }),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        CiTokens {
            port,
            issued,
            empty,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn issued(&self) -> Vec<String> {
        self.issued.lock().unwrap().clone()
    }

    /// The environment GitHub Actions gives a job with `id-token: write`.
    pub fn github_env(&self) -> Env {
        vec![
            (
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                format!("{}/github?api-version=2.0", self.url()),
            ),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                GITHUB_REQUEST_TOKEN.into(),
            ),
        ]
    }

    /// The environment of an Azure Pipelines step.
    pub fn pipelines_env(&self) -> Env {
        vec![
            ("SYSTEM_OIDCREQUESTURI", format!("{}/ado", self.url())),
            ("SYSTEM_ACCESSTOKEN", ADO_ACCESS_TOKEN.into()),
        ]
    }
}

impl Drop for CiTokens {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(
    request: &str,
    claims: &Claims,
    empty: &AtomicBool,
    counter: &AtomicU64,
    issued: &Mutex<Vec<String>>,
) -> (u16, String) {
    let line = request.lines().next().unwrap_or("");
    let auth = request
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("authorization")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    let target = line.split(' ').nth(1).unwrap_or("");
    let url = url::Url::parse(&format!("http://x{target}")).unwrap();
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (field, aud) = if line.starts_with("GET /github?") {
        if auth != format!("bearer {GITHUB_REQUEST_TOKEN}") || q("api-version").is_none() {
            return (401, r#"{"message":"bad request token"}"#.into());
        }
        ("value", q("audience").unwrap_or_default())
    } else if line.starts_with("POST /ado?") {
        if auth != format!("Bearer {ADO_ACCESS_TOKEN}")
            || q("api-version").as_deref() != Some("7.1")
            || q("serviceConnectionId").as_deref() != Some(SERVICE_CONNECTION)
        {
            return (
                401,
                r#"{"message":"bad access token or service connection"}"#.into(),
            );
        }
        // Azure Pipelines always issues for Entra's federation audience.
        ("oidcToken", AUDIENCE.to_string())
    } else {
        return (400, r#"{"message":"not a token request"}"#.into());
    };
    if empty.load(Ordering::SeqCst) {
        return (200, "{}".into());
    }
    let token = jwt(claims, &aud, counter.fetch_add(1, Ordering::SeqCst));
    issued.lock().unwrap().push(token.clone());
    (200, json!({ field: token }).to_string())
}

/// Read one request (headers and `Content-Length` bytes), answer, close.
fn serve(mut conn: TcpStream, answer: &dyn Fn(&str) -> (u16, String)) {
    let buf = super::http::read_request(&mut conn);
    let (status, body) = answer(&String::from_utf8_lossy(&buf));
    super::http::answer(&mut conn, status, "", &body);
}
