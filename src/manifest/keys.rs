//! The one table of manifest keys: for every kind of item, the keys it
//! takes, how each is written in KDL and TOML, its type, whether it is
//! required, its place in the canonical layout and its documentation.
//!
//! Both lowerings read it to know which keys exist (unknown keys and their
//! "did you mean"), both formatters read it for the canonical key order,
//! and the JSON Schema is generated from it. A new key is one row here,
//! plus the lowering code that gives it meaning. Pure data: no I/O.

/// A kind of table (TOML) or node (KDL) in a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// A manifest file: its top-level items.
    File,
    Tenant,
    Provider,
    Leavers,
    Safety,
    Numbers,
    State,
    Range,
    Persona,
    Rule,
    User,
    /// A rule test: a fixture user and what it must get.
    Test,
    /// The fixture user of a test: attributes (open keys), `accountEnabled`
    /// and `memberOf`.
    TestUser,
    /// What a test's user must get.
    Expect,
    /// The operators of one attribute condition.
    Operators,
}

/// One key of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The TOML key, and the KDL name unless [`Kdl::Children`] says otherwise.
    pub name: &'static str,
    pub ty: Ty,
    pub kdl: Kdl,
    pub required: bool,
    /// Taken only by this kind of the item (`path` by `provider "file"`).
    pub only_for: Option<&'static str>,
    /// Written after the item's other keys in TOML: a table that reads best
    /// as its own section (`[persona.x.policies]` after `[persona.x]`).
    pub toml_last: bool,
    /// What the key means, for the schema (and so for editors).
    pub doc: Option<&'static str>,
}

/// How a key is written in KDL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdl {
    /// An argument of the item's node: `rule "NAME"`, `provider "file"`;
    /// the values of a condition.
    Argument,
    /// A property: `persona="sales"`.
    Property,
    /// A child node of the same name: `description "…"`, `when { … }`.
    Child,
    /// Child nodes of another name, one per element: `block` for `blocks`.
    Children(&'static str),
}

/// What a key's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    String,
    Bool,
    /// A whole number from 0 to `max`.
    Integer {
        max: u32,
    },
    /// One of these words; `name` names the set in the schema.
    Choice {
        name: &'static str,
        values: &'static [&'static str],
    },
    /// One item.
    Table(Item),
    /// Items by name (`[persona.NAME]`).
    Named(Item),
    /// Items in order (`[[rule]]`).
    List(Item),
    /// Conditions: attribute tests and `all`/`any`/`not` groups.
    Conditions,
    /// Policy type to policy name.
    Policies,
    /// An E.164 telephone number.
    E164,
    /// Inclusive `[from, to]` pairs of numbers.
    E164Pairs,
    /// Numbers.
    E164List,
    /// Range names, or `false`.
    RangeNames,
    /// One value, or a list meaning "any of these".
    OneOrMany,
}

impl Ty {
    /// The item the value is, or holds (by name or in order).
    pub fn item(self) -> Option<Item> {
        match self {
            Ty::Table(item) | Ty::Named(item) | Ty::List(item) => Some(item),
            _ => None,
        }
    }
}

const fn key(name: &'static str, ty: Ty, kdl: Kdl) -> Key {
    Key {
        name,
        ty,
        kdl,
        required: false,
        only_for: None,
        toml_last: false,
        doc: None,
    }
}

impl Key {
    const fn required(self) -> Key {
        Key {
            required: true,
            ..self
        }
    }

    const fn doc(self, doc: &'static str) -> Key {
        Key {
            doc: Some(doc),
            ..self
        }
    }

    const fn only_for(self, kind: &'static str) -> Key {
        Key {
            only_for: Some(kind),
            ..self
        }
    }

    const fn toml_last(self) -> Key {
        Key {
            toml_last: true,
            ..self
        }
    }

    /// The name of the KDL node or property.
    pub fn kdl_name(&self) -> &'static str {
        match self.kdl {
            Kdl::Children(name) => name,
            _ => self.name,
        }
    }
}

use Kdl::{Argument, Child, Children, Property};

pub const PROVIDER_KINDS: &[&str] = &["file", "graph"];
pub const FEDERATED_SOURCES: &[&str] = &["github", "file", "azure-pipelines", "auto"];
pub const STATE_KINDS: &[&str] = &["file", "azure-blob"];
pub const NUMBER_TYPES: &[&str] = &["direct-routing", "calling-plan", "operator-connect"];

