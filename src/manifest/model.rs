//! The one manifest model that KDL and TOML both lower into.
//!
//! Every item keeps the [`Span`] it was written at, so validation (and the
//! plan) can point into the file. Names are kept as written; lookups that
//! the language defines as case-insensitive (policy types, attributes,
//! `Global`) are resolved during lowering. No I/O.

use crate::catalog::AttrId;
use crate::numbers::{E164, NumberType};

use super::pattern::Pattern;
use super::source::{Span, Spanned};

/// Everything a config directory says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    pub tenant: Option<Tenant>,
    pub ranges: Vec<NumberRange>,
    pub personas: Vec<Persona>,
    /// In order: files by path, then as written in each file.
    pub rules: Vec<Rule>,
    pub users: Vec<UserOverride>,
    /// Rule tests, in order: files by path, then as written.
    pub tests: Vec<RuleTest>,
}

impl Manifest {
    pub fn persona(&self, name: &str) -> Option<&Persona> {
        self.personas.iter().find(|p| p.name.value == name)
    }

    pub fn range(&self, name: &str) -> Option<&NumberRange> {
        self.ranges.iter().find(|r| r.name.value == name)
    }

    /// The tenant settings, or the defaults when there is no `tenant` item.
    pub fn settings(&self) -> std::borrow::Cow<'_, Tenant> {
        match &self.tenant {
            Some(t) => std::borrow::Cow::Borrowed(t),
            None => std::borrow::Cow::Owned(Tenant::default()),
        }
    }
}

/// `tenant "NAME" { … }` / `[tenant]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub name: String,
    pub provider: Option<Spanned<ProviderConfig>>,
    pub scope: Option<Condition>,
    pub leavers: Leavers,
    pub safety: Safety,
    pub numbers: NumberSettings,
    /// Where roster keeps its state (default: the `file` store beside the
    /// manifests).
    pub state: Option<Spanned<StateConfig>>,
    /// Reconcile loops plan but do not apply while this is set.
    pub paused: bool,
    pub span: Span,
}

/// `state "file" path="…"` / `state "azure-blob" account="…" container="…"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateConfig {
    /// A directory, relative to the config directory (default
    /// `.roster-state`).
    File { path: Option<String> },
    /// A container of an Azure Storage account.
    AzureBlob(AzureBlobConfig),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AzureBlobConfig {
    pub account: String,
    pub container: String,
    /// The blob name prefix (`contoso/`).
    pub path: Option<String>,
    /// Overrides `https://ACCOUNT.blob.core.windows.net` (Azurite, sovereign
    /// clouds).
    pub endpoint: Option<String>,
    /// The environment variable holding a storage connection string
    /// (default `AZURE_STORAGE_CONNECTION_STRING`).
    pub connection_string_env: Option<String>,
}

/// How roster treats the numbers it releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberSettings {
    /// How long a released number stays out of allocation (zero: none).
    pub quarantine: std::time::Duration,
}

impl NumberSettings {
    pub const DEFAULT_QUARANTINE: std::time::Duration =
        std::time::Duration::from_secs(7 * 24 * 3600);
}

impl Default for NumberSettings {
    fn default() -> Self {
        NumberSettings {
            quarantine: Self::DEFAULT_QUARANTINE,
        }
    }
}

impl Default for Tenant {
    fn default() -> Self {
        Tenant {
            name: "tenant".into(),
            provider: None,
            scope: None,
            leavers: Leavers::default(),
            safety: Safety::default(),
            numbers: NumberSettings::default(),
            state: None,
            paused: false,
            span: Span::default(),
        }
    }
}

/// Where the live state is read and changed.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderConfig {
    /// A tenant snapshot on disk, relative to the config directory.
    File { path: String },
    /// Microsoft Graph with an app registration.
    Graph(Box<GraphConfig>),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct GraphConfig {
    pub tenant_id: String,
    pub client_id: String,
    /// Name of the environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// Path of a file holding the client secret.
    pub client_secret_file: Option<String>,
    /// PEM certificate and private key for a signed client assertion.
    pub certificate_file: Option<String>,
    pub private_key_file: Option<String>,
    /// Workload identity federation: the CI's OIDC token instead of a
    /// secret (the secret or certificate, when also named, is the fallback
    /// where the CI provides no token).
    pub federated: Option<Federation>,
    /// The token file of the `file` source (default:
    /// `AZURE_FEDERATED_TOKEN_FILE`), relative to the config directory.
    pub federated_token_file: Option<String>,
    /// The Azure Pipelines service connection (default:
    /// `AZURESUBSCRIPTION_SERVICE_CONNECTION_ID`).
    pub service_connection_id: Option<String>,
    pub endpoint: Option<String>,
    pub authority: Option<String>,
}

