//! KDL 2.0 manifests (the `kdl` crate) lowered into the [`Manifest`] model.
//!
//! Unknown nodes and properties, wrong value types and missing arguments are
//! diagnostics pointing at the entry; lowering carries on so every problem of
//! a file is reported. No I/O.

use std::collections::BTreeMap;

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};

mod items;
mod rule_test;
mod state;

use super::depth;
use super::diag::{Diagnostic, Diagnostics};
use super::keys::Item;
use super::lower;
use super::model::*;
use super::source::{FileId, Span, Spanned};

struct Ctx<'d> {
    file: FileId,
    text: &'d str,
    diags: &'d mut Diagnostics,
}

/// Parse one KDL file and add what it says to `manifest`.
pub fn lower_file(text: &str, file: FileId, manifest: &mut Manifest, diags: &mut Diagnostics) {
    // The parser recurses once per block: measure before handing it the text.
    if let Some(at) = depth::kdl_too_deep(text) {
        diags.push(lower::too_deep(file, at));
        return;
    }
    let doc = match KdlDocument::parse(text) {
        Ok(doc) => doc,
        Err(err) => {
            syntax_errors(text, file, err, diags);
            return;
        }
    };
    let mut cx = Ctx { file, text, diags };
    for node in doc.nodes() {
        cx.top_level(node, manifest);
    }
}

/// Report what the KDL parser found, in our words where theirs are
/// obscure, without the echoes one problem leaves in the parser.
fn syntax_errors(text: &str, file: FileId, err: kdl::KdlError, diags: &mut Diagnostics) {
    let unclosed_block = err
        .diagnostics
        .iter()
        .any(|d| d.message.as_deref() == Some("No closing '}' for child block"));
    for d in err.diagnostics {
        let range = d.span.offset()..d.span.offset() + d.span.len();
        let span = Span::new(file, range.clone());
        let message = d.message.unwrap_or_else(|| "invalid KDL".into());
        // The same unclosed block, reported again over the whole document.
        if unclosed_block && message == "Closing '}' was not found after nodes" {
            continue;
        }
        let written = text.get(range).unwrap_or("");
        let diag = match written {
            // KDL 1.0 spellings: bare keywords are not values in KDL 2.0.
            "true" | "false" | "null" => Diagnostic::error(
                "kdl-syntax",
                span,
                format!("bare `{written}` is not a value in KDL 2.0"),
            )
            .label(format!("write `#{written}`"))
            .help("manifests are KDL 2.0: the keywords are `#true`, `#false` and `#null`"),
            _ if message == "Unexpected newline in single-line quoted string" => {
                Diagnostic::error("kdl-syntax", span, "string not closed on its line")
                    .label("no closing `\"`")
                    .help("close the string with `\"` before the end of the line")
            }
            _ => {
                let help = d.help.unwrap_or_else(|| {
                    if message.contains("closing '}'") || message.contains("Closing '}'") {
                        "add the `}` that closes this block".into()
                    } else {
                        "manifests are KDL 2.0: strings are quoted, booleans are `#true`/`#false`"
                            .into()
                    }
                });
                Diagnostic::error("kdl-syntax", span, message)
                    .label(d.label.unwrap_or_else(|| "here".into()))
                    .help(help)
            }
        };
        diags.push(diag);
    }
}

