//! The `graph` provider: Microsoft Graph v1.0 with an app registration
//! (client credentials). Reads and writes are async (reqwest, tokio) behind
//! the synchronous [`Provider`] interface: the provider owns a runtime.

pub(crate) mod auth;
mod batch;
mod configs;
mod delta;
pub mod federated;
mod groups;
mod http;
mod lookups;
mod pace;
mod pages;
pub mod read;
pub mod routes;
pub mod transport;
mod write;

use std::sync::Arc;
use std::time::Duration;

pub use auth::{Credential, Secret};
pub use read::Wanted;

use super::{Outcome, Provider, ProviderError};
use crate::live::LiveState;
use crate::plan::schedule::Step;

pub const DEFAULT_ENDPOINT: &str = "https://graph.microsoft.com";
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

/// Tuning of the HTTP layer.
#[derive(Debug, Clone)]
pub struct Settings {
    pub concurrency: usize,
    /// Attempts for faults (503/504, transport errors).
    pub max_attempts: u32,
    /// How long to keep retrying throttled (429) requests.
    pub throttle_budget: Duration,
    pub timeout: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub poll_initial: Duration,
    pub poll_max: Duration,
    pub poll_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            concurrency: 8,
            max_attempts: 8,
            throttle_budget: Duration::from_secs(600),
            timeout: Duration::from_secs(60),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            poll_initial: Duration::from_secs(1),
            poll_max: Duration::from_secs(8),
            poll_timeout: Duration::from_secs(600),
        }
    }
}

/// Everything needed to reach a tenant.
#[derive(Debug, Clone)]
pub struct Connection {
    pub tenant_id: String,
    pub client_id: String,
    pub credential: Credential,
    pub endpoint: String,
    pub authority: String,
    pub settings: Settings,
}

/// What went wrong talking to Graph, typed by who refused and why. Every
/// answer Graph gave carries its `request-id` (for Microsoft support) when
/// it sent one; the messages name the route, never the host or query.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The identity platform refused the credentials.
    #[error(
        "the identity platform refused the credentials ({status} {code}): {description}\nhint: {}",
        auth_hint(code)
    )]
    Auth {
        status: u16,
        code: String,
        description: String,
    },
    /// The identity platform refused the CI's OIDC token (federation).
    #[error(
        "the identity platform refused the federated token ({status} {code}): {description}\nhint: {}",
        federated_hint(code)
    )]
    FederatedAuth {
        status: u16,
        code: String,
        description: String,
    },
    /// No OIDC token could be had from the CI (federation).
    #[error("cannot get an OIDC token from {source_name}: {message}\nhint: {hint}")]
    Oidc {
        source_name: String,
        message: String,
        hint: String,
    },
    #[error(
        "Graph refused `{route}` (401 {code}): {message}\nhint: the token was rejected even after renewing it; check the tenant id and the app registration"
    )]
    Unauthorized {
        route: String,
        code: String,
        message: String,
        request_id: Option<String>,
    },
    #[error(
        "Graph refused `{route}` (403 {code}): {message}\nhint: grant the app registration the application permission `{permission}` and give admin consent (see the README)"
    )]
    Forbidden {
        route: String,
        code: String,
        message: String,
        permission: String,
        request_id: Option<String>,
    },
    /// Still throttled (429) when the throttle budget ran out.
    #[error("Graph answered `{route}` with 429 {code}: {message}{}", after_attempts(*attempts))]
    Throttled {
        route: String,
        code: String,
        message: String,
        attempts: u32,
        request_id: Option<String>,
    },
    /// Any other answer that is not a success and not retried (or no longer).
    #[error("Graph answered `{route}` with {status} {code}: {message}{}", after_attempts(*attempts))]
    Api {
        route: String,
        status: u16,
        code: String,
        message: String,
        attempts: u32,
        request_id: Option<String>,
    },
    #[error("`{route}` timed out")]
    Timeout { route: String },
    #[error(
        "cannot reach Graph: {0}\nhint: check the network and the `endpoint` of the provider (or `--graph-endpoint`)"
    )]
    Transport(String),
    #[error("unexpected answer from Graph: {0}")]
    Unexpected(String),
    #[error("{0}")]
    Config(String),
    /// A URL that would carry credentials in clear text (neither `https`
    /// nor a loopback host): refused before any lookup or connection.
    #[error(
        "refusing to send credentials over plain HTTP to `{url}` (from {origin}): the client secret and access tokens would travel in clear text\nhint: use an https:// URL; plain http:// is allowed only on a loopback host (127.0.0.0/8, ::1, localhost), such as the emulator on this machine"
    )]
    Insecure { url: String, origin: String },
    /// A link in an answer of Graph (`@odata.nextLink`, an operation's
    /// `Location`) to another host than the Graph endpoint: refused before
    /// any connection, as the access token would go with it.
    #[error(
        "refusing to follow a link to `{url}` from an answer of Graph: it is not on the Graph endpoint `{endpoint}`, and the access token would go with it\nhint: check what answers at the Graph endpoint (a proxy rewriting links?); roster follows links only on the endpoint's own host"
    )]
    ForeignLink { url: String, endpoint: String },
}

