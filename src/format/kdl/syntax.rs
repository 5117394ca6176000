//! A lossless reading of a KDL 2.0 file for the formatter: a tree of
//! nodes that keeps every comment and slashdashed item where it was
//! written, built from the tokens of [`super::lex`].
//!
//! The `kdl` crate decides whether a file is valid and what its strings
//! say; this reading only adds what its document model loses (it drops a
//! comment after a closing `}`). It runs on text the `kdl` crate has
//! already accepted, so any surprise here is an internal error. No I/O.

use super::lex::{Tok, Token, is_newline, lex};

// ----- the tree -----------------------------------------------------------

/// A comment as written.
#[derive(Debug, Clone)]
pub struct Comment {
    pub text: String,
    /// `// …` (runs to the end of the line) rather than `/* … */`.
    pub line: bool,
    /// Column (in characters) it started at, to re-indent its later lines.
    pub col: usize,
    /// Spaces written before it, kept when it trails code on a line.
    pub gap: usize,
}

/// A slashdashed (commented-out) node, entry or children block, verbatim.
#[derive(Debug, Clone)]
pub struct Raw {
    pub text: String,
    pub col: usize,
}

/// Between nodes.
#[derive(Debug, Clone)]
pub enum Trivia {
    Newline,
    Comment(Comment),
    Slashdash(Raw),
}

/// Inside a node's line. A line comment here came after an escaped newline
/// (`\ // …`).
#[derive(Debug, Clone)]
pub enum Inline {
    Comment(Comment),
    Slashdash(Raw),
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub leading: Vec<Inline>,
    /// The property name, decoded; `None` for an argument.
    pub key: Option<String>,
    pub ty: Option<String>,
    /// The value as written.
    pub raw: String,
    /// The value, decoded (filled from the `kdl` crate's document).
    pub value: Option<::kdl::KdlValue>,
}

#[derive(Debug, Clone, Default)]
pub struct Block {
    pub nodes: Vec<Node>,
    /// Comments after the last node, before `}` (or the end of the file).
    pub end: Vec<Trivia>,
    /// Written on one line (`{ … }`).
    pub one_line: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Node {
    /// What came between the previous node's terminator and this node.
    pub before: Vec<Trivia>,
    /// Comments around the type annotation and the name.
    pub head: Vec<Inline>,
    pub ty: Option<String>,
    pub name: String,
    pub entries: Vec<Entry>,
    /// Comments and slashdashed items after the entries, before `{`.
    pub tail: Vec<Inline>,
    pub children: Option<Block>,
    /// After the closing `}`.
    pub after: Vec<Inline>,
    /// The `// …` that ends the node's line.
    pub end_comment: Option<Comment>,
    /// The terminator ended the line (a newline or a line comment), as
    /// opposed to `;`, `}` or the end of the file.
    pub ends_line: bool,
}

pub struct Parser<'t> {
    text: &'t str,
    toks: Vec<Token>,
    i: usize,
}

type PResult<T> = Result<T, String>;

impl<'t> Parser<'t> {
    pub fn new(text: &'t str) -> PResult<Self> {
        Ok(Parser {
            text,
            toks: lex(text)?,
            i: 0,
        })
    }

    /// The whole file: its nodes and the comments after the last one.
    pub fn document(mut self) -> PResult<Block> {
        let (nodes, end) = self.nodes(false)?;
        Ok(Block {
            nodes,
            end,
            one_line: false,
        })
    }

    fn peek(&self) -> Tok {
        self.toks[self.i].kind
    }

    fn tok(&self) -> Token {
        self.toks[self.i]
    }

