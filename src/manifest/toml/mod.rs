//! TOML manifests (the `toml` crate's spanned document) lowered into the
//! [`Manifest`] model, with the same checks and messages as the KDL side.
//! No I/O.

use toml::Spanned as TSpanned;
use toml::de::{DeTable, DeValue};

mod items;
mod rule_test;
mod state;

use super::depth;
use super::diag::{Diagnostic, Diagnostics};
use super::keys::Item;
use super::lower;
use super::model::*;
use super::source::{FileId, Span, Spanned};

type Value<'i> = TSpanned<DeValue<'i>>;

struct Ctx<'d> {
    file: FileId,
    text: &'d str,
    diags: &'d mut Diagnostics,
}

/// Parse one TOML file and add what it says to `manifest`.
pub fn lower_file(text: &str, file: FileId, manifest: &mut Manifest, diags: &mut Diagnostics) {
    // The same limit and message as KDL (the parser's own is deeper).
    if let Some(at) = depth::toml_too_deep(text) {
        diags.push(lower::too_deep(file, at));
        return;
    }
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        syntax_errors(text, file, errors, diags);
        return;
    }
    let mut cx = Ctx { file, text, diags };
    for (key, value) in doc.get_ref().iter() {
        let kspan = cx.span(key.span());
        match key.get_ref().as_ref() {
            "tenant" => {
                if let Some(table) = cx.table(value, "`tenant`") {
                    let t = cx.tenant(table, kspan);
                    if let Some(first) = &manifest.tenant {
                        cx.diags.push(lower::duplicate_tenant(kspan, first.span));
                    } else {
                        manifest.tenant = Some(t);
                    }
                }
            }
            "range" => {
                for (name, v) in cx.named_tables(value, "`range`") {
                    if let Some(r) = cx.range(name, v) {
                        manifest.ranges.push(r);
                    }
                }
            }
            "persona" => {
                for (name, v) in cx.named_tables(value, "`persona`") {
                    if let Some(p) = cx.persona(name, v) {
                        manifest.personas.push(p);
                    }
                }
            }
            "rule" => match value.get_ref() {
                DeValue::Array(items) => {
                    for item in items.iter() {
                        if let Some(t) = cx.table(item, "a `[[rule]]`")
                            && let Some(r) = cx.rule(t, cx.span(item.span()))
                        {
                            manifest.rules.push(r);
                        }
                    }
                }
                _ => lower::wrong_type(
                    cx.diags,
                    kspan,
                    "`rule`",
                    "an array of tables",
                    "write each rule as `[[rule]]` with `name` and `persona`",
                ),
            },
            "user" => {
                for (name, v) in cx.named_tables(value, "`user`") {
                    if let Some(u) = cx.user(name, v) {
                        manifest.users.push(u);
                    }
                }
            }
            "test" => match value.get_ref() {
                DeValue::Array(items) => {
                    for item in items.iter() {
                        if let Some(t) = cx.table(item, "a `[[test]]`")
                            && let Some(r) = cx.rule_test(t, cx.span(item.span()))
                        {
                            manifest.tests.push(r);
                        }
                    }
                }
                _ => lower::wrong_type(
                    cx.diags,
                    kspan,
                    "`test`",
                    "an array of tables",
                    "write each test as `[[test]]` with `name`, `user` and `expect`",
                ),
            },
            other => lower::unknown(cx.diags, "item", other, kspan, &Item::File.toml_keys()),
        }
    }
}

