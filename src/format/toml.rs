//! The canonical layout of TOML manifests, read with `toml_edit` (which
//! keeps comments and the written order).
//!
//! `key = value` with single spaces, keys at the start of the line; tables
//! in the written order with exactly one blank line between them (a table
//! that extends the one just before it, `[persona.x.policies]` after
//! `[persona.x]`, follows it directly, as the manifest language writes
//! it); keys of known tables in their documented order, others as written;
//! basic `"…"` strings, or literal `'…'` ones for a string holding `\` or
//! `"` (regular expressions read as written); arrays on one line when they
//! fit in [`MAX_WIDTH`], else one element per line with a trailing comma.
//! Comments stay with the key or element they precede, or at the end of
//! their line with the spaces written before them. No I/O.

mod check;
mod value;

use toml_edit::{DocumentMut, Item, Key, Table, Value};

use super::{FmtError, line_col, too_deep};
use crate::manifest::{depth, keys};
use value::{Line, key_path, lines, raw, render, trailing};

pub fn format(text: &str) -> Result<String, FmtError> {
    if let Some(at) = depth::toml_too_deep(text) {
        return Err(too_deep("TOML", text, at));
    }
    let doc: DocumentMut = text.parse().map_err(|e| syntax_error(text, &e))?;
    let mut w = Writer::default();
    w.document(&doc);
    let mut out = w.finish();
    // A byte-order mark stays, as in KDL: formatting changes layout only.
    if text.starts_with('\u{FEFF}') {
        out.insert(0, '\u{FEFF}');
    }
    check::verify(text, &out)?;
    Ok(out)
}

fn syntax_error(text: &str, e: &toml_edit::TomlError) -> FmtError {
    let (line, column) = line_col(text, e.span().map_or(0, |s| s.start));
    FmtError::Syntax {
        format: "TOML",
        message: e.message().trim().to_string(),
        line,
        column,
    }
}

// ----- canonical order ------------------------------------------------------

/// Where a table or value is, which decides the order of its keys. The
/// shape (which key holds which item) comes from the key table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// The document: keys as written.
    Root,
    /// A manifest item: its keys in canonical order.
    Item(keys::Item),
    /// Items by name (`[persona.NAME]`): the table of names.
    Named(keys::Item),
    /// `when`, `scope`, `all`, `any`, `not`: conditions, in written order.
    Conditions,
    Other,
}

impl Ctx {
    fn child(self, key: &str) -> Ctx {
        let within = |item: keys::Item| match item.key(key).map(|k| k.ty) {
            Some(keys::Ty::Conditions) => Ctx::Conditions,
            Some(keys::Ty::Named(i)) => Ctx::Named(i),
            Some(ty) => ty.item().map_or(Ctx::Other, Ctx::Item),
            None => Ctx::Other,
        };
        match self {
            Ctx::Root => within(keys::Item::File),
            Ctx::Item(item) => within(item),
            Ctx::Named(item) => Ctx::Item(item),
            Ctx::Conditions if matches!(key, "all" | "any" | "not") => Ctx::Conditions,
            // `{ starts-with = "UK-" }`.
            Ctx::Conditions => Ctx::Item(keys::Item::Operators),
            Ctx::Other => Ctx::Other,
        }
    }

    /// Keys in the order the canonical layout writes them.
    fn keys(self) -> Vec<&'static str> {
        match self {
            Ctx::Item(item) => item.toml_order(),
            Ctx::Root | Ctx::Named(_) | Ctx::Conditions | Ctx::Other => Vec::new(),
        }
    }

    fn at(self, keys: &[&Key]) -> Ctx {
        keys.iter().fold(self, |c, k| c.child(k.get()))
    }
}

/// Key/value pairs (dotted keys flattened, as `get_values` gives them) in
/// canonical order: by the first key, then, inside a dotted key, by the
/// next one in its own context. Stable, so unknown keys keep their order.
fn ordered<'t>(values: Vec<(Vec<&'t Key>, &'t Value)>, ctx: Ctx) -> Vec<(Vec<&'t Key>, &'t Value)> {
    sort_level(values, ctx, 0)
}

type KeyValue<'t> = (Vec<&'t Key>, &'t Value);

fn sort_level<'t>(values: Vec<KeyValue<'t>>, ctx: Ctx, depth: usize) -> Vec<KeyValue<'t>> {
    // Entries sharing a key at this depth are one dotted table: together.
    let mut groups: Vec<(String, Vec<KeyValue<'t>>)> = Vec::new();
    for v in values {
        let k = v.0.get(depth).map_or("", |k| k.get()).to_string();
        match groups.last_mut() {
            Some((last, g)) if *last == k => g.push(v),
            _ => groups.push((k, vec![v])),
        }
    }
    // Known keys first, in order; others after them, as written (the sort
    // is stable).
    let known = ctx.keys();
    groups.sort_by_key(|(k, _)| known.iter().position(|x| x == k).unwrap_or(known.len()));
    groups
        .into_iter()
        .flat_map(|(k, g)| {
            if g.iter().all(|v| v.0.len() > depth + 1) {
                sort_level(g, ctx.child(&k), depth + 1)
            } else {
                g
            }
        })
        .collect()
}

