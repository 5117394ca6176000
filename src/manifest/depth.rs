//! How deep a manifest may nest, checked before any parser sees the text.
//!
//! The KDL parser recurses once per block, and so do lowering, validation
//! and the rule engine once per condition group: a file nested some
//! thousands of levels deep would exhaust the stack and abort the process.
//! A cheap scan of the text (strings and comments skipped, nothing
//! allocated per level) finds the first place deeper than [`MAX_DEPTH`],
//! so such a file gets a diagnostic instead. TOML's parser has a limit of
//! its own; the same scan applies there so both formats give the same
//! message at the same depth. Pure: no I/O.

/// The deepest a manifest may nest: blocks in KDL; tables, arrays and key
/// segments in TOML. Real manifests stay under ten.
pub const MAX_DEPTH: usize = 64;

/// The message for a file nested too deep.
pub fn message() -> String {
    format!("nested deeper than {MAX_DEPTH} levels")
}

/// Byte offset of the first `{` that opens a block deeper than
/// [`MAX_DEPTH`] in a KDL text.
pub fn kdl_too_deep(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
                i += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'"' => i = kdl_string_end(b, i, 0),
            b'#' => {
                let hashes = b[i..].iter().take_while(|&&c| c == b'#').count();
                i += hashes;
                if b.get(i) == Some(&b'"') {
                    i = kdl_string_end(b, i, hashes);
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |n| i + n);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => i = kdl_block_comment_end(b, i),
            _ => i += 1,
        }
    }
    None
}

/// End of the string starting at `b[i] == '"'`: quoted (`hashes == 0`,
/// with escapes) or raw (`#"…"#`), single- or multi-line.
fn kdl_string_end(b: &[u8], i: usize, hashes: usize) -> usize {
    let multi = b[i..].starts_with(b"\"\"\"");
    let mut j = i + if multi { 3 } else { 1 };
    while j < b.len() {
        match b[j] {
            b'\\' if hashes == 0 => j += 2,
            b'"' => {
                let quotes = if multi { 3 } else { 1 };
                let closes = b[j..].iter().take(quotes).filter(|&&c| c == b'"').count() == quotes
                    && b[j + quotes..]
                        .iter()
                        .take(hashes)
                        .filter(|&&c| c == b'#')
                        .count()
                        == hashes;
                if closes {
                    return j + quotes + hashes;
                }
                j += 1;
            }
            _ => j += 1,
        }
    }
    b.len()
}

/// End of the (nesting) block comment starting at `b[i..] == "/*"`.
fn kdl_block_comment_end(b: &[u8], i: usize) -> usize {
    let mut level = 0usize;
    let mut j = i;
    while j < b.len() {
        if b[j..].starts_with(b"/*") {
            level += 1;
            j += 2;
        } else if b[j..].starts_with(b"*/") {
            level -= 1;
            j += 2;
            if level == 0 {
                return j;
            }
        } else {
            j += 1;
        }
    }
    b.len()
}

/// Byte offset of the first place a TOML text nests deeper than
/// [`MAX_DEPTH`]: where a table or array is inside more than that many
/// (itself included), counting the segments of table headers and dotted
/// keys, inline tables and arrays. As in KDL, where a block is a level:
/// `when.all = { city = "x" }` is two levels, as `when { all { city "x" } }`.
pub fn toml_too_deep(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    // Levels of the current table header.
    let mut header = 0usize;
    // Open arrays and inline tables: the closing byte and the levels each
    // adds for what is inside it (the key segments leading to it, and one
    // for an array, whose elements are a level further in).
    let mut open: Vec<(u8, usize)> = Vec::new();
    let mut levels = 0usize;
    // Reading a key (at the start of a line or in an inline table), and
    // the segments of the key just read.
    let mut in_key = true;
    let mut segments = 0usize;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'#' => {
                i = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |n| i + n);
                continue;
            }
            b'"' | b'\'' => {
                if in_key && segments == 0 {
                    segments = 1;
                }
                i = toml_string_end(b, i);
                continue;
            }
            b'\n' if open.is_empty() => {
                in_key = true;
                segments = 0;
            }
            b'[' if open.is_empty() && in_key && segments == 0 => {
                // A table header: `[a.b]` or `[[a.b]]`.
                let (n, end) = toml_header(b, i);
                header = n;
                if header > MAX_DEPTH {
                    return Some(i);
                }
                in_key = false;
                i = end;
                continue;
            }
            b'.' if in_key => segments += 1,
            b'=' if in_key => {
                in_key = false;
                // `a.b.c = 1` makes the tables `a` and `a.b`.
                if header + levels + segments.saturating_sub(1) > MAX_DEPTH {
                    return Some(i);
                }
            }
            b'[' | b'{' if !in_key => {
                if header + levels + segments > MAX_DEPTH {
                    return Some(i);
                }
                let add = segments + usize::from(c == b'[');
                segments = 0;
                open.push((if c == b'[' { b']' } else { b'}' }, add));
                levels += add;
                in_key = c == b'{';
            }
            b']' | b'}' if !open.is_empty() => {
                if let Some((_, add)) = open.pop() {
                    levels -= add;
                }
                in_key = false;
            }
            b',' if open.last().is_some_and(|o| o.0 == b'}') => {
                in_key = true;
                segments = 0;
            }
            _ if in_key && segments == 0 && !c.is_ascii_whitespace() => segments = 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The levels of the table header starting at `b[i] == '['`, and where it
