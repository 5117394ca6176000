//! `roster emulator`: a faithful fake of the Microsoft Graph endpoints
//! roster uses, seeded from a tenant snapshot (`emulator.md`).
//!
//! One fallback handler parses every request (OData paths such as
//! `operations('id')` and `getPolicyId(type=…,name=…)` do not fit a router),
//! then runs the same pipeline for top-level and `$batch` sub-requests:
//! authentication, per-client throttling, injected faults, permissions, and
//! the route itself ([`api::handle`]). Every request is counted by route and
//! status for `/_emulator/stats`.

pub mod api;
pub mod odata;
pub mod state;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response as AxumResponse};
use base64::Engine as _;
use serde_json::{Value, json};

use api::{ApiOptions, Request, Response};
use state::Tenant;

/// Every application permission roster's reads and writes need.
pub const ALL_ROLES: &[&str] = &[
    "User.Read.All",
    "GroupMember.Read.All",
    "TeamsUserConfiguration.Read.All",
    "TeamsPolicyUserAssign.ReadWrite.All",
    "TeamsTelephoneNumber.ReadWrite.All",
];

#[derive(Debug, Clone)]
pub struct Options {
    pub tenant_file: PathBuf,
    pub listen: SocketAddr,
    pub state_file: Option<PathBuf>,
    /// Only these credentials are accepted when given.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Application permissions granted to the app (the token's `roles`).
    pub roles: Vec<String>,
    pub token_lifetime: Duration,
    /// The `expires_in` reported to clients, when it should differ from the
    /// real lifetime (to make tokens expire under a client's feet, as a
    /// revoked or skewed token does).
    pub token_reported_lifetime: Option<Duration>,
    pub latency: Duration,
    /// Requests per second per client; 0 for no throttling.
    pub throttle_rps: f64,
    pub fault_rate: f64,
    pub seed: u64,
    pub operation_delay: Duration,
    pub api: ApiOptions,
}

impl Options {
    pub fn new(tenant_file: PathBuf) -> Self {
        Options {
            tenant_file,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            state_file: None,
            client_id: None,
            client_secret: None,
            roles: ALL_ROLES.iter().map(|s| s.to_string()).collect(),
            token_lifetime: Duration::from_secs(3599),
            token_reported_lifetime: None,
            latency: Duration::ZERO,
            throttle_rps: 0.0,
            fault_rate: 0.0,
            seed: 1,
            operation_delay: Duration::from_millis(0),
            api: ApiOptions::default(),
        }
    }
}

struct Token {
    client_id: String,
    expires: Instant,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

pub struct Emulator {
    opts: Options,
    tenant: Mutex<Tenant>,
    tokens: Mutex<HashMap<String, Token>>,
    buckets: Mutex<HashMap<String, Bucket>>,
    rng: Mutex<fastrand::Rng>,
    stats: Mutex<BTreeMap<(String, u16), u64>>,
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error(transparent)]
    Snapshot(#[from] crate::snapshot::SnapshotError),
    #[error(
        "cannot listen on {addr}: {source}\nhint: pick another address with `--listen 127.0.0.1:PORT`"
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("emulator stopped: {0}")]
    Serve(std::io::Error),
}

impl Emulator {
    pub fn new(opts: Options) -> Result<Arc<Self>, EmulatorError> {
        let file = opts.tenant_file.display().to_string();
        let text = std::fs::read_to_string(&opts.tenant_file).map_err(|source| {
            crate::snapshot::SnapshotError::Io {
                file: file.clone(),
                source,
            }
        })?;
        let tenant = Tenant::load(text, &file, opts.state_file.clone(), opts.operation_delay)?;
        Ok(Arc::new(Emulator {
            rng: Mutex::new(fastrand::Rng::with_seed(opts.seed)),
            opts,
            tenant: Mutex::new(tenant),
            tokens: Mutex::new(HashMap::new()),
            buckets: Mutex::new(HashMap::new()),
            stats: Mutex::new(BTreeMap::new()),
        }))
    }

