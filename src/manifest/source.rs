//! Manifest source files and locations in them.
//!
//! A [`Span`] is a byte range in one file of a [`Sources`] set. Spans are
//! where something was written, not what it says, so they compare equal to
//! each other: two models that say the same thing are equal wherever, and in
//! whichever format, they were written.

use std::sync::Arc;

/// Index of a file in [`Sources`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one manifest file.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

/// Spans never make two models differ (see the module docs).
impl PartialEq for Span {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Span {}

impl Span {
    pub fn new(file: FileId, range: std::ops::Range<usize>) -> Self {
        Span {
            file,
            start: range.start,
            end: range.end.max(range.start),
        }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The same place compared for real (by file and offsets).
    pub fn same_place(&self, other: &Span) -> bool {
        self.file == other.file && self.start == other.start && self.end == other.end
    }

    /// Key to order diagnostics by where they are.
    pub fn sort_key(&self) -> (u32, usize, usize) {
        (self.file.0, self.start, self.end)
    }
}

/// A value together with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// One manifest file: its path relative to the config directory and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: Arc<String>,
}

impl SourceFile {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rfind('\n')
            .map_or(before, |i| &before[i + 1..])
            .chars()
            .count()
            + 1;
        (line, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The UTF-8 byte-order mark.
const BOM: char = '\u{FEFF}';

/// Every manifest file of a run, in the order they were read.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub files: Vec<SourceFile>,
}

impl Sources {
    /// Add a file. A UTF-8 byte-order mark that some editors put at the
    /// start is dropped: it says nothing, and without it every offset,
    /// line and column is where an editor shows it.
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<String>) -> FileId {
        let mut text = text.into();
        if text.starts_with(BOM) {
            text.drain(..BOM.len_utf8());
        }
        self.files.push(SourceFile {
            path: path.into(),
            text: Arc::new(text),
        });
        FileId((self.files.len() - 1) as u32)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// `path:line:col` of a span, for one-line messages.
    pub fn location(&self, span: Span) -> String {
        match self.files.get(span.file.0 as usize) {
            Some(f) => {
                let (l, c) = f.line_col(span.start);
                format!("{}:{l}:{c}", f.path)
            }
            None => "<unknown>".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let mut s = Sources::default();
        let id = s.add("a.kdl", "ab\ncé d\n");
        let f = s.get(id);
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(6), (2, 3)); // after the two-byte é
        assert_eq!(s.location(Span::new(id, 3..4)), "a.kdl:2:1");
    }

    #[test]
    fn a_leading_byte_order_mark_is_dropped() {
        let mut s = Sources::default();
        let id = s.add("a.kdl", "\u{FEFF}ab\n\u{FEFF}c");
        assert_eq!(s.get(id).text.as_str(), "ab\n\u{FEFF}c");
        assert_eq!(s.location(Span::new(id, 1..2)), "a.kdl:1:2");
    }
}
