//! `roster fmt`: canonical layout of KDL and TOML manifests.
//!
//! - `tests/fixtures/fmt/messy/` holds a badly laid out KDL and TOML file
//!   (every habit at once, comments everywhere); their canonical forms are
//!   snapshotted.
//! - `fmt --check` through the binary: a diff and exit 1, nothing touched;
//!   `fmt` fixes the files; `fmt --check` is then clean.
//! - `tests/fixtures/fmt/broken/`: a file that does not parse stops
//!   everything, nothing is written.
//! - Every fixture and the example config: formatting is idempotent and
//!   keeps the meaning (the models are equal, and so are the diagnostics).
//! - A property test adds white space between tokens and checks the same.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use proptest::prelude::*;
use roster::format::{FmtError, format_file};
use roster::manifest::{self, Loaded, Sources};

use crate::common::{fixture, repo, roster};

// ----- helpers --------------------------------------------------------------

/// The manifests of a config directory: (relative path, text).
fn read_dir(dir: &Path) -> Vec<(String, String)> {
    roster::config_dir::manifest_paths(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .into_iter()
        .map(|(rel, path)| {
            let text = std::fs::read_to_string(&path).expect("manifest is UTF-8");
            (rel, text)
        })
        .collect()
}

fn parse_all(files: &[(String, String)]) -> Loaded {
    let mut sources = Sources::default();
    for (path, text) in files {
        sources.add(path.clone(), text.clone());
    }
    manifest::parse(sources)
}

/// Diagnostics without their places.
fn diagnostics(l: &Loaded) -> Vec<String> {
    let mut v: Vec<String> = l
        .diagnostics
        .items
        .iter()
        .map(|d| {
            format!(
                "{:?} {} {} [{}] {:?}",
                d.level, d.code, d.message, d.label, d.help
            )
        })
        .collect();
    v.sort();
    v
}

#[track_caller]
fn assert_same_meaning(label: &str, before: &[(String, String)], after: &[(String, String)]) {
    let a = parse_all(before);
    let b = parse_all(after);
    assert_eq!(
        a.manifest.clone(),
        b.manifest.clone(),
        "{label}: formatting changed the model"
    );
    assert_eq!(
        diagnostics(&a),
        diagnostics(&b),
        "{label}: formatting changed the diagnostics"
    );
}

/// Each file formatted; a file that cannot be formatted stays as it is.
fn formatted(files: &[(String, String)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(path, text)| {
            let out = match format_file(path, text) {
                Ok(out) => out,
                Err(FmtError::Syntax { .. }) => text.clone(),
                Err(e) => panic!("{path}: {e}"),
            };
            (path.clone(), out)
        })
        .collect()
}

/// Every config directory the suite knows: the manifest fixtures, the fmt
/// fixtures and the example (when it is there).
fn config_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for root in [fixture("manifests"), fixture("fmt")] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&root)
            .expect("fixtures")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        found.sort();
        dirs.extend(found);
    }
    let example = repo("examples/tenant-config");
    if example.is_dir() {
        dirs.push(example);
    }
    dirs
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn messy() -> (tempfile::TempDir, Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("fmt/messy"), dir.path());
    let files = read_dir(dir.path());
    (dir, files)
}

// ----- the canonical forms ----------------------------------------------------

const KDL_COMMENTS: &[&str] = &[
    "// Contoso's tenant, written by hand over the years: every layout habit at once.",
    "//   (this indented line is part of the header comment)",
    "// the defaults, said out loud",
    "/-provider \"graph\" tenant-id=\"t\" client-id=\"c\"",
    "// same condition language as `when`",
    "// inclusive, from .. to",
    "/* switchboard */",
    "// never allocated by rules",
    "// end of london",
    "// ranges, tried in this order",
    "/* A block comment",
    "whose second line was indented by hand. */",
    "// a long node, continued on purpose",
    "/-rule \"Old rule\" persona=\"uk-sales\" {",
    "// trailing after a semicolon",
];

const TOML_COMMENTS: &[&str] = &[
    "# More of Contoso, in TOML.",
    "# Docklands",
    "# the Leeds blocks",
    "# first",
    "# the annex",
    "# the caller id the office wants",
    "# pinned, see CHG-1042",
];

#[track_caller]
fn check_canonical(rel: &str, comments: &[&str], markers: &[&str]) -> String {
    let input = std::fs::read_to_string(fixture("fmt/messy").join(rel)).unwrap();
    let out = format_file(rel, &input).unwrap();
    assert_ne!(out, input, "the fixture should need formatting");
    assert_eq!(format_file(rel, &out).unwrap(), out, "not idempotent");
    for c in comments {
        assert!(input.contains(c), "fixture lost comment {c:?}");
        assert!(out.contains(c), "comment {c:?} was dropped:\n{out}");
    }
    for m in markers {
        assert_eq!(
            input.matches(m).count(),
            out.matches(m).count(),
            "count of {m:?} changed"
        );
    }
    assert_same_meaning(
        rel,
        &[(rel.to_string(), input)],
        &[(rel.to_string(), out.clone())],
    );
    out
}

