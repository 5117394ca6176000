//! The `state` tenant setting of a KDL manifest (where roster keeps its
//! journal, lock and quarantine), lowered on the shared [`Ctx`].

use kdl::KdlNode;

use crate::manifest::keys::{Item, STATE_KINDS};
use crate::manifest::lower;
use crate::manifest::model::{AzureBlobConfig, StateConfig};
use crate::manifest::source::Spanned;

use super::Ctx;

impl Ctx<'_> {
    pub(super) fn state(&mut self, node: &KdlNode) -> Option<Spanned<StateConfig>> {
        self.no_children(node);
        let span = self.node_span(node);
        let kind = self.item_name(node, "state kind")?;
        if !STATE_KINDS.contains(&kind.value.as_str()) {
            lower::unknown(
                self.diags,
                "state store",
                &kind.value,
                kind.span,
                STATE_KINDS,
            );
            return None;
        }
        let p = self.props(node, &Item::State.kdl_properties_for(&kind.value));
        let get = |cx: &mut Self, k: &str| -> Option<String> {
            p.get(k)
                .and_then(|e| cx.string(e, &format!("`{k}`")).map(|s| s.value))
        };
        let path = get(self, "path");
        if kind.value == "file" {
            return Some(Spanned::new(StateConfig::File { path }, span));
        }
        let a = AzureBlobConfig {
            account: get(self, "account").unwrap_or_default(),
            container: get(self, "container").unwrap_or_default(),
            path,
            endpoint: get(self, "endpoint"),
            connection_string_env: get(self, "connection-string-env"),
        };
        lower::azure_blob(self.diags, a, span)
    }
}