/// Where the OIDC token of workload identity federation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Federation {
    /// GitHub Actions' ID-token service.
    GitHub,
    /// A token file (Azure workload identity on Kubernetes, other CIs).
    File,
    /// Azure Pipelines' service-connection OIDC endpoint.
    AzurePipelines,
    /// Whichever of those the environment provides.
    Auto,
}

impl Federation {
    pub fn from_manifest(text: &str) -> Option<Federation> {
        Some(match text {
            "github" => Federation::GitHub,
            "file" => Federation::File,
            "azure-pipelines" => Federation::AzurePipelines,
            "auto" => Federation::Auto,
            _ => return None,
        })
    }

    pub fn as_manifest(self) -> &'static str {
        match self {
            Federation::GitHub => "github",
            Federation::File => "file",
            Federation::AzurePipelines => "azure-pipelines",
            Federation::Auto => "auto",
        }
    }
}

/// What happens to users in scope whose account is disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leavers {
    pub release_number: bool,
    pub reset_policies: bool,
}

impl Default for Leavers {
    fn default() -> Self {
        Leavers {
            release_number: true,
            reset_policies: false,
        }
    }
}

/// Limits over which an apply is refused without `--force`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Safety {
    pub max_changed_users: Option<u64>,
    pub max_changed_percent: Option<u32>,
    /// The directory sanity guard: the largest share (percent of users) of
    /// an attribute the rules use that may become empty between applies.
    pub max_emptied_percent: u32,
    /// The largest drop (percent) of users in scope between applies.
    pub max_scope_drop_percent: u32,
}

impl Safety {
    pub const DEFAULT_PERCENT: u32 = 30;
    /// The default of both directory sanity limits.
    pub const DEFAULT_GUARD_PERCENT: u32 = 10;
    /// The percentage limit applies once at least this many users are in scope.
    pub const PERCENT_MIN_USERS: usize = 10;
}

impl Default for Safety {
    fn default() -> Self {
        Safety {
            max_changed_users: None,
            max_changed_percent: Some(Self::DEFAULT_PERCENT),
            max_emptied_percent: Self::DEFAULT_GUARD_PERCENT,
            max_scope_drop_percent: Self::DEFAULT_GUARD_PERCENT,
        }
    }
}

/// `range "NAME" type=… { block …; reserve … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberRange {
    pub name: Spanned<String>,
    pub kind: NumberType,
    pub location: Option<String>,
    pub blocks: Vec<Block>,
    pub reserve: Vec<Spanned<E164>>,
    pub span: Span,
}

impl NumberRange {
    pub fn contains(&self, n: E164) -> bool {
        self.blocks.iter().any(|b| b.contains(n))
    }

    pub fn is_reserved(&self, n: E164) -> bool {
        self.reserve.iter().any(|r| r.value == n)
    }
}

/// An inclusive block of numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub from: E164,
    pub to: E164,
    pub span: Span,
}

impl Block {
    pub fn contains(&self, n: E164) -> bool {
        n.len() == self.from.len() && self.from <= n && n <= self.to
    }

    pub fn size(&self) -> u64 {
        if self.from.len() != self.to.len() || self.from > self.to {
            0
        } else {
            self.to.digits() - self.from.digits() + 1
        }
    }

    pub fn overlaps(&self, other: &Block) -> bool {
        self.from.len() == other.from.len()
            && self.from.len() == self.to.len()
            && other.from.len() == other.to.len()
            && self.from <= other.to
            && other.from <= self.to
    }
}

/// `persona "NAME" { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Persona {
    pub name: Spanned<String>,
    pub description: Option<String>,
    pub policies: Vec<PolicySetting>,
    pub number: NumberPolicy,
    pub span: Span,
}