fn after_attempts(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

fn auth_hint(code: &str) -> &'static str {
    match code {
        "invalid_client" => {
            "the client secret or certificate was rejected or has expired: check the secret the config names (`client-secret-env`/`client-secret-file`) or the certificate"
        }
        "unauthorized_client" => {
            "the app (client id) is not known in this tenant: check `client-id` and `tenant-id`"
        }
        "invalid_request" => "check `tenant-id`",
        "invalid_scope" => "the scope must be https://graph.microsoft.com/.default",
        _ => "check `tenant-id`, `client-id` and the credential of the provider",
    }
}

fn federated_hint(code: &str) -> &'static str {
    match code {
        "unauthorized_client" | "invalid_scope" => auth_hint(code),
        _ => {
            "check the app registration's federated credential: its issuer, its subject (the repository and the branch, pull request or environment of this run) and the audience `api://AzureADTokenExchange` must match the token, and the token must not have expired"
        }
    }
}

pub struct GraphProvider {
    rt: tokio::runtime::Runtime,
    api: Arc<http::Api>,
    wanted: Wanted,
    live: Option<Arc<LiveState>>,
    tenant_id: String,
    progress: bool,
}

impl GraphProvider {
    pub fn new(conn: Connection, wanted: Wanted) -> Result<Self, GraphError> {
        // Credentials only over https or to loopback: refused before any I/O.
        transport::check(&conn.endpoint, "the Graph endpoint of the connection")?;
        transport::check(&conn.authority, "the token authority of the connection")?;
        // One crypto provider for the process; a second install is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| GraphError::Config(format!("cannot start the async runtime: {e}")))?;
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("roster/", env!("CARGO_PKG_VERSION")))
            .redirect(transport::redirect_policy())
            .connect_timeout(Duration::from_secs(20));
        // Plain HTTP is allowed only to loopback; a proxy from the
        // environment would carry the secret and tokens off the machine in
        // clear text, so such a connection never uses one.
        if [&conn.endpoint, &conn.authority]
            .iter()
            .any(|u| u.trim().to_ascii_lowercase().starts_with("http://"))
        {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| GraphError::Config(format!("cannot build the HTTP client: {e}")))?;
        let auth = auth::Auth::new(
            client.clone(),
            &conn.authority,
            &conn.tenant_id,
            &conn.client_id,
            conn.credential,
        );
        let api = http::Api {
            client,
            base: format!("{}/v1.0", conn.endpoint.trim_end_matches('/')),
            auth,
            limiter: http::Limiter::new(conn.settings.concurrency),
            pacer: pace::Pacer::default(),
            no_batch: Default::default(),
            settings: conn.settings,
            counters: http::Counters::default(),
        };
        Ok(GraphProvider {
            rt,
            api: Arc::new(api),
            wanted,
            live: None,
            tenant_id: conn.tenant_id,
            progress: false,
        })
    }

    /// Show progress bars (one per chain of pages) on stderr during long
    /// fetches.
    pub fn with_progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// The tenant as a snapshot (for `roster snapshot`).
    pub fn fetch_snapshot(&mut self) -> Result<crate::snapshot::Snapshot, GraphError> {
        let read = self.fetch_pages(|page| page)?;
        Ok(crate::snapshot::Snapshot {
            users: read.users.into_iter().flatten().collect(),
            number_assignments: read.numbers.into_iter().flatten().collect(),
            ..read.rest
        })
    }

    /// The tenant as a snapshot with its users and numbers in the pages
    /// they were read in, each page of users made `U`s by `page` as it is
    /// read.
    fn fetch_pages<U: crate::snapshot::PagedUser + 'static>(
        &mut self,
        page: fn(Vec<crate::snapshot::SnapUser>) -> Vec<U>,
    ) -> Result<read::Pages<U>, GraphError> {
        // A bar per chain of pages, on a terminal only.
        let bars = self.progress.then(indicatif::MultiProgress::new);
        let api = self.api.clone();
        let wanted = self.wanted.clone();
        let result = self
            .rt
            .block_on(read::fetch_pages(api, &wanted, bars.as_ref(), page));
        if let Some(b) = bars {
            let _ = b.clear();
        }
        let mut read = result?;
        read.rest.tenant_id = self.tenant_id.clone();
        Ok(read)
    }

    /// Requests in flight the limiter allows now (lower while throttled).
    pub fn concurrency(&self) -> usize {
        self.api.limiter.current()
    }
}

