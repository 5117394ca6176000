//! Spelling of TOML keys and values in the canonical layout, and reading
//! the comments `toml_edit` keeps in the white space ("decor") around them.
//! No I/O.

use toml_edit::{Array, InlineTable, Key, Value};

use super::check::scan;
use super::{Ctx, ordered};
use crate::format::MAX_WIDTH;

const INDENT: usize = 4;

// ----- spelling ------------------------------------------------------------

fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        k.to_string()
    } else {
        basic(k)
    }
}

pub(super) fn key_path(keys: &[&Key]) -> String {
    keys.iter()
        .map(|k| key(k.get()))
        .collect::<Vec<_>>()
        .join(".")
}

fn string(s: &str) -> String {
    let literal_ok = !s.contains('\'') && !s.contains(char::is_control);
    if (s.contains('\\') || s.contains('"')) && literal_ok {
        format!("'{s}'")
    } else {
        basic(s)
    }
}

fn basic(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A scalar as written.
fn repr(v: &Value) -> String {
    let written = match v {
        Value::String(f) => f
            .as_repr()
            .and_then(|r| r.as_raw().as_str())
            .map(str::to_string),
        Value::Integer(f) => f
            .as_repr()
            .and_then(|r| r.as_raw().as_str())
            .map(str::to_string),
        Value::Float(f) => f
            .as_repr()
            .and_then(|r| r.as_raw().as_str())
            .map(str::to_string),
        Value::Boolean(f) => f
            .as_repr()
            .and_then(|r| r.as_raw().as_str())
            .map(str::to_string),
        Value::Datetime(f) => f
            .as_repr()
            .and_then(|r| r.as_raw().as_str())
            .map(str::to_string),
        Value::Array(_) | Value::InlineTable(_) => None,
    };
    written.map_or_else(
        || {
            let mut v = v.clone();
            v.decor_mut().clear();
            v.to_string()
        },
        |s| s.trim().to_string(),
    )
}

// ----- decor (white space and comments) -------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Line {
    Blank,
    Comment(String),
}

/// A comment at the end of a line, with the spaces written before it.
#[derive(Debug, Clone)]
pub(super) struct Trailing {
    gap: usize,
    text: String,
}

impl Trailing {
    pub(super) fn render(&self) -> String {
        format!("{}{}", " ".repeat(self.gap.max(1)), self.text)
    }
}

pub(super) fn raw(s: Option<&toml_edit::RawString>) -> &str {
    s.and_then(|r| r.as_str()).unwrap_or("")
}

/// Decor that starts at the beginning of a line: whole lines.
pub(super) fn lines(decor: &str) -> Vec<Line> {
    let segs: Vec<&str> = decor.split('\n').collect();
    let last = segs.len() - 1;
    let mut out: Vec<Line> = Vec::new();
    for (i, seg) in segs.iter().enumerate() {
        let t = seg.trim();
        if !t.is_empty() {
            out.push(Line::Comment(t.to_string()));
        } else if i < last && out.last() != Some(&Line::Blank) {
            out.push(Line::Blank);
        }
    }
    out
}

pub(super) fn trailing(segment: &str) -> Option<Trailing> {
    let i = segment.find('#')?;
    Some(Trailing {
        gap: segment[..i].chars().count(),
        text: segment[i..].trim_end().to_string(),
    })
}

/// Decor that starts after something on a line: the comment ending that
/// line, then whole lines.
fn split(decor: &str) -> (Option<Trailing>, Vec<Line>) {
    match decor.split_once('\n') {
        None => (trailing(decor), Vec::new()),
        Some((first, rest)) => (trailing(first), lines(rest)),
    }
}

fn comments_only(lines: &[Line]) -> impl Iterator<Item = &str> {
    lines.iter().filter_map(|l| match l {
        Line::Comment(c) => Some(c.as_str()),
        Line::Blank => None,
    })
}

fn indent(level: usize) -> String {
    " ".repeat(level * INDENT)
}

/// A value; `used` is how much of its first line is already taken.
/// Inside an inline table arrays stay on one line unless comments force
/// them onto several.
pub(super) fn render(v: &Value, ctx: Ctx, level: usize, used: usize, in_inline: bool) -> String {
    match v {
        Value::String(f) if !f.value().contains(['\n', '\r']) => string(f.value()),
        Value::Array(a) => array(a, ctx, level, used, in_inline),
        Value::InlineTable(t) => inline_table(t, ctx, level),
        other => repr(other),
    }
}

