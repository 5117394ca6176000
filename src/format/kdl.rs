//! The canonical layout of KDL manifests.
//!
//! Four spaces per level, one node per line, `{` on the node's line,
//! arguments before properties, properties in the order the manifest
//! language documents them (alphabetical for other nodes), values as
//! quoted strings, one space between entries, one blank line between
//! top-level items. Comments and slashdashed items stay where they were
//! written, relative to the node or entry they precede; the spaces before
//! a comment that ends a line are kept, so hand-aligned comments stay
//! aligned. A block written on one line with a single plain child
//! (`not { department "Contractors" }`) may stay on one line; anything
//! else is one node per line. No I/O.

mod lex;
mod print;
mod syntax;

use ::kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};

use super::{FmtError, comment_fingerprint, line_col, too_deep};
use crate::manifest::depth;
use crate::manifest::keys::{Item, Ty};
use print::Printer;
use syntax::{Entry, Node, Parser};

pub fn format(text: &str) -> Result<String, FmtError> {
    if let Some(at) = depth::kdl_too_deep(text) {
        return Err(too_deep("KDL", text, at));
    }
    let doc = KdlDocument::parse(text).map_err(|e| syntax_error(text, &e))?;
    let mut tree = Parser::new(text)
        .and_then(Parser::document)
        .map_err(|e| FmtError::Unsafe(format!("cannot follow the file's layout: {e}")))?;
    decode(&mut tree.nodes, doc.nodes()).map_err(FmtError::Unsafe)?;
    let mut p = Printer::default();
    p.nodes(&tree.nodes, &tree.end, 0, Ctx::ROOT, false);
    let mut out = String::new();
    if text.starts_with('\u{FEFF}') {
        out.push('\u{FEFF}');
    }
    out.push_str(p.lines.join("\n").trim_end());
    if !out.trim().is_empty() {
        out.push('\n');
    }
    verify(text, &doc, &out)?;
    Ok(out)
}

fn syntax_error(text: &str, e: &::kdl::KdlError) -> FmtError {
    let first = e.diagnostics.first();
    let (line, column) = line_col(text, first.map_or(0, |d| d.span.offset()));
    FmtError::Syntax {
        format: "KDL",
        message: first
            .and_then(|d| d.message.clone())
            .unwrap_or_else(|| "invalid KDL".into()),
        line,
        column,
    }
}

/// Take names and values from the `kdl` crate's reading of the same text.
fn decode(nodes: &mut [Node], ast: &[KdlNode]) -> Result<(), String> {
    if nodes.len() != ast.len() {
        return Err("the layout and the document disagree on the nodes".into());
    }
    for (n, a) in nodes.iter_mut().zip(ast) {
        n.name = a.name().value().to_string();
        n.ty = a.ty().map(|t| t.value().to_string());
        if n.entries.len() != a.entries().len() {
            return Err(format!(
                "the layout and the document disagree on `{}`",
                n.name
            ));
        }
        for (e, ae) in n.entries.iter_mut().zip(a.entries()) {
            if e.key.is_some() != ae.name().is_some() {
                return Err(format!(
                    "the layout and the document disagree on `{}`",
                    n.name
                ));
            }
            e.key = ae.name().map(|k| k.value().to_string());
            e.ty = ae.ty().map(|t| t.value().to_string());
            e.value = Some(ae.value().clone());
        }
        match (&mut n.children, a.children()) {
            (Some(b), Some(d)) => decode(&mut b.nodes, d.nodes())?,
            (None, None) => {}
            _ => {
                return Err(format!(
                    "the layout and the document disagree on `{}`",
                    n.name
                ));
            }
        }
    }
    Ok(())
}

// ----- canonical order ------------------------------------------------------

/// Where a node is, which decides the order of its properties. The shape
/// (which node holds which item) comes from the key table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// A node that is a manifest item (the file itself at the root).
    Item(Item),
    /// `when`, `scope`, `all`, `any`, `not`: holds conditions.
    Conditions,
    Other,
}

impl Ctx {
    const ROOT: Ctx = Ctx::Item(Item::File);

    fn child(self, name: &str) -> Ctx {
        match self {
            Ctx::Item(item) => match item.kdl_child(name).map(|k| k.ty) {
                Some(Ty::Conditions) => Ctx::Conditions,
                Some(ty) => ty.item().map_or(Ctx::Other, Ctx::Item),
                None => Ctx::Other,
            },
            Ctx::Conditions if matches!(name, "all" | "any" | "not") => Ctx::Conditions,
            // `city "London"`, `officeLocation starts-with="UK-"`.
            Ctx::Conditions => Ctx::Item(Item::Operators),
            Ctx::Other => Ctx::Other,
        }
    }

    /// Properties in the order the manifest language writes them.
    fn properties(self) -> Vec<&'static str> {
        match self {
            Ctx::Item(item) => item.kdl_properties(),
            Ctx::Conditions | Ctx::Other => Vec::new(),
        }
    }
}

/// Arguments as written, then properties: known ones in their documented
/// order, others alphabetically. Stable, so a repeated property keeps
/// its place relative to its twin (the last one still wins).
fn ordered(entries: &[Entry], ctx: Ctx) -> Vec<&Entry> {
    let known = ctx.properties();
    let mut args: Vec<&Entry> = entries.iter().filter(|e| e.key.is_none()).collect();
    let mut props: Vec<&Entry> = entries.iter().filter(|e| e.key.is_some()).collect();
    props.sort_by_key(|e| {
        let k = e.key.as_deref().unwrap_or_default();
        match known.iter().position(|x| *x == k) {
            Some(i) => (i, ""),
            None => (known.len(), k),
        }
    });
    args.extend(props);
    args
}

// ----- the safety net ------------------------------------------------------

/// The formatted text must say what the input says and keep every comment.
fn verify(text: &str, before: &KdlDocument, out: &str) -> Result<(), FmtError> {
    let after = KdlDocument::parse(out)
        .map_err(|_| FmtError::Unsafe("the result would not be valid KDL".into()))?;
    if !same_nodes(before.nodes(), after.nodes()) {
        return Err(FmtError::Unsafe(
            "the result would say something else".into(),
        ));
    }
    let kept = match (lex::comments(text), lex::comments(out)) {
        (Ok(a), Ok(b)) => comment_fingerprint(a) == comment_fingerprint(b),
        _ => false,
    };
    if !kept {
        return Err(FmtError::Unsafe("a comment would be lost".into()));
    }
    Ok(())
}

fn same_nodes(a: &[KdlNode], b: &[KdlNode]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_node(a, b))
}

fn same_node(a: &KdlNode, b: &KdlNode) -> bool {
    let ty = |n: &KdlNode| n.ty().map(|t| t.value().to_string());
    a.name().value() == b.name().value()
        && ty(a) == ty(b)
        && meaning(a.entries()) == meaning(b.entries())
        && match (a.children(), b.children()) {
            (Some(x), Some(y)) => same_nodes(x.nodes(), y.nodes()),
            (None, None) => true,
            _ => false,
        }
}

/// Entries as KDL reads them: arguments in order, then properties by name
/// (stable, so the last of a repeated property is still last).
fn meaning(entries: &[KdlEntry]) -> Vec<(Option<String>, Option<String>, KdlValue)> {
    let mut v: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e.name().map(|n| n.value().to_string()),
                e.ty().map(|t| t.value().to_string()),
                e.value().clone(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[cfg(test)]
mod tests;
