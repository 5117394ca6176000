//! `roster emulator`: a faithful fake of the Microsoft Graph endpoints
//! roster uses, seeded from a tenant snapshot (`docs/emulator.md`). This module
//! owns the server and its options; each resource lives in its own file.
//!
//! One fallback handler parses every request (OData paths such as
//! `operations('id')` and `getPolicyId(type=…,name=…)` do not fit a router),
//! then runs the same pipeline for top-level and `$batch` sub-requests:
//! authentication ([`identity`]), Graph's published limits ([`throttle`]),
//! the chaos throttling and injected faults ([`faults`]), permissions (the Graph side's [`routes`] table, which the
//! emulator reads and never defines), and the route itself
//! ([`api::handle`]; `GET`s share the tenant's lock, writes take it alone).
//! Every request is counted by route and status for
//! `/_emulator/stats`. Test endpoints under `/_emulator/` change the
//! directory ([`directory`]), which `/users/delta` follows ([`delta`]). The emulator must not be used by the provider: the
//! dependency runs one way, emulator to provider.

pub mod api;
mod batch;
mod delta;
mod directory;
mod faults;
mod groups;
mod identity;
mod index;
mod licences;
mod numbers;
pub mod odata;
mod policies;
pub mod state;
pub mod throttle;
mod users;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response as AxumResponse};
use serde_json::{Value, json};

use crate::provider::graph::routes;
use api::{ApiOptions, Request, Response};
pub use identity::ALL_ROLES;
use state::TenantState;

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
    /// Graph's published limits per app (resource units per 10 s, writes
    /// per 150 s); `None` for none.
    pub limits: Option<throttle::Limits>,
    /// Requests per second per client, a "chaos" token bucket on top of
    /// `limits`; 0 for none.
    pub throttle_rps: f64,
    pub fault_rate: f64,
    pub seed: u64,
    pub operation_delay: Duration,
    pub api: ApiOptions,
    /// The federated credential of the app (workload identity
    /// federation): assertions from another issuer are checked against it.
    pub federated: Option<Federated>,
}

/// What a federated credential accepts (an app registration's
/// `federatedIdentityCredential`).
#[derive(Debug, Clone)]
pub struct Federated {
    pub issuer: String,
    pub subject: String,
    pub audience: String,
}

/// The audience of a federated credential unless told otherwise.
pub const FEDERATED_AUDIENCE: &str = "api://AzureADTokenExchange";

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
            limits: Some(throttle::Limits::default()),
            throttle_rps: 0.0,
            fault_rate: 0.0,
            seed: 1,
            operation_delay: Duration::from_millis(0),
            api: ApiOptions::default(),
            federated: None,
        }
    }

    /// Listening on more than this machine (`0.0.0.0`, a LAN address).
    pub fn beyond_loopback(&self) -> bool {
        !self.listen.ip().is_loopback()
    }

    /// A client id and a non-empty client secret are required for tokens.
    pub fn requires_credentials(&self) -> bool {
        self.client_id.as_deref().is_some_and(|c| !c.is_empty())
            && self.client_secret.as_deref().is_some_and(|s| !s.is_empty())
    }
}

pub struct Emulator {
    opts: Options,
    /// Reads share it; writes (and finishing number operations) take it alone.
    tenant: RwLock<TenantState>,
    tokens: Mutex<HashMap<String, identity::Token>>,
    buckets: Mutex<HashMap<String, faults::Bucket>>,
    limits: Mutex<Option<throttle::Throttle>>,
    /// The tenant's id (for `x-ms-throttle-scope`).
    tenant_id: String,
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
    /// Beyond loopback without required credentials: anyone who reaches
    /// the address could take a token and read or change the tenant.
    #[error(
        "refusing to listen on {addr} without credentials: beyond loopback, anyone who reaches it could take a token with any client id and secret and read or change the emulated tenant\nhint: listen on loopback (`--listen 127.0.0.1:PORT`), or require credentials with `--client-id ID --client-secret-env VAR` (a non-empty secret)"
    )]
    Open { addr: SocketAddr },
    /// Federated assertions are not signature-checked: beyond loopback,
    /// anyone who reaches the address could make one.
    #[error(
        "refusing to accept federated assertions on {addr}: the emulator checks their claims but not their signatures, so beyond loopback anyone who reaches it could make one\nhint: listen on loopback (`--listen 127.0.0.1:PORT`) with `--federated-issuer`"
    )]
    FederatedOpen { addr: SocketAddr },
}