/// Report what the TOML parser found. A table given twice in one file is
/// reported once, at its second header, not again for every key under it.
fn syntax_errors(text: &str, file: FileId, errors: Vec<toml::de::Error>, diags: &mut Diagnostics) {
    // Start of the body of the last table header reported as a duplicate.
    let mut duplicate_table: Option<usize> = None;
    for e in errors {
        let range = e.span().unwrap_or(0..0);
        let span = Span::new(file, range.clone());
        let message = e.message().trim().to_string();
        if message != "duplicate key" {
            diags.push(
                Diagnostic::error("toml-syntax", span, message)
                    .label("invalid TOML")
                    .help("manifests are TOML 1.0: strings are quoted, tables are `[name]`"),
            );
            continue;
        }
        let line_start = text[..range.start.min(text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line = text.get(line_start..).unwrap_or("").trim_start();
        let is_header = line.starts_with('[');
        // Under the duplicated header, with no header in between.
        if !is_header
            && let Some(body) = duplicate_table
            && !text
                .get(body..line_start)
                .unwrap_or("")
                .lines()
                .any(|l| l.trim_start().starts_with('['))
        {
            continue;
        }
        let key = text.get(range.clone()).unwrap_or("").trim();
        let (message, help) = if is_header {
            let header = line.lines().next().unwrap_or("").trim();
            duplicate_table = Some(
                text[range.end.min(text.len())..]
                    .find('\n')
                    .map_or(text.len(), |i| range.end + i + 1),
            );
            (
                format!("table `{header}` is given twice in this file"),
                "TOML allows each table once per file: merge the two".to_string(),
            )
        } else {
            (
                format!("key `{key}` is given twice"),
                format!("keep one `{key}`"),
            )
        };
        diags.push(
            Diagnostic::error("toml-syntax", span, message)
                .label("given again here")
                .help(help),
        );
    }
}

impl Ctx<'_> {
    fn span(&self, r: std::ops::Range<usize>) -> Span {
        Span::new(self.file, r)
    }

    fn vspan(&self, v: &Value<'_>) -> Span {
        self.span(v.span())
    }

    fn table<'v, 'i>(&mut self, v: &'v Value<'i>, what: &str) -> Option<&'v DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                let span = self.vspan(v);
                lower::wrong_type(
                    self.diags,
                    span,
                    what,
                    "a table",
                    "write it as `[…]` or `{ … }`",
                );
                None
            }
        }
    }

    /// `[persona.NAME]`-style tables: (name with its span, body).
    fn named_tables<'v, 'i>(
        &mut self,
        v: &'v Value<'i>,
        what: &str,
    ) -> Vec<(Spanned<String>, &'v Value<'i>)> {
        let Some(t) = self.table(v, what) else {
            return Vec::new();
        };
        t.iter()
            .map(|(k, v)| {
                (
                    Spanned::new(k.get_ref().to_string(), self.span(k.span())),
                    v,
                )
            })
            .collect()
    }

    /// Check every key of a table against `allowed`; return the known ones.
    fn fields<'v, 'i>(
        &mut self,
        t: &'v DeTable<'i>,
        owner: &str,
        allowed: &[&str],
    ) -> Vec<(String, Span, &'v Value<'i>)> {
        self.fields_of(t, "key", owner, allowed)
    }

    /// [`Self::fields`], naming what the keys are (`operator`).
    fn fields_of<'v, 'i>(
        &mut self,
        t: &'v DeTable<'i>,
        what: &str,
        owner: &str,
        allowed: &[&str],
    ) -> Vec<(String, Span, &'v Value<'i>)> {
        let mut out = Vec::new();
        for (k, v) in t.iter() {
            let key = k.get_ref().to_string();
            let span = self.span(k.span());
            if allowed.contains(&key.as_str()) {
                out.push((key, span, v));
            } else {
                lower::unknown_in(self.diags, what, &key, owner, span, allowed);
            }
        }
        out
    }

    /// A value's text as written.
    fn source(&self, v: &Value<'_>) -> Option<&str> {
        self.text.get(v.span())
    }

    fn string(&mut self, v: &Value<'_>, what: &str) -> Option<Spanned<String>> {
        let span = self.vspan(v);
        match v.get_ref() {
            DeValue::String(s) => Some(Spanned::new(s.to_string(), span)),
            DeValue::Integer(_) | DeValue::Float(_) => {
                let hint = lower::quote_hint(self.source(v));
                lower::wrong_type(self.diags, span, what, "a string", &hint);
                None
            }
            _ => {
                lower::wrong_type(
                    self.diags,
                    span,
                    what,
                    "a string",
                    "strings are written in double quotes",
                );
                None
            }
        }
    }

    fn boolean(&mut self, v: &Value<'_>, what: &str) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                let span = self.vspan(v);
                lower::wrong_type(
                    self.diags,
                    span,
                    what,
                    "a boolean",
                    "write `true` or `false`",
                );
                None
            }
        }
    }

    fn integer(&mut self, v: &Value<'_>, what: &str, max: i128) -> Option<i128> {
        let parsed = match v.get_ref() {
            DeValue::Integer(i) => {
                i128::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok()
            }
            _ => None,
        };
        match parsed {
            Some(i) if (0..=max).contains(&i) => Some(i),
            other => {
                let span = self.vspan(v);
                lower::wrong_type(
                    self.diags,
                    span,
                    what,
                    &format!("a whole number from 0 to {max}"),
                    &lower::integer_hint(other, max),
                );
                None
            }
        }
    }

    /// A string or an array of strings.
    fn strings(&mut self, v: &Value<'_>, what: &str) -> Vec<Spanned<String>> {
        match v.get_ref() {
            DeValue::Array(items) => items.iter().filter_map(|i| self.string(i, what)).collect(),
            _ => self.string(v, what).into_iter().collect(),
        }
    }
}
