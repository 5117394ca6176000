//! The `azure-blob` state store: each object a blob under a prefix of one
//! container, written with conditional puts (`If-None-Match: *` to create,
//! `If-Match: <etag>` to update) through the `object_store` crate, so the
//! compare-and-swap of [`super::store::Store`] is the storage service's
//! own. It owns the connection (a small async runtime, the HTTP client,
//! the credential) and the translation of the service's refusals into
//! messages that name the store and the fix; it must not decide what the
//! objects mean, and it never prints a key, a token or a connection
//! string (they are registered with [`crate::redact`]).
//!
//! Credentials, in order: a storage connection string (account key or
//! SAS, as the Azure portal shows it), or the tenant's own app
//! registration asking the identity platform for a storage-scoped token
//! (`https://storage.azure.com/.default`), so the app needs the role
//! `Storage Blob Data Contributor` on the container. Plain `http://` is
//! accepted only to a loopback host (Azurite), as for Graph.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use object_store::azure::{AzureConfigKey, AzureCredential, MicrosoftAzureBuilder};
use object_store::path::Path as ObjectPath;
use object_store::{CredentialProvider, ObjectStore, PutMode, PutOptions, PutPayload};

use super::store::{Object, Put, Store, StoreError, Version};

/// The scope of a token for Azure Storage.
pub const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";

/// The well-known account and key of the storage emulator (public, in
/// Microsoft's documentation; not a secret).
const DEV_ACCOUNT: &str = "devstoreaccount1";
const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// How roster proves itself to the storage account.
pub enum AzureAuth {
    /// A connection string, and the name of the variable it came from.
    ConnectionString { value: String, from: String },
    /// The tenant's app registration with a storage-scoped token.
    App(Box<crate::provider::graph::Connection>),
}

/// An `azure-blob` store as the tenant settings describe it.
pub struct AzureConfig {
    pub account: String,
    pub container: String,
    /// The blob name prefix (`contoso/`); empty for the container's root.
    pub prefix: String,
    /// Overrides `https://ACCOUNT.blob.core.windows.net`.
    pub endpoint: Option<String>,
    pub auth: AzureAuth,
}

/// The parts of a storage connection string roster uses.
#[derive(Debug, Default, PartialEq, Eq)]
struct ConnectionString {
    account: Option<String>,
    key: Option<String>,
    sas: Option<String>,
    blob_endpoint: Option<String>,
}

/// Parse `Key=Value;…` (values may hold `=`); `UseDevelopmentStorage=true`
/// is the emulator's account on its default port.
fn parse_connection_string(s: &str, from: &str) -> Result<ConnectionString, StoreError> {
    let mut out = ConnectionString::default();
    let (mut protocol, mut suffix) = ("https".to_string(), "core.windows.net".to_string());
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(StoreError::Unavailable {
                message: format!(
                    "the storage connection string in `{from}` is not `Key=Value;…` pairs"
                ),
                hint: "copy it from the storage account's `Access keys` page in the Azure portal"
                    .into(),
            });
        };
        match k.trim().to_ascii_lowercase().as_str() {
            "accountname" => out.account = Some(v.to_string()),
            "accountkey" => out.key = Some(v.to_string()),
            "sharedaccesssignature" => out.sas = Some(v.to_string()),
            "blobendpoint" => out.blob_endpoint = Some(v.to_string()),
            "defaultendpointsprotocol" => protocol = v.to_string(),
            "endpointsuffix" => suffix = v.to_string(),
            "usedevelopmentstorage" if v.eq_ignore_ascii_case("true") => {
                out.account = Some(DEV_ACCOUNT.into());
                out.key = Some(DEV_KEY.into());
                out.blob_endpoint = Some(format!("http://127.0.0.1:10000/{DEV_ACCOUNT}"));
            }
            _ => {}
        }
    }
    if out.blob_endpoint.is_none()
        && let Some(a) = &out.account
    {
        out.blob_endpoint = Some(format!("{protocol}://{a}.blob.{suffix}"));
    }
    if out.key.is_none() && out.sas.is_none() {
        return Err(StoreError::Unavailable {
            message: format!(
                "the storage connection string in `{from}` holds neither `AccountKey` nor `SharedAccessSignature`"
            ),
            hint: "copy a connection string with a key or a SAS token from the Azure portal".into(),
        });
    }
    Ok(out)
}

