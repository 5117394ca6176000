//! Property tests: the manifest parsers and the diagnostics renderer never
//! panic, whatever bytes they are given — random text, and valid manifests
//! with random bytes inserted, deleted or replaced.
//!
//! Case counts are modest so the suite stays fast in debug builds; raise
//! `PROPTEST_CASES` locally to search harder.

use std::sync::LazyLock;

use proptest::prelude::*;
use roster::manifest::{self, Sources};

use crate::common::fixture;

/// Every manifest of the equivalence fixtures: (relative path, text).
static SEEDS: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let mut out = Vec::new();
    for dir in ["manifests/equiv-kdl", "manifests/equiv-toml"] {
        let loaded = roster::config_dir::load(&fixture(dir)).expect("equivalence fixture");
        for f in &loaded.sources.files {
            out.push((f.path.clone(), f.text.as_str().to_string()));
        }
    }
    out
});

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Parse, validate and render: none of it may panic, and every diagnostic
/// must point inside its file.
fn check(path: &str, text: &str) {
    let loaded = manifest::parse_str(path, text);
    for d in &loaded.diagnostics.items {
        let len = loaded.sources.get(d.span.file).text.len();
        assert!(
            d.span.start <= d.span.end && d.span.end <= len,
            "{d:?} outside {len} bytes"
        );
        for (s, _) in &d.related {
            assert!(s.end <= loaded.sources.get(s.file).text.len());
        }
    }
    let rendered = loaded.diagnostics.render(&loaded.sources, false);
    assert_eq!(loaded.diagnostics.items.is_empty(), rendered.is_empty());
    let _ = loaded.diagnostics.render(&loaded.sources, true);
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Replace(usize, u8),
}

/// Bytes that matter to the two grammars, and some that do not.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => prop::sample::select(
            b"{}[]()\"'#=+-.,;:/\\\n\r\t *\x00 0123456789abcxyzTRUEfalse".to_vec()
        ),
        1 => any::<u8>(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (
            any::<usize>(),
            prop::collection::vec(interesting_byte(), 1..6)
        )
            .prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<usize>(), 1usize..12).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), interesting_byte()).prop_map(|(at, b)| Edit::Replace(at, b)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for e in edits {
        let len = bytes.len().max(1);
        match e {
            Edit::Insert(at, b) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            Edit::Replace(at, b) => {
                if !bytes.is_empty() {
                    let at = at % bytes.len();
                    bytes[at] = *b;
                }
            }
        }
    }
    // Manifests are read as UTF-8 (anything else is refused before parsing).
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(config(384))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check("x.kdl", &text);
        check("x.toml", &text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        check("x.kdl", &text);
        check("x.toml", &text);
    }

    #[test]
    fn grammar_soup_never_panics(
        bytes in prop::collection::vec(interesting_byte(), 0..120)
    ) {
        let text = String::from_utf8_lossy(&bytes);
        check("x.kdl", &text);
        check("x.toml", &text);
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn mutated_manifests_never_panic(
        seed in 0..SEEDS.len(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let (path, text) = &SEEDS[seed];
        check(path, &apply(text, &edits));
    }
}

#[test]
fn several_mutated_files_never_panic() {
    // Cross-file checks (duplicates, overlaps, tenants) on broken input.
    let mut runner = proptest::test_runner::TestRunner::new(config(64));
    let strategy =
        prop::collection::vec((0..SEEDS.len(), prop::collection::vec(edit(), 0..4)), 2..6);
    runner
        .run(&strategy, |files| {
            let mut sources = Sources::default();
            for (i, (seed, edits)) in files.iter().enumerate() {
                let (path, text) = &SEEDS[*seed];
                sources.add(format!("{i}/{path}"), apply(text, edits));
            }
            let loaded = manifest::parse(sources);
            let _ = loaded.diagnostics.render(&loaded.sources, false);
            Ok(())
        })
        .expect("no panic");
}
