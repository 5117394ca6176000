//! Printing the tree of a KDL file in the canonical layout: spelling of
//! names and values, where comments and blank lines go, one node per line.
//! No I/O.

use ::kdl::{KdlDocument, KdlValue};

use super::lex::is_plain_ident;
use super::syntax::{Block, Comment, Entry, Inline, Node, Parser, Raw, Trivia};
use super::{Ctx, decode, ordered};
use crate::format::MAX_WIDTH;

const INDENT: usize = 4;

// ----- spelling ------------------------------------------------------------

/// A node name, property name or type: bare when KDL allows it.
fn ident(s: &str) -> String {
    if is_plain_ident(s) {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// A string value: always quoted (a bare `london` would read as the same
/// string, but manifests spell values as strings). Raw (`#"…"#`) when it
/// holds `\` or `"`, so regular expressions read as written.
fn string(s: &str) -> String {
    let raw_ok = |c: char| c == '\t' || !(c.is_control() || is_special(c));
    if (s.contains('\\') || s.contains('"')) && !s.starts_with('"') && s.chars().all(raw_ok) {
        let mut hashes = 1;
        while s.contains(&format!("\"{}", "#".repeat(hashes))) {
            hashes += 1;
        }
        let h = "#".repeat(hashes);
        format!("{h}\"{s}\"{h}")
    } else {
        quoted(s)
    }
}

/// Characters a string may not hold literally on one line.
fn is_special(c: char) -> bool {
    matches!(
        c,
        '\r' | '\n'
            | '\u{85}'
            | '\u{0B}'
            | '\u{0C}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{200E}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

fn quoted(s: &str) -> String {
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
            c if c.is_control() || is_special(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn entry_text(e: &Entry) -> String {
    let mut s = String::new();
    if let Some(k) = &e.key {
        s.push_str(&ident(k));
        s.push('=');
    }
    if let Some(t) = &e.ty {
        s.push('(');
        s.push_str(&ident(t));
        s.push(')');
    }
    match &e.value {
        // A string over several lines keeps the form it was written in.
        Some(KdlValue::String(v)) if !v.contains(is_special) => s.push_str(&string(v)),
        _ => s.push_str(e.raw.trim()),
    }
    s
}

/// Move the later lines of a multi-line comment or slashdashed item by as
/// much as its first line moved, when that keeps them intact.
pub(super) fn reindent(text: &str, from_col: usize, to_col: usize) -> String {
    let text = text.replace("\r\n", "\n");
    let Some((first, rest)) = text.split_once('\n') else {
        return text;
    };
    let lines: Vec<&str> = rest.split('\n').collect();
    let shifted: Option<Vec<String>> = lines
        .iter()
        .map(|l| {
            let l = l.trim_end();
            if l.is_empty() {
                Some(String::new())
            } else if to_col >= from_col {
                Some(format!("{}{l}", " ".repeat(to_col - from_col)))
            } else {
                let cut = from_col - to_col;
                l.get(..cut)
                    .filter(|p| p.chars().all(|c| c == ' '))
                    .map(|_| l[cut..].to_string())
            }
        })
        .collect();
    let rest = match shifted {
        Some(v) => v.join("\n"),
        None => lines
            .iter()
            .map(|l| l.trim_end())
            .collect::<Vec<_>>()
            .join("\n"),
    };
    format!("{}\n{rest}", first.trim_end())
}

// ----- printing ------------------------------------------------------------

/// A line of trivia between nodes, as it will be printed.
enum GapLine<'a> {
    Blank,
    Items(Vec<Item<'a>>),
}

#[derive(Clone, Copy)]
enum Item<'a> {
    Comment(&'a Comment),
    Slashdash(&'a Raw),
}

/// The trivia before a node (or a block's end), sorted out: comments that
/// end the previous line, then whole lines.
struct Gap<'a> {
    trailing: Vec<&'a Comment>,
    lines: Vec<GapLine<'a>>,
}

fn split_gap(trivia: &[Trivia], mid_line: bool) -> Gap<'_> {
    let mut gap = Gap {
        trailing: Vec::new(),
        lines: Vec::new(),
    };
    let mut first = mid_line;
    let mut cur: Vec<Item> = Vec::new();
    for t in trivia {
        match t {
            Trivia::Newline => {
                let items = std::mem::take(&mut cur);
                let slashdash = items.iter().any(|i| matches!(i, Item::Slashdash(_)));
                if first && !slashdash {
                    gap.trailing.extend(items.iter().filter_map(|i| match i {
                        Item::Comment(c) => Some(*c),
                        Item::Slashdash(_) => None,
                    }));
                } else if items.is_empty() {
                    if !first {
                        gap.lines.push(GapLine::Blank);
                    }
                } else {
                    gap.lines.push(GapLine::Items(items));
                }
                first = false;
            }
            Trivia::Comment(c) => cur.push(Item::Comment(c)),
            Trivia::Slashdash(r) => cur.push(Item::Slashdash(r)),
        }
    }
    if !cur.is_empty() {
        gap.lines.push(GapLine::Items(cur));
    }
    // Runs of blank lines count as one.
    gap.lines
        .dedup_by(|a, b| matches!((a, b), (GapLine::Blank, GapLine::Blank)));
    gap
}

fn trim_blanks(lines: &mut Vec<GapLine<'_>>, leading: bool, trailing: bool) {
    if leading {
        while matches!(lines.first(), Some(GapLine::Blank)) {
            lines.remove(0);
        }
    }
    if trailing {
        while matches!(lines.last(), Some(GapLine::Blank)) {
            lines.pop();
        }
    }
}

/// At the top level a slashdashed node is an item like any other: a blank
/// line follows it (and, when `before_node`, separates it from the node).
fn space_slashdashes(lines: &mut Vec<GapLine<'_>>, before_node: bool) {
    let mut i = 0;
    while i < lines.len() {
        let slashdash = matches!(&lines[i], GapLine::Items(items)
            if items.iter().any(|it| matches!(it, Item::Slashdash(_))));
        let next_blank = match lines.get(i + 1) {
            Some(GapLine::Blank) => true,
            Some(_) => false,
            None => !before_node,
        };
        if slashdash && !next_blank {
            lines.insert(i + 1, GapLine::Blank);
        }
        i += 1;
    }
}

/// A slashdashed node laid out like a live one (`/-` before it), when its
/// text stands on its own as one node.
fn slashdashed_node(raw: &str, parent: Ctx, level: usize) -> Option<Vec<String>> {
    let body = raw.strip_prefix("/-")?.trim_start();
    if body.starts_with('/') {
        return None;
    }
    let doc = KdlDocument::parse(body).ok()?;
    let mut tree = Parser::new(body).and_then(Parser::document).ok()?;
    if tree.nodes.len() != 1 || !tree.end.is_empty() || !plain_before(&tree.nodes[0]) {
        return None;
    }
    decode(&mut tree.nodes, doc.nodes()).ok()?;
    let mut p = Printer::default();
    p.nodes(&tree.nodes, &[], level, parent, false);
    let first = p.lines.first_mut()?;
    first.insert_str(level * INDENT, "/-");
    Some(p.lines)
}

fn plain_before(n: &Node) -> bool {
    n.before.iter().all(|t| matches!(t, Trivia::Newline))
}

#[derive(Default)]
pub(super) struct Printer {
    pub(super) lines: Vec<String>,
    /// The last line ends in a `// …` comment: nothing may follow on it.
    closed: bool,
}

/// One space between things on a line, none after an indentation.
fn sep(line: &mut String) {
    if !line.trim().is_empty() {
        line.push(' ');
    }
}

fn indent(level: usize) -> String {
    " ".repeat(level * INDENT)
}

fn width(s: &str) -> usize {
    s.rsplit('\n').next().unwrap_or(s).chars().count()
}

impl Printer {
    fn push(&mut self, line: String) {
        self.lines.push(line);
        self.closed = false;
    }

    /// A comment that ends the last line, with the spaces written before it.
    fn trail(&mut self, c: &Comment, level: usize) {
        match self.lines.last_mut() {
            Some(last) if !self.closed && !last.trim().is_empty() => {
                let col = width(last) + c.gap;
                last.push_str(&" ".repeat(c.gap));
                last.push_str(&reindent(&c.text, c.col, col));
                self.closed = c.line;
            }
            _ => {
                let text = reindent(&c.text, c.col, level * INDENT);
                self.push(format!("{}{text}", indent(level)));
                self.closed = c.line;
            }
        }
    }

    fn gap_lines(&mut self, lines: &[GapLine<'_>], level: usize, parent: Ctx) {
        for line in lines {
            match line {
                GapLine::Blank => self.push(String::new()),
                GapLine::Items(items) => {
                    let mut cur = indent(level);
                    let mut after_slashdash = false;
                    for item in items {
                        match item {
                            Item::Comment(c) => {
                                // Only a `// …` may share a slashdashed node's line.
                                if after_slashdash && !c.line {
                                    self.push(std::mem::replace(&mut cur, indent(level)));
                                } else if !cur.trim().is_empty() {
                                    cur.push_str(&" ".repeat(c.gap));
                                }
                                let col = width(&cur);
                                cur.push_str(&reindent(&c.text, c.col, col));
                                after_slashdash = false;
                            }
                            Item::Slashdash(r) => {
                                if !cur.trim().is_empty() {
                                    self.push(std::mem::replace(&mut cur, indent(level)));
                                }
                                match slashdashed_node(&r.text, parent, level) {
                                    Some(mut lines) => {
                                        cur = lines.pop().unwrap_or_default();
                                        for l in lines {
                                            self.push(l);
                                        }
                                    }
                                    None => cur.push_str(&reindent(&r.text, r.col, level * INDENT)),
                                }
                                after_slashdash = true;
                            }
                        }
                    }
                    self.push(cur);
                    self.closed = matches!(items.last(), Some(Item::Comment(c)) if c.line);
                }
            }
        }
    }

    /// Nodes of a block (or the file) and the comments after them.
    pub(super) fn nodes(
        &mut self,
        nodes: &[Node],
        end: &[Trivia],
        level: usize,
        parent: Ctx,
        mid_line: bool,
    ) {
        for (i, node) in nodes.iter().enumerate() {
            let prev = i.checked_sub(1).map(|j| &nodes[j]);
            let mut gap = split_gap(&node.before, prev.map_or(mid_line, |p| !p.ends_line));
            for c in &gap.trailing {
                self.trail(c, level);
            }
            match prev {
                None => trim_blanks(&mut gap.lines, true, false),
                // One blank line between top-level items; a run of one-line
                // items of the same kind (`user` overrides) may stay together.
                Some(p) if level == 0 && !(p.name == node.name && leaf(p) && leaf(node)) => {
                    trim_blanks(&mut gap.lines, true, false);
                    gap.lines.insert(0, GapLine::Blank);
                }
                Some(_) => {}
            }
            if level == 0 {
                space_slashdashes(&mut gap.lines, true);
            }
            self.gap_lines(&gap.lines, level, parent);
            self.node(node, level, parent.child(&node.name));
        }
        let mut gap = split_gap(end, nodes.last().map_or(mid_line, |n| !n.ends_line));
        for c in &gap.trailing {
            self.trail(c, level);
        }
        trim_blanks(&mut gap.lines, nodes.is_empty(), true);
        if level == 0 {
            space_slashdashes(&mut gap.lines, false);
        }
        self.gap_lines(&gap.lines, level, parent);
    }

    fn node(&mut self, n: &Node, level: usize, ctx: Ctx) {
        for inline in &n.head {
            self.own_line(inline, level);
        }
        let mut line = indent(level);
        if let Some(t) = &n.ty {
            line.push_str(&format!("({})", ident(t)));
        }
        line.push_str(&ident(&n.name));
        for e in ordered(&n.entries, ctx) {
            self.inlines(&mut line, &e.leading, level);
            sep(&mut line);
            line.push_str(&entry_text(e));
        }
        // Without a block, what follows the entries ends the node's line.
        let (before_block, at_end): (&[Inline], &[Inline]) = match &n.children {
            Some(_) => (&n.tail, &n.after),
            None => (&[], &n.tail),
        };
        self.inlines(&mut line, before_block, level);
        if let Some(block) = &n.children {
            sep(&mut line);
            if let Some(child) = one_line_child(block, &line, ctx) {
                line.push_str(&format!("{{ {child} }}"));
            } else if block.nodes.is_empty()
                && block.end.iter().all(|t| matches!(t, Trivia::Newline))
            {
                line.push_str("{}");
            } else {
                line.push('{');
                self.push(line);
                self.nodes(&block.nodes, &block.end, level + 1, ctx, true);
                line = format!("{}}}", indent(level));
            }
        }
        // A `\ // …` with nothing after it becomes the comment ending the
        // line: an escaped newline there would join the next line on.
        let mut end: Vec<&Comment> = Vec::new();
        for inline in at_end {
            match inline {
                Inline::Comment(c) if c.line => end.push(c),
                other => self.inline(&mut line, other, level),
            }
        }
        self.push(line);
        for c in end.into_iter().chain(&n.end_comment) {
            self.trail(c, level);
        }
    }

    fn own_line(&mut self, inline: &Inline, level: usize) {
        let (text, col) = match inline {
            Inline::Comment(c) => (&c.text, c.col),
            Inline::Slashdash(r) => (&r.text, r.col),
        };
        self.push(format!(
            "{}{}",
            indent(level),
            reindent(text, col, level * INDENT)
        ));
    }

    fn inlines(&mut self, line: &mut String, list: &[Inline], level: usize) {
        for inline in list {
            self.inline(line, inline, level);
        }
    }

    /// A comment or slashdashed item inside a node's line.
    fn inline(&mut self, line: &mut String, inline: &Inline, level: usize) {
        sep(line);
        match inline {
            Inline::Comment(c) if c.line => {
                // `\ // …`: the node goes on on the next line.
                line.push_str("\\ ");
                line.push_str(&c.text);
                self.push(std::mem::replace(line, indent(level + 1)));
            }
            Inline::Comment(Comment { text, col, .. }) | Inline::Slashdash(Raw { text, col }) => {
                let to = width(line);
                line.push_str(&reindent(text, *col, to));
            }
        }
    }
}

/// A node without a children block.
fn leaf(n: &Node) -> bool {
    n.children.is_none()
}

fn plain(n: &Node) -> bool {
    plain_before(n)
        && n.head.is_empty()
        && n.tail.is_empty()
        && n.after.is_empty()
        && n.end_comment.is_none()
        && n.children.is_none()
        && n.entries.iter().all(|e| e.leading.is_empty())
}

/// The child of a block written on one line, printed, when it may stay there.
fn one_line_child(block: &Block, line: &str, ctx: Ctx) -> Option<String> {
    let [child] = block.nodes.as_slice() else {
        return None;
    };
    if !block.one_line || !plain(child) || !block.end.iter().all(|t| matches!(t, Trivia::Newline)) {
        return None;
    }
    let mut p = Printer::default();
    p.node(child, 0, ctx.child(&child.name));
    let text = p.lines.concat();
    (width(line) + text.chars().count() + 4 <= MAX_WIDTH).then_some(text)
}
