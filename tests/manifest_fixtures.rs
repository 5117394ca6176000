//! The manifest fixture suite: every directory under
//! `tests/fixtures/manifests/` is a config.
//!
//! - `good-*` (and the `equiv-*` pair): no errors, no warnings; `roster
//!   validate` exits 0.
//! - `warn-*`: valid (exit 0) but with warnings, snapshotted.
//! - `bad-*`: at least one error; `roster validate` exits 1. The rendered
//!   diagnostics and the exit status are snapshotted, and [`EXPECTED`] names
//!   the diagnostic codes each must contain, so a snapshot accepted in haste
//!   cannot hide a lost check.

use std::path::{Path, PathBuf};

use roster::manifest::{Level, Loaded};

use crate::common::{fixture, roster};

/// Diagnostic codes each `bad-*`/`warn-*` fixture must produce (it may
/// produce more; the snapshot shows them all).
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "bad-blocks-kdl",
        &["block-reversed", "block-length-mismatch", "wrong-arguments"],
    ),
    (
        "bad-blocks-toml",
        &["block-reversed", "block-length-mismatch", "wrong-arguments"],
    ),
    ("bad-duplicate-names-kdl", &["duplicate-name"]),
    ("bad-duplicate-names-toml", &["duplicate-name"]),
    ("bad-duplicate-table-toml", &["toml-syntax"]),
    (
        "bad-empty-kdl",
        &[
            "empty-range",
            "missing-property",
            "empty-value",
            "empty-condition",
            "empty-group",
            "empty-override",
        ],
    ),
    (
        "bad-empty-toml",
        &[
            "empty-range",
            "missing-property",
            "empty-value",
            "empty-condition",
            "empty-group",
            "empty-override",
        ],
    ),
    ("bad-invalid-numbers-kdl", &["invalid-number"]),
    ("bad-invalid-numbers-toml", &["invalid-number"]),
    ("bad-invalid-regex-kdl", &["invalid-regex"]),
    ("bad-invalid-regex-toml", &["invalid-regex"]),
    (
        "bad-many-errors",
        &[
            "unknown-item",
            "invalid-number",
            "unknown-range",
            "unknown-policy-type",
            "unknown-persona",
            "unknown-attribute",
            "invalid-regex",
            "toml-syntax",
            "overlapping-blocks",
            "duplicate-tenant",
            "unreachable-rule",
            "unused-persona",
        ],
    ),
    ("bad-overlap-across-files", &["overlapping-blocks"]),
    ("bad-overlap-kdl", &["overlapping-blocks"]),
    ("bad-overlap-toml", &["overlapping-blocks"]),
    ("bad-syntax-kdl", &["kdl-syntax"]),
    ("bad-syntax-kdl-unclosed", &["kdl-syntax"]),
    ("bad-syntax-kdl-v1", &["kdl-syntax"]),
    ("bad-syntax-toml", &["toml-syntax"]),
    ("bad-syntax-toml-unclosed", &["toml-syntax"]),
    ("bad-two-tenants-kdl", &["duplicate-tenant"]),
    ("bad-two-tenants-mixed", &["duplicate-tenant"]),
    ("bad-two-tenants-toml", &["duplicate-tenant"]),
    ("bad-unknown-attribute-kdl", &["unknown-attribute"]),
    ("bad-unknown-attribute-toml", &["unknown-attribute"]),
    ("bad-unknown-items-kdl", &["unknown-item"]),
    ("bad-unknown-items-toml", &["unknown-item"]),
    ("bad-unknown-persona-kdl", &["unknown-persona"]),
    ("bad-unknown-persona-toml", &["unknown-persona"]),
    ("bad-unknown-policy-type-kdl", &["unknown-policy-type"]),
    ("bad-unknown-policy-type-toml", &["unknown-policy-type"]),
    ("bad-unknown-range-kdl", &["unknown-range"]),
    ("bad-unknown-range-toml", &["unknown-range"]),
    ("bad-wrong-types-kdl", &["wrong-type"]),
    ("bad-wrong-types-toml", &["wrong-type"]),
    ("warn-reserve-outside-kdl", &["reserve-outside-range"]),
    ("warn-reserve-outside-toml", &["reserve-outside-range"]),
    ("warn-unreachable-rules-kdl", &["unreachable-rule"]),
    ("warn-unreachable-rules-toml", &["unreachable-rule"]),
    ("warn-unused-persona-kdl", &["unused-persona"]),
    ("warn-unused-persona-toml", &["unused-persona"]),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Good,
    Warn,
    Bad,
}

