//! Workload identity federation: where the CI's own OIDC token comes from,
//! to be sent to the token endpoint as a client assertion instead of a
//! client secret. Three sources: GitHub Actions' ID-token service, a token
//! file (Azure workload identity on Kubernetes, other CIs) and Azure
//! Pipelines' service-connection OIDC endpoint. A fresh token is fetched
//! (or the file read again) for every token request, so a rotated file or
//! a short-lived CI token is never reused. This module only fetches: it
//! reads the environment through a function it is given, registers every
//! token with [`crate::redact`], refuses URLs the transport rule refuses,
//! and must not talk to the token endpoint itself.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::GraphError;
use super::auth::Secret;
use super::transport;

/// The audience Entra expects on a federated credential's token.
pub const AUDIENCE: &str = "api://AzureADTokenExchange";

/// Where the OIDC token comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// GitHub Actions (`permissions: id-token: write`).
    GitHub { url: String, request_token: Secret },
    /// A file another process keeps fresh.
    File { path: PathBuf },
    /// Azure Pipelines, for one service connection.
    AzurePipelines {
        url: String,
        access_token: Secret,
        service_connection_id: String,
    },
}

/// Reads one environment variable (a function, so tests need no process
/// environment).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn var(env: Env<'_>, name: &str) -> Option<String> {
    env(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn incomplete(have: &str, missing: &str, hint: &str) -> GraphError {
    GraphError::Oidc {
        source_name: "the environment".into(),
        message: format!("`{have}` is set but `{missing}` is not"),
        hint: hint.into(),
    }
}

impl Source {
    /// GitHub Actions, when its variables are set (`None` otherwise).
    pub fn github(env: Env<'_>) -> Result<Option<Source>, GraphError> {
        const URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
        const TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
        match (var(env, URL), var(env, TOKEN)) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(incomplete(URL, TOKEN, GITHUB_HINT)),
            (None, Some(_)) => Err(incomplete(TOKEN, URL, GITHUB_HINT)),
            (Some(url), Some(token)) => {
                let request_token = Secret::new(token);
                transport::check(&url, "`ACTIONS_ID_TOKEN_REQUEST_URL`")?;
                Ok(Some(Source::GitHub { url, request_token }))
            }
        }
    }

    /// Azure Pipelines, when its variables are set (`None` otherwise). The
    /// service connection comes from the settings, else from
    /// `AZURESUBSCRIPTION_SERVICE_CONNECTION_ID` (set by the AzureCLI task).
    pub fn azure_pipelines(
        env: Env<'_>,
        service_connection_id: Option<&str>,
    ) -> Result<Option<Source>, GraphError> {
        const URL: &str = "SYSTEM_OIDCREQUESTURI";
        const TOKEN: &str = "SYSTEM_ACCESSTOKEN";
        let (url, token) = match (var(env, URL), var(env, TOKEN)) {
            (None, _) => return Ok(None),
            (Some(_), None) => return Err(incomplete(URL, TOKEN, PIPELINES_HINT)),
            (Some(url), Some(token)) => (url, token),
        };
        let access_token = Secret::new(token);
        let id = service_connection_id
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| var(env, "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"))
            .ok_or_else(|| GraphError::Oidc {
                source_name: "Azure Pipelines".into(),
                message: "no service connection is named".into(),
                hint: "add `service-connection-id=\"…\"` to the graph provider (the id of the workload identity service connection)".into(),
            })?;
        transport::check(&url, "`SYSTEM_OIDCREQUESTURI`")?;
        Ok(Some(Source::AzurePipelines {
            url,
            access_token,
            service_connection_id: id,
        }))
    }

    /// A token file: the one given, else `AZURE_FEDERATED_TOKEN_FILE`.
    pub fn file(env: Env<'_>, path: Option<PathBuf>) -> Option<Source> {
        path.or_else(|| var(env, "AZURE_FEDERATED_TOKEN_FILE").map(PathBuf::from))
            .map(|path| Source::File { path })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Source::GitHub { .. } => "GitHub Actions",
            Source::File { .. } => "the federated token file",
            Source::AzurePipelines { .. } => "Azure Pipelines",
        }
    }

    /// A fresh OIDC token, registered with [`crate::redact`].
    pub async fn fetch(&self, client: &reqwest::Client) -> Result<String, GraphError> {
        let token = match self {
            Source::File { path } => read_file(path)?,
            Source::GitHub { url, request_token } => {
                let mut u = parse(url)?;
                u.query_pairs_mut().append_pair("audience", AUDIENCE);
                let req = client
                    .get(u.as_str())
                    .header(
                        "Authorization",
                        format!("bearer {}", request_token.expose()),
                    )
                    .header("Accept", "application/json");
                self.answer(req, "value").await?
            }
            Source::AzurePipelines {
                url,
                access_token,
                service_connection_id,
            } => {
                let mut u = parse(url)?;
                u.query_pairs_mut()
                    .append_pair("api-version", "7.1")
                    .append_pair("serviceConnectionId", service_connection_id);
                let req = client
                    .post(u.as_str())
                    .header("Authorization", format!("Bearer {}", access_token.expose()))
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json");
                self.answer(req, "oidcToken").await?
            }
        };
        crate::redact::token(&token);
        if token.split('.').count() != 3 {
            return Err(self.error("what it returned is not a JWT".into()));
        }
        Ok(token)
    }

    fn error(&self, message: String) -> GraphError {
        GraphError::Oidc {
            source_name: self.name().into(),
            message,
            hint: match self {
                Source::GitHub { .. } => GITHUB_HINT,
                Source::File { .. } => FILE_HINT,
                Source::AzurePipelines { .. } => PIPELINES_HINT,
            }
            .into(),
        }
    }

    /// Send `req` (retrying faults), and take `field` of the JSON answer.
    async fn answer(
        &self,
        req: reqwest::RequestBuilder,
        field: &str,
    ) -> Result<String, GraphError> {
        let mut attempt = 0u64;
        loop {
            attempt += 1;
            let Some(this) = req.try_clone() else {
                return Err(self.error("the request cannot be sent".into()));
            };
            let sent = this.timeout(Duration::from_secs(30)).send().await;
            if let Err(e) = &sent
                && let Some(refused) =
                    transport::refused_redirect(e, "a redirect of the OIDC token request")
            {
                return Err(refused);
            }
            let resp = match sent {
                Ok(r) => r,
                Err(_) if attempt < 3 => {
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                    continue;
                }
                Err(e) => {
                    let text = crate::redact::text(&e.without_url().to_string()).into_owned();
                    return Err(self.error(format!("the request failed: {text}")));
                }
            };
            let status = resp.status();
            if (status.as_u16() == 429 || status.is_server_error()) && attempt < 3 {
                tokio::time::sleep(Duration::from_millis(300 * attempt)).await;
                continue;
            }
            let text = resp.text().await.unwrap_or_default();
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let token = body.get(field).and_then(Value::as_str).unwrap_or("");
            crate::redact::token(token);
            if !status.is_success() {
                let said = crate::redact::text(text.lines().next().unwrap_or(""));
                let said: String = said.chars().take(200).collect();
                return Err(self.error(format!("it answered {status}: {said}")));
            }
            if token.trim().is_empty() {
                return Err(self.error(format!("its answer holds no `{field}`")));
            }
            return Ok(token.trim().to_string());
        }
    }
}