const FILE: &[Key] = &[
    key("tenant", Ty::Table(Item::Tenant), Child)
        .doc("Tenant settings: at most one `[tenant]` in the whole directory."),
    key("range", Ty::Named(Item::Range), Child).doc("Number ranges by name."),
    key("persona", Ty::Named(Item::Persona), Child)
        .doc("Personas by name: policies plus the ranges to draw numbers from."),
    key("rule", Ty::List(Item::Rule), Child).doc("Ordered first-match rules."),
    key("user", Ty::Named(Item::User), Child).doc("User overrides by user principal name."),
    key("test", Ty::List(Item::Test), Child)
        .doc("Rule tests: a fixture user and what it must get; run by `roster test`, `validate` and `plan`."),
];

const TENANT: &[Key] = &[
    key("name", Ty::String, Argument),
    key("provider", Ty::Table(Item::Provider), Child),
    key("scope", Ty::Conditions, Child)
        .doc("Which users roster manages (the condition language of `when`)."),
    key("leavers", Ty::Table(Item::Leavers), Child),
    key("safety", Ty::Table(Item::Safety), Child),
    key("numbers", Ty::Table(Item::Numbers), Child)
        .doc("How roster treats the numbers it releases."),
    key("state", Ty::Table(Item::State), Child)
        .doc("Where roster keeps its journal, lock and number quarantine: `file` (a directory, default `.roster-state/` beside the manifests) or `azure-blob`."),
    key("paused", Ty::Bool, Child).doc("Reconcile loops plan but do not apply while paused."),
];

const PROVIDER_KIND: Ty = Ty::Choice {
    name: "ProviderKind",
    values: PROVIDER_KINDS,
};

const PROVIDER: &[Key] = &[
    key("kind", PROVIDER_KIND, Argument)
        .required()
        .doc("`file` (a tenant snapshot) or `graph` (Microsoft Graph)."),
    key("path", Ty::String, Property)
        .only_for("file")
        .doc("file: the snapshot, relative to the config directory."),
    key("tenant-id", Ty::String, Property).only_for("graph"),
    key("client-id", Ty::String, Property).only_for("graph"),
    key("client-secret-env", Ty::String, Property)
        .only_for("graph")
        .doc("Name of the environment variable that holds the client secret."),
    key("client-secret-file", Ty::String, Property)
        .only_for("graph")
        .doc("Path of a file that holds the client secret."),
    key("certificate-file", Ty::String, Property)
        .only_for("graph")
        .doc("PEM certificate for a signed client assertion."),
    key("private-key-file", Ty::String, Property)
        .only_for("graph")
        .doc("PEM private key of that certificate."),
    key(
        "federated",
        Ty::Choice {
            name: "FederatedSource",
            values: FEDERATED_SOURCES,
        },
        Property,
    )
    .only_for("graph")
    .doc("Workload identity federation: the CI's OIDC token instead of a secret (`github`, `file`, `azure-pipelines` or `auto`); a secret or certificate also named is the fallback when the CI provides no token."),
    key("federated-token-file", Ty::String, Property)
        .only_for("graph")
        .doc("federated=\"file\": the token file (default: `AZURE_FEDERATED_TOKEN_FILE`)."),
    key("service-connection-id", Ty::String, Property)
        .only_for("graph")
        .doc("federated=\"azure-pipelines\": the service connection (default: `AZURESUBSCRIPTION_SERVICE_CONNECTION_ID`)."),
    key("endpoint", Ty::String, Property)
        .only_for("graph")
        .doc("Overrides `https://graph.microsoft.com`."),
    key("authority", Ty::String, Property)
        .only_for("graph")
        .doc("Overrides `https://login.microsoftonline.com`."),
];

const LEAVERS: &[Key] = &[
    key("release-number", Ty::Bool, Property),
    key("reset-policies", Ty::Bool, Property),
];

const SAFETY: &[Key] = &[
    key("max-changed-users", Ty::Integer { max: u32::MAX }, Property),
    key("max-changed-percent", Ty::Integer { max: 100 }, Property),
    key("max-emptied-percent", Ty::Integer { max: 100 }, Property).doc(
        "Refuse an apply when an attribute the rules use became empty for more than this share of users since the last apply (default 10).",
    ),
    key("max-scope-drop-percent", Ty::Integer { max: 100 }, Property).doc(
        "Refuse an apply when the users in scope dropped by more than this share since the last apply (default 10).",
    ),
];

