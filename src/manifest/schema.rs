//! The JSON Schema of TOML manifests (for editors: completion and checks as
//! you type), generated from the key table ([`super::keys`]): every item
//! kind becomes a definition, every key a property with its type, its
//! documentation and whether it is required. The schema only describes;
//! the TOML lowering is what reads.
//!
//! Policy types and attributes are matched without regard to case when
//! read; the schema offers their canonical spelling. TOML has no `null`, so
//! optional keys are simply not required. Pure: no I/O.

use serde_json::{Map, Value, json};

use super::keys::{Item, Key, Ty};
use crate::catalog::{ATTRIBUTES, POLICY_TYPES};

/// The JSON Schema of TOML manifests, pretty-printed.
pub fn manifest_schema() -> String {
    let mut defs = Defs::default();
    let (properties, _) = defs.properties(Item::File);
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "roster manifest (TOML)",
        "description": "One TOML manifest file of a roster config directory.",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
        "$defs": defs.0,
    });
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

/// The definitions (`$defs`), in the order they are first referred to.
#[derive(Default)]
struct Defs(Map<String, Value>);

impl Defs {
    /// `{"$ref": …}` to a definition, defining it on first use.
    fn reference(&mut self, name: &str, define: impl FnOnce(&mut Self) -> Value) -> Value {
        if !self.0.contains_key(name) {
            // Taken first, so a definition comes before the ones it uses
            // and a recursive one (conditions in conditions) ends.
            self.0.insert(name.to_string(), Value::Null);
            let schema = define(self);
            self.0.insert(name.to_string(), schema);
        }
        json!({ "$ref": format!("#/$defs/{name}") })
    }

    fn item(&mut self, item: Item) -> Value {
        self.reference(item.schema_name(), |defs| {
            let (properties, required) = defs.properties(item);
            let mut schema = object(properties);
            if item == Item::TestUser {
                // Every other key is an attribute of the fixture user.
                schema.insert(
                    "additionalProperties".into(),
                    json!({ "type": "string", "description": "A user attribute (the attributes of `when`)." }),
                );
            }
            if !required.is_empty() {
                schema.insert("required".into(), json!(required));
            }
            Value::Object(schema)
        })
    }

    /// The properties of an item and its required keys.
    fn properties(&mut self, item: Item) -> (Map<String, Value>, Vec<&'static str>) {
        let mut properties = Map::new();
        for k in item.keys() {
            properties.insert(k.name.to_string(), self.key(k));
        }
        let required = item
            .keys()
            .iter()
            .filter(|k| k.required)
            .map(|k| k.name)
            .collect();
        (properties, required)
    }

    fn key(&mut self, k: &Key) -> Value {
        let mut schema = Map::new();
        if let Some(doc) = k.doc {
            schema.insert("description".into(), json!(doc));
        }
        if let Value::Object(ty) = self.ty(k.ty) {
            schema.extend(ty);
        }
        Value::Object(schema)
    }

    fn ty(&mut self, ty: Ty) -> Value {
        match ty {
            Ty::String => json!({ "type": "string" }),
            Ty::Bool => json!({ "type": "boolean" }),
            Ty::Integer { max } => {
                let mut schema = json!({ "type": "integer", "format": "uint32", "minimum": 0 });
                if max < u32::MAX {
                    schema["maximum"] = json!(max);
                }
                schema
            }
            Ty::Choice { name, values } => {
                self.reference(name, |_| json!({ "type": "string", "enum": values }))
            }
            Ty::Table(item) => self.item(item),
            Ty::Named(item) => {
                json!({ "type": "object", "additionalProperties": self.item(item) })
            }
            Ty::List(item) => json!({ "type": "array", "items": self.item(item) }),
            Ty::Conditions => self.conditions(),
            Ty::Policies => self.reference("Policies", |_| {
                let props: Map<String, Value> = POLICY_TYPES
                    .iter()
                    .map(|t| ((*t).to_string(), json!({ "type": "string" })))
                    .collect();
                Value::Object(object(props))
            }),
            Ty::E164 => self.e164(),
            Ty::E164Pairs => {
                let number = self.e164();
                json!({
                    "type": "array",
                    "items": { "type": "array", "items": number, "minItems": 2, "maxItems": 2 }
                })
            }
            Ty::E164List => json!({ "type": "array", "items": self.e164() }),
            Ty::RangeNames => self.reference("Number", |_| {
                json!({
                    "anyOf": [
                        { "type": "string" },
                        { "type": "array", "items": { "type": "string" }, "minItems": 1 },
                        { "const": false }
                    ]
                })
            }),
            Ty::OneOrMany => self.reference("OneOrMany", |_| {
                json!({
                    "description": "One value, or a list meaning \"any of these\".",
                    "anyOf": [
                        { "type": "string" },
                        { "type": "array", "items": { "type": "string" } }
                    ]
                })
            }),
        }
    }

    fn e164(&mut self) -> Value {
        self.reference("E164Toml", |_| {
            json!({
                "description": "An E.164 telephone number.",
                "type": "string",
                "pattern": r"^\+[0-9]{8,15}$"
            })
        })
    }

    /// A `when` or `scope` table: attribute conditions and `all`/`any`/`not`.
    fn conditions(&mut self) -> Value {
        self.reference("Conditions", |defs| {
            let value = defs.reference("ConditionValue", |defs| {
                json!({
                    "description": "A value (equals), a list of values (equals one of), or operators.",
                    "anyOf": [
                        { "type": "string" },
                        { "type": "array", "items": { "type": "string" } },
                        defs.item(Item::Operators)
                    ]
                })
            });
            let me = defs.conditions();
            let mut props = Map::new();
            for a in ATTRIBUTES {
                props.insert((*a).to_string(), value.clone());
            }
            let group = json!({ "anyOf": [ me.clone(), { "type": "array", "items": me } ] });
            for g in ["all", "any", "not"] {
                props.insert(g.to_string(), group.clone());
            }
            Value::Object(object(props))
        })
    }
}

/// A closed object: these properties and no others.
fn object(properties: Map<String, Value>) -> Map<String, Value> {
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    schema.insert("additionalProperties".into(), json!(false));
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_the_table_is_in_the_schema() {
        let schema: Value = serde_json::from_str(&manifest_schema()).unwrap();
        let defs = &schema["$defs"];
        for item in [
            Item::Tenant,
            Item::Provider,
            Item::Leavers,
            Item::Safety,
            Item::Numbers,
            Item::State,
            Item::Range,
            Item::Persona,
            Item::Rule,
            Item::User,
            Item::Operators,
        ] {
            let def = &defs[item.schema_name()];
            let props: Vec<&str> = def["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{item:?} has no definition"))
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(props, item.toml_keys(), "{item:?}");
        }
        assert_eq!(defs["RuleToml"]["required"], json!(["name", "persona"]));
        assert_eq!(
            defs["SafetyToml"]["properties"]["max-changed-percent"]["maximum"],
            json!(100)
        );
    }
}