fn parse(url: &str) -> Result<url::Url, GraphError> {
    url::Url::parse(url)
        .map_err(|e| GraphError::Config(format!("the OIDC token request URL is not a URL: {e}")))
}

/// The token file as it is now (read again for every token request: the
/// file's owner replaces it before the token in it expires).
fn read_file(path: &std::path::Path) -> Result<String, GraphError> {
    let text = std::fs::read_to_string(path).map_err(|e| GraphError::Oidc {
        source_name: "the federated token file".into(),
        message: format!("cannot read `{}`: {e}", path.display()),
        hint: FILE_HINT.into(),
    })?;
    let token = text.trim().to_string();
    crate::redact::token(&token);
    if token.is_empty() {
        return Err(GraphError::Oidc {
            source_name: "the federated token file".into(),
            message: format!("`{}` is empty", path.display()),
            hint: FILE_HINT.into(),
        });
    }
    Ok(token)
}

const GITHUB_HINT: &str = "give the job `permissions: id-token: write` (GitHub sets ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN only then; pull requests from forks never get them)";
const FILE_HINT: &str = "check `federated-token-file` or AZURE_FEDERATED_TOKEN_FILE (on Kubernetes, the pod needs the label azure.workload.identity/use: \"true\" and a service account with the client-id annotation)";
const PIPELINES_HINT: &str = "map the job's access token into the step (`env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)`) and name a workload identity service connection (`service-connection-id`)";

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_token_file_is_read_again_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "eyJhbGciOiJub25lIn0.eyJqdGkiOiIxIn0.\n").unwrap();
        let source = Source::file(&env(&[]), Some(path.clone())).unwrap();
        let Source::File { path: p } = &source else {
            panic!("{source:?}")
        };
        assert_eq!(
            read_file(p).unwrap(),
            "eyJhbGciOiJub25lIn0.eyJqdGkiOiIxIn0."
        );
        std::fs::write(&path, "eyJhbGciOiJub25lIn0.eyJqdGkiOiIyIn0.").unwrap();
        assert_eq!(
            read_file(p).unwrap(),
            "eyJhbGciOiJub25lIn0.eyJqdGkiOiIyIn0."
        );
        // Through the async path too (the one the token request uses).
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        std::fs::write(&path, "eyJhbGciOiJub25lIn0.eyJqdGkiOiIzIn0.").unwrap();
        let got = rt.block_on(source.fetch(&client)).unwrap();
        assert_eq!(got, "eyJhbGciOiJub25lIn0.eyJqdGkiOiIzIn0.");
        std::fs::write(&path, "").unwrap();
        let err = rt.block_on(source.fetch(&client)).unwrap_err().to_string();
        assert!(err.contains("is empty"), "{err}");
    }

    #[test]
    fn the_file_falls_back_to_the_azure_variable() {
        let e = env(&[("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token")]);
        match Source::file(&e, None) {
            Some(Source::File { path }) => assert_eq!(path, PathBuf::from("/var/run/token")),
            other => panic!("{other:?}"),
        }
        assert!(Source::file(&env(&[]), None).is_none());
    }

    #[test]
    fn github_needs_both_variables_and_a_safe_url() {
        assert!(Source::github(&env(&[])).unwrap().is_none());
        let half = env(&[("ACTIONS_ID_TOKEN_REQUEST_URL", "https://x.example/t?a=1")]);
        let err = Source::github(&half).unwrap_err().to_string();
        assert!(err.contains("ACTIONS_ID_TOKEN_REQUEST_TOKEN"), "{err}");
        assert!(err.contains("id-token: write"), "{err}");
        let clear = env(&[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", "http://ci.example/t?a=1"),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token-123"),
        ]);
        let err = Source::github(&clear).unwrap_err().to_string();
        assert!(err.contains("refusing"), "{err}");
        assert!(!err.contains("request-token-123"), "{err}");
    }

    #[test]
    fn azure_pipelines_needs_a_service_connection() {
        let e = env(&[
            (
                "SYSTEM_OIDCREQUESTURI",
                "https://dev.azure.com/o/p/_apis/oidc",
            ),
            ("SYSTEM_ACCESSTOKEN", "ado-access-token"),
        ]);
        let err = Source::azure_pipelines(&e, None).unwrap_err().to_string();
        assert!(err.contains("service-connection-id"), "{err}");
        match Source::azure_pipelines(&e, Some("sc-1")).unwrap() {
            Some(Source::AzurePipelines {
                service_connection_id,
                ..
            }) => assert_eq!(service_connection_id, "sc-1"),
            other => panic!("{other:?}"),
        }
        assert!(Source::azure_pipelines(&env(&[]), None).unwrap().is_none());
    }
}
