//! The `state` tenant setting of a TOML manifest (where roster keeps its
//! journal, lock and quarantine), lowered on the shared [`Ctx`].

use crate::manifest::keys::{Item, STATE_KINDS};
use crate::manifest::lower;
use crate::manifest::model::{AzureBlobConfig, StateConfig};
use crate::manifest::source::Spanned;

use super::{Ctx, Value};

impl Ctx<'_> {
    pub(super) fn state(&mut self, v: &Value<'_>) -> Option<Spanned<StateConfig>> {
        let span = self.vspan(v);
        let t = self.table(v, "`state`")?;
        let mut kind = None;
        let mut a = AzureBlobConfig::default();
        let mut azure_keys = Vec::new();
        for (k, kspan, v) in self.fields(t, "`state`", &Item::State.toml_keys()) {
            let Some(s) = self.string(v, &format!("`{k}`")) else {
                continue;
            };
            if !["kind", "path"].contains(&k.as_str()) {
                azure_keys.push((k.clone(), kspan));
            }
            match k.as_str() {
                "kind" => kind = Some(s),
                "path" => a.path = Some(s.value),
                "account" => a.account = s.value,
                "container" => a.container = s.value,
                "endpoint" => a.endpoint = Some(s.value),
                _ => a.connection_string_env = Some(s.value),
            }
        }
        let Some(kind) = kind else {
            lower::missing(
                self.diags,
                span,
                "`kind`",
                "write `state = { kind = \"file\", path = \".roster-state\" }`",
            );
            return None;
        };
        match kind.value.as_str() {
            "file" => {
                for (k, kspan) in &azure_keys {
                    lower::unknown_in(
                        self.diags,
                        "property",
                        k,
                        "`state` of kind `file`",
                        *kspan,
                        &Item::State.kdl_properties_for("file"),
                    );
                }
                Some(Spanned::new(StateConfig::File { path: a.path }, span))
            }
            "azure-blob" => lower::azure_blob(self.diags, a, span),
            other => {
                lower::unknown(self.diags, "state store", other, kind.span, STATE_KINDS);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::manifest::model::{AzureBlobConfig, StateConfig};
    use crate::manifest::parse_str;

    fn state(path: &str, text: &str) -> (Option<StateConfig>, String) {
        let loaded = parse_str(path, text);
        let messages: Vec<String> = loaded
            .diagnostics
            .items
            .iter()
            .map(|d| d.message.clone())
            .collect();
        let state = loaded
            .manifest
            .tenant
            .and_then(|t| t.state)
            .map(|s| s.value);
        (state, messages.join("\n"))
    }

    #[test]
    fn kdl_and_toml_say_the_same_state() {
        let azure = StateConfig::AzureBlob(AzureBlobConfig {
            account: "contosoroster".into(),
            container: "roster".into(),
            path: Some("contoso/".into()),
            endpoint: Some("http://127.0.0.1:10000/devstoreaccount1".into()),
            connection_string_env: Some("CS".into()),
        });
        let kdl = state(
            "t.kdl",
            "tenant \"t\" {\n    state \"azure-blob\" account=\"contosoroster\" container=\"roster\" path=\"contoso/\" endpoint=\"http://127.0.0.1:10000/devstoreaccount1\" connection-string-env=\"CS\"\n}\n",
        );
        let toml = state(
            "t.toml",
            "[tenant]\nstate = { kind = \"azure-blob\", account = \"contosoroster\", container = \"roster\", path = \"contoso/\", endpoint = \"http://127.0.0.1:10000/devstoreaccount1\", connection-string-env = \"CS\" }\n",
        );
        assert_eq!(kdl, (Some(azure.clone()), String::new()));
        assert_eq!(toml, (Some(azure), String::new()));
        let file = StateConfig::File {
            path: Some("state".into()),
        };
        assert_eq!(
            state("t.kdl", "tenant {\n    state \"file\" path=\"state\"\n}\n").0,
            Some(file.clone())
        );
        assert_eq!(
            state(
                "t.toml",
                "[tenant]\nstate = { kind = \"file\", path = \"state\" }\n"
            )
            .0,
            Some(file)
        );
    }

    #[test]
    fn a_wrong_state_is_reported_in_both_forms() {
        let (_, msg) = state(
            "t.kdl",
            "tenant {\n    state \"azure-blob\" account=\"a\"\n}\n",
        );
        assert!(msg.contains("missing `container`"), "{msg}");
        let (_, msg) = state(
            "t.toml",
            "[tenant]\nstate = { kind = \"azure-blob\", container = \"c\" }\n",
        );
        assert!(msg.contains("missing `account`"), "{msg}");
        let (_, msg) = state("t.kdl", "tenant {\n    state \"s3\"\n}\n");
        assert!(msg.contains("unknown state store `s3`"), "{msg}");
        let (_, msg) = state("t.kdl", "tenant {\n    state \"file\" account=\"a\"\n}\n");
        assert!(msg.contains("account"), "{msg}");
        let (_, msg) = state(
            "t.toml",
            "[tenant]\nstate = { kind = \"file\", account = \"a\" }\n",
        );
        assert!(msg.contains("unknown property `account`"), "{msg}");
    }
}
