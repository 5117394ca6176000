//! The JSON Schema of TOML manifests (for editors: completion and checks as
//! you type), generated with `schemars` from types that mirror the TOML
//! shape. These types only describe; the TOML lowering is what reads.
//!
//! Policy types and attributes are matched without regard to case when
//! read; the schema offers their canonical spelling. TOML has no `null`, so
//! optional keys are simply not required.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::catalog::{ATTRIBUTES, POLICY_TYPES};

/// One TOML manifest file of a roster config directory.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(title = "roster manifest (TOML)", deny_unknown_fields)]
pub struct ManifestFile {
    /// Tenant settings: at most one `[tenant]` in the whole directory.
    tenant: Option<TenantToml>,
    /// Number ranges by name.
    range: Option<BTreeMap<String, RangeToml>>,
    /// Personas by name: policies plus the ranges to draw numbers from.
    persona: Option<BTreeMap<String, PersonaToml>>,
    /// Ordered first-match rules.
    rule: Option<Vec<RuleToml>>,
    /// User overrides by user principal name.
    user: Option<BTreeMap<String, UserToml>>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct TenantToml {
    name: Option<String>,
    provider: Option<ProviderToml>,
    /// Which users roster manages (the condition language of `when`).
    scope: Option<Conditions>,
    leavers: Option<LeaversToml>,
    safety: Option<SafetyToml>,
    /// Reconcile loops plan but do not apply while paused.
    paused: Option<bool>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, rename_all = "kebab-case")]
struct ProviderToml {
    /// `file` (a tenant snapshot) or `graph` (Microsoft Graph).
    kind: ProviderKind,
    /// file: the snapshot, relative to the config directory.
    path: Option<String>,
    tenant_id: Option<String>,
    client_id: Option<String>,
    /// Name of the environment variable that holds the client secret.
    client_secret_env: Option<String>,
    /// Path of a file that holds the client secret.
    client_secret_file: Option<String>,
    /// PEM certificate for a signed client assertion.
    certificate_file: Option<String>,
    /// PEM private key of that certificate.
    private_key_file: Option<String>,
    /// Overrides `https://graph.microsoft.com`.
    endpoint: Option<String>,
    /// Overrides `https://login.microsoftonline.com`.
    authority: Option<String>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum ProviderKind {
    File,
    Graph,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, rename_all = "kebab-case")]
struct LeaversToml {
    release_number: Option<bool>,
    reset_policies: Option<bool>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, rename_all = "kebab-case")]
struct SafetyToml {
    max_changed_users: Option<u32>,
    #[schemars(range(max = 100))]
    max_changed_percent: Option<u32>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct RangeToml {
    #[serde(rename = "type")]
    kind: RangeType,
    /// Emergency location id sent with every number of this range.
    location: Option<String>,
    /// Inclusive `[from, to]` pairs of E.164 numbers.
    blocks: Option<Vec<[E164Toml; 2]>>,
    /// Numbers never allocated by rules; only by a user pin.
    reserve: Option<Vec<E164Toml>>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum RangeType {
    DirectRouting,
    CallingPlan,
    OperatorConnect,
}

/// An E.164 telephone number.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(transparent)]
struct E164Toml(#[schemars(regex(pattern = r"^\+[0-9]{8,15}$"))] String);

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct PersonaToml {
    description: Option<String>,
    /// Policy type to policy name; `Global` removes a direct assignment.
    policies: Option<Policies>,
    /// Range names tried in order, or `false` for no number.
    number: Option<NumberToml>,
}

/// Range names (one or a list), or `false`: the user must hold no number.
struct NumberToml;

impl JsonSchema for NumberToml {
    fn schema_name() -> Cow<'static, str> {
        "Number".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": { "type": "string" }, "minItems": 1 },
                { "const": false }
            ]
        })
    }
}

/// One value, or a list meaning "any of these".
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct RuleToml {
    name: String,
    persona: String,
    description: Option<String>,
    /// All conditions must hold; without `when` the rule matches everyone.
    when: Option<Conditions>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct UserToml {
    persona: Option<String>,
    number: Option<E164Toml>,
    ignore: Option<bool>,
}

/// Policy types of the catalog (matched without regard to case).
struct Policies;

impl JsonSchema for Policies {
    fn schema_name() -> Cow<'static, str> {
        "Policies".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let props: serde_json::Map<String, serde_json::Value> = POLICY_TYPES
            .iter()
            .map(|t| ((*t).to_string(), serde_json::json!({ "type": "string" })))
            .collect();
        json_schema!({ "type": "object", "properties": props, "additionalProperties": false })
    }
}

/// A `when` or `scope` table: attribute conditions and `all`/`any`/`not`.
struct Conditions;

impl JsonSchema for Conditions {
    fn schema_name() -> Cow<'static, str> {
        "Conditions".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let value = generator.subschema_for::<ConditionValue>();
        let me = generator.subschema_for::<Conditions>();
        let mut props = serde_json::Map::new();
        for a in ATTRIBUTES {
            props.insert((*a).to_string(), value.clone().to_value());
        }
        let group = serde_json::json!({ "anyOf": [ me.clone().to_value(), { "type": "array", "items": me.to_value() } ] });
        for g in ["all", "any", "not"] {
            props.insert(g.to_string(), group.clone());
        }
        json_schema!({ "type": "object", "properties": props, "additionalProperties": false })
    }
}

/// A value (equals), a list of values (equals one of), or operators.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(untagged)]
enum ConditionValue {
    One(String),
    AnyOf(Vec<String>),
    Operators(Operators),
}

#[allow(dead_code)]
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, rename_all = "kebab-case")]
struct Operators {
    /// Equals one of these values.
    equals: Option<OneOrMany>,
    starts_with: Option<String>,
    ends_with: Option<String>,
    contains: Option<String>,
    /// A regular expression that must match the whole value.
    matches: Option<String>,
    exists: Option<bool>,
}

/// The JSON Schema of TOML manifests, pretty-printed.
pub fn manifest_schema() -> String {
    let schema = SchemaSettings::draft2020_12()
        .with_transform(RecursiveTransform(drop_null))
        .into_generator()
        .into_root_schema_for::<ManifestFile>();
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

/// `Option<T>` is "T or null" to schemars; in TOML it is "T, or leave the
/// key out", which `required` already says.
fn drop_null(schema: &mut Schema) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if let Some(serde_json::Value::Array(types)) = obj.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            obj.insert("type".into(), only);
        }
    }
    let null = serde_json::json!({ "type": "null" });
    if let Some(serde_json::Value::Array(any)) = obj.get_mut("anyOf") {
        any.retain(|s| *s != null);
        if any.len() == 1
            && let Some(serde_json::Value::Object(only)) = any.pop()
        {
            obj.remove("anyOf");
            for (k, v) in only {
                obj.entry(k).or_insert(v);
            }
        }
    }
}