impl Ctx<'_> {
    fn span(&self, s: miette::SourceSpan) -> Span {
        Span::new(self.file, s.offset()..s.offset() + s.len())
    }

    fn node_span(&self, node: &KdlNode) -> Span {
        self.span(node.span())
    }

    fn name_span(&self, node: &KdlNode) -> Span {
        self.span(node.name().span())
    }

    /// A node without its children block: `tenant "contoso"`.
    fn head_span(&self, node: &KdlNode) -> Span {
        let start = node.span().offset();
        let end = node
            .entries()
            .iter()
            .map(|e| e.span().offset() + e.span().len())
            .chain([node.name().span().offset() + node.name().span().len()])
            .max()
            .unwrap_or(start);
        Span::new(self.file, start..end)
    }

    fn top_level(&mut self, node: &KdlNode, m: &mut Manifest) {
        match node.name().value() {
            "tenant" => {
                if let Some(t) = self.tenant(node) {
                    if let Some(first) = &m.tenant {
                        self.diags.push(lower::duplicate_tenant(t.span, first.span));
                    } else {
                        m.tenant = Some(t);
                    }
                }
            }
            "range" => {
                if let Some(r) = self.range(node) {
                    m.ranges.push(r);
                }
            }
            "persona" => {
                if let Some(p) = self.persona(node) {
                    m.personas.push(p);
                }
            }
            "rule" => {
                if let Some(r) = self.rule(node) {
                    m.rules.push(r);
                }
            }
            "user" => {
                if let Some(u) = self.user(node) {
                    m.users.push(u);
                }
            }
            "test" => {
                if let Some(t) = self.rule_test(node) {
                    m.tests.push(t);
                }
            }
            other => {
                let span = self.name_span(node);
                lower::unknown(self.diags, "item", other, span, &Item::File.kdl_children())
            }
        }
    }

    /// Positional arguments of a node.
    fn args<'n>(&self, node: &'n KdlNode) -> Vec<&'n KdlEntry> {
        node.entries()
            .iter()
            .filter(|e| e.name().is_none())
            .collect()
    }

    /// Properties of a node by name; unknown and repeated ones are reported.
    fn props<'n>(&mut self, node: &'n KdlNode, allowed: &[&str]) -> BTreeMap<String, &'n KdlEntry> {
        let owner = format!("`{}`", node.name().value());
        self.props_of(node, allowed, "property", &owner)
    }

    /// [`Self::props`], naming what the properties are (`operator`) and
    /// whose (`condition `city``) in messages.
    fn props_of<'n>(
        &mut self,
        node: &'n KdlNode,
        allowed: &[&str],
        what: &str,
        owner: &str,
    ) -> BTreeMap<String, &'n KdlEntry> {
        let mut out: BTreeMap<String, &KdlEntry> = BTreeMap::new();
        for e in node.entries() {
            let Some(name) = e.name() else { continue };
            let key = name.value().to_string();
            let span = self.span(e.span());
            if !allowed.contains(&key.as_str()) {
                if allowed.is_empty() {
                    self.diags.push(
                        Diagnostic::error(
                            "unknown-item",
                            span,
                            format!("`{}` takes no properties", node.name().value()),
                        )
                        .label("unexpected property")
                        .help(format!("remove `{key}=…`")),
                    );
                } else {
                    lower::unknown_in(self.diags, what, &key, owner, span, allowed);
                }
                continue;
            }
            if let Some(first) = out.get(&key) {
                let first = self.span(first.span());
                lower::duplicate_key(self.diags, span, &key, first);
                continue;
            }
            out.insert(key, e);
        }
        out
    }

    fn no_args(&mut self, node: &KdlNode, hint: &str) {
        for a in self.args(node) {
            let span = self.span(a.span());
            self.diags.push(
                Diagnostic::error(
                    "unexpected-argument",
                    span,
                    format!("`{}` takes no value here", node.name().value()),
                )
                .label("unexpected value")
                .help(hint.to_string()),
            );
        }
    }

    fn no_children(&mut self, node: &KdlNode) {
        if let Some(children) = node.children()
            && !children.nodes().is_empty()
        {
            let span = self.span(children.span());
            self.diags.push(
                Diagnostic::error(
                    "unexpected-children",
                    span,
                    format!("`{}` takes no children block", node.name().value()),
                )
                .label("unexpected block")
                .help("remove the `{ … }` block"),
            );
        }
    }

    /// The children of a node that takes each child once; a repeated one is
    /// reported and skipped. Yields (name, name span, child).
    fn unique_children<'n>(&mut self, node: &'n KdlNode) -> Vec<(&'n str, Span, &'n KdlNode)> {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        let mut out = Vec::new();
        for child in self.children(node) {
            let key = child.name().value();
            let span = self.name_span(child);
            if let Some(first) = seen.get(key) {
                lower::duplicate_key(self.diags, span, key, *first);
                continue;
            }
            seen.insert(key, span);
            out.push((key, span, child));
        }
        out
    }

    fn children<'n>(&self, node: &'n KdlNode) -> &'n [KdlNode] {
        node.children().map(|d| d.nodes()).unwrap_or(&[])
    }

    fn string(&mut self, e: &KdlEntry, what: &str) -> Option<Spanned<String>> {
        let span = self.span(e.span());
        match e.value() {
            KdlValue::String(s) => Some(Spanned::new(s.clone(), span)),
            other => {
                let hint = match other {
                    KdlValue::Integer(_) | KdlValue::Float(_) => {
                        lower::quote_hint(self.value_text(e))
                    }
                    _ => "strings are written in double quotes".into(),
                };
                lower::wrong_type(self.diags, span, what, "a string", &hint);
                None
            }
        }
    }

    fn boolean(&mut self, e: &KdlEntry, what: &str) -> Option<bool> {
        match e.value() {
            KdlValue::Bool(b) => Some(*b),
            _ => {
                let span = self.span(e.span());
                lower::wrong_type(
                    self.diags,
                    span,
                    what,
                    "a boolean",
                    "write `#true` or `#false`",
                );
                None
            }
        }
    }

    fn integer(&mut self, e: &KdlEntry, what: &str, max: i128) -> Option<i128> {
        match e.value() {
            KdlValue::Integer(i) if (0..=max).contains(i) => Some(*i),
            other => {
                let span = self.span(e.span());
                let parsed = match other {
                    KdlValue::Integer(i) => Some(*i),
                    _ => None,
                };
                lower::wrong_type(
                    self.diags,
                    span,
                    what,
                    &format!("a whole number from 0 to {max}"),
                    &lower::integer_hint(parsed, max),
                );
                None
            }
        }
    }

    /// The source text of an entry's value (`+4420…` as written, where the
    /// parsed integer would have lost the `+`).
    fn value_text(&self, e: &KdlEntry) -> Option<&str> {
        let whole = self
            .text
            .get(e.span().offset()..e.span().offset() + e.span().len())?;
        Some(match e.name() {
            Some(_) => whole.split_once('=').map_or(whole, |(_, v)| v),
            None => whole,
        })
    }

    /// The single string argument naming an item (`persona "NAME"`);
    /// `what` is what the name is ("persona name", "user principal name").
    fn item_name(&mut self, node: &KdlNode, what: &str) -> Option<Spanned<String>> {
        let args = self.args(node);
        let node_span = self.node_span(node);
        match args.as_slice() {
            [] => {
                let example = if node.name().value() == "user" {
                    "someone@contoso.com"
                } else {
                    "NAME"
                };
                lower::missing(
                    self.diags,
                    self.span(node.name().span()),
                    &format!("the {what}"),
                    &format!("write `{} \"{example}\"`", node.name().value()),
                );
                None
            }
            [one, rest @ ..] => {
                for extra in rest {
                    let span = self.span(extra.span());
                    self.diags.push(
                        Diagnostic::error(
                            "unexpected-argument",
                            span,
                            format!("`{}` takes one name", node.name().value()),
                        )
                        .label("extra value")
                        .help("remove it, or give it as a property: `key=\"value\"`"),
                    );
                }
                let name = self.string(one, &format!("the {what}"))?;
                if name.value.trim().is_empty() {
                    self.diags.push(
                        Diagnostic::error("empty-value", node_span, format!("empty {what}"))
                            .label("name expected")
                            .help(format!("give the {what} between the quotes")),
                    );
                    return None;
                }
                Some(name)
            }
        }
    }
}
