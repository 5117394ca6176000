//! Providers: where the live state is read and where writes go.
//!
//! A provider fetches a [`LiveState`] and performs [`Step`]s, reporting an
//! outcome per user so one failure never stops the rest. `commit` makes the
//! writes durable where that is a separate step (the file provider's atomic
//! rename); `lock` keeps other applies out of the tenant meanwhile.

pub mod file;
pub mod graph;
pub mod incremental;

use std::sync::Arc;
use std::time::Duration;

use crate::live::LiveState;
use crate::plan::schedule::Step;

/// The result of one write for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub user_id: String,
    /// `None` when applied; the API's error otherwise.
    pub error: Option<String>,
}

impl Outcome {
    pub fn ok(user_id: &str) -> Self {
        Outcome {
            user_id: user_id.to_string(),
            error: None,
        }
    }

    /// A failure; its message is masked ([`crate::redact`]): it reaches
    /// the apply report and the terminal.
    pub fn failed(user_id: &str, error: impl Into<String>) -> Self {
        let error = error.into();
        Outcome {
            user_id: user_id.to_string(),
            error: Some(crate::redact::text(&error).into_owned()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error(transparent)]
    Snapshot(#[from] crate::snapshot::SnapshotError),
    #[error(
        "cannot write tenant snapshot `{file}`: {source}\nhint: the old snapshot is left as it was; check free space and permissions, then apply again"
    )]
    Write {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The tenant snapshot could not be re-serialised with the changes.
    #[error("{source}")]
    Patch {
        file: String,
        #[source]
        source: serde_json::Error,
    },
    /// Reading or writing through Microsoft Graph failed (typed: auth,
    /// permission, throttling, transport, API answers).
    #[error(transparent)]
    Graph(#[from] graph::GraphError),
    /// Another apply held the tenant's lock for the whole lock timeout.
    #[error(
        "the tenant snapshot `{file}` is locked by another apply: {holder} holds `{lock}`{waited}\nhint: let that apply finish, then run again, or wait longer with `--lock-timeout` (e.g. `--lock-timeout 10m`); the lock ends with its holder, even a killed one, so never delete `{lock}` by hand"
    )]
    Locked {
        file: String,
        lock: String,
        holder: String,
        /// `, waited 5s`, or empty when it did not wait.
        waited: String,
    },
    /// The lock file beside the tenant snapshot could not be opened.
    #[error(
        "cannot lock the tenant snapshot `{file}`: {source}\nhint: roster keeps `{lock}` beside the snapshot to keep two applies apart; the folder must exist and be writable"
    )]
    Lock {
        file: String,
        lock: String,
        #[source]
        source: std::io::Error,
    },
    /// Someone wrote the tenant snapshot during the apply without the lock,
    /// and some of this apply's writes no longer fit the file as it is now.
    #[error(
        "the tenant snapshot `{file}` was changed by another writer during this apply, and {} of this apply's writes no longer fit it: {}; nothing was written\nhint: plan and apply again", conflicts.len(), conflicts.join("; ")
    )]
    Conflict {
        file: String,
        conflicts: Vec<String>,
    },
}

/// How long a provider's commit waits for the tenant's lock when the
/// caller did not take it (the `--lock-timeout` default as well).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(300);

pub trait Provider {
    /// `file` or `graph`.
    fn kind(&self) -> &'static str;

    /// The live state. Shared, not copied: a provider that changes it later
    /// (the file provider) copies only if the caller still holds it.
    fn fetch(&mut self) -> Result<Arc<LiveState>, ProviderError>;

    /// Perform independent writes; one outcome per (write, user).
    fn execute(&mut self, writes: &[Step]) -> Vec<Outcome>;

    /// Make the writes so far durable.
    fn commit(&mut self) -> Result<(), ProviderError>;

    /// Hold the tenant exclusively from now until the provider is dropped,
    /// so that two applies never interleave: call it before the `fetch`
    /// an apply is based on (a state read earlier is read again). When
    /// another process holds it, say once on stderr who, and wait up to
    /// `timeout` (zero: fail at once) before failing with
    /// [`ProviderError::Locked`]. A read-only run (`plan`) never calls it.
    ///
    /// The file provider locks `<snapshot>.lock` beside the snapshot. The
    /// default does nothing: Graph offers no lock of its own (a lock in
    /// roster's state store will cover it).
    fn lock(&mut self, timeout: Duration) -> Result<(), ProviderError> {
        let _ = timeout;
        Ok(())
    }

    /// Also resolve these (policy type, policy name) pairs at the next
    /// `fetch`, besides those the manifests' personas name: a revert gives
    /// back policies the manifests may no longer name. The default does
    /// nothing (a provider that reads every policy needs no list).
    fn resolve_policies(&mut self, policies: &[(String, String)]) {
        let _ = policies;
    }

    /// At the next `fetch`, read every group of the tenant and its members,
    /// not only the groups the manifests' conditions name (`roster import`
    /// learns rules over any group). The default does nothing (a provider
    /// that reads every group needs no flag).
    fn read_all_groups(&mut self) {}

    /// Directory changes and targeted reads for `reconcile --watch`; `None`
    /// (the default, the file provider): every round reads the tenant whole.
    fn incremental(&mut self) -> Option<&mut dyn incremental::Incremental> {
        None
    }
}
