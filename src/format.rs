//! Canonical formatting of manifests: `roster fmt`.
//!
//! [`format_kdl`] and [`format_toml`] take a manifest's text and return it
//! in the canonical layout (indentation, one item per line, properties and
//! keys in a stable order, consistent quoting). They never change what a
//! manifest means and never drop a comment: before returning, each checks
//! that the result parses to the same document and carries the same
//! comments as the input, and refuses (with [`FmtError::Unsafe`]) otherwise,
//! so a formatter bug can never reach a file.
//!
//! Pure: no I/O. The CLI (`cli::fmt`) walks the config directory, writes
//! files and prints diffs made by [`unified_diff`].

mod kdl;
mod toml;

/// Lines longer than this are split where the format allows (TOML arrays)
/// and one-line blocks are expanded (KDL).
pub const MAX_WIDTH: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FmtError {
    /// The input does not parse: nothing can be formatted.
    #[error("not valid {format}: {message} (line {line}, column {column})")]
    Syntax {
        format: &'static str,
        message: String,
        line: usize,
        column: usize,
    },
    /// The formatted text would not say what the input says (a bug in the
    /// formatter); the input is left as it is.
    #[error(
        "the formatter would change what the file says ({0}): a bug in roster, please report it"
    )]
    Unsafe(String),
    /// Neither `.kdl` nor `.toml`.
    #[error("not a manifest (`*.kdl` or `*.toml`)")]
    NotAManifest,
}

/// Format one KDL 2.0 manifest.
pub fn format_kdl(text: &str) -> Result<String, FmtError> {
    kdl::format(text)
}

/// Format one TOML manifest.
pub fn format_toml(text: &str) -> Result<String, FmtError> {
    toml::format(text)
}

/// Format a manifest, choosing the format by the path's extension.
pub fn format_file(path: &str, text: &str) -> Result<String, FmtError> {
    if path.ends_with(".kdl") {
        format_kdl(text)
    } else if path.ends_with(".toml") {
        format_toml(text)
    } else {
        Err(FmtError::NotAManifest)
    }
}

/// A unified diff (`--- a/PATH`, `+++ b/PATH`, 3 lines of context); empty
/// when `before == after`.
pub fn unified_diff(path: &str, before: &str, after: &str) -> String {
    if before == after {
        return String::new();
    }
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// A file nested deeper than the manifest language allows: refused before
/// a parser (or the printer, which recurses as well) sees it.
fn too_deep(format: &'static str, text: &str, at: usize) -> FmtError {
    let (line, column) = line_col(text, at);
    FmtError::Syntax {
        format,
        message: crate::manifest::depth::message(),
        line,
        column,
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Comment texts with all white space removed, sorted: two files carry
/// the same comments when these are equal, however they are laid out.
fn comment_fingerprint(comments: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = comments
        .into_iter()
        .map(|c| c.chars().filter(|ch| !ch.is_whitespace()).collect())
        .collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_has_headers_and_context() {
        let before = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let after = "a\nb\nc\nd\nE\nf\ng\nh\n";
        let d = unified_diff("x.kdl", before, after);
        assert!(
            d.starts_with("--- a/x.kdl\n+++ b/x.kdl\n@@ -2,7 +2,7 @@\n"),
            "{d}"
        );
        assert!(d.contains("-e\n+E\n"));
        assert_eq!(unified_diff("x.kdl", before, before), "");
    }

    #[test]
    fn dispatch_by_extension() {
        assert_eq!(format_file("a.kdl", "a   \"b\"\n").unwrap(), "a \"b\"\n");
        assert_eq!(format_file("a.toml", "a   =  1\n").unwrap(), "a = 1\n");
        assert_eq!(format_file("a.json", "{}"), Err(FmtError::NotAManifest));
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