/// The tenant's app, asking for storage-scoped tokens (cached and renewed
/// by [`crate::provider::graph::auth::Auth`]).
struct AppCredential(crate::provider::graph::auth::Auth);

impl std::fmt::Debug for AppCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppCredential")
    }
}

impl CredentialProvider for AppCredential {
    type Credential = AzureCredential;

    // `object_store` declares this with `async_trait`; written out here.
    fn get_credential<'a, 'b>(
        &'a self,
    ) -> Pin<Box<dyn Future<Output = object_store::Result<Arc<AzureCredential>>> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(async move {
            let token = self
                .0
                .token()
                .await
                .map_err(|e| object_store::Error::Unauthenticated {
                    path: String::new(),
                    source: Box::new(e),
                })?;
            Ok(Arc::new(AzureCredential::BearerToken(token)))
        })
    }
}

/// Hands `object_store` our own HTTP client (rustls on ring, no proxy to
/// a loopback emulator).
#[derive(Debug)]
struct Connector(reqwest::Client);

impl object_store::client::HttpConnector for Connector {
    fn connect(
        &self,
        _: &object_store::ClientOptions,
    ) -> object_store::Result<object_store::client::HttpClient> {
        Ok(object_store::client::HttpClient::new(self.0.clone()))
    }
}

pub struct AzureStore {
    rt: tokio::runtime::Runtime,
    store: Arc<dyn ObjectStore>,
    account: String,
    container: String,
    prefix: String,
    /// Where the credentials came from, for hints.
    auth_hint: String,
}

impl std::fmt::Debug for AzureStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AzureStore({})", self.where_())
    }
}

fn config_error(message: String, hint: &str) -> StoreError {
    StoreError::Unavailable {
        message,
        hint: hint.to_string(),
    }
}

