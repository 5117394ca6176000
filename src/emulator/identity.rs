//! The identity side of the emulator: the client-credentials token
//! endpoint (secrets, certificate assertions and federated assertions,
//! whose issuer, subject, audience and validity are checked against the
//! options; no signature is verified), the tokens it issued, the
//! application permissions (roles) granted by default, and bearer-token
//! checks on Graph requests. It must not decide what a route needs: that
//! is the Graph side's route table.

use std::collections::HashMap;
use std::time::Instant;

use axum::http::HeaderMap;
use base64::Engine as _;
use serde_json::{Value, json};

use super::api::Response;
use super::{Emulator, odata};

/// Every application permission roster's reads and writes need.
pub const ALL_ROLES: &[&str] = &[
    "User.Read.All",
    "GroupMember.Read.All",
    "TeamsUserConfiguration.Read.All",
    "TeamsPolicyUserAssign.ReadWrite.All",
    "TeamsTelephoneNumber.ReadWrite.All",
    "LicenseAssignment.Read.All",
];

pub(super) struct Token {
    client_id: String,
    expires: Instant,
}

impl Emulator {
    pub(super) fn authenticate(&self, headers: &HeaderMap) -> Result<String, Response> {
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
    pub(super) fn token(&self, headers: &HeaderMap, body: &[u8]) -> Response {
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
            (None, Some(a)) if self.is_federated(&a, &client_id) => {
                if form.get("client_assertion_type").map(String::as_str)
                    != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                {
                    return aad(
                        "invalid_request",
                        90002,
                        "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
                    );
                }
                let Some(want) = &self.opts.federated else {
                    return aad(
                        "invalid_request",
                        70021,
                        "No matching federated identity record found for presented assertion: this emulator has no federated credential (start it with `--federated-issuer` and `--federated-subject`).",
                    );
                };
                if let Err((error, code, text)) = check_federated(&a, want) {
                    return aad(error, code, &text);
                }
            }
            (None, Some(_)) if self.opts.client_secret.is_some() => {
                // Assertion signatures are not verified: with a required
                // secret, an assertion would let anyone in.
                return aad(
                    "invalid_client",
                    700027,
                    "Client assertion failed validation: this emulator requires the client secret (`--client-secret-env`) and does not verify assertion signatures.",
                );
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
}

impl Emulator {
    /// A federated assertion (an OIDC token from another issuer) rather
    /// than a certificate assertion (whose issuer is the client itself).
    /// What cannot be read counts as federated when federation is on.
    fn is_federated(&self, jwt: &str, client_id: &str) -> bool {
        match jwt.split('.').nth(1).and_then(|p| decode(p).ok()) {
            Some(claims) => claims["iss"].as_str().is_some_and(|iss| iss != client_id),
            None => self.opts.federated.is_some(),
        }
    }
}

fn decode(part: &str) -> Result<Value, String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| "bad base64url".to_string())?;
    serde_json::from_slice(&bytes).map_err(|_| "bad JSON".to_string())
}

/// Check a federated assertion against the federated credential: issuer,
/// subject and audience must match, and it must be valid now (`nbf`,
/// `exp`). The signature is not verified. Errors are Entra's `error`, its
/// AADSTS code and the description.
fn check_federated(jwt: &str, want: &super::Federated) -> Result<(), (&'static str, u32, String)> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let claims = match parts.as_slice() {
        [_, claims, _] => decode(claims).ok(),
        _ => None,
    };
    let Some(claims) = claims else {
        return Err((
            "invalid_request",
            50027,
            "JWT token is invalid or malformed.".into(),
        ));
    };
    let iss = claims["iss"].as_str().unwrap_or("");
    let sub = claims["sub"].as_str().unwrap_or("");
    let auds: Vec<&str> = match &claims["aud"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if iss != want.issuer || sub != want.subject || !auds.contains(&want.audience.as_str()) {
        return Err((
            "invalid_request",
            70021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{}'.",
                auds.join(",")
            ),
        ));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let exp = claims["exp"].as_i64();
    let nbf = claims["nbf"].as_i64();
    if exp.is_none_or(|e| e <= now) || nbf.is_some_and(|n| n > now) {
        return Err((
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {now}, assertion valid from {}, expiry time of assertion {}.",
                nbf.map_or("-".into(), |n| n.to_string()),
                exp.map_or("-".into(), |e| e.to_string()),
            ),
        ));
    }
    Ok(())
}

/// Check a client assertion's shape and claims (the signature is not
/// verified: the emulator holds no certificates).
fn check_assertion(jwt: &str, client_id: &str) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return Err("not a JWT".into());
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: Value) -> String {
        let e = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.", e(json!({"alg": "none"})), e(claims))
    }

    fn want() -> super::super::Federated {
        super::super::Federated {
            issuer: "https://token.actions.githubusercontent.com".into(),
            subject: "repo:o/r:ref:refs/heads/main".into(),
            audience: "api://AzureADTokenExchange".into(),
        }
    }

    #[test]
    fn federated_claims_are_checked() {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let good = json!({
            "iss": "https://token.actions.githubusercontent.com",
            "sub": "repo:o/r:ref:refs/heads/main",
            "aud": "api://AzureADTokenExchange", "nbf": now - 5, "exp": now + 300,
        });
        assert!(check_federated(&jwt(good.clone()), &want()).is_ok());
        let mut list = good.clone();
        list["aud"] = json!(["other", "api://AzureADTokenExchange"]);
        assert!(check_federated(&jwt(list), &want()).is_ok());
        for (k, v, code) in [
            ("aud", json!("api://other"), 70021),
            ("sub", json!("repo:o/r:pull_request"), 70021),
            ("iss", json!("https://evil.example"), 70021),
            ("exp", json!(now - 1), 700024),
            ("nbf", json!(now + 600), 700024),
            ("exp", Value::Null, 700024),
        ] {
            let mut c = good.clone();
            c[k] = v;
            let got = check_federated(&jwt(c), &want()).unwrap_err();
            assert_eq!(got.1, code, "{k}: {got:?}");
        }
        assert_eq!(check_federated("not-a-jwt", &want()).unwrap_err().1, 50027);
    }
}