fn fixtures() -> Vec<(String, PathBuf, Kind)> {
    let root = fixture("manifests");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&root).expect("tests/fixtures/manifests") {
        let entry = entry.expect("dir entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = if name.starts_with("good-") || name.starts_with("equiv-") {
            Kind::Good
        } else if name.starts_with("warn-") {
            Kind::Warn
        } else if name.starts_with("bad-") {
            Kind::Bad
        } else {
            panic!("fixture `{name}`: name it good-*, warn-*, bad-* or equiv-*");
        };
        out.push((name, entry.path(), kind));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn load(dir: &Path) -> Loaded {
    roster::config_dir::load(dir).unwrap_or_else(|e| panic!("cannot load `{}`: {e}", dir.display()))
}

/// `roster validate -C DIR`: exit code, stdout and stderr.
fn validate(dir: &Path) -> (i32, String, String) {
    let out = roster()
        .arg("validate")
        .arg("-C")
        .arg(dir)
        .output()
        .expect("run roster validate");
    let code = out.status.code().unwrap_or(-1);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (code, text(&out.stdout), text(&out.stderr))
}

fn check(name: &str, dir: &Path, kind: Kind) {
    let loaded = load(dir);
    let d = &loaded.diagnostics;
    let rendered = d.render(&loaded.sources, false);
    let (code, stdout, stderr) = validate(dir);
    match kind {
        Kind::Good => {
            assert!(d.items.is_empty(), "{name} should be clean:\n{rendered}");
            assert_eq!(code, 0, "{name}: `roster validate` exit code\n{stderr}");
            return;
        }
        Kind::Warn => {
            assert!(!d.has_errors(), "{name} should have no errors:\n{rendered}");
            assert!(d.warning_count() > 0, "{name} should have warnings");
            assert_eq!(code, 0, "{name}: `roster validate` exit code\n{stderr}");
        }
        Kind::Bad => {
            assert!(d.has_errors(), "{name} should have errors");
            assert_eq!(code, 1, "{name}: `roster validate` exit code\n{stderr}");
        }
    }
    let expected = EXPECTED
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("{name}: add its expected codes to EXPECTED"))
        .1;
    for code in expected {
        assert!(
            d.items.iter().any(|i| i.code == *code),
            "{name}: no `{code}` diagnostic in:\n{rendered}"
        );
    }
    assert_well_formed(name, &loaded, &rendered);
    // The CLI shows the very same report.
    assert!(
        stderr.contains(rendered.trim_end()),
        "{name}: `roster validate` prints something else:\n{stderr}"
    );
    // `valid: …` goes to stdout, `invalid: …` to stderr.
    let summary = if code == 0 { &stdout } else { &stderr };
    let summary = summary.lines().last().unwrap_or_default();
    let text = format!("roster validate -C {name}: exit {code}\n{summary}\n\n{rendered}");
    insta::assert_snapshot!(name, text);
}

