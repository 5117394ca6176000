//! A manifest's text as miette reads it, with an index of where its lines
//! start.
//!
//! miette finds the lines around a label by scanning the source from its
//! first byte, so rendering every diagnostic of a file costs the length of
//! the file each time: a large file with many problems took quadratic
//! time. Here the scan starts a few lines above the label instead (found by
//! binary search), and its answer is moved back to where it is in the whole
//! file: the same lines, columns and numbers, in time that does not grow
//! with the file. Pure: no I/O.

use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

#[derive(Debug, Clone)]
pub(super) struct Indexed {
    text: Arc<String>,
    /// Byte offset where each line starts (the first at 0), breaking lines
    /// as miette does: at `\n`, `\r\n` or a lone `\r`.
    lines: Arc<Vec<usize>>,
}

impl Indexed {
    pub(super) fn new(text: Arc<String>) -> Self {
        let b = text.as_bytes();
        let mut lines = vec![0];
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\r' if b.get(i + 1) == Some(&b'\n') => {
                    i += 2;
                    lines.push(i);
                }
                b'\r' | b'\n' => {
                    i += 1;
                    lines.push(i);
                }
                _ => i += 1,
            }
        }
        Indexed {
            text,
            lines: Arc::new(lines),
        }
    }
}

impl SourceCode for Indexed {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let bytes = self.text.as_bytes();
        let line = self.lines.partition_point(|&s| s <= span.offset()) - 1;
        // One line more than the context needs, so the scan below starts
        // exactly as a scan of the whole file would have arrived there.
        let first = line.saturating_sub(context_lines_before + 1);
        let base = self.lines[first];
        let window = &bytes[base..];
        let local = SourceSpan::new((span.offset() - base).into(), span.len());
        let inner = window.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new(
            inner.data(),
            (base + inner.span().offset(), inner.span().len()).into(),
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Seen = (Vec<u8>, usize, usize, usize, usize, usize);

    fn seen(c: Result<Box<dyn SpanContents<'_> + '_>, MietteError>) -> Option<Seen> {
        c.ok().map(|c| {
            (
                c.data().to_vec(),
                c.span().offset(),
                c.span().len(),
                c.line(),
                c.column(),
                c.line_count(),
            )
        })
    }

    #[test]
    fn reads_what_miette_reads_from_the_whole_text() {
        let text = "a\nbé c\r\n\r\nd\re\n\n  f g\nh".repeat(3);
        let indexed = Indexed::new(Arc::new(text.clone()));
        for offset in 0..=text.len() {
            for len in 0..4 {
                let span = SourceSpan::new(offset.into(), len);
                for before in 0..4 {
                    for after in 0..4 {
                        let want = seen(text.as_str().read_span(&span, before, after));
                        let got = seen(indexed.read_span(&span, before, after));
                        assert_eq!(got, want, "{offset}+{len} ({before}, {after})");
                    }
                }
            }
        }
    }
}
