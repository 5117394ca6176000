//! A strict reader of the plain JSON the snapshot's elements are written
//! in: objects, arrays, strings without escapes, `true`, `false` and
//! `null`. It reads a subset of what `serde_json` reads and gives the same
//! values; anything outside the subset (an escape, a control character in
//! a string, a number, malformed text) is `None`, and the caller hands
//! that element to `serde_json`, which decides. Pure.

/// A cursor over one element's text.
pub(super) struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Self {
        Reader { text, at: 0 }
    }

    #[inline]
    fn ws(&mut self) {
        let b = self.text.as_bytes();
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte that is not white space, consumed.
    #[inline]
    fn next(&mut self) -> Option<u8> {
        self.ws();
        let c = *self.text.as_bytes().get(self.at)?;
        self.at += 1;
        Some(c)
    }

    /// `word` next (after white space), consumed if so.
    #[inline]
    fn word(&mut self, word: &str) -> bool {
        self.ws();
        let found = self.text.as_bytes()[self.at..].starts_with(word.as_bytes());
        if found {
            self.at += word.len();
        }
        found
    }

    /// A string without escapes or control characters.
    #[inline]
    pub fn string(&mut self) -> Option<&'a str> {
        if self.next()? != b'"' {
            return None;
        }
        let start = self.at;
        self.at = string_end(self.text.as_bytes(), start)?;
        self.at += 1;
        // Both ends are next to an ASCII quote: character boundaries.
        Some(&self.text[start..self.at - 1])
    }

    /// An object's key: field `guess` of `fields` when the text spells it
    /// (compared in place), else whichever field the key names.
    #[inline]
    fn key(&mut self, fields: &Fields, guess: Option<u8>) -> Option<usize> {
        self.ws();
        let b = self.text.as_bytes();
        if let Some(g) = guess
            && let Some(name) = fields.names.get(g as usize)
            && b.get(self.at) == Some(&b'"')
            && starts_with(&b[self.at + 1..], name.as_bytes())
            && b.get(self.at + 1 + name.len()) == Some(&b'"')
        {
            self.at += name.len() + 2;
            return Some(g as usize);
        }
        let key = self.string()?;
        fields.names.iter().position(|k| *k == key)
    }

    /// `null`, or a string.
    #[inline]
    pub fn string_or_null(&mut self) -> Option<Option<&'a str>> {
        if self.word("null") {
            Some(None)
        } else {
            self.string().map(Some)
        }
    }

    /// `null`, `true` or `false`.
    pub fn bool_or_null(&mut self) -> Option<Option<bool>> {
        if self.word("null") {
            Some(None)
        } else if self.word("true") {
            Some(Some(true))
        } else if self.word("false") {
            Some(Some(false))
        } else {
            None
        }
    }

    /// Whether `null` comes next (consumed if so).
    pub fn null(&mut self) -> bool {
        self.word("null")
    }

    /// An object: `field` is called with each key and must read its value.
    pub fn object(&mut self, field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.members(|r| r.string(), field)
    }

    /// An object of `fields`, none twice: `field` is called with the index
    /// of each and must read its value. A key `fields` does not name is
    /// `None`.
    pub fn fields(
        &mut self,
        fields: &mut Fields,
        field: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        let mut seen = Seen::default();
        let mut n = 0;
        let key = |r: &mut Self| {
            let f = r.key(fields, fields.order.get(n).copied())?;
            fields.learn(n, f);
            n += 1;
            seen.mark(f)?; // a field twice
            Some(f)
        };
        self.members(key, field)
    }

    /// An object's members: `key` reads each key, `value` its value.
    fn members<K>(
        &mut self,
        mut key: impl FnMut(&mut Self) -> Option<K>,
        mut value: impl FnMut(&mut Self, K) -> Option<()>,
    ) -> Option<()> {
        if self.next()? != b'{' {
            return None;
        }
        if self.word("}") {
            return Some(());
        }
        loop {
            let k = key(self)?;
            if self.next()? != b':' {
                return None;
            }
            value(self, k)?;
            match self.next()? {
                b',' => {}
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// An array: `item` is called for each element and must read it.
    pub fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if self.next()? != b'[' {
            return None;
        }
        if self.word("]") {
            return Some(());
        }
        loop {
            item(self)?;
            match self.next()? {
                b',' => {}
                b']' => return Some(()),
                _ => return None,
            }
        }
    }

    /// Nothing but white space left.
    pub fn end(mut self) -> Option<()> {
        self.ws();
        (self.at == self.text.len()).then_some(())
    }
}

/// Where the string starting at `at` ends (its closing quote); `None` at
/// an escape, a control character or the end of the text. Eight bytes at
/// a time: a byte is flagged when it is `"`, `\\` or below 0x20, and the
/// lowest flag of each test is exact.
#[inline]
fn string_end(b: &[u8], mut at: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(at..at + 8) {
        let v = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let quote = v ^ (ONES * u64::from(b'"'));
        let slash = v ^ (ONES * u64::from(b'\\'));
        let flags = (quote.wrapping_sub(ONES) & !quote)
            | (slash.wrapping_sub(ONES) & !slash)
            | (v.wrapping_sub(ONES * 0x20) & !v);
        let flags = flags & HIGH;
        if flags != 0 {
            let end = at + (flags.trailing_zeros() / 8) as usize;
            return (b[end] == b'"').then_some(end);
        }
        at += 8;
    }
    loop {
        match *b.get(at)? {
            b'"' => return Some(at),
            b'\\' | 0..=0x1f => return None,
            _ => at += 1,
        }
    }
}

/// Whether `hay` starts with `needle` (short: compared inline, eight bytes
/// at a time).
#[inline]
fn starts_with(hay: &[u8], needle: &[u8]) -> bool {
    if hay.len() < needle.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("eight"));
    let mut i = 0;
    while i + 8 <= needle.len() {
        if word(hay, i) != word(needle, i) {
            return false;
        }
        i += 8;
    }
    hay[i..needle.len()]
        .iter()
        .zip(&needle[i..])
        .all(|(a, b)| a == b)
}