/// ends.
fn toml_header(b: &[u8], i: usize) -> (usize, usize) {
    let mut n = 1;
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'"' | b'\'' => {
                j = toml_string_end(b, j);
                continue;
            }
            b'.' => n += 1,
            b']' | b'\n' => break,
            _ => {}
        }
        j += 1;
    }
    (n, j)
}

/// End of the TOML string starting at `b[i]` (`"` or `'`, single or triple).
fn toml_string_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let triple = [q, q, q];
    let multi = b[i..].starts_with(&triple);
    let mut j = i + if multi { 3 } else { 1 };
    while j < b.len() {
        let c = b[j];
        if c == b'\\' && q == b'"' {
            j += 2;
        } else if multi && b[j..].starts_with(&triple) {
            j += 3;
            // Up to two quotes may end the content right before the delimiter.
            while b.get(j) == Some(&q) {
                j += 1;
            }
            return j;
        } else if !multi && (c == q || c == b'\n') {
            return j + 1;
        } else {
            j += 1;
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kdl_nested(levels: usize) -> String {
        "a {".repeat(levels) + &"}".repeat(levels)
    }

    #[test]
    fn kdl_counts_blocks_not_braces_in_strings_or_comments() {
        assert_eq!(kdl_too_deep(&kdl_nested(MAX_DEPTH)), None);
        let deep = kdl_nested(MAX_DEPTH + 1);
        assert_eq!(kdl_too_deep(&deep), Some(3 * MAX_DEPTH + 2));
        let noise = [
            r###"a "{{{{" { b #"{"{"# }"###,
            r###"a ##"{"#{"## {}"###,
            "a \"\"\"\n{{{{\n\"\"\" {}",
            "// {{{{\na {}",
            "/* { /* {{ */ { */ a {}",
            r###"a "\"{{{{" {}"###,
        ];
        for n in noise {
            let text = n.repeat(MAX_DEPTH * 2);
            assert_eq!(kdl_too_deep(&text), None, "{n}");
        }
        // Closing more than was opened never hides a later deep block.
        assert!(kdl_too_deep(&format!("}}}}}}}}{deep}")).is_some());
    }

    #[test]
    fn toml_counts_headers_keys_arrays_and_tables() {
        let ok = format!("[{}]\nx = 1\n", vec!["a"; MAX_DEPTH].join("."));
        assert_eq!(toml_too_deep(&ok), None);
        let header = format!("[{}]\n", vec!["a"; MAX_DEPTH + 1].join("."));
        assert_eq!(toml_too_deep(&header), Some(0));
        let dotted = format!("{} = 1\n", vec!["a"; MAX_DEPTH + 1].join("."));
        assert_eq!(toml_too_deep(&dotted), None);
        let dotted = format!("{} = 1\n", vec!["a"; MAX_DEPTH + 2].join("."));
        assert!(toml_too_deep(&dotted).is_some());
        let arrays = format!(
            "x = {}{}\n",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(toml_too_deep(&arrays), Some(4 + MAX_DEPTH));
        let tables = |n| format!("x = {}1{}\n", "{ a = ".repeat(n), " }".repeat(n));
        assert!(toml_too_deep(&tables(MAX_DEPTH + 1)).is_some());
        assert_eq!(toml_too_deep(&tables(MAX_DEPTH)), None);
        // Header, key and brackets add up.
        let half = MAX_DEPTH / 2;
        let mixed = format!(
            "[{}]\n{} = [[1]]\n",
            vec!["a"; half].join("."),
            vec!["b"; half].join(".")
        );
        assert!(toml_too_deep(&mixed).is_some());
    }

    #[test]
    fn toml_skips_strings_comments_and_many_lines() {
        let noise = [
            "a = \"[[[[{{{{\"\n",
            "a = '[[[[.{.{'\n",
            "a = \"\"\"\n[[[[\n\"\"\"\n",
            "# [[[[ {{{{ a.b.c.d\n",
            "\"a.b.c.d.e\" = [1, [2], { x = 3, y.z = 4 }]\n",
            "[[rule]]\nname = \"x\"\nwhen.any = [ { city = \"a\" }, { not = { city = \"b\" } } ]\n",
        ];
        for n in noise {
            let text = n.repeat(MAX_DEPTH * 2);
            assert_eq!(toml_too_deep(&text), None, "{n}");
        }
    }
}