const NUMBERS: &[Key] = &[key("quarantine", Ty::String, Property).doc(
    "How long a number roster released stays out of allocation: a duration such as `7d` or `12h`, or `0` for none. Default `7d`.",
)];

const STATE_KIND: Ty = Ty::Choice {
    name: "StateKind",
    values: STATE_KINDS,
};

const STATE: &[Key] = &[
    key("kind", STATE_KIND, Argument)
        .required()
        .doc("`file` (a directory) or `azure-blob` (an Azure Storage container)."),
    key("path", Ty::String, Property).doc(
        "file: the directory, relative to the config directory (default `.roster-state`); azure-blob: the blob name prefix (`contoso/`).",
    ),
    key("account", Ty::String, Property)
        .only_for("azure-blob")
        .doc("The storage account's name."),
    key("container", Ty::String, Property)
        .only_for("azure-blob")
        .doc("The blob container (create it first; see docs/ci.md)."),
    key("endpoint", Ty::String, Property)
        .only_for("azure-blob")
        .doc("Overrides `https://ACCOUNT.blob.core.windows.net` (Azurite on loopback, sovereign clouds)."),
    key("connection-string-env", Ty::String, Property)
        .only_for("azure-blob")
        .doc("Name of the environment variable holding a storage connection string (default `AZURE_STORAGE_CONNECTION_STRING`); when it is not set, the graph provider's app registration is used with a storage-scoped token."),
];

const RANGE: &[Key] = &[
    key(
        "type",
        Ty::Choice {
            name: "RangeType",
            values: NUMBER_TYPES,
        },
        Property,
    )
    .required(),
    key("location", Ty::String, Property)
        .doc("Emergency location id sent with every number of this range."),
    key("blocks", Ty::E164Pairs, Children("block"))
        .doc("Inclusive `[from, to]` pairs of E.164 numbers."),
    key("reserve", Ty::E164List, Child)
        .doc("Numbers never allocated by rules; only by a user pin."),
];

const PERSONA: &[Key] = &[
    key("description", Ty::String, Child),
    key("policies", Ty::Policies, Child)
        .toml_last()
        .doc("Policy type to policy name; `Global` removes a direct assignment."),
    key("number", Ty::RangeNames, Child)
        .doc("Range names tried in order, or `false` for no number."),
];

const RULE: &[Key] = &[
    key("name", Ty::String, Argument).required(),
    key("persona", Ty::String, Property).required(),
    key("description", Ty::String, Child),
    key("when", Ty::Conditions, Child)
        .doc("All conditions must hold; without `when` the rule matches everyone."),
];

const USER: &[Key] = &[
    key("persona", Ty::String, Property),
    key("number", Ty::E164, Property),
    key("take-quarantined", Ty::Bool, Property).doc(
        "Let the pinned `number` be given even while it is in quarantine (released lately from someone else); without it such a pin is a plan error.",
    ),
    key("ignore", Ty::Bool, Property),
    key("expires", Ty::String, Property).doc(
        "A date (`YYYY-MM-DD`): from that day on the override no longer applies and the rules decide again; the plan warns 14 days before.",
    ),
    key("owner", Ty::String, Property)
        .doc("Who asked for the override (free text or a UPN), shown in the plan's warnings."),
];

const TEST: &[Key] = &[
    key("name", Ty::String, Argument).required(),
    key("user", Ty::Table(Item::TestUser), Child)
        .doc("The fixture user: attributes by name (the attributes of `when`), plus `accountEnabled` and `memberOf`."),
    key("expect", Ty::Table(Item::Expect), Child)
        .required()
        .doc("What the user must get: one of `persona`, `unmatched`, `out-of-scope`, `leaver`."),
];

/// The fixed keys of a test user; every other key is an attribute.
const TEST_USER: &[Key] = &[
    key("accountEnabled", Ty::Bool, Property)
        .doc("Whether the account is enabled (default `true`; `false` makes a leaver)."),
    key("memberOf", Ty::OneOrMany, Children("memberOf"))
        .doc("Display names of the groups the user belongs to."),
];