// ----- printing ------------------------------------------------------------

#[derive(Default)]
struct Writer {
    lines: Vec<String>,
    /// Key path of the last table header written.
    prev_table: Option<Vec<String>>,
}

/// Blank lines before an item's comments.
#[derive(Clone, Copy)]
enum Blank {
    /// None at all.
    No,
    /// Exactly one.
    One,
    /// As written (at most one).
    Kept,
}

impl Writer {
    fn comment_lines(&mut self, mut lines: Vec<Line>, blank: Blank) {
        let blank = if self.lines.is_empty() {
            Blank::No
        } else {
            blank
        };
        if !matches!(blank, Blank::Kept) {
            while lines.first() == Some(&Line::Blank) {
                lines.remove(0);
            }
        }
        if matches!(blank, Blank::One) {
            self.lines.push(String::new());
        }
        for l in lines {
            match l {
                Line::Blank if self.lines.last().is_none_or(|l| l.is_empty()) => {}
                Line::Blank => self.lines.push(String::new()),
                Line::Comment(c) => self.lines.push(c),
            }
        }
    }

    fn document(&mut self, doc: &DocumentMut) {
        let mut tables = Vec::new();
        let mut last = 0;
        collect(
            doc.as_table(),
            &mut Vec::new(),
            false,
            &mut tables,
            &mut last,
        );
        tables.sort_by_key(|(pos, _, path, _)| (!path.is_empty(), *pos));
        for (_, table, path, is_aot) in tables {
            let ctx = Ctx::Root.at(&path);
            if path.is_empty() {
                self.body(table, ctx);
            } else if is_aot || !(table.is_implicit() && table.get_values().is_empty()) {
                self.header(table, &path, is_aot);
                self.body(table, ctx);
            }
        }
        let mut end = lines(raw(Some(doc.trailing())));
        while end.last() == Some(&Line::Blank) {
            end.pop();
        }
        self.comment_lines(end, Blank::Kept);
    }

    fn header(&mut self, table: &Table, path: &[&Key], is_aot: bool) {
        let names: Vec<String> = path.iter().map(|k| k.get().to_string()).collect();
        let extends_previous = self
            .prev_table
            .as_ref()
            .is_some_and(|p| p.len() < names.len() && names.starts_with(p));
        let mut before = Vec::new();
        if let Some(leaf) = path.last() {
            before.extend(lines(raw(leaf.leaf_decor().prefix())));
        }
        before.extend(lines(raw(table.decor().prefix())));
        let blank = if extends_previous {
            Blank::No
        } else {
            Blank::One
        };
        self.comment_lines(before, blank);
        let (open, close) = if is_aot { ("[[", "]]") } else { ("[", "]") };
        let mut line = format!("{open}{}{close}", key_path(path));
        if let Some(t) = trailing(raw(table.decor().suffix())) {
            line.push_str(&t.render());
        }
        self.lines.push(line);
        self.prev_table = Some(names);
    }

    fn body(&mut self, table: &Table, ctx: Ctx) {
        for (i, (keys, value)) in ordered(table.get_values(), ctx).into_iter().enumerate() {
            let mut before = Vec::new();
            for k in &keys {
                before.extend(lines(raw(k.dotted_decor().prefix())));
            }
            if let Some(leaf) = keys.last() {
                before.extend(lines(raw(leaf.leaf_decor().prefix())));
            }
            self.comment_lines(before, if i == 0 { Blank::No } else { Blank::Kept });
            let k = key_path(&keys);
            let mut line = format!("{k} = ");
            line.push_str(&render(
                value,
                ctx.at(&keys),
                0,
                k.chars().count() + 3,
                false,
            ));
            if let Some(t) = trailing(raw(value.decor().suffix())) {
                line.push_str(&t.render());
            }
            self.lines.push(line);
        }
    }

    fn finish(mut self) -> String {
        while self.lines.last().is_some_and(|l| l.trim().is_empty()) {
            self.lines.pop();
        }
        if self.lines.is_empty() {
            return String::new();
        }
        let mut out = self.lines.join("\n");
        out.push('\n');
        out
    }
}

type Found<'t> = (isize, &'t Table, Vec<&'t Key>, bool);

/// Every table with its key path, as `toml_edit` orders them for display.
fn collect<'t>(
    table: &'t Table,
    path: &mut Vec<&'t Key>,
    is_aot: bool,
    out: &mut Vec<Found<'t>>,
    last: &mut isize,
) {
    if !table.is_dotted() {
        if let Some(p) = table.position() {
            *last = p;
        }
        out.push((*last, table, path.clone(), is_aot));
    }
    for (name, _) in table.iter() {
        let Some((k, item)) = table.get_key_value(name) else {
            continue;
        };
        match item {
            Item::Table(t) => {
                path.push(k);
                collect(t, path, false, out, last);
                path.pop();
            }
            Item::ArrayOfTables(a) => {
                for t in a.iter() {
                    path.push(k);
                    collect(t, path, true, out, last);
                    path.pop();
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