#[test]
fn messy_kdl_becomes_canonical() {
    let out = check_canonical("roster.kdl", KDL_COMMENTS, &["//", "/*", "/-"]);
    insta::assert_snapshot!("messy-kdl", out);
}

#[test]
fn messy_toml_becomes_canonical() {
    let out = check_canonical("more.toml", TOML_COMMENTS, &["#"]);
    insta::assert_snapshot!("messy-toml", out);
}

// ----- through the binary ------------------------------------------------------

#[test]
fn check_prints_a_diff_exits_1_and_changes_nothing() {
    let (dir, before) = messy();
    let out = roster()
        .args(["fmt", "--check", "-C"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    for rel in ["more.toml", "roster.kdl"] {
        assert!(
            stdout.contains(&format!("--- a/{rel}\n+++ b/{rel}\n")),
            "{stdout}"
        );
    }
    assert!(stdout.contains("\n-tenant   contoso {\n"), "{stdout}");
    assert!(stdout.contains("\n+tenant \"contoso\" {\n"), "{stdout}");
    assert!(
        stdout.contains("\n+[range.dublin]\n+type = \"calling-plan\"\n"),
        "{stdout}"
    );
    assert!(
        stderr.contains("2 manifests would be reformatted"),
        "{stderr}"
    );
    assert_eq!(read_dir(dir.path()), before, "--check must not write");
}

#[test]
fn fmt_fixes_the_files_and_check_is_then_clean() {
    let (dir, before) = messy();
    let out = roster()
        .args(["fmt", "-C"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "more.toml\nroster.kdl\n",
        "the changed files are named on stderr"
    );
    let after = read_dir(dir.path());
    assert_eq!(after, formatted(&before));
    assert_same_meaning("messy", &before, &after);

    let check = roster()
        .args(["fmt", "--check", "-C"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{check:?}");
    assert_eq!(String::from_utf8_lossy(&check.stdout), "");

    // Nothing left to do: nothing written, nothing named.
    let again = roster()
        .args(["fmt", "-C"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&again.stderr), "");
    assert_eq!(read_dir(dir.path()), after);
}

#[cfg(unix)]
#[test]
fn fmt_keeps_file_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, _) = messy();
    let path = dir.path().join("roster.kdl");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    roster()
        .args(["fmt", "-C"])
        .arg(dir.path())
        .assert()
        .success();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
}

#[test]
fn a_file_that_does_not_parse_stops_everything() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("fmt/broken"), dir.path());
    let before = read_dir(dir.path());
    for args in [&["fmt"][..], &["fmt", "--check"][..]] {
        let out = roster()
            .args(args)
            .arg("-C")
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "", "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("error: cannot format `broken.kdl`: not valid KDL:"),
            "{stderr}"
        );
        assert!(stderr.contains("(line 2, column"), "{stderr}");
        assert!(stderr.contains("nothing was changed"), "{stderr}");
        assert!(
            stderr.contains("hint: fix the syntax first; `roster validate` shows where"),
            "{stderr}"
        );
        // `more.toml` would change, but nothing is written while a file is broken.
        assert_eq!(read_dir(dir.path()), before, "{args:?}");
    }
}

/// The example config the documentation points at is in canonical form.
#[test]
fn the_example_config_is_formatted() {
    roster()
        .args(["fmt", "--check", "-C"])
        .arg(repo("examples/tenant-config"))
        .assert()
        .success();
}

// ----- every config we have ------------------------------------------------------

#[test]
fn formatting_keeps_the_meaning_of_every_fixture_and_the_example() {
    let dirs = config_dirs();
    assert!(dirs.len() > 40, "fixtures not found");
    for dir in dirs {
        let label = dir.display().to_string();
        let before = read_dir(&dir);
        let after = formatted(&before);
        assert_same_meaning(&label, &before, &after);
        // Per file, too: the canonical form is a fixed point.
        for (path, text) in &after {
            if let Ok(again) = format_file(path, text) {
                assert_eq!(&again, text, "{label}/{path}: not idempotent");
            }
        }
    }
}

// ----- property: white space between tokens -------------------------------------

/// Where white space can be added without changing what a file says.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Spot {
    /// An existing space between tokens.
    Space,
    /// Just before a line break (trailing spaces, or a blank line when
    /// `blank` is allowed there).
    LineEnd { blank: bool },
    /// At the start of a line (indentation).
    LineStart,
}