/// The fields an object may have ([`Reader::fields`]); the order of the
/// last object read is the first guess for the next one (a file writes
/// its objects alike).
pub(super) struct Fields {
    names: &'static [&'static str],
    order: Vec<u8>,
}

impl Fields {
    pub fn new(names: &'static [&'static str]) -> Self {
        assert!(names.len() < 64, "fields are counted in a u64");
        Fields {
            names,
            order: Vec::with_capacity(names.len()),
        }
    }

    /// Field `f` came `n`th: the guess for the `n`th key of the next
    /// object.
    fn learn(&mut self, n: usize, f: usize) {
        if self.order.get(n) != Some(&(f as u8)) {
            self.order.truncate(n);
            self.order.resize(n, u8::MAX);
            self.order.push(f as u8);
        }
    }
}

/// The fields seen so far in one object: a field twice is an error (as
/// `serde`'s derived structs make it).
#[derive(Default)]
pub(super) struct Seen(u64);

impl Seen {
    /// Mark field `i`; `None` when it was already seen.
    #[inline]
    pub fn mark(&mut self, i: usize) -> Option<()> {
        let bit = 1u64 << i;
        if self.0 & bit != 0 {
            return None;
        }
        self.0 |= bit;
        Some(())
    }

    pub fn has(&self, i: usize) -> bool {
        self.0 & (1u64 << i) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(text: &str) -> Option<Vec<Option<&str>>> {
        let mut r = Reader::new(text);
        let mut out = Vec::new();
        r.array(|r| {
            out.push(r.string_or_null()?);
            Some(())
        })?;
        r.end()?;
        Some(out)
    }

    #[test]
    fn reads_plain_json_as_serde_does() {
        let text = " [ \"a\" , null,\"Krüger\",\"\"]\n";
        let ours = strings(text).expect("plain");
        let serde: Vec<Option<String>> = serde_json::from_str(text).unwrap();
        assert_eq!(ours, serde.iter().map(|s| s.as_deref()).collect::<Vec<_>>());
        assert_eq!(strings("[]"), Some(vec![]));
    }

    #[test]
    fn declines_what_it_does_not_read() {
        for text in [
            "[\"a\\nb\"]",   // an escape: serde decides
            "[\"a\tb\"]",    // a control character: serde refuses
            "[\"a\",]",      // a trailing comma
            "[1]",           // a number
            "[\"a\"] x",     // text after the value
            "[\"a\"",        // cut short
            "[nul]",         // a misspelt word
            "[\"a\" \"b\"]", // no comma
        ] {
            assert_eq!(strings(text), None, "{text}");
        }
    }

    #[test]
    fn objects_and_their_fields() {
        static NAMES: [&str; 2] = ["a", "b"];
        let mut fields = Fields::new(&NAMES);
        let mut read = |text: &str| {
            let mut r = Reader::new(text);
            let mut got = Vec::new();
            r.fields(&mut fields, |r, i| {
                got.push((i, r.bool_or_null()?));
                Some(())
            })?;
            r.end()?;
            Some(got)
        };
        assert_eq!(
            read("{\"a\": true, \"b\": null}"),
            Some(vec![(0, Some(true)), (1, None)])
        );
        // Another order, then the first again: the guess is only a guess.
        assert_eq!(
            read("{\"b\":false,\"a\":null}"),
            Some(vec![(1, Some(false)), (0, None)])
        );
        assert_eq!(read("{\"a\":true}"), Some(vec![(0, Some(true))]));
        assert_eq!(read("{}"), Some(vec![]));
        assert_eq!(read("{\"a\":true,\"a\":true}"), None, "a field twice");
        assert_eq!(read("{\"c\":true}"), None, "an unknown field");
        assert_eq!(read("{\"a\":true,}"), None);
        assert_eq!(read("{\"a\" true}"), None);
    }
}
