//! The federated credential of the `graph` provider: which OIDC token
//! source the tenant settings' `federated` names, looked up in the process
//! environment, and what happens when the CI provides none (the secret or
//! certificate the settings also name is the fallback; without one, a
//! clear error says which variables are missing). It only chooses: the
//! token is fetched by the provider, for every token request.

use std::path::Path;

use super::{Failure, Result, resolve};
use crate::manifest::{Federation, GraphConfig};
use crate::provider::graph::Credential;
use crate::provider::graph::federated::Source;

/// The federated credential, or `None` when federation is not configured
/// or the CI provides no token and a fallback credential is named.
pub(super) fn credential(cfg: &GraphConfig, base: &Path) -> Result<Option<Credential>> {
    let Some(kind) = cfg.federated else {
        return Ok(None);
    };
    let env = |k: &str| std::env::var(k).ok();
    let file = cfg.federated_token_file.as_ref().map(|f| resolve(base, f));
    let sc = cfg.service_connection_id.as_deref();
    let source = match kind {
        Federation::GitHub => Source::github(&env)?,
        Federation::AzurePipelines => Source::azure_pipelines(&env, sc)?,
        Federation::File => Source::file(&env, file),
        Federation::Auto => {
            // A source the environment sets up only halfway is passed over
            // (the next one, or the fallback, may do), and named if none does.
            let mut passed = None;
            let mut found = None;
            for attempt in [Source::github(&env), Source::azure_pipelines(&env, sc)] {
                match attempt {
                    Ok(Some(s)) => {
                        found = Some(s);
                        break;
                    }
                    Ok(None) => {}
                    Err(e) => passed = passed.or(Some(e)),
                }
            }
            match found.or_else(|| Source::file(&env, file)) {
                Some(s) => Some(s),
                None if has_fallback(cfg) => {
                    if let Some(e) = passed {
                        eprintln!(
                            "warning: federated=\"auto\": {}; using the secret or certificate the graph provider also names",
                            first_line(&e.to_string())
                        );
                    }
                    return Ok(None);
                }
                None => match passed {
                    Some(e) => return Err(e.into()),
                    None => None,
                },
            }
        }
    };
    if let Some(s) = source {
        tracing::debug!(source = s.name(), "workload identity federation");
        return Ok(Some(Credential::Federated(s)));
    }
    let missing = match kind {
        Federation::GitHub => {
            "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set (GitHub Actions sets them only for a job with `permissions: id-token: write`, and never for a pull request from a fork)"
        }
        Federation::AzurePipelines => {
            "SYSTEM_OIDCREQUESTURI is not set (Azure Pipelines sets it in a pipeline job; map `SYSTEM_ACCESSTOKEN: $(System.AccessToken)` into the step too)"
        }
        Federation::File => {
            "no token file is named: neither `federated-token-file` nor AZURE_FEDERATED_TOKEN_FILE is set"
        }
        Federation::Auto => {
            "this environment provides no OIDC token: neither GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL), Azure Pipelines (SYSTEM_OIDCREQUESTURI) nor a token file (`federated-token-file`, AZURE_FEDERATED_TOKEN_FILE)"
        }
    };
    if has_fallback(cfg) {
        if kind != Federation::Auto {
            eprintln!(
                "warning: federated=\"{}\": {missing}; using the secret or certificate the graph provider also names",
                kind.as_manifest()
            );
        }
        return Ok(None);
    }
    Err(Failure::new(format!(
        "the `graph` provider has federated=\"{}\", but {missing}\nhint: run where the CI provides the token, or name a fallback credential (`client-secret-env=\"VAR\"`)",
        kind.as_manifest()
    )))
}

/// A secret or certificate is named besides `federated`.
fn has_fallback(cfg: &GraphConfig) -> bool {
    (cfg.certificate_file.is_some() && cfg.private_key_file.is_some())
        || cfg.client_secret_env.is_some()
        || cfg.client_secret_file.is_some()
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}