    /// Bind and serve until `shutdown` resolves. Calls `ready` with the
    /// bound address (useful with port 0).
    pub async fn serve(
        self: Arc<Self>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
        ready: impl FnOnce(SocketAddr),
    ) -> Result<(), EmulatorError> {
        let addr = self.opts.listen;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let local = listener.local_addr().map_err(EmulatorError::Serve)?;
        ready(local);
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let emu = self.clone();
                async move { emu.http(method, uri, headers, body).await }
            },
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(EmulatorError::Serve)
    }

    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn count(&self, route: &str, status: u16) {
        *Self::lock(&self.stats)
            .entry((route.to_string(), status))
            .or_default() += 1;
    }

    async fn http(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> AxumResponse {
        if !self.opts.latency.is_zero() {
            tokio::time::sleep(self.opts.latency).await;
        }
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let base = format!("http://{host}");
        let path = uri.path().to_string();
        let query: Vec<(String, String)> = uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let resp = self.dispatch(method.as_str(), &path, query, &headers, &body, &base);
        tracing::info!(method = %method, path = %path, status = resp.status, "request");
        to_axum(resp)
    }

    fn dispatch(
        &self,
        method: &str,
        path: &str,
        query: Vec<(String, String)>,
        headers: &HeaderMap,
        body: &[u8],
        base: &str,
    ) -> Response {
        if path.ends_with("/oauth2/v2.0/token") && method == "POST" {
            let r = self.token(headers, body);
            self.count("POST /{tenant}/oauth2/v2.0/token", r.status);
            return r;
        }
        if path == "/_emulator/stats" {
            return Response::json(200, self.stats_json());
        }
        if path == "/_emulator/snapshot" {
            let text = Self::lock(&self.tenant).snapshot_text();
            return Response::json(200, serde_json::from_str(&text).unwrap_or(Value::Null));
        }
        let Some((version, rest)) = split_version(path) else {
            return Response::error(
                404,
                "Request_ResourceNotFound",
                &format!("No resource at `{path}`: paths start with /v1.0 or /beta."),
            );
        };
        let client = match self.authenticate(headers) {
            Ok(c) => c,
            Err(r) => {
                self.count("unauthenticated", r.status);
                return r;
            }
        };
        if rest == "/$batch" && method == "POST" {
            let r = self
                .fault()
                .unwrap_or_else(|| self.batch(&client, version, body, base));
            self.count("POST /$batch", r.status);
            return r;
        }
        let consistency = headers
            .get("consistencylevel")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
        let json_body = if body.is_empty() {
            None
        } else {
            serde_json::from_slice(body).ok()
        };
        if !body.is_empty() && json_body.is_none() {
            return Response::error(400, "BadRequest", "The request body is not valid JSON.");
        }
        self.one(
            &client,
            method,
            version,
            rest,
            query,
            consistency,
            json_body,
            base,
        )
    }

    /// The pipeline for one Graph request (top-level or inside `$batch`).
    #[allow(clippy::too_many_arguments)]
    fn one(
        &self,
        client: &str,
        method: &str,
        version: &str,
        raw_path: &str,
        query: Vec<(String, String)>,
        consistency: bool,
        body: Option<Value>,
        base: &str,
    ) -> Response {
        let path = api::normalize_path(raw_path);
        let Some((route, perms)) = api::route(method, &path) else {
            let r = Response::error(
                400,
                "Request_BadRequest",
                &format!("Resource not found for the segment '{raw_path}'."),
            );
            self.count(&format!("{method} (unknown)"), r.status);
            return r;
        };
        let r = if let Some(r) = self.throttle(client) {
            r
        } else if let Some(r) = self.fault() {
            r
        } else if !perms
            .iter()
            .any(|p| self.opts.roles.iter().any(|r| r.eq_ignore_ascii_case(p)))
        {
            Response::error(
                403,
                "Authorization_RequestDenied",
                &format!(
                    "Insufficient privileges to complete the operation. This call needs one of these application permissions: {}.",
                    perms.join(", ")
                ),
            )
        } else {
            let req = Request {
                method,
                path: &path,
                version,
                query,
                consistency_eventual: consistency,
                body,
                base,
            };
            let mut t = Self::lock(&self.tenant);
            api::handle(&mut t, &self.opts.api, &req)
        };
        self.count(&route, r.status);
        r
    }

    /// The current state as tenant snapshot JSON (as `/_emulator/snapshot`).
    pub fn snapshot_text(&self) -> String {
        Self::lock(&self.tenant).snapshot_text()
    }

    /// Requests served by route and status (as `/_emulator/stats`).
    pub fn stats_json(&self) -> Value {
        let stats = Self::lock(&self.stats);
        let total: u64 = stats.values().sum();
        let requests: Vec<Value> = stats
            .iter()
            .map(|((route, status), count)| json!({ "route": route, "status": status, "count": count }))
            .collect();
        json!({ "total": total, "requests": requests })
    }

    fn authenticate(&self, headers: &HeaderMap) -> Result<String, Response> {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let Some(token) = auth
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return Err(Response::error(
                401,
                "InvalidAuthenticationToken",
                "Access token is empty.",
            ));
        };
        let tokens = Self::lock(&self.tokens);
        match tokens.get(token) {
            Some(t) if t.expires > Instant::now() => Ok(t.client_id.clone()),
            Some(_) => Err(Response::error(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            )),
            None => Err(Response::error(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience.",
            )),
        }
    }

    /// The identity platform's client-credentials token endpoint.
    fn token(&self, headers: &HeaderMap, body: &[u8]) -> Response {
        let form: HashMap<String, String> =
            url::form_urlencoded::parse(body).into_owned().collect();
        let aad = |error: &str, code: u32, text: &str| {
            Response::json(
                400,
                json!({
                    "error": error,
                    "error_description": format!("AADSTS{code}: {text}"),
                    "error_codes": [code],
                    "timestamp": odata::now_iso(),
                    "trace_id": uuid::Uuid::new_v4().to_string(),
                    "correlation_id": uuid::Uuid::new_v4().to_string(),
                }),
            )
        };
        if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return aad(
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            );
        }
        if !form.get("scope").is_some_and(|s| s.ends_with("/.default")) {
            return aad(
                "invalid_scope",
                70011,
                "The provided value for the input parameter 'scope' is not valid.",
            );
        }
        // Credentials in the form, or by HTTP Basic.
        let basic = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| {
                base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .ok()
            })
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.split_once(':')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
            });
        let client_id = form
            .get("client_id")
            .cloned()
            .or_else(|| basic.as_ref().map(|b| b.0.clone()))
            .unwrap_or_default();
        let secret = form
            .get("client_secret")
            .cloned()
            .or_else(|| basic.as_ref().map(|b| b.1.clone()));
        let assertion = form.get("client_assertion").cloned();
        if let Some(want) = &self.opts.client_id
            && &client_id != want
        {
            return aad(
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory."
                ),
            );
        }
        match (secret, assertion) {
            (Some(s), _) => {
                if let Some(want) = &self.opts.client_secret
                    && &s != want
                {
                    return aad(
                        "invalid_client",
                        7000215,
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
                    );
                }
            }
            (None, Some(a)) => {
                if form.get("client_assertion_type").map(String::as_str)
                    != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                {
                    return aad(
                        "invalid_request",
                        90002,
                        "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
                    );
                }
                if let Err(e) = check_assertion(&a, &client_id) {
                    return aad(
                        "invalid_client",
                        700027,
                        &format!("Client assertion failed validation: {e}."),
                    );
                }
            }
            (None, None) => {
                return aad(
                    "invalid_client",
                    7000216,
                    "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
                );
            }
        }
        let token = format!("emu.{}", uuid::Uuid::new_v4().simple());
        Self::lock(&self.tokens).insert(
            token.clone(),
            Token {
                client_id,
                expires: Instant::now() + self.opts.token_lifetime,
            },
        );
        let secs = self
            .opts
            .token_reported_lifetime
            .unwrap_or(self.opts.token_lifetime)
            .as_secs()
            .max(1);
        Response::json(
            200,
            json!({ "token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": token }),
        )
    }

    /// A token bucket per client: `throttle_rps` per second, bursts of the same.
    fn throttle(&self, client: &str) -> Option<Response> {
        let rps = self.opts.throttle_rps;
        if rps <= 0.0 {
            return None;
        }
        let mut buckets = Self::lock(&self.buckets);
        let now = Instant::now();
        let b = buckets.entry(client.to_string()).or_insert(Bucket {
            tokens: rps.max(1.0),
            last: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rps).min(rps.max(1.0));
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return None;
        }
        let wait = (1.0 - b.tokens) / rps;
        let retry = if wait < 1.0 {
            format!("{:.3}", wait.max(0.001))
        } else {
            format!("{}", wait.ceil() as u64)
        };
        let mut r = Response::json(
            429,
            json!({ "error": {
                "code": "TooManyRequests",
                "message": "Please retry again later.",
                "innerError": { "code": "429", "date": odata::now_iso(), "message": "Please retry after", "request-id": uuid::Uuid::new_v4().to_string(), "status": "429" }
            }}),
        );
        r.headers.push(("Retry-After".into(), retry));
        Some(r)
    }

    /// Injected 503/504 faults, reproducible for a seed.
    fn fault(&self) -> Option<Response> {
        if self.opts.fault_rate <= 0.0 {
            return None;
        }
        let mut rng = Self::lock(&self.rng);
        if rng.f64() >= self.opts.fault_rate {
            return None;
        }
        let (status, msg) = if rng.bool() {
            (
                503,
                "The service is temporarily unavailable. Please retry later.",
            )
        } else {
            (504, "Gateway timeout.")
        };
        let mut r = Response::error(status, "serviceNotAvailable", msg);
        if rng.bool() {
            r.headers
                .push(("Retry-After".into(), format!("0.{}", rng.u8(1..5))));
        }
        Some(r)
    }

    /// `POST /$batch`: up to 20 requests, `dependsOn` honoured (424 when a
    /// prerequisite failed), per-request status and headers.
    fn batch(&self, client: &str, version: &str, body: &[u8], base: &str) -> Response {
        let Ok(doc) = serde_json::from_slice::<Value>(body) else {
            return Response::error(400, "BadRequest", "Invalid batch payload format.");
        };
        let Some(requests) = doc.get("requests").and_then(Value::as_array) else {
            return Response::error(
                400,
                "BadRequest",
                "Invalid batch payload format: `requests` is required.",
            );
        };
        if requests.len() > 20 {
            return Response::error(
                400,
                "BadRequest",
                "Number of requests inside batch exceeds the limit.",
            );
        }
        let mut ids = std::collections::HashSet::new();
        for r in requests {
            let id = r
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_lowercase();
            if id.is_empty() || r.get("method").is_none() || r.get("url").is_none() {
                return Response::error(
                    400,
                    "BadRequest",
                    "Every batch request needs `id`, `method` and `url`.",
                );
            }
            if !ids.insert(id.clone()) {
                return Response::error(
                    400,
                    "BadRequest",
                    &format!("Batch request id '{id}' is used twice."),
                );
            }
        }
        let mut statuses: HashMap<String, u16> = HashMap::new();
        let mut responses = Vec::new();
        for r in requests {
            let id = r["id"].as_str().unwrap_or_default().to_string();
            let failed_dep = r
                .get("dependsOn")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .any(|d| statuses.get(&d.to_lowercase()).is_none_or(|s| *s >= 400));
            let resp = if failed_dep {
                Response::error(
                    424,
                    "FailedDependency",
                    "A request this request depends on failed.",
                )
            } else {
                let method = r["method"].as_str().unwrap_or("GET").to_uppercase();
                let url = r["url"].as_str().unwrap_or_default();
                let full = url::Url::parse("http://batch.invalid/")
                    .and_then(|b| b.join(url.trim_start_matches('/')));
                match full {
                    Ok(u) => {
                        let query = u.query_pairs().into_owned().collect();
                        let consistency =
                            r.get("headers")
                                .and_then(Value::as_object)
                                .is_some_and(|h| {
                                    h.iter().any(|(k, v)| {
                                        k.eq_ignore_ascii_case("consistencylevel")
                                            && v.as_str()
                                                .is_some_and(|s| s.eq_ignore_ascii_case("eventual"))
                                    })
                                });
                        self.one(
                            client,
                            &method,
                            version,
                            u.path(),
                            query,
                            consistency,
                            r.get("body").cloned(),
                            base,
                        )
                    }
                    Err(_) => {
                        Response::error(400, "BadRequest", &format!("Invalid request url `{url}`."))
                    }
                }
            };
            statuses.insert(id.to_lowercase(), resp.status);
            let headers: serde_json::Map<String, Value> = resp
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            let mut item = json!({ "id": id, "status": resp.status, "headers": headers });
            if let Some(b) = resp.body {
                item["body"] = b;
            }
            responses.push(item);
        }
        Response::json(200, json!({ "responses": responses }))
    }
}

