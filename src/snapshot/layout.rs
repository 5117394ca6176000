//! The top-level layout of snapshot text, found in one pass: the members of
//! the top object (key and value text) and, for a member whose value is an
//! array, where each element starts and ends. [`super::fast`] parses the
//! pieces separately (and on several threads).
//!
//! The brackets and commas of the second level (the members' values and
//! their elements) and the deepest nesting come from [`skeleton`], which
//! scans pieces of the text on several threads; the top object's own glue
//! is then walked here. The pass checks only the glue between the pieces
//! (the top object's braces, keys, colons and commas; an array's brackets
//! and commas), and that nothing nests deeper than
//! [`super::parse::MAX_DEPTH`]; every piece is then parsed by `serde_json`
//! (or by [`super::quick`], which reads a strict subset of JSON), so a
//! text whose pieces all parse is valid JSON and its pieces are
//! exactly its members and elements. Anything unexpected (a key with
//! escapes, an empty object, a file over 4 GiB) is `None`: the caller then
//! takes the slow path, which explains any problem. Pure.

mod skeleton;

/// Text per piece of the parallel scan, at least, and pieces at most.
const PIECE: usize = 1 << 20;
const PIECES: usize = 256;

/// A member of the top object.
pub(super) struct Member<'a> {
    pub key: &'a str,
    /// The value's text, without surrounding white space.
    pub value: &'a str,
    /// When the value is an array: the offsets (in the whole text) of its
    /// `[`, each separating `,` and its `]`, so element `k` lies strictly
    /// between `bounds[k]` and `bounds[k + 1]`. Empty for `[]`.
    pub bounds: Vec<u32>,
}

impl Member<'_> {
    /// How many elements the array value has (0 when it is not an array).
    pub fn len(&self) -> usize {
        self.bounds.len().saturating_sub(1)
    }

    /// Element `k` of the array value, as text (with white space around).
    pub fn element<'t>(&self, text: &'t str, k: usize) -> &'t str {
        &text[self.bounds[k] as usize + 1..self.bounds[k + 1] as usize]
    }
}

/// The members of the top object of `text`, in order; `None` when the text
/// is not shaped as the fast path expects. `threads` scan it.
pub(super) fn scan(text: &str, threads: usize) -> Option<Vec<Member<'_>>> {
    let b = text.as_bytes();
    if b.len() >= u32::MAX as usize {
        return None;
    }
    let pieces = if threads > 1 {
        (b.len() / PIECE).clamp(1, PIECES)
    } else {
        1
    };
    let level_two = skeleton::level_two(b, pieces, threads)?;
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let mut members = Vec::new();
    i = skip_ws(b, i + 1);
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let end = string_end(b, i + 1)?;
        let key = &text[i + 1..end];
        if key.bytes().any(|c| c == b'\\' || c < 0x20) {
            return None;
        }
        i = skip_ws(b, end + 1);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, i + 1);
        let (end, bounds) = value_end(b, start, &level_two)?;
        members.push(Member {
            key,
            value: &text[start..end],
            bounds,
        });
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    (skip_ws(b, i + 1) == b.len()).then_some(members)
}

/// Past JSON white space from `i`.
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(i) {
        i += 1;
    }
    i
}

/// The offset of the quote closing the string whose text starts at `i`.
/// Eight bytes at a time: most strings of a snapshot are short, and a
/// `memchr` call per string costs more than the string.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // A high bit in each byte of `w` equal to `c` (exact up to the first).
    let find = |w: u64, c: u8| {
        let x = w ^ (ONES * c as u64);
        x.wrapping_sub(ONES) & !x & HIGHS
    };
    loop {
        let k = match b.get(i..i + 8) {
            Some(chunk) => {
                let w = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
                let hits = find(w, b'"') | find(w, b'\\');
                if hits == 0 {
                    i += 8;
                    continue;
                }
                i + (hits.trailing_zeros() / 8) as usize
            }
            None => i + memchr::memchr2(b'"', b'\\', b.get(i..)?)?,
        };
        if b[k] == b'\\' {
            i = k + 2;
        } else {
            return Some(k);
        }
    }
}

