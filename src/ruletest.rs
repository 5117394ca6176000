//! Rule tests as code: each `test` item of the manifests is a fixture user
//! and what it must get. [`run`] decides every fixture with the same
//! [`desired::Engine`] the plan uses (a one-user tenant built from the
//! fixture, so no tenant is read), compares the verdict and, when the test
//! names a range, the range the persona draws numbers from first; a failure
//! carries the `explain` view of the decision (the rule that matched and
//! every condition's verdict).
//!
//! Pure: no I/O, no clock; printing and exit codes are the CLI's.

use std::fmt::Write as _;

use crate::desired::{self, Verdict};
use crate::explain::Explanation;
use crate::live::{Group, LiveState, User};
use crate::manifest::{Expected, Manifest, NumberPolicy, RuleTest, Span};

/// The id of the fixture user in its one-user tenant.
const FIXTURE_ID: &str = "00000000-0000-0000-0000-00000000test";
/// The fixture's UPN unless the test gives `userPrincipalName`.
const FIXTURE_UPN: &str = "fixture@roster.test";

/// The result of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    pub name: String,
    pub span: Span,
    /// What the test expects, as text (`persona uk-sales (range london)`).
    pub expected: String,
    /// What the rules give, as text (`persona uk-general by rule "x"`).
    pub actual: String,
    /// The rule that decided, by name, when one did.
    pub rule: Option<String>,
    /// `None` when the test passed; otherwise the decision's trail as
    /// `explain` shows it, after the reason when the outcome was right
    /// but the range was not.
    pub failure: Option<String>,
}

