//! Incremental reads: what changed in the directory since a delta link,
//! and the Teams state of a few users, for `roster reconcile --watch`
//! between full rounds. A provider that can follow directory changes
//! (Graph's `/users/delta`) offers [`Incremental`] through
//! [`super::Provider::incremental`]; one that cannot (the file provider)
//! offers none, and the watcher reads it whole every round. It must not
//! decide anything: it reads, and says what it read.

use std::sync::Arc;

use super::ProviderError;
use crate::live::LiveState;
use crate::snapshot::{SnapAssignment, SnapPolicy, SnapUser};

/// The directory changes since a delta link.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Users created or changed (disabled ones too), with every property a
    /// full read selects; one entry per user, the latest.
    pub users: Vec<SnapUser>,
    /// Users deleted from the directory (by object id).
    pub removed: Vec<String>,
    /// Where to ask next time.
    pub link: String,
}

/// One user's Teams state and group membership, as a full read would
/// give it.
#[derive(Debug, Clone, Default)]
pub struct TeamsUser {
    pub id: String,
    /// Direct policy assignments.
    pub assignments: Vec<SnapAssignment>,
    /// Policies the configuration showed (names with their ids).
    pub policies: Vec<SnapPolicy>,
    /// Ids of the groups the user belongs to, directly or through nesting.
    pub groups: Vec<String>,
}

/// Requests sent so far, and how many answers were 429 (throttled).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    pub requests: u64,
    pub throttled: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum IncrementalError {
    /// The delta link is no longer valid (`410 Gone`, `syncStateNotFound`,
    /// `resyncRequired`): only a full read is right now.
    #[error("the directory delta link has expired ({0}); a full round reads the tenant again")]
    Expired(String),
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl From<super::graph::GraphError> for IncrementalError {
    fn from(e: super::graph::GraphError) -> Self {
        IncrementalError::Provider(e.into())
    }
}

pub trait Incremental {
    /// A delta link from now on (no users: changes from now).
    fn latest(&mut self) -> Result<String, IncrementalError>;

    /// The changes since `link`, every page followed.
    fn changes(&mut self, link: &str) -> Result<Changes, IncrementalError>;

    /// The Teams state and group membership of these users (by object
    /// id); `groups` says whether membership is needed at all. Users
    /// unknown to Teams come back with no assignments.
    fn read_users(
        &mut self,
        ids: &[String],
        groups: bool,
    ) -> Result<Vec<TeamsUser>, IncrementalError>;

    /// The live state the next writes are based on (instead of a fetch).
    fn base_writes_on(&mut self, live: Arc<LiveState>);

    /// Requests sent since the provider was opened.
    fn traffic(&self) -> Traffic;
}
