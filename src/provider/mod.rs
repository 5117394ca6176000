//! Providers: where the live state is read and where writes go.
//!
//! A provider fetches a [`LiveState`] and performs [`Step`]s, reporting an
//! outcome per user so one failure never stops the rest. `commit` makes the
//! writes durable where that is a separate step (the file provider's atomic
//! rename).

pub mod file;
pub mod graph;

use std::sync::Arc;

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
}

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
}
