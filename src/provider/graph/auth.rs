//! Client-credentials tokens from the Microsoft identity platform, with a
//! client secret, a certificate (a signed client assertion, PS256 with
//! the `x5t#S256` thumbprint) or a federated OIDC token from the CI (a
//! fresh one from [`super::federated`] for every token request). Tokens
//! are cached and renewed before they expire (the lifetime counted from
//! when the request was sent). Secrets never reach messages or logs: every
//! secret, token and assertion is registered with [`crate::redact`], and
//! what the token endpoint answers is masked before it becomes an error.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::GraphError;

/// A secret that never prints: `Debug` hides it, and creating one
/// registers it with [`crate::redact`], so no message or log line shows it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        let s = s.into();
        crate::redact::secret(&s);
        Secret(s)
    }
    /// A short-lived secret (an access token), masked while it is recent.
    fn token(s: impl Into<String>) -> Self {
        let s = s.into();
        crate::redact::token(&s);
        Secret(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Clone, Debug)]
pub enum Credential {
    Secret(Secret),
    Certificate {
        /// DER of the certificate (for its thumbprint).
        cert_der: Vec<u8>,
        key: Box<rsa::RsaPrivateKey>,
    },
    /// Workload identity federation: the CI's OIDC token as the assertion.
    Federated(super::federated::Source),
}

impl Credential {
    /// Load a PEM certificate and its PEM private key (PKCS#8 or PKCS#1).
    pub fn certificate(cert_file: &str, key_file: &str) -> Result<Self, GraphError> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::pkcs8::DecodePrivateKey;
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let cert = CertificateDer::from_pem_file(cert_file).map_err(|e| {
            GraphError::Config(format!("cannot read certificate `{cert_file}`: {e}"))
        })?;
        let pem = std::fs::read_to_string(key_file).map_err(|e| {
            GraphError::Config(format!("cannot read private key `{key_file}`: {e}"))
        })?;
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&pem)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(&pem))
            .map_err(|_| {
                GraphError::Config(format!(
                    "`{key_file}` holds no RSA private key in PEM (PKCS#8 or PKCS#1)"
                ))
            })?;
        Ok(Credential::Certificate {
            cert_der: cert.as_ref().to_vec(),
            key: Box::new(key),
        })
    }
}

struct Cached {
    token: Secret,
    renew_at: Instant,
}

pub struct Auth {
    client: reqwest::Client,
    token_url: String,
    client_id: String,
    credential: Credential,
    cache: Mutex<Option<Cached>>,
    scope: String,
}

pub const SCOPE: &str = "https://graph.microsoft.com/.default";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

impl Auth {
    pub fn new(
        client: reqwest::Client,
        authority: &str,
        tenant_id: &str,
        client_id: &str,
        credential: Credential,
    ) -> Self {
        Auth {
            client,
            token_url: format!(
                "{}/{}/oauth2/v2.0/token",
                authority.trim_end_matches('/'),
                tenant_id
            ),
            client_id: client_id.to_string(),
            credential,
            cache: Mutex::new(None),
            scope: SCOPE.to_string(),
        }
    }

    /// Ask for tokens of another resource (the state store's storage
    /// account) with the same credential.
    pub fn with_scope(mut self, scope: &str) -> Self {
        self.scope = scope.to_string();
        self
    }