/// `/v1.0/users` -> (`v1.0`, `/users`).
fn split_version(path: &str) -> Option<(&'static str, &str)> {
    if let Some(rest) = path.strip_prefix("/v1.0") {
        Some(("v1.0", rest))
    } else {
        path.strip_prefix("/beta").map(|rest| ("beta", rest))
    }
}

/// Check a client assertion's shape and claims (the signature is not
/// verified: the emulator holds no certificates).
fn check_assertion(jwt: &str, client_id: &str) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return Err("not a JWT".into());
    }
    let decode = |p: &str| -> Result<Value, String> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .map_err(|_| "bad base64url".to_string())?;
        serde_json::from_slice(&bytes).map_err(|_| "bad JSON".to_string())
    };
    let header = decode(parts[0])?;
    let claims = decode(parts[1])?;
    if !matches!(header["alg"].as_str(), Some("PS256" | "RS256")) {
        return Err("alg must be PS256 or RS256".into());
    }
    if header.get("x5t#S256").is_none() && header.get("x5t").is_none() {
        return Err("the header carries no certificate thumbprint".into());
    }
    if claims["iss"].as_str() != Some(client_id) || claims["sub"].as_str() != Some(client_id) {
        return Err("iss and sub must be the client id".into());
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if claims["exp"].as_i64().is_none_or(|e| e < now) {
        return Err("the assertion is expired".into());
    }
    Ok(())
}

fn to_axum(r: Response) -> AxumResponse {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match r.body {
        Some(b) => (status, axum::Json(b)).into_response(),
        None => status.into_response(),
    };
    for (k, v) in r.headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::try_from(k),
            axum::http::HeaderValue::try_from(v),
        ) {
            resp.headers_mut().insert(name, value);
        }
    }
    resp
}