/// Where the value starting at `start` ends (one past its last byte) and,
/// for an array, its bounds (see [`Member::bounds`]); `level_two` is what
/// [`skeleton::level_two`] found.
fn value_end(b: &[u8], start: usize, level_two: &[u32]) -> Option<(usize, Vec<u32>)> {
    let open = *b.get(start)?;
    match open {
        b'"' => Some((string_end(b, start + 1)? + 1, Vec::new())),
        b'[' | b'{' => {
            let array = open == b'[';
            let first = level_two.binary_search(&(start as u32)).ok()?;
            let mut bounds = Vec::new();
            if array {
                bounds.push(start as u32);
            }
            for &at in &level_two[first + 1..] {
                let i = at as usize;
                match b[i] {
                    b',' if array => bounds.push(at),
                    b',' => {}
                    c @ (b']' | b'}') => {
                        if (c == b']') != array {
                            return None;
                        }
                        if array {
                            bounds.push(at);
                            if bounds.len() == 2 && skip_ws(b, start + 1) == i {
                                bounds.clear(); // `[]`
                            }
                        }
                        return Some((i + 1, bounds));
                    }
                    _ => return None,
                }
            }
            None
        }
        _ => {
            // A number or literal: up to the next white space or separator.
            let len = b[start..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                .unwrap_or(b.len() - start);
            (len > 0).then_some((start + len, Vec::new()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::parse::{MAX_DEPTH, too_deep};

    fn keys(text: &str) -> Option<Vec<(String, String, usize)>> {
        scan(text, 2).map(|m| {
            m.iter()
                .map(|m| (m.key.to_string(), m.value.to_string(), m.len()))
                .collect()
        })
    }

    #[test]
    fn members_and_elements_are_found() {
        let text =
            " {\"a\" : 1 ,\"b\":[ {\"x\":[1,2]}, \"s,]\" ,3 ], \"c\":\"q\\\"}\", \"d\":[ ]}\n";
        let m = scan(text, 1).unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!((m[0].key, m[0].value), ("a", "1"));
        assert_eq!(m[1].value, "[ {\"x\":[1,2]}, \"s,]\" ,3 ]");
        assert_eq!(m[1].len(), 3);
        let elements: Vec<&str> = (0..3).map(|k| m[1].element(text, k).trim()).collect();
        assert_eq!(elements, ["{\"x\":[1,2]}", "\"s,]\"", "3"]);
        assert_eq!(m[2].value, "\"q\\\"}\"");
        assert_eq!((m[3].value, m[3].len()), ("[ ]", 0));
    }

    #[test]
    fn strings_end_at_their_closing_quote_wherever_it_falls() {
        for body in [
            "",
            "a",
            "abcdefg",
            "abcdefgh",
            "abcdefghijklmnopq",
            "\\\\",
            "\\\"",
            "abcdef\\\"gh\\\\",
            "abcdefg\\\"",
            "ab\\u0022cdefghijklmnop\\\\\\\"q",
        ] {
            for pad in 0..9 {
                let text = format!("{}\"{body}\" , 1", " ".repeat(pad));
                let b = text.as_bytes();
                assert_eq!(string_end(b, pad + 1), Some(pad + 1 + body.len()), "{text}");
            }
        }
        assert_eq!(string_end(b"\"abc", 1), None);
        assert_eq!(string_end(b"\"abcdefghij\\", 1), None);
    }

    #[test]
    fn unexpected_shapes_are_left_to_the_slow_path() {
        for text in [
            "",
            "[]",
            "{}",
            "{\"a\":1",
            "{\"a\":1}x",
            "{\"a\" 1}",
            "{\"a\":[1}}",
            "{\"a\":{\"b\":1]}",
            "{\"a\\u0062\":1}",
            "{\"a\":1,}",
            "{\"a\":\"never closed}",
        ] {
            assert!(keys(text).is_none(), "{text}");
        }
        // As `too_deep`: the top object is level 1, 100 levels are fine.
        let nested = |n: usize| format!("{{\"a\":{}{}}}", "[".repeat(n), "]".repeat(n));
        assert!(keys(&nested(100)).is_none());
        assert!(keys(&nested(99)).is_some());
        assert!(too_deep(&nested(100), MAX_DEPTH).is_some());
        assert_eq!(too_deep(&nested(99), MAX_DEPTH), None);
    }
}