impl AzureStore {
    /// Connect (lazily: nothing goes over the network before the first
    /// call; [`Store::probe`] is that call).
    pub fn open(cfg: AzureConfig) -> Result<AzureStore, StoreError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = MicrosoftAzureBuilder::new()
            .with_account(&cfg.account)
            .with_container_name(&cfg.container)
            .with_retry(object_store::RetryConfig {
                max_retries: 2,
                retry_timeout: Duration::from_secs(20),
                ..Default::default()
            });
        let mut endpoint = cfg.endpoint.clone();
        let auth_hint = match cfg.auth {
            AzureAuth::ConnectionString { value, from } => {
                let cs = parse_connection_string(&value, &from)?;
                if let Some(a) = &cs.account
                    && !a.eq_ignore_ascii_case(&cfg.account)
                {
                    return Err(config_error(
                        format!(
                            "the storage connection string in `{from}` is for the account `{a}`, but the tenant settings name `{}`",
                            cfg.account
                        ),
                        "set `account=` to the connection string's account, or export that account's connection string",
                    ));
                }
                if let Some(key) = &cs.key {
                    crate::redact::secret(key);
                    builder = builder.with_access_key(key);
                }
                if let Some(sas) = &cs.sas {
                    crate::redact::secret(sas);
                    builder = builder.with_config(AzureConfigKey::SasKey, sas);
                }
                endpoint = endpoint.or(cs.blob_endpoint);
                format!(
                    "check the connection string in `{from}` (its key or SAS must allow reading and writing blobs)"
                )
            }
            AzureAuth::App(conn) => {
                let client = http_client(&conn.authority)?;
                let auth = crate::provider::graph::auth::Auth::new(
                    client,
                    &conn.authority,
                    &conn.tenant_id,
                    &conn.client_id,
                    conn.credential,
                )
                .with_scope(STORAGE_SCOPE);
                builder = builder.with_credentials(Arc::new(AppCredential(auth)));
                format!(
                    "grant the app `{}` the role `Storage Blob Data Contributor` on the container (docs/ci.md), or export a connection string in `AZURE_STORAGE_CONNECTION_STRING`",
                    conn.client_id
                )
            }
        };
        let endpoint = endpoint
            .unwrap_or_else(|| format!("https://{}.blob.core.windows.net", cfg.account))
            .trim_end_matches('/')
            .to_string();
        crate::provider::graph::transport::check(&endpoint, "the `endpoint` of the state store")
            .map_err(|e| config_error(e.to_string(), "use an https:// endpoint"))?;
        let http = endpoint.to_ascii_lowercase().starts_with("http://");
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(http)
            .with_http_connector(Connector(http_client(if http { "http://" } else { "" })?));
        let store = builder.build().map_err(|e| {
            config_error(
                format!(
                    "cannot set up the azure-blob state store: {}",
                    crate::redact::text(&e.to_string())
                ),
                "check `account`, `container` and `endpoint` of `state \"azure-blob\"` in the tenant settings",
            )
        })?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| config_error(format!("cannot start the async runtime: {e}"), "retry"))?;
        let prefix = cfg.prefix.trim_matches('/');
        Ok(AzureStore {
            rt,
            store: Arc::new(store),
            account: cfg.account,
            container: cfg.container,
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            auth_hint,
        })
    }

    fn where_(&self) -> String {
        format!("{}/{}/{}", self.account, self.container, self.prefix)
    }

    fn path(&self, key: &str) -> ObjectPath {
        ObjectPath::from(format!("{}{key}", self.prefix))
    }

    /// The service's refusal of `what`, as a message naming the store and
    /// the fix.
    fn refused(&self, what: &str, e: object_store::Error) -> StoreError {
        let detail = crate::redact::text(&e.to_string()).into_owned();
        // Listing reports the service's refusals as generic errors: the
        // status and the service's error code are in the text.
        let says = |codes: &[&str]| codes.iter().any(|c| detail.contains(c));
        let missing =
            matches!(e, object_store::Error::NotFound { .. }) || says(&["ContainerNotFound"]);
        let denied = matches!(
            e,
            object_store::Error::Unauthenticated { .. }
                | object_store::Error::PermissionDenied { .. }
        ) || says(&[
            "403 Forbidden",
            "401 Unauthorized",
            "AuthenticationFailed",
            "AuthorizationFailure",
            "AuthorizationPermissionMismatch",
        ]);
        let (message, hint) = if missing {
            (
                format!(
                    "the container `{}` does not exist in the storage account `{}` (the azure-blob state store `{}`)",
                    self.container,
                    self.account,
                    self.where_()
                ),
                format!(
                    "create it: `az storage container create --account-name {} --name {} --auth-mode login` (docs/ci.md); nothing was changed",
                    self.account, self.container
                ),
            )
        } else if denied {
            (
                format!(
                    "the azure-blob state store `{}` refused access ({what}): {}",
                    self.where_(),
                    service_code(&detail).unwrap_or("access denied")
                ),
                format!("{}; nothing was changed", self.auth_hint),
            )
        } else {
            (
                format!(
                    "cannot reach the azure-blob state store `{}` ({what}): {detail}",
                    self.where_()
                ),
                "check the network, `account=` and `endpoint=` of `state \"azure-blob\"` in the tenant settings; nothing was changed".to_string(),
            )
        };
        StoreError::Unavailable { message, hint }
    }
}

/// The service's error code in an error text (`<Code>…</Code>`).
fn service_code(detail: &str) -> Option<&str> {
    let start = detail.find("<Code>")? + "<Code>".len();
    let len = detail[start..].find("</Code>")?;
    Some(&detail[start..start + len])
}

/// The HTTP client for storage and token requests; no proxy when `url` is
/// plain http (loopback only), so nothing travels in clear text off the
/// machine.
fn http_client(url: &str) -> Result<reqwest::Client, StoreError> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("roster/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60));
    if url.trim().to_ascii_lowercase().starts_with("http://") {
        b = b.no_proxy();
    }
    b.build()
        .map_err(|e| config_error(format!("cannot build the HTTP client: {e}"), "retry"))
}

impl Store for AzureStore {
    fn name(&self) -> String {
        format!("the azure-blob state store `{}`", self.where_())
    }

    fn locate(&self, key: &str) -> String {
        format!("{}{key}", self.where_())
    }

    fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        let path = self.path(key);
        self.rt.block_on(async {
            let got = match self.store.get_opts(&path, Default::default()).await {
                Ok(g) => g,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(self.refused(&format!("reading `{key}`"), e)),
            };
            let version = Version(got.meta.e_tag.clone().unwrap_or_default());
            let bytes = got
                .bytes()
                .await
                .map_err(|e| self.refused(&format!("reading `{key}`"), e))?;
            Ok(Some(Object {
                bytes: bytes.to_vec(),
                version,
            }))
        })
    }

    fn put(&self, key: &str, bytes: &[u8], cond: Put) -> Result<Version, StoreError> {
        let mode = match cond {
            Put::Create => PutMode::Create,
            Put::Update(v) => PutMode::Update(object_store::UpdateVersion {
                e_tag: Some(v.0),
                version: None,
            }),
        };
        let path = self.path(key);
        let payload = PutPayload::from(bytes.to_vec());
        self.rt.block_on(async {
            match self
                .store
                .put_opts(&path, payload, PutOptions::from(mode))
                .await
            {
                Ok(r) => Ok(Version(r.e_tag.unwrap_or_default())),
                Err(
                    object_store::Error::AlreadyExists { .. }
                    | object_store::Error::Precondition { .. },
                ) => Err(StoreError::Conflict {
                    key: key.to_string(),
                }),
                Err(e) => Err(self.refused(&format!("writing `{key}`"), e)),
            }
        })
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        self.rt.block_on(async {
            let listed = self
                .store
                .list_with_delimiter(prefix.as_ref())
                .await
                .map_err(|e| self.refused("listing the state objects", e))?;
            let mut keys: Vec<String> = listed
                .objects
                .iter()
                .filter_map(|o| {
                    o.location
                        .as_ref()
                        .strip_prefix(self.prefix.as_str())
                        .map(str::to_string)
                })
                .collect();
            keys.sort();
            Ok(keys)
        })
    }

    fn probe(&self) -> Result<(), StoreError> {
        // Listing answers 404 for a missing container, 403 for a refused
        // credential, and needs no object to exist.
        self.list().map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_strings_are_read_as_the_portal_writes_them() {
        let cs = parse_connection_string(
            "DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=a2V5PT0=;EndpointSuffix=core.windows.net",
            "V",
        )
        .unwrap();
        assert_eq!(cs.account.as_deref(), Some("contoso"));
        assert_eq!(cs.key.as_deref(), Some("a2V5PT0="));
        assert_eq!(
            cs.blob_endpoint.as_deref(),
            Some("https://contoso.blob.core.windows.net")
        );
        let dev = parse_connection_string("UseDevelopmentStorage=true", "V").unwrap();
        assert_eq!(dev.account.as_deref(), Some(DEV_ACCOUNT));
        let sas = parse_connection_string(
            "BlobEndpoint=https://x.blob.core.windows.net/;SharedAccessSignature=sv=2024&sig=abc%3D",
            "V",
        )
        .unwrap();
        assert_eq!(sas.sas.as_deref(), Some("sv=2024&sig=abc%3D"));
        let err = parse_connection_string("AccountName=x", "MY_VAR")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("MY_VAR") && err.contains("AccountKey"),
            "{err}"
        );
        let err = parse_connection_string("garbage", "MY_VAR")
            .unwrap_err()
            .to_string();
        assert!(err.contains("MY_VAR"), "{err}");
    }

    #[test]
    fn plain_http_is_refused_off_loopback_and_secrets_never_print() {
        let key = "c2VjcmV0LWtleS1ub3QtdG8tcHJpbnQ=";
        let open = |endpoint: &str| {
            AzureStore::open(AzureConfig {
                account: "contoso".into(),
                container: "roster".into(),
                prefix: "t/".into(),
                endpoint: Some(endpoint.into()),
                auth: AzureAuth::ConnectionString {
                    value: format!("AccountName=contoso;AccountKey={key}"),
                    from: "V".into(),
                },
            })
        };
        let err = open("http://storage.example.com").unwrap_err().to_string();
        assert!(err.contains("plain HTTP"), "{err}");
        let store = open("http://127.0.0.1:9").unwrap();
        assert_eq!(store.locate("lock.json"), "contoso/roster/t/lock.json");
        // Nothing listens on the discard port: refused before any change,
        // naming the store, never the key.
        let err = store.probe().unwrap_err().to_string();
        assert!(err.contains("contoso/roster/t/"), "{err}");
        assert!(!err.contains(key), "{err}");
        assert!(!format!("{store:?}").contains(key));
    }
}
