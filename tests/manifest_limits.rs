//! Input limits of the manifest language (issue 9, item 6).
//!
//! - Nesting: any depth gives a diagnostic naming the file, the line and
//!   the limit, never a stack overflow. Run in threads with a normal 2 MiB
//!   stack, which is what a caller of the library may have.
//! - A UTF-8 byte-order mark at the start of a manifest is accepted and
//!   dropped, and locations on the first line stay right.

use roster::format::{FmtError, format_file};
use roster::manifest::{self, Loaded, depth::MAX_DEPTH};

/// Run `f` on a thread with a normal stack (not the main thread's 8 MiB).
fn on_normal_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic, no overflow")
}

fn kdl_nested(levels: usize) -> String {
    let mut s = String::from("persona \"p\"\nrule \"r\" persona=\"p\" {\n    when {\n");
    // `when` is one level inside `rule`; every `all` one more.
    for _ in 0..levels.saturating_sub(2) {
        s.push_str("all {\n");
    }
    s.push_str("city \"London\"\n");
    for _ in 0..levels.saturating_sub(2) {
        s.push_str("}\n");
    }
    s.push_str("    }\n}\n");
    s
}

fn toml_nested(levels: usize) -> String {
    // `when` is a key of the rule (1), every `all` one more.
    let inner = levels.saturating_sub(2);
    format!(
        "[persona.p]\n\n[[rule]]\nname = \"r\"\npersona = \"p\"\nwhen = {}{{ city = \"London\" }}{}\n",
        "{ all = ".repeat(inner),
        " }".repeat(inner)
    )
}

/// (codes, `path:line:col` of the first diagnostic)
fn diagnose(path: &'static str, text: String) -> (Vec<&'static str>, String, Loaded) {
    on_normal_stack(move || {
        let loaded = manifest::parse_str(path, &text);
        let codes = loaded.diagnostics.items.iter().map(|d| d.code).collect();
        let at = loaded
            .diagnostics
            .items
            .first()
            .map(|d| loaded.sources.location(d.span))
            .unwrap_or_default();
        (codes, at, loaded)
    })
}

#[test]
fn deep_kdl_is_a_diagnostic_not_a_crash() {
    for levels in [2_000, 100_000] {
        let (codes, at, loaded) = diagnose("deep.kdl", kdl_nested(levels));
        assert_eq!(codes, ["too-deep"], "{levels} levels");
        // The first `{` past the limit: `rule` is line 2, `when` line 3.
        assert_eq!(
            at,
            format!("deep.kdl:{}:5", MAX_DEPTH + 2),
            "{levels} levels"
        );
        let d = &loaded.diagnostics.items[0];
        assert_eq!(d.message, format!("nested deeper than {MAX_DEPTH} levels"));
    }
}

#[test]
fn deep_toml_is_the_same_diagnostic() {
    for levels in [2_000, 100_000] {
        let (codes, at, loaded) = diagnose("deep.toml", toml_nested(levels));
        assert_eq!(codes, ["too-deep"], "{levels} levels");
        assert!(at.starts_with("deep.toml:6:"), "{at}");
        let d = &loaded.diagnostics.items[0];
        assert_eq!(d.message, format!("nested deeper than {MAX_DEPTH} levels"));
    }
    // Nested table headers and dotted keys count too.
    let header = format!("[{}]\n", vec!["tenant"; 3 * MAX_DEPTH].join("."));
    assert_eq!(diagnose("h.toml", header).0, ["too-deep"]);
    let dotted = format!("tenant.scope.{} = \"x\"\n", vec!["all"; 100_000].join("."));
    assert_eq!(diagnose("d.toml", dotted).0, ["too-deep"]);
}

#[test]
fn the_deepest_allowed_manifest_is_read_on_a_normal_stack() {
    for (path, text) in [
        ("ok.kdl", kdl_nested(MAX_DEPTH)),
        ("ok.toml", toml_nested(MAX_DEPTH)),
    ] {
        let copy = text.clone();
        let formatted = on_normal_stack(move || format_file(path, &copy));
        assert!(formatted.is_ok(), "{path}: {formatted:?}");
        let (codes, _, loaded) = diagnose(path, text);
        assert!(!codes.contains(&"too-deep"), "{path}: {codes:?}");
        assert!(!loaded.has_errors(), "{path}: {codes:?}");
        assert_eq!(loaded.manifest.rules.len(), 1, "{path}");
    }
    let (codes, ..) = diagnose("over.kdl", kdl_nested(MAX_DEPTH + 1));
    assert_eq!(codes, ["too-deep"]);
}

#[test]
fn fmt_refuses_deep_files_too() {
    for (path, text) in [
        ("deep.kdl", kdl_nested(100_000)),
        ("deep.toml", toml_nested(100_000)),
    ] {
        let result = on_normal_stack(move || format_file(path, &text));
        match result {
            Err(FmtError::Syntax { message, line, .. }) => {
                assert_eq!(message, format!("nested deeper than {MAX_DEPTH} levels"));
                assert!(line > 1, "{path}");
            }
            other => panic!("{path}: {other:?}"),
        }
    }
}

#[test]
fn a_byte_order_mark_is_dropped_and_locations_stay_right() {
    let cases = [
        (
            "a.kdl",
            "persona \"p\"\nrule \"r\" persona=\"p\"\n",
            "personx \"p\"\n",
        ),
        (
            "a.toml",
            "[persona.p]\n\n[[rule]]\nname = \"r\"\npersona = \"p\"\n",
            "personx = 1\n",
        ),
    ];
    for (path, good, bad) in cases {
        let plain = manifest::parse_str(path, good);
        let bom = manifest::parse_str(path, &format!("\u{FEFF}{good}"));
        assert!(!bom.has_errors(), "{path}");
        assert_eq!(bom.manifest, plain.manifest, "{path}");
        let bad = manifest::parse_str(path, &format!("\u{FEFF}{bad}"));
        let d = &bad.diagnostics.items[0];
        assert_eq!(d.code, "unknown-item", "{path}");
        assert_eq!(bad.sources.location(d.span), format!("{path}:1:1"));
        let rendered = bad.diagnostics.render(&bad.sources, false);
        assert!(rendered.contains(&format!("[{path}:1:1]")), "{rendered}");
        assert!(!rendered.contains('\u{FEFF}'), "{rendered}");
    }
}