impl TestResult {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Every test of the manifest, in order. Tests without an `expect` (a
/// manifest error, already reported) are skipped.
pub fn run(manifest: &Manifest) -> Vec<TestResult> {
    manifest
        .tests
        .iter()
        .filter_map(|t| run_one(manifest, t))
        .collect()
}

/// Whether every result passed.
pub fn all_passed(results: &[TestResult]) -> bool {
    results.iter().all(TestResult::passed)
}

/// The one-user tenant of a fixture: its attributes, account state and
/// groups (one group per `memberOf` name).
pub fn fixture(test: &RuleTest) -> LiveState {
    let u = &test.user;
    let attr = |name: &str| {
        let id = crate::catalog::attribute(name)?;
        u.attributes
            .iter()
            .find(|(a, _)| *a == id)
            .map(|(_, v)| v.clone())
    };
    let upn = attr("userPrincipalName").unwrap_or_else(|| FIXTURE_UPN.to_string());
    let mut user = User::new(FIXTURE_ID, upn);
    user.display_name = attr("displayName");
    user.account_enabled = u.account_enabled;
    for (id, value) in &u.attributes {
        user.set_attr(User::attr_name(*id), Some(value.clone()));
    }
    let mut live = LiveState {
        tenant_id: "fixture".into(),
        users: vec![user],
        ..LiveState::default()
    };
    for (i, name) in u.member_of.iter().enumerate() {
        live.groups.push(Group {
            id: format!("fixture-group-{i}"),
            display_name: name.clone(),
            members: vec![FIXTURE_ID.to_string()],
        });
    }
    live.finish();
    live
}

fn run_one(manifest: &Manifest, test: &RuleTest) -> Option<TestResult> {
    let expect = test.expect.as_ref()?;
    let live = fixture(test);
    let engine = desired::Engine::new(manifest, &live);
    let decision = engine.decide(&live, 0, true);
    let verdict = decision.verdict;
    let rule = match verdict {
        Verdict::Rule(r) => Some(manifest.rules[r].name.value.clone()),
        _ => None,
    };
    let actual = describe(manifest, verdict);
    let expected = match &expect.outcome {
        Expected::Persona(p) => match &expect.range {
            Some(r) => format!("persona {} (range {})", p.value, r.value),
            None => format!("persona {}", p.value),
        },
        Expected::Unmatched => "unmatched".into(),
        Expected::OutOfScope => "out-of-scope".into(),
        Expected::Leaver => "leaver".into(),
    };
    let outcome_ok = match (&expect.outcome, verdict) {
        (Expected::Persona(p), v) => v.persona(manifest) == Some(p.value.as_str()),
        (Expected::Unmatched, Verdict::Unmatched)
        | (Expected::OutOfScope, Verdict::OutOfScope)
        | (Expected::Leaver, Verdict::Leaver) => true,
        _ => false,
    };
    // The reason, beyond the expected and actual outcomes the report
    // shows: none when the outcome itself differs.
    let mut why = None;
    if !outcome_ok {
        why = Some(String::new());
    } else if let (Some(range), Expected::Persona(p)) = (&expect.range, &expect.outcome) {
        let first = manifest.persona(&p.value).and_then(|p| match &p.number {
            NumberPolicy::Ranges(names) => names.first().map(|n| n.value.as_str()),
            _ => None,
        });
        if first != Some(range.value.as_str()) {
            why = Some(match first {
                Some(f) => format!(
                    "expected numbers from range {}, but persona {} draws from range {f} first",
                    range.value, p.value
                ),
                None => format!(
                    "expected numbers from range {}, but persona {} draws no numbers",
                    range.value, p.value
                ),
            });
        }
    }
    let failure = why.map(|why| {
        let explanation = Explanation {
            manifest,
            live: &live,
            user: 0,
            decision,
            desired: None,
            errors: Vec::new(),
        };
        let mut trail = String::new();
        explanation.render_decision(&mut trail);
        let trail = trail.trim_start_matches('\n');
        if why.is_empty() {
            trail.to_string()
        } else {
            format!("{why}\n{trail}")
        }
    });
    Some(TestResult {
        name: test.name.value.clone(),
        span: test.span,
        expected,
        actual,
        rule,
        failure,
    })
}

/// A verdict as the report writes it.
fn describe(manifest: &Manifest, verdict: Verdict<'_>) -> String {
    match verdict {
        Verdict::Ignored => "ignored (by a user override)".into(),
        Verdict::OutOfScope => "out-of-scope".into(),
        Verdict::Leaver => "leaver".into(),
        Verdict::Override(p) => format!("persona {p} (by a user override)"),
        Verdict::Rule(r) => {
            let rule = &manifest.rules[r];
            format!(
                "persona {} (by rule \"{}\")",
                rule.persona.value, rule.name.value
            )
        }
        Verdict::Unmatched => "unmatched".into(),
    }
}

/// The report: one line per test, each failure with its reason and trail,
/// then a summary line.
pub fn render(results: &[TestResult]) -> String {
    let mut out = String::new();
    for r in results {
        match &r.failure {
            None => {
                let _ = writeln!(out, "ok      test \"{}\": {}", r.name, r.actual);
            }
            Some(f) => {
                let _ = writeln!(out, "FAILED  test \"{}\"", r.name);
                let _ = writeln!(out, "  expected: {}", r.expected);
                let _ = writeln!(out, "  actual:   {}", r.actual);
                for line in f.lines() {
                    if line.trim().is_empty() {
                        out.push('\n');
                    } else {
                        let _ = writeln!(out, "  {line}");
                    }
                }
            }
        }
    }
    let _ = writeln!(out, "{}", summary(results));
    out
}

/// `3 tests: 2 passed, 1 failed`.
pub fn summary(results: &[TestResult]) -> String {
    let failed = results.iter().filter(|r| !r.passed()).count();
    format!(
        "{} test{}: {} passed, {failed} failed",
        results.len(),
        if results.len() == 1 { "" } else { "s" },
        results.len() - failed
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Sources, parse};

    fn manifest(text: &str) -> Manifest {
        let mut sources = Sources::default();
        sources.add("m.kdl", text);
        let loaded = parse(sources);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        loaded.manifest
    }

    const BASE: &str = "persona \"p\" { policies { TeamsCallingPolicy \"AllowCalling\" } }\n\
        rule \"r\" persona=\"p\" { when { memberOf \"G\" } }\n";

    #[test]
    fn the_fixture_is_one_user_with_its_attributes_and_groups() {
        let m = manifest(&format!(
            "{BASE}test \"t\" {{\n user userPrincipalName=\"a@b.c\" city=\"Leeds\" accountEnabled=#false {{ memberOf \"G\" \"H\" }}\n expect leaver=#true\n}}\n"
        ));
        let live = fixture(&m.tests[0]);
        assert_eq!(live.users.len(), 1);
        let u = &live.users[0];
        assert_eq!(u.upn, "a@b.c");
        assert!(!u.account_enabled);
        assert_eq!(
            u.attr(crate::catalog::attribute("city").unwrap()),
            Some("Leeds")
        );
        assert_eq!(u.groups.len(), 2);
        assert_eq!(live.groups[1].display_name, "H");
    }

    #[test]
    fn group_membership_decides_and_a_wrong_outcome_fails() {
        let m = manifest(&format!(
            "{BASE}test \"in\" {{\n user {{ memberOf \"G\" }}\n expect persona=\"p\"\n}}\n\
             test \"out\" {{\n user city=\"Leeds\"\n expect persona=\"p\"\n}}\n"
        ));
        let results = run(&m);
        assert!(results[0].passed(), "{}", render(&results));
        assert_eq!(results[0].rule.as_deref(), Some("r"));
        assert!(!results[1].passed());
        assert_eq!(results[1].actual, "unmatched");
        assert!(!all_passed(&results));
        assert_eq!(summary(&results), "2 tests: 1 passed, 1 failed");
    }
}