const EXPECT: &[Key] = &[
    key("persona", Ty::String, Property).doc("The persona the user must get."),
    key("unmatched", Ty::Bool, Property).doc("In scope, but no rule matches."),
    key("out-of-scope", Ty::Bool, Property).doc("Outside the tenant `scope`."),
    key("leaver", Ty::Bool, Property).doc("A leaver (account disabled, in scope)."),
    key("range", Ty::String, Property)
        .doc("With `persona`: the range the persona draws numbers from first."),
];

/// `equals` is how TOML spells the values KDL gives as arguments; the
/// rest are the operators, in their canonical order.
const OPERATORS: &[Key] = &[
    key("equals", Ty::OneOrMany, Argument).doc("Equals one of these values."),
    key("starts-with", Ty::String, Property),
    key("ends-with", Ty::String, Property),
    key("contains", Ty::String, Property),
    key("matches", Ty::String, Property)
        .doc("A regular expression that must match the whole value."),
    key("exists", Ty::Bool, Property),
];

impl Item {
    /// The keys, in the order the manifest language documents them (and
    /// messages list them).
    pub fn keys(self) -> &'static [Key] {
        match self {
            Item::File => FILE,
            Item::Tenant => TENANT,
            Item::Provider => PROVIDER,
            Item::Leavers => LEAVERS,
            Item::Safety => SAFETY,
            Item::Numbers => NUMBERS,
            Item::State => STATE,
            Item::Range => RANGE,
            Item::Persona => PERSONA,
            Item::Rule => RULE,
            Item::User => USER,
            Item::Test => TEST,
            Item::TestUser => TEST_USER,
            Item::Expect => EXPECT,
            Item::Operators => OPERATORS,
        }
    }

    pub fn key(self, name: &str) -> Option<&'static Key> {
        self.keys().iter().find(|k| k.name == name)
    }

    /// The key written as a KDL child node `name` (`when`, `block`).
    pub fn kdl_child(self, name: &str) -> Option<&'static Key> {
        self.keys()
            .iter()
            .find(|k| matches!(k.kdl, Child | Children(_)) && k.kdl_name() == name)
    }

    /// What the schema calls the item's table.
    pub fn schema_name(self) -> &'static str {
        match self {
            Item::File => "ManifestFile",
            Item::Tenant => "TenantToml",
            Item::Provider => "ProviderToml",
            Item::Leavers => "LeaversToml",
            Item::Safety => "SafetyToml",
            Item::Numbers => "NumbersToml",
            Item::State => "StateToml",
            Item::Range => "RangeToml",
            Item::Persona => "PersonaToml",
            Item::Rule => "RuleToml",
            Item::User => "UserToml",
            Item::Test => "TestToml",
            Item::TestUser => "TestUserToml",
            Item::Expect => "ExpectToml",
            Item::Operators => "Operators",
        }
    }

    /// The TOML keys, in documented order.
    pub fn toml_keys(self) -> Vec<&'static str> {
        self.keys().iter().map(|k| k.name).collect()
    }

    /// The TOML keys in the canonical layout's order.
    pub fn toml_order(self) -> Vec<&'static str> {
        let keys = self.keys().iter();
        keys.clone()
            .filter(|k| !k.toml_last)
            .chain(keys.filter(|k| k.toml_last))
            .map(|k| k.name)
            .collect()
    }

    /// The KDL properties, in documented (and canonical) order.
    pub fn kdl_properties(self) -> Vec<&'static str> {
        self.kdl_names(|k| k.kdl == Property)
    }

    /// The KDL properties of one kind of the item (`provider "graph"`).
    pub fn kdl_properties_for(self, kind: &str) -> Vec<&'static str> {
        self.kdl_names(|k| k.kdl == Property && k.only_for.is_none_or(|o| o == kind))
    }

    /// The KDL child nodes, in documented order.
    pub fn kdl_children(self) -> Vec<&'static str> {
        self.kdl_names(|k| matches!(k.kdl, Child | Children(_)))
    }

    fn kdl_names(self, keep: impl Fn(&Key) -> bool) -> Vec<&'static str> {
        self.keys()
            .iter()
            .filter(|k| keep(k))
            .map(Key::kdl_name)
            .collect()
    }
}

/// Position of an operator among the operators (`starts-with` … `exists`):
/// the canonical order of a condition's operators.
pub fn operator_rank(keyword: &str) -> usize {
    let ops = OPERATORS.iter().filter(|k| k.kdl == Property);
    let count = ops.clone().count();
    ops.map(|k| k.name)
        .position(|k| k == keyword)
        .unwrap_or(count)
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