impl Provider for GraphProvider {
    fn kind(&self) -> &'static str {
        "graph"
    }

    fn resolve_policies(&mut self, policies: &[(String, String)]) {
        self.wanted.policies.extend(policies.iter().cloned());
    }

    fn read_all_groups(&mut self) {
        self.wanted.all_groups = true;
    }

    fn fetch(&mut self) -> Result<Arc<LiveState>, ProviderError> {
        // Users made live users as their pages arrive, beside the network.
        let read = self.fetch_pages(crate::snapshot::live_users)?;
        let live = crate::snapshot::into_live_pages("Graph", read.rest, read.users, read.numbers)?;
        let live = Arc::new(live);
        self.live = Some(live.clone());
        Ok(live)
    }

    fn execute(&mut self, writes: &[Step]) -> Vec<Outcome> {
        if writes.is_empty() {
            return Vec::new();
        }
        let live = match &self.live {
            Some(l) => l.clone(),
            None => match self.fetch() {
                Ok(l) => l,
                Err(e) => {
                    let msg = e.to_string();
                    return writes
                        .iter()
                        .flat_map(Step::user_ids)
                        .map(|u| Outcome::failed(&u, msg.clone()))
                        .collect();
                }
            },
        };
        let api = self.api.clone();
        self.rt.block_on(write::execute(api, live, writes))
    }

    fn commit(&mut self) -> Result<(), ProviderError> {
        Ok(())
    }

    fn incremental(&mut self) -> Option<&mut dyn crate::provider::incremental::Incremental> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttled_reads_as_any_other_answer() {
        let throttled = GraphError::Throttled {
            route: "GET /users".into(),
            code: "TooManyRequests".into(),
            message: "Please retry again later.".into(),
            attempts: 3,
            request_id: Some("r1".into()),
        };
        let api = GraphError::Api {
            route: "GET /users".into(),
            status: 429,
            code: "TooManyRequests".into(),
            message: "Please retry again later.".into(),
            attempts: 3,
            request_id: None,
        };
        assert_eq!(throttled.to_string(), api.to_string());
        assert_eq!(
            api.to_string(),
            "Graph answered `GET /users` with 429 TooManyRequests: Please retry again later. (after 3 attempts)"
        );
    }

    #[test]
    fn provider_errors_print_the_graph_error_unchanged() {
        let e = GraphError::Forbidden {
            route: "GET /users".into(),
            code: "Authorization_RequestDenied".into(),
            message: "Insufficient privileges.".into(),
            permission: "User.Read.All".into(),
            request_id: None,
        };
        let text = e.to_string();
        let p = ProviderError::from(e);
        assert!(matches!(
            p,
            ProviderError::Graph(GraphError::Forbidden { .. })
        ));
        assert_eq!(p.to_string(), text);
        assert!(
            text.contains("grant the app registration the application permission `User.Read.All`")
        );
    }
}
