//! The safety net: the formatted text must hold the same data and the
//! same comments as the input. No I/O.

use crate::format::{FmtError, comment_fingerprint, line_col};

/// Comments of a TOML text, and whether it has a line break outside strings.
pub(super) fn scan(text: &str) -> (Vec<String>, bool) {
    let mut comments = Vec::new();
    let mut newline = false;
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let rest = &text[i..];
        if c == '#' {
            let end = rest.find('\n').unwrap_or(rest.len());
            comments.push(rest[..end].trim_end().to_string());
            i += end;
        } else if c == '"' || c == '\'' {
            i += string_len(rest, c);
        } else {
            newline |= c == '\n';
            i += c.len_utf8();
        }
    }
    (comments, newline)
}

/// Length of the string starting `rest` (quoted with `q`).
fn string_len(rest: &str, q: char) -> usize {
    let triple: String = std::iter::repeat_n(q, 3).collect();
    let multi = rest.starts_with(&triple);
    let mut i = if multi { 3 } else { 1 };
    while let Some(c) = rest[i..].chars().next() {
        if c == '\\' && q == '"' {
            i += 1;
            i += rest[i..].chars().next().map_or(0, char::len_utf8);
        } else if multi && rest[i..].starts_with(&triple) {
            i += 3;
            // Up to two quotes may end the content right before the delimiter.
            while rest[i..].starts_with(q) && i < rest.len() {
                i += 1;
            }
            return i;
        } else if !multi && c == q {
            return i + 1;
        } else {
            i += c.len_utf8();
        }
    }
    rest.len()
}

/// The formatted text must hold the same data and the same comments.
pub(super) fn verify(text: &str, out: &str) -> Result<(), FmtError> {
    let before: Result<toml::Table, _> = toml::from_str(text);
    let after: Result<toml::Table, _> = toml::from_str(out);
    match (before, after) {
        (Ok(a), Ok(b)) if same_table(&a, &b) => {}
        (Ok(_), Ok(_)) => {
            return Err(FmtError::Unsafe(
                "the result would say something else".into(),
            ));
        }
        (Ok(_), Err(_)) => {
            return Err(FmtError::Unsafe(
                "the result would not be valid TOML".into(),
            ));
        }
        (Err(e), _) => {
            let (line, column) = line_col(text, e.span().map_or(0, |s| s.start));
            return Err(FmtError::Syntax {
                format: "TOML",
                message: e.message().trim().to_string(),
                line,
                column,
            });
        }
    }
    if comment_fingerprint(scan(text).0) != comment_fingerprint(scan(out).0) {
        return Err(FmtError::Unsafe("a comment would be lost".into()));
    }
    Ok(())
}

/// Equal data, key order aside (`nan` equals `nan` here: it was copied).
fn same_table(a: &toml::Table, b: &toml::Table) -> bool {
    a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
}

fn same(a: &toml::Value, b: &toml::Value) -> bool {
    use toml::Value as V;
    match (a, b) {
        (V::Float(x), V::Float(y)) => x == y || x.is_nan() && y.is_nan(),
        (V::Array(x), V::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (V::Table(x), V::Table(y)) => same_table(x, y),
        _ => a == b,
    }
}