/// The comments of an array, by element.
struct ArrayTrivia {
    open: Option<Trailing>,
    before: Vec<Vec<Line>>,
    after: Vec<Option<Trailing>>,
    end: Vec<Line>,
}

impl ArrayTrivia {
    fn of(a: &Array) -> Self {
        let n = a.len();
        let mut t = ArrayTrivia {
            open: None,
            before: vec![Vec::new(); n],
            after: vec![None; n],
            end: Vec::new(),
        };
        for (i, e) in a.iter().enumerate() {
            let (first, rest) = split(raw(e.decor().prefix()));
            t.ends_line(i.checked_sub(1), first);
            t.before[i].extend(rest);
            let (first, rest) = split(raw(e.decor().suffix()));
            t.ends_line(Some(i), first);
            t.lines_after(Some(i), rest);
        }
        let (first, rest) = split(raw(Some(a.trailing())));
        t.ends_line(n.checked_sub(1), first);
        t.end.extend(rest);
        for lines in t.before.iter_mut().chain([&mut t.end]) {
            lines.retain(|l| *l != Line::Blank);
        }
        t
    }

    /// A comment ending the line of element `i` (`None`: of the `[`).
    fn ends_line(&mut self, i: Option<usize>, c: Option<Trailing>) {
        let Some(c) = c else { return };
        let slot = match i {
            Some(i) => &mut self.after[i],
            None => &mut self.open,
        };
        if slot.is_none() {
            *slot = Some(c);
        } else {
            self.lines_after(i, vec![Line::Comment(c.text)]);
        }
    }

    /// Whole lines after element `i` (`None`: after the `[`).
    fn lines_after(&mut self, i: Option<usize>, lines: Vec<Line>) {
        match self.before.get_mut(i.map_or(0, |i| i + 1)) {
            Some(b) => b.extend(lines),
            None => self.end.extend(lines),
        }
    }

    fn is_empty(&self) -> bool {
        self.open.is_none()
            && self.after.iter().all(Option::is_none)
            && self.before.iter().all(Vec::is_empty)
            && self.end.is_empty()
    }
}

fn array(a: &Array, ctx: Ctx, level: usize, used: usize, in_inline: bool) -> String {
    let trivia = ArrayTrivia::of(a);
    if trivia.is_empty() {
        let items: Vec<String> = a.iter().map(|e| render(e, ctx, level, 0, true)).collect();
        let one = format!("[{}]", items.join(", "));
        if in_inline || (!one.contains('\n') && used + one.chars().count() <= MAX_WIDTH) {
            return one;
        }
    }
    let inner = indent(level + 1);
    let mut out = String::from("[");
    if let Some(c) = &trivia.open {
        out.push_str(&c.render());
    }
    let comment = |out: &mut String, c: &str| {
        out.push('\n');
        out.push_str(&inner);
        out.push_str(c);
    };
    for (i, e) in a.iter().enumerate() {
        for c in comments_only(&trivia.before[i]) {
            comment(&mut out, c);
        }
        out.push('\n');
        out.push_str(&inner);
        out.push_str(&render(e, ctx, level + 1, inner.len() + 1, false));
        out.push(',');
        if let Some(c) = &trivia.after[i] {
            out.push_str(&c.render());
        }
    }
    for c in comments_only(&trivia.end) {
        comment(&mut out, c);
    }
    out.push('\n');
    out.push_str(&indent(level));
    out.push(']');
    out
}

fn inline_table(t: &InlineTable, ctx: Ctx, level: usize) -> String {
    let mut written = t.clone();
    written.decor_mut().clear();
    let written = written.to_string();
    let (comments, newline) = scan(&written);
    if !comments.is_empty() || newline {
        // TOML 1.1 inline tables over several lines, with comments: as written.
        return written.trim().to_string();
    }
    let values = ordered(t.get_values(), ctx);
    if values.is_empty() {
        return "{}".into();
    }
    let inner: Vec<String> = values
        .into_iter()
        .map(|(keys, v)| {
            format!(
                "{} = {}",
                key_path(&keys),
                render(v, ctx.at(&keys), level, 0, true)
            )
        })
        .collect();
    format!("{{ {} }}", inner.join(", "))
}