impl Emulator {
    /// Refuses a listen address beyond loopback unless a client id and a
    /// non-empty secret are required ([`EmulatorError::Open`]), and
    /// federated assertions beyond loopback ([`EmulatorError::FederatedOpen`]).
    pub fn new(opts: Options) -> Result<Arc<Self>, EmulatorError> {
        if opts.beyond_loopback() && !opts.requires_credentials() {
            return Err(EmulatorError::Open { addr: opts.listen });
        }
        if opts.beyond_loopback() && opts.federated.is_some() {
            return Err(EmulatorError::FederatedOpen { addr: opts.listen });
        }
        let file = opts.tenant_file.display().to_string();
        let text = std::fs::read_to_string(&opts.tenant_file).map_err(|source| {
            crate::snapshot::SnapshotError::Io {
                file: file.clone(),
                source,
            }
        })?;
        let tenant = TenantState::load(text, &file, opts.state_file.clone(), opts.operation_delay)?;
        let limits = opts
            .limits
            .clone()
            .map(|l| throttle::Throttle::new(l, tenant.live.users.len()));
        Ok(Arc::new(Emulator {
            rng: Mutex::new(fastrand::Rng::with_seed(opts.seed)),
            limits: Mutex::new(limits),
            tenant_id: tenant.live.tenant_id.clone(),
            opts,
            tenant: RwLock::new(tenant),
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

    fn read_tenant(&self) -> std::sync::RwLockReadGuard<'_, TenantState> {
        self.tenant.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_tenant(&self) -> std::sync::RwLockWriteGuard<'_, TenantState> {
        self.tenant.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Run one Graph request against the tenant: a `GET` under the shared
    /// lock (after finishing due number operations, which needs the
    /// exclusive one only when some are due), a write under the exclusive
    /// lock.
    fn run(&self, req: &Request<'_>) -> Response {
        if req.method != "GET" {
            return api::handle(&mut self.write_tenant(), &self.opts.api, req);
        }
        // The shared guard is gone before the exclusive one is taken.
        let due = self.read_tenant().has_due();
        if due && let Some(e) = api::finish_due(&mut self.write_tenant()) {
            return e;
        }
        api::read(&self.read_tenant(), &self.opts.api, req)
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
        // A read is served at once and answered `latency` after it arrived
        // (the latency stands for Graph's whole round trip, its own work
        // included, so the emulator's work is not added on top); a write
        // waits the latency first, as before, so a client gone meanwhile
        // leaves it unapplied.
        let arrived = tokio::time::Instant::now();
        let read = method == Method::GET;
        if !read && !self.opts.latency.is_zero() {
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
        if read {
            tokio::time::sleep_until(arrived + self.opts.latency).await;
        }
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
        // The test endpoints show the whole tenant: beyond loopback they
        // need a token like any Graph route.
        if path.starts_with("/_emulator/")
            && self.opts.beyond_loopback()
            && let Err(r) = self.authenticate(headers)
        {
            self.count("unauthenticated", r.status);
            return r;
        }
        if path == "/_emulator/stats" {
            return Response::json(200, self.stats_json());
        }
        if path.starts_with("/_emulator/users") || path == "/_emulator/delta/expire" {
            return directory::handle(&mut self.write_tenant(), method, path, body);
        }
        if path == "/_emulator/snapshot" {
            let text = self.read_tenant().snapshot_text();
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
        let path = routes::normalize_path(raw_path);
        let Some((route, perms)) = routes::route(method, &path) else {
            let r = Response::error(
                400,
                "Request_BadRequest",
                &format!("Resource not found for the segment '{raw_path}'."),
            );
            self.count(&format!("{method} (unknown)"), r.status);
            return r;
        };
        let mut admitted = Vec::new();
        let mut r = if let Err(r) = self
            .graph_limits(client, method, &path, &query)
            .map(|h| admitted = h)
        {
            r
        } else if let Some(r) = self.throttle(client) {
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
            self.run(&req)
        };
        r.headers.extend(admitted);
        self.count(&route, r.status);
        r
    }

    /// The current state as tenant snapshot JSON (as `/_emulator/snapshot`).
    pub fn snapshot_text(&self) -> String {
        self.read_tenant().snapshot_text()
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
}

/// `/v1.0/users` -> (`v1.0`, `/users`).
fn split_version(path: &str) -> Option<(&'static str, &str)> {
    if let Some(rest) = path.strip_prefix("/v1.0") {
        Some(("v1.0", rest))
    } else {
        path.strip_prefix("/beta").map(|rest| ("beta", rest))
    }
}

fn to_axum(r: Response) -> AxumResponse {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match (r.body, r.raw) {
        (Some(Value::String(text)), true) => (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            text,
        )
            .into_response(),
        (Some(b), _) => (status, axum::Json(b)).into_response(),
        (None, _) => status.into_response(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn options(listen: &str, id: Option<&str>, secret: Option<&str>) -> Options {
        let mut o = Options::new(PathBuf::from("/nonexistent/tenant.json"));
        o.listen = listen.parse().unwrap();
        o.client_id = id.map(str::to_string);
        o.client_secret = secret.map(str::to_string);
        o
    }

    fn refused(o: Options) -> bool {
        matches!(Emulator::new(o), Err(EmulatorError::Open { .. }))
    }

    #[test]
    fn beyond_loopback_needs_a_client_id_and_a_secret() {
        assert!(refused(options("0.0.0.0:0", None, None)));
        assert!(refused(options("[::]:0", Some("app"), None)));
        assert!(refused(options("10.1.2.3:0", None, Some("s3cret"))));
        assert!(refused(options("0.0.0.0:0", Some("app"), Some(""))));
        // Past the check, the (missing) tenant file is the next complaint.
        assert!(!refused(options("0.0.0.0:0", Some("app"), Some("s3cret"))));
        assert!(!refused(options("127.0.0.1:0", None, None)));
        assert!(!refused(options("[::1]:0", None, None)));
    }

    #[test]
    fn federated_assertions_are_loopback_only() {
        let federated = |listen: &str| {
            let mut o = options(listen, Some("app"), Some("s3cret"));
            o.federated = Some(Federated {
                issuer: "https://issuer.example".into(),
                subject: "sub".into(),
                audience: FEDERATED_AUDIENCE.into(),
            });
            Emulator::new(o)
        };
        let e = federated("0.0.0.0:0").err().unwrap();
        assert!(matches!(e, EmulatorError::FederatedOpen { .. }), "{e}");
        assert!(e.to_string().contains("not their signatures"), "{e}");
        // On loopback, the (missing) tenant file is the next complaint.
        let e = federated("127.0.0.1:0").err().unwrap();
        assert!(matches!(e, EmulatorError::Snapshot(_)), "{e}");
    }

    #[test]
    fn the_refusal_says_how_to_fix_it() {
        let e = Emulator::new(options("0.0.0.0:8080", None, None))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("refusing to listen on 0.0.0.0:8080"), "{e}");
        assert!(e.contains("--client-id ID --client-secret-env VAR"), "{e}");
    }
}