    /// A valid bearer token, renewed a little before it expires.
    pub async fn token(&self) -> Result<String, GraphError> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref()
            && Instant::now() < c.renew_at
        {
            return Ok(c.token.expose().to_string());
        }
        // The lifetime runs from when the token was asked for, not from
        // when the answer arrived.
        let asked = Instant::now();
        let (token, lifetime) = self.request().await?;
        *cache = Some(Cached {
            token: Secret::token(token.clone()),
            renew_at: asked + renew_after(lifetime),
        });
        Ok(token)
    }

    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    async fn request(&self) -> Result<(String, Duration), GraphError> {
        let mut form: Vec<(&str, String)> = vec![
            ("client_id", self.client_id.clone()),
            ("scope", self.scope.clone()),
            ("grant_type", "client_credentials".to_string()),
        ];
        match &self.credential {
            Credential::Secret(s) => form.push(("client_secret", s.expose().to_string())),
            Credential::Certificate { cert_der, key } => {
                form.push(("client_assertion_type", JWT_BEARER.into()));
                let signed = assertion(&self.token_url, &self.client_id, cert_der, key)?;
                crate::redact::token(&signed);
                form.push(("client_assertion", signed));
            }
            Credential::Federated(source) => {
                form.push(("client_assertion_type", JWT_BEARER.into()));
                tracing::debug!(source = source.name(), "requesting an OIDC token");
                let oidc = source.fetch(&self.client).await?;
                form.push(("client_assertion", oidc));
            }
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .client
                .post(&self.token_url)
                .form(&form)
                .timeout(Duration::from_secs(30))
                .send()
                .await;
            if let Err(e) = &sent
                && let Some(refused) =
                    super::transport::refused_redirect(e, "a redirect of the token request")
            {
                return Err(refused);
            }
            let resp = match sent {
                Ok(r) => r,
                Err(e) if attempt < 4 => {
                    tracing::debug!(error = %crate::redact::text(&e.without_url().to_string()), "token request failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                    continue;
                }
                Err(e) => {
                    return Err(GraphError::Transport(format!(
                        "token request: {}",
                        crate::redact::text(&e.without_url().to_string())
                    )));
                }
            };
            let status = resp.status();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            if status.is_success() {
                let token = body
                    .get("access_token")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                crate::redact::token(token);
                if token.is_empty() {
                    return Err(GraphError::Auth {
                        status: status.as_u16(),
                        code: "no_token".into(),
                        description: "the token response holds no access_token".into(),
                    });
                }
                let secs = body
                    .get("expires_in")
                    .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
                    .unwrap_or(3599);
                return Ok((token.to_string(), Duration::from_secs(secs.max(1))));
            }
            if (status.as_u16() == 429 || status.is_server_error()) && attempt < 4 {
                tokio::time::sleep(Duration::from_millis(300 * attempt)).await;
                continue;
            }
            // The answer may echo the secret or the assertion: mask it.
            let code = crate::redact::text(
                body.get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown"),
            )
            .into_owned();
            let description = crate::redact::text(
                body.get("error_description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or(""),
            )
            .into_owned();
            if matches!(self.credential, Credential::Federated(_)) {
                return Err(GraphError::FederatedAuth {
                    status: status.as_u16(),
                    code,
                    description,
                });
            }
            return Err(GraphError::Auth {
                status: status.as_u16(),
                code,
                description,
            });
        }
    }
}

/// When to renew a token of `lifetime`: at 80% of it, and no later than 5
/// minutes before it expires.
fn renew_after(lifetime: Duration) -> Duration {
    let margin = (lifetime / 5).min(Duration::from_secs(300));
    lifetime.saturating_sub(margin)
}

/// A signed client assertion (RFC 7523) for the token endpoint.
fn assertion(
    aud: &str,
    client_id: &str,
    cert_der: &[u8],
    key: &rsa::RsaPrivateKey,
) -> Result<String, GraphError> {
    use rsa::signature::{RandomizedSigner, SignatureEncoding};
    let thumb = URL_SAFE_NO_PAD.encode(Sha256::digest(cert_der));
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = json!({ "alg": "PS256", "typ": "JWT", "x5t#S256": thumb });
    let claims = json!({
        "aud": aud, "iss": client_id, "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now, "iat": now, "exp": now + 600,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signer = rsa::pss::BlindedSigningKey::<Sha256>::new(key.clone());
    let sig = signer
        .try_sign_with_rng(&mut rsa::rand_core::OsRng, signing_input.as_bytes())
        .map_err(|e| GraphError::Config(format!("cannot sign the client assertion: {e}")))?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(sig.to_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_early() {
        let s = Duration::from_secs;
        // Entra's hour: five minutes early.
        assert_eq!(renew_after(s(3599)), s(3299));
        // Short lifetimes: at 80%.
        assert_eq!(renew_after(s(600)), s(480));
        assert_eq!(renew_after(s(2)), Duration::from_millis(1600));
        assert_eq!(renew_after(s(1)), Duration::from_millis(800));
    }
}