    fn slice(&self, t: Token) -> &'t str {
        &self.text[t.start..t.end]
    }

    fn col(&self, offset: usize) -> usize {
        let line_start = self.text[..offset]
            .rfind(|c: char| is_newline(c))
            .map_or(0, |i| i + 1);
        self.text[line_start..offset].chars().count()
    }

    /// Spaces just before the current token.
    fn gap(&self) -> usize {
        match self.i.checked_sub(1).map(|j| self.toks[j]) {
            Some(t) if t.kind == Tok::Ws => self.slice(t).chars().count().max(1),
            _ => 1,
        }
    }

    fn comment(&self, t: Token) -> Comment {
        Comment {
            text: self.slice(t).trim_end().to_string(),
            line: t.kind == Tok::LineComment,
            col: self.col(t.start),
            gap: self.gap(),
        }
    }

    fn expect(&mut self, kind: Tok) -> PResult<Token> {
        let t = self.tok();
        if t.kind != kind {
            return Err(format!(
                "expected {kind:?}, found {:?} at byte {}",
                t.kind, t.start
            ));
        }
        self.i += 1;
        Ok(t)
    }

    fn skip_ws(&mut self) {
        while self.peek() == Tok::Ws {
            self.i += 1;
        }
    }

    /// End of the last token consumed that is not white space.
    fn last_end(&self) -> usize {
        let mut j = self.i;
        while j > 0 {
            j -= 1;
            if !matches!(self.toks[j].kind, Tok::Ws | Tok::Newline) {
                return self.toks[j].end;
            }
        }
        0
    }

    fn raw_from(&self, start: usize) -> Raw {
        Raw {
            text: self.text[start..self.last_end()].to_string(),
            col: self.col(start),
        }
    }

    /// Nodes up to `}` (in a block) or the end of the file.
    fn nodes(&mut self, in_block: bool) -> PResult<(Vec<Node>, Vec<Trivia>)> {
        let mut nodes = Vec::new();
        loop {
            let before = self.line_space()?;
            match self.peek() {
                Tok::RBrace if in_block => return Ok((nodes, before)),
                Tok::Eof if !in_block => return Ok((nodes, before)),
                Tok::Str | Tok::Bare | Tok::LParen => {
                    let mut node = self.node()?;
                    node.before = before;
                    self.terminator(&mut node)?;
                    nodes.push(node);
                }
                other => return Err(format!("unexpected {other:?} between nodes")),
            }
        }
    }

    /// White space, newlines, comments and slashdashed nodes between nodes.
    fn line_space(&mut self) -> PResult<Vec<Trivia>> {
        let mut out = Vec::new();
        loop {
            let t = self.tok();
            match t.kind {
                Tok::Ws | Tok::Escline | Tok::Semi => self.i += 1,
                Tok::Newline => {
                    out.push(Trivia::Newline);
                    self.i += 1;
                }
                Tok::LineComment | Tok::BlockComment => {
                    out.push(Trivia::Comment(self.comment(t)));
                    self.i += 1;
                }
                Tok::Slashdash => {
                    self.i += 1;
                    self.skip_line_space();
                    self.node()?;
                    out.push(Trivia::Slashdash(self.raw_from(t.start)));
                }
                _ => return Ok(out),
            }
        }
    }

    /// Inside a slashdashed item, whatever it holds is kept verbatim.
    fn skip_line_space(&mut self) {
        while matches!(
            self.peek(),
            Tok::Ws | Tok::Newline | Tok::LineComment | Tok::BlockComment | Tok::Escline
        ) {
            self.i += 1;
        }
    }

    /// White space, comments, escaped newlines and slashdashed entries or
    /// children inside a node; stops at anything else.
    fn node_space(&mut self, out: &mut Vec<Inline>) -> PResult<()> {
        loop {
            let t = self.tok();
            match t.kind {
                Tok::Ws => self.i += 1,
                Tok::BlockComment => {
                    out.push(Inline::Comment(self.comment(t)));
                    self.i += 1;
                }
                Tok::Escline => {
                    self.i += 1;
                    loop {
                        let t = self.tok();
                        match t.kind {
                            Tok::Ws => self.i += 1,
                            Tok::BlockComment => {
                                out.push(Inline::Comment(self.comment(t)));
                                self.i += 1;
                            }
                            Tok::LineComment => {
                                out.push(Inline::Comment(self.comment(t)));
                                self.i += 1;
                            }
                            Tok::Newline => {
                                self.i += 1;
                                break;
                            }
                            _ => break,
                        }
                    }
                }
                Tok::Slashdash => {
                    self.i += 1;
                    self.skip_line_space();
                    if self.peek() == Tok::LBrace {
                        self.block()?;
                    } else {
                        self.entry(Vec::new())?;
                    }
                    out.push(Inline::Slashdash(self.raw_from(t.start)));
                }
                _ => return Ok(()),
            }
        }
    }

    /// `(type)`, comments inside it going to `out`.
    fn type_annotation(&mut self, out: &mut Vec<Inline>) -> PResult<Option<String>> {
        if self.peek() != Tok::LParen {
            return Ok(None);
        }
        self.i += 1;
        self.node_space(out)?;
        let t = self.tok();
        if !matches!(t.kind, Tok::Str | Tok::Bare) {
            return Err("expected a type name".into());
        }
        self.i += 1;
        self.node_space(out)?;
        self.expect(Tok::RParen)?;
        self.node_space(out)?;
        Ok(Some(self.slice(t).to_string()))
    }

    /// A node up to (not including) its terminator.
    fn node(&mut self) -> PResult<Node> {
        let mut node = Node::default();
        node.ty = self.type_annotation(&mut node.head)?;
        let name = self.tok();
        if !matches!(name.kind, Tok::Str | Tok::Bare) {
            return Err("expected a node name".into());
        }
        node.name = self.slice(name).to_string();
        self.i += 1;
        let mut pending = Vec::new();
        loop {
            self.node_space(&mut pending)?;
            match self.peek() {
                Tok::Str | Tok::Bare | Tok::LParen if node.children.is_none() => {
                    let entry = self.entry(std::mem::take(&mut pending))?;
                    node.entries.push(entry);
                }
                Tok::LBrace if node.children.is_none() => {
                    node.tail = std::mem::take(&mut pending);
                    node.children = Some(self.block()?);
                }
                _ => break,
            }
        }
        if node.children.is_some() {
            node.after = pending;
        } else {
            node.tail = pending;
        }
        Ok(node)
    }

    fn terminator(&mut self, node: &mut Node) -> PResult<()> {
        self.skip_ws();
        let t = self.tok();
        match t.kind {
            Tok::LineComment => {
                node.end_comment = Some(self.comment(t));
                node.ends_line = true;
                self.i += 1;
                if self.peek() == Tok::Newline {
                    self.i += 1;
                }
            }
            Tok::Newline => {
                node.ends_line = true;
                self.i += 1;
            }
            Tok::Semi => self.i += 1,
            Tok::RBrace | Tok::Eof => {}
            other => return Err(format!("unexpected {other:?} after a node")),
        }
        Ok(())
    }

    /// An argument or a property.
    fn entry(&mut self, mut leading: Vec<Inline>) -> PResult<Entry> {
        let ty = self.type_annotation(&mut leading)?;
        let first = self.tok();
        if !matches!(first.kind, Tok::Str | Tok::Bare) {
            return Err("expected a value".into());
        }
        self.i += 1;
        let save = self.i;
        let mut between = Vec::new();
        self.node_space(&mut between)?;
        if self.peek() != Tok::Equals {
            self.i = save;
            return Ok(Entry {
                leading,
                key: None,
                ty,
                raw: self.slice(first).to_string(),
                value: None,
            });
        }
        self.i += 1;
        leading.extend(between);
        self.node_space(&mut leading)?;
        let ty = self.type_annotation(&mut leading)?;
        let value = self.tok();
        if !matches!(value.kind, Tok::Str | Tok::Bare) {
            return Err("expected a property value".into());
        }
        self.i += 1;
        Ok(Entry {
            leading,
            key: Some(self.slice(first).to_string()),
            ty,
            raw: self.slice(value).to_string(),
            value: None,
        })
    }

    fn block(&mut self) -> PResult<Block> {
        let open = self.expect(Tok::LBrace)?;
        let (nodes, end) = self.nodes(true)?;
        let close = self.expect(Tok::RBrace)?;
        let one_line = !self.text[open.start..close.end].contains(is_newline);
        Ok(Block {
            nodes,
            end,
            one_line,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_comments_in_the_tree() {
        let text = "// a\nn 1 /* b */ k=2 { c; } // d\n/-e\n";
        let doc = Parser::new(text).unwrap().document().unwrap();
        let n = &doc.nodes[0];
        assert!(matches!(&n.before[0], Trivia::Comment(c) if c.text == "// a"));
        assert!(matches!(&n.entries[1].leading[0], Inline::Comment(c) if c.text == "/* b */"));
        assert_eq!(n.end_comment.as_ref().unwrap().text, "// d");
        assert!(n.children.as_ref().unwrap().one_line);
        assert!(matches!(&doc.end[0], Trivia::Slashdash(r) if r.text == "/-e"));
    }
}
