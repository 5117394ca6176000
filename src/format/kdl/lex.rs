//! Tokens of a KDL 2.0 file, with their byte ranges: enough to find every
//! comment and slashdash, and where strings begin and end. It runs on text
//! the `kdl` crate has already accepted. No I/O.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    Ws,
    Newline,
    LineComment,
    BlockComment,
    Slashdash,
    Escline,
    Semi,
    LBrace,
    RBrace,
    LParen,
    RParen,
    Equals,
    /// A quoted or raw string.
    Str,
    /// An identifier string, a number or a `#keyword`.
    Bare,
    Eof,
}

#[derive(Debug, Clone, Copy)]
pub struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

const SPACES: [char; 18] = [
    '\u{0009}', '\u{0020}', '\u{00A0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}',
    '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200A}', '\u{202F}',
    '\u{205F}', '\u{3000}',
];

fn is_space(c: char) -> bool {
    SPACES.contains(&c)
}

pub fn is_newline(c: char) -> bool {
    matches!(
        c,
        '\r' | '\n' | '\u{85}' | '\u{0B}' | '\u{0C}' | '\u{2028}' | '\u{2029}'
    )
}

fn is_disallowed(c: char) -> bool {
    matches!(c,
        '\u{0000}'..='\u{0008}'
        | '\u{000E}'..='\u{001F}'
        | '\u{200E}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}')
}

pub fn is_ident_char(c: char) -> bool {
    !(is_space(c)
        || is_newline(c)
        || is_disallowed(c)
        || matches!(
            c,
            '\\' | '/' | '(' | ')' | '{' | '}' | '[' | ']' | ';' | '"' | '#' | '='
        ))
}

/// May `s` be written bare (as an identifier string) in KDL 2.0?
pub fn is_plain_ident(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let second = chars.next();
    // What would read as a number or a keyword must be quoted.
    let number = first.is_ascii_digit()
        || matches!(first, '.' | '-' | '+') && second.is_some_and(|c| c.is_ascii_digit());
    let keyword = matches!(s, "inf" | "-inf" | "nan" | "true" | "false" | "null");
    s.chars().all(is_ident_char) && !number && !keyword
}

/// Split `text` into tokens; the last one is [`Tok::Eof`].
pub fn lex(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut pos = if text.starts_with('\u{FEFF}') { 3 } else { 0 };
    while let Some(c) = text[pos..].chars().next() {
        let start = pos;
        let rest = &text[pos..];
        let kind = if c == '\r' && rest.starts_with("\r\n") {
            pos += 2;
            Tok::Newline
        } else if is_newline(c) {
            pos += c.len_utf8();
            Tok::Newline
        } else if is_space(c) {
            pos += rest
                .char_indices()
                .find(|(_, c)| !is_space(*c))
                .map_or(rest.len(), |(i, _)| i);
            Tok::Ws
        } else if rest.starts_with("//") {
            pos += rest
                .char_indices()
                .find(|(_, c)| is_newline(*c))
                .map_or(rest.len(), |(i, _)| i);
            Tok::LineComment
        } else if rest.starts_with("/*") {
            pos += block_comment_len(rest).ok_or("unclosed block comment")?;
            Tok::BlockComment
        } else if rest.starts_with("/-") {
            pos += 2;
            Tok::Slashdash
        } else if c == '"' {
            pos += quoted_len(rest).ok_or("unclosed string")?;
            Tok::Str
        } else if c == '#' {
            let hashes = rest.chars().take_while(|&c| c == '#').count();
            if rest[hashes..].starts_with('"') {
                pos += raw_len(rest, hashes).ok_or("unclosed raw string")?;
                Tok::Str
            } else {
                pos += 1 + ident_len(&rest[1..]);
                Tok::Bare
            }
        } else {
            pos += c.len_utf8();
            match c {
                '\\' => Tok::Escline,
                ';' => Tok::Semi,
                '{' => Tok::LBrace,
                '}' => Tok::RBrace,
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                '=' => Tok::Equals,
                c if is_ident_char(c) => {
                    pos += ident_len(&text[pos..]);
                    Tok::Bare
                }
                c => return Err(format!("unexpected character {c:?}")),
            }
        };
        out.push(Token {
            kind,
            start,
            end: pos,
        });
    }
    out.push(Token {
        kind: Tok::Eof,
        start: text.len(),
        end: text.len(),
    });
    Ok(out)
}

fn ident_len(s: &str) -> usize {
    s.char_indices()
        .find(|(_, c)| !is_ident_char(*c))
        .map_or(s.len(), |(i, _)| i)
}

fn block_comment_len(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with("/*") {
            depth += 1;
            i += 2;
        } else if s[i..].starts_with("*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Some(i);
            }
        } else {
            i += s[i..].chars().next()?.len_utf8();
        }
    }
    None
}

/// `"…"` or `"""…"""`, with `\` escaping the next character.
fn quoted_len(s: &str) -> Option<usize> {
    let (open, close) = if s.starts_with("\"\"\"") {
        (3, "\"\"\"")
    } else {
        (1, "\"")
    };
    let mut i = open;
    while i < s.len() {
        let rest = &s[i..];
        if rest.starts_with('\\') {
            i += 1;
            i += s[i..].chars().next().map_or(0, char::len_utf8);
        } else if rest.starts_with(close) {
            return Some(i + close.len());
        } else {
            i += rest.chars().next()?.len_utf8();
        }
    }
    None
}

/// `#"…"#` or `#"""…"""#`, with any number of `#`.
fn raw_len(s: &str, hashes: usize) -> Option<usize> {
    let body = &s[hashes..];
    let quotes = if body.starts_with("\"\"\"") { 3 } else { 1 };
    let close = format!("{}{}", "\"".repeat(quotes), "#".repeat(hashes));
    let from = hashes + quotes;
    s[from..].find(&close).map(|i| from + i + close.len())
}

/// Every comment of a file, for the check that formatting kept them all.
/// A slashdashed item counts as the comment it is.
pub fn comments(text: &str) -> Result<Vec<String>, String> {
    Ok(lex(text)?
        .into_iter()
        .filter(|t| {
            matches!(
                t.kind,
                Tok::LineComment | Tok::BlockComment | Tok::Slashdash
            )
        })
        .map(|t| text[t.start..t.end].to_string())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn lexes_strings_comments_and_keywords() {
        use Tok::*;
        assert_eq!(
            kinds(r##"a "b\"c" #"d"e"# #true /* x /* y */ */ // z"##),
            [
                Bare,
                Ws,
                Str,
                Ws,
                Str,
                Ws,
                Bare,
                Ws,
                BlockComment,
                Ws,
                LineComment,
                Eof
            ]
        );
        assert_eq!(
            kinds("a \"\"\"\n  x \"\n  \"\"\"\n"),
            [Bare, Ws, Str, Newline, Eof]
        );
        assert_eq!(
            kinds("/-a{};"),
            [Slashdash, Bare, LBrace, RBrace, Semi, Eof]
        );
    }

    #[test]
    fn plain_identifiers() {
        for ok in ["persona", "TeamsCallingPolicy", "starts-with", "-", "a.b"] {
            assert!(is_plain_ident(ok), "{ok}");
        }
        for quoted in ["", "1a", "-1", "+4420", "a b", "true", "a=b", "x\"", "#x"] {
            assert!(!is_plain_ident(quoted), "{quoted}");
        }
    }
}
