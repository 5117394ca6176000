//! A `matches` pattern of the condition language, compiled once when the
//! manifest is read.
//!
//! [`Pattern`] holds the text as written and the regular expression built
//! from it, and is the one place that knows how a pattern is built and how
//! large it may grow. The model owns it, so lowering checks a pattern by
//! building it and the rule engine only runs it: nothing compiles a pattern
//! twice, and neither side needs the other. Pure: no I/O.

use std::fmt;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

/// A regular expression that must match the whole (trimmed) value, without
/// regard to case.
///
/// Two patterns are equal when they are written the same: the model
/// compares what a manifest says, and the regex is a function of the text.
#[derive(Clone)]
pub struct Pattern {
    source: String,
    regex: Regex,
}

impl Pattern {
    /// The most a pattern may take once compiled (bytes), so that a
    /// manifest cannot make the engine build an enormous automaton.
    pub const SIZE_LIMIT: usize = 1 << 20;

    /// Compile a pattern as written in a manifest. It is trimmed like every
    /// other manifest value (the values it is matched against are too).
    ///
    /// The pattern is compiled alone first, so that errors speak of the
    /// pattern as written and an unbalanced `a)|(b` cannot close the
    /// `\A(?:…)\z` wrapper that anchors it to the whole value.
    pub fn new(source: &str) -> Result<Pattern, regex::Error> {
        let p = source.trim();
        Self::builder(p).build()?;
        let regex = Self::builder(&Self::anchored(p)).build()?;
        Ok(Pattern {
            source: source.to_string(),
            regex,
        })
    }

    /// The regex a (trimmed) pattern becomes: anchored to the whole value.
    fn anchored(trimmed: &str) -> String {
        format!(r"\A(?:{trimmed})\z")
    }

    /// Several patterns as one set, each built as [`Pattern::new`] builds
    /// it, to test a value against all of them in one pass (`matches` of
    /// the set is `is_match` of each). The size limit is the patterns'
    /// together.
    pub fn set<'p>(
        patterns: impl IntoIterator<Item = &'p Pattern>,
    ) -> Result<RegexSet, regex::Error> {
        let sources: Vec<String> = patterns
            .into_iter()
            .map(|p| Self::anchored(p.source.trim()))
            .collect();
        let limit = Self::SIZE_LIMIT.saturating_mul(sources.len().max(1));
        RegexSetBuilder::new(&sources)
            .case_insensitive(true)
            .size_limit(limit)
            .build()
    }

    fn builder(pattern: &str) -> RegexBuilder {
        let mut b = RegexBuilder::new(pattern);
        b.case_insensitive(true).size_limit(Self::SIZE_LIMIT);
        b
    }

    /// The pattern as written (untrimmed).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Does the pattern match all of `value`? (The caller trims and
    /// normalises the value, as for every other operator.)
    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_values_without_regard_to_case() {
        let p = Pattern::new("  sales.* ").unwrap();
        assert!(p.is_match("sales manager"));
        assert!(p.is_match("SALES"));
        assert!(!p.is_match("head of sales"));
        assert_eq!(p.source(), "  sales.* ");
    }

    #[test]
    fn cannot_escape_the_anchors() {
        assert!(Pattern::new("a)|(b").is_err());
        assert!(Pattern::new("(unclosed").is_err());
        let p = Pattern::new("a|b").unwrap();
        assert!(p.is_match("a") && p.is_match("b") && !p.is_match("ab"));
    }

    #[test]
    fn the_size_limit_holds() {
        // Each `\w{100}` is thousands of states under Unicode case folding.
        let huge = r"\w{100}".repeat(50);
        match Pattern::new(&huge) {
            Err(regex::Error::CompiledTooBig(limit)) => assert_eq!(limit, Pattern::SIZE_LIMIT),
            other => panic!("expected CompiledTooBig, got {other:?}"),
        }
    }

    #[test]
    fn a_set_matches_as_each_pattern_does() {
        let ps: Vec<Pattern> = [" sales.* ", "a|b", r"LON\d{6}", "ß", "(?-i)X"]
            .iter()
            .map(|s| Pattern::new(s).unwrap())
            .collect();
        let set = Pattern::set(&ps).unwrap();
        for v in [
            "sales",
            "SALES x",
            "a",
            "ab",
            "lon123456",
            "LON12345",
            "ss",
            "ẞ",
            "x",
            "X",
            "",
        ] {
            let m = set.matches(v);
            for (i, p) in ps.iter().enumerate() {
                assert_eq!(m.matched(i), p.is_match(v), "{:?} on {v:?}", p.source());
            }
        }
    }

    #[test]
    fn equal_when_written_the_same() {
        let a = Pattern::new("E[0-9]{6}").unwrap();
        assert_eq!(a, Pattern::new("E[0-9]{6}").unwrap());
        assert_ne!(a, Pattern::new("e[0-9]{6}").unwrap());
        assert_eq!(format!("{a:?}"), r#"Pattern("E[0-9]{6}")"#);
    }
}