/// Offsets outside strings and comments where white space may go.
fn spots(text: &str, kdl: bool) -> Vec<(usize, Spot)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // KDL: no spot after an escaped newline's `\` on its line, no blank line
    // after it. TOML: nothing inside an inline table but spaces.
    let mut escline = false;
    let mut braces = 0usize;
    while i < b.len() {
        let rest = &text[i..];
        let c = b[i];
        if kdl && rest.starts_with("//") || !kdl && c == b'#' {
            i += rest.find('\n').unwrap_or(rest.len());
            continue;
        }
        if kdl && rest.starts_with("/*") {
            i += rest.find("*/").map_or(rest.len(), |e| e + 2);
            continue;
        }
        if kdl && c == b'#' && rest.trim_start_matches('#').starts_with('"') {
            let hashes = rest.len() - rest.trim_start_matches('#').len();
            let close = format!("\"{}", "#".repeat(hashes));
            i += hashes + 1 + rest[hashes + 1..].find(&close).unwrap() + close.len();
            continue;
        }
        if c == b'"' || (!kdl && c == b'\'') {
            let q = c as char;
            let triple: String = std::iter::repeat_n(q, 3).collect();
            let (open, close) = if rest.starts_with(&triple) {
                (3, triple.as_str())
            } else {
                (1, &triple[..1])
            };
            let mut j = open;
            loop {
                if q == '"' && rest[j..].starts_with('\\') {
                    j += 1 + rest[j + 1..].chars().next().map_or(0, char::len_utf8);
                } else if rest[j..].starts_with(close) {
                    j += close.len();
                    break;
                } else {
                    j += rest[j..].chars().next().unwrap().len_utf8();
                }
            }
            i += j;
            continue;
        }
        match c {
            b'\\' if kdl => escline = true,
            b'{' if !kdl => braces += 1,
            b'}' if !kdl => braces = braces.saturating_sub(1),
            b' ' if !escline => out.push((i, Spot::Space)),
            b'\n' => {
                if braces == 0 {
                    out.push((i, Spot::LineEnd { blank: !escline }));
                    out.push((i + 1, Spot::LineStart));
                }
                escline = false;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Apply `ops` (spot selector, variant) to `text`.
fn perturb(text: &str, kdl: bool, ops: &[(u16, u8)]) -> String {
    let spots = spots(text, kdl);
    if spots.is_empty() {
        return text.to_string();
    }
    let mut chosen: Vec<(usize, Spot, u8)> = ops
        .iter()
        .map(|&(sel, v)| {
            let (at, spot) = spots[sel as usize % spots.len()];
            (at, spot, v)
        })
        .collect();
    chosen.sort_by_key(|c| std::cmp::Reverse(c.0));
    chosen.dedup_by_key(|c| c.0);
    let mut out = text.to_string();
    for (at, spot, v) in chosen {
        match spot {
            Spot::Space => {
                let with = match v % 4 {
                    0 => "  ",
                    1 => "\t",
                    2 => "    ",
                    _ if kdl => " \\\n        ",
                    _ => "   ",
                };
                out.replace_range(at..at + 1, with);
            }
            Spot::LineEnd { blank } => {
                out.insert_str(at, if blank && v % 2 == 0 { "\n\n" } else { "  " });
            }
            Spot::LineStart => out.insert_str(at, if v % 2 == 0 { "  " } else { "\t" }),
        }
    }
    out
}

/// Every manifest that can be formatted, from every config directory.
static FILES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    config_dirs()
        .iter()
        .flat_map(|d| read_dir(d))
        .filter(|(path, text)| format_file(path, text).is_ok())
        .collect()
});

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Extra spaces, tabs, blank lines, indentation and (KDL) escaped
    /// newlines between tokens: formatting the result is idempotent and
    /// says what the file says.
    #[test]
    fn white_space_never_changes_the_outcome(
        file in 0..FILES.len(),
        ops in prop::collection::vec((any::<u16>(), any::<u8>()), 1..24),
    ) {
        let (path, text) = &FILES[file];
        let kdl = path.ends_with(".kdl");
        let perturbed = perturb(text, kdl, &ops);
        let original = vec![(path.clone(), text.clone())];
        let noisy = vec![(path.clone(), perturbed.clone())];
        // The perturbation itself must be harmless, or the test proves nothing.
        prop_assert_eq!(
            parse_all(&original).manifest,
            parse_all(&noisy).manifest,
            "perturbation changed the meaning:\n{}", perturbed
        );
        let once = format_file(path, &perturbed)
            .map_err(|e| TestCaseError::fail(format!("{path}: {e}\n{perturbed}")))?;
        let twice = format_file(path, &once)
            .map_err(|e| TestCaseError::fail(format!("{path}: {e}\n{once}")))?;
        prop_assert_eq!(&twice, &once, "not idempotent for:\n{}", perturbed);
        assert_same_meaning(path, &noisy, &[(path.clone(), once)]);
    }
}

#[test]
fn perturbations_stay_outside_strings_and_comments() {
    let kdl = "a \"x y\" /* c d */ b // e f\n";
    let s: Vec<usize> = spots(kdl, true)
        .into_iter()
        .filter(|s| s.1 == Spot::Space)
        .map(|s| s.0)
        .collect();
    assert_eq!(s, [1, 7, 17, 19]);
    let toml = "a = \"x y\" # c d\nb = { c = 1 }\n";
    let s: Vec<(usize, Spot)> = spots(toml, false);
    assert!(s.contains(&(15, Spot::LineEnd { blank: true })), "{s:?}");
    assert!(
        !s.iter()
            .any(|(at, _)| (4..9).contains(at) || (10..15).contains(at))
    );
}