/// What every diagnostic must show: `file:line:col`, the source line, a
/// label, and ordering by file and position.
fn assert_well_formed(name: &str, loaded: &Loaded, rendered: &str) {
    let d = &loaded.diagnostics;
    for item in &d.items {
        let location = loaded.sources.location(item.span);
        assert!(
            rendered.contains(&format!("[{location}]")),
            "{name}: `{}` does not name {location}:\n{rendered}",
            item.message
        );
        assert!(
            !item.label.is_empty(),
            "{name}: `{}` has no label",
            item.message
        );
        if item.level == Level::Error {
            assert!(
                item.help.is_some(),
                "{name}: error `{}` ({}) gives no help",
                item.message,
                item.code
            );
        }
    }
    let keys: Vec<_> = d.items.iter().map(|i| i.span.sort_key()).collect();
    assert!(
        keys.windows(2).all(|w| w[0] <= w[1]),
        "{name}: diagnostics are not ordered by file and position"
    );
}

#[test]
fn every_fixture_gives_what_it_should() {
    let all = fixtures();
    assert!(all.len() >= 40, "fixtures went missing: {}", all.len());
    let names: Vec<&str> = all.iter().map(|(n, ..)| n.as_str()).collect();
    for (n, _) in EXPECTED {
        assert!(
            names.contains(n),
            "EXPECTED names `{n}`, which is not a fixture"
        );
    }
    // Run them all, then fail with every failure, not only the first.
    let mut failures = Vec::new();
    for (name, dir, kind) in &all {
        let r = std::panic::catch_unwind(|| check(name, dir, *kind));
        if let Err(e) = r {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("--- {name}\n{msg}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_problem_of_a_run_is_reported_in_file_order() {
    let loaded = load(&fixture("manifests/bad-many-errors"));
    let d = &loaded.diagnostics;
    assert!(d.error_count() >= 12, "only {} errors", d.error_count());
    // Every file with a problem gets its say, in path order.
    let files: Vec<&str> = d
        .items
        .iter()
        .map(|i| loaded.sources.get(i.span.file).path.as_str())
        .collect();
    let mut distinct = files.clone();
    distinct.dedup();
    assert_eq!(
        distinct,
        [
            "a-ranges.kdl",
            "b-personas.toml",
            "c-rules.kdl",
            "d/broken.toml",
            "d/overlap.toml",
            "e-users.kdl"
        ]
    );
    // Within a file, by line and column.
    for w in d.items.windows(2) {
        if w[0].span.file == w[1].span.file {
            let a = loaded.sources.location(w[0].span);
            let b = loaded.sources.location(w[1].span);
            assert!(w[0].span.start <= w[1].span.start, "{a} comes after {b}");
        }
    }
}

#[test]
fn global_is_global_in_any_case() {
    let loaded = load(&fixture("manifests/good-global-any-case"));
    let m = &loaded.manifest;
    assert_eq!(m.personas.len(), 2);
    for p in &m.personas {
        assert_eq!(p.policies.len(), 5, "persona `{}`", p.name.value);
        for s in &p.policies {
            assert_eq!(
                s.policy, None,
                "`{}` of `{}`",
                s.policy_type.value, p.name.value
            );
        }
        assert!(
            p.policies
                .iter()
                .any(|s| s.policy_type.value == "TeamsUpgradePolicy")
        );
    }
}

#[test]
fn overlaps_across_files_name_both_places() {
    let loaded = load(&fixture("manifests/bad-overlap-across-files"));
    let overlap = loaded
        .diagnostics
        .items
        .iter()
        .find(|d| d.code == "overlapping-blocks")
        .expect("an overlap");
    let here = loaded.sources.location(overlap.span);
    let there: Vec<String> = overlap
        .related
        .iter()
        .map(|(s, _)| loaded.sources.location(*s))
        .collect();
    let rendered = loaded.diagnostics.render(&loaded.sources, false);
    let mut places = vec![here];
    places.extend(there);
    assert!(
        places.iter().any(|p| p.starts_with("london.kdl:")),
        "{places:?}"
    );
    assert!(
        places
            .iter()
            .any(|p| p.starts_with("teams/london-teams.toml:")),
        "{places:?}"
    );
    for p in &places {
        assert!(
            rendered.contains(p.as_str()),
            "{p} is not shown:\n{rendered}"
        );
    }
}