/// One `PolicyType "Name"` line of a persona.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicySetting {
    /// Canonical catalog spelling, or as written when unknown (an error).
    pub policy_type: Spanned<String>,
    /// `None` for `Global` (any case): no direct assignment.
    pub policy: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum NumberPolicy {
    /// No `number`: numbers are not managed for this persona's users.
    #[default]
    Unmanaged,
    /// `number #false`: the user must hold no number.
    Forbidden,
    /// Range names, tried in this order.
    Ranges(Vec<Spanned<String>>),
}

/// `rule "NAME" persona="P" { when { … } }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: Spanned<String>,
    pub persona: Spanned<String>,
    pub description: Option<String>,
    /// The conditions of `when`, all of which must hold (empty: everyone).
    pub when: Vec<Condition>,
    pub span: Span,
}

/// The condition language of `when` and `scope`.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    All(Vec<Condition>, Span),
    Any(Vec<Condition>, Span),
    /// Holds when the `all` of its children does not.
    Not(Vec<Condition>, Span),
    Attr(AttrCondition),
}

impl Condition {
    pub fn span(&self) -> Span {
        match self {
            Condition::All(_, s) | Condition::Any(_, s) | Condition::Not(_, s) => *s,
            Condition::Attr(a) => a.span,
        }
    }
}

/// A test of one user attribute: "equals one of `values`" and every operator.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrCondition {
    pub attribute: AttrId,
    /// As written; compared trimmed and without regard to case.
    pub values: Vec<String>,
    pub ops: Vec<Spanned<Op>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    /// A regular expression that must match the whole (trimmed) value,
    /// without regard to case; compiled when the manifest was read.
    Matches(Pattern),
    Exists(bool),
}

impl Op {
    /// Canonical position among the operators: operators must all hold, so
    /// their written order means nothing and the model keeps them sorted.
    pub fn rank(&self) -> usize {
        super::keys::operator_rank(self.keyword())
    }

    pub fn keyword(&self) -> &'static str {
        match self {
            Op::StartsWith(_) => "starts-with",
            Op::EndsWith(_) => "ends-with",
            Op::Contains(_) => "contains",
            Op::Matches(_) => "matches",
            Op::Exists(_) => "exists",
        }
    }
}

/// `user "UPN" …`.
#[derive(Debug, Clone, PartialEq)]
pub struct UserOverride {
    pub upn: Spanned<String>,
    pub persona: Option<Spanned<String>>,
    pub number: Option<Spanned<E164>>,
    /// The pin may take a number in quarantine (`take-quarantined`).
    pub take_quarantined: bool,
    pub ignore: bool,
    /// `YYYY-MM-DD`: from this day on the override no longer applies.
    pub expires: Option<Spanned<String>>,
    /// Who asked for it.
    pub owner: Option<String>,
    pub span: Span,
}

impl UserOverride {
    /// Whether the override has expired on `today` (`YYYY-MM-DD`).
    pub fn expired(&self, today: &str) -> bool {
        self.expires
            .as_ref()
            .is_some_and(|d| d.value.as_str() <= today)
    }
}

/// `test "NAME" { user …; expect … }`: a fixture user and what it must get.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleTest {
    pub name: Spanned<String>,
    pub user: TestUser,
    /// `None` only when the manifest has errors (a missing `expect`).
    pub expect: Option<Expectation>,
    pub span: Span,
}

/// The fixture user of a test.
#[derive(Debug, Clone, PartialEq)]
pub struct TestUser {
    /// Attributes as written (canonical ids; `memberOf` is not among them).
    pub attributes: Vec<(AttrId, String)>,
    pub account_enabled: bool,
    /// Display names of the groups the user belongs to.
    pub member_of: Vec<String>,
}

impl Default for TestUser {
    fn default() -> Self {
        TestUser {
            attributes: Vec::new(),
            account_enabled: true,
            member_of: Vec::new(),
        }
    }
}

/// What a test's user must get.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub outcome: Expected,
    /// With a persona: the range it draws numbers from first.
    pub range: Option<Spanned<String>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    Persona(Spanned<String>),
    Unmatched,
    OutOfScope,
    Leaver,
}
