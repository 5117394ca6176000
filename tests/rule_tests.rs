//! Rule tests as code (`test` items): they pass and fail the same in KDL
//! and TOML, a failure names the test, the expected and actual outcomes,
//! the rule that matched instead and every condition's verdict, and
//! `roster test`, `validate` and `plan` act on them.

use roster::manifest::{self, Expected, Loaded, Sources};
use roster::ruletest;

use crate::common::work::Work;

const BASE_KDL: &str = r#"
tenant "contoso" {
    scope { usageLocation "GB" }
}
range "london" type="direct-routing" {
    block "+442071230000" "+442071230009"
}
range "manchester" type="direct-routing" {
    block "+441611230000" "+441611230009"
}
persona "uk-sales" {
    policies { TeamsCallingPolicy "AllowCalling" }
    number "london" "manchester"
}
persona "uk-office" {
    policies { TeamsCallingPolicy "AllowCalling" }
    number "manchester"
}
rule "Sales" persona="uk-sales" {
    when {
        any {
            jobTitle contains="sales"
            memberOf "SG-Sales"
        }
    }
}
rule "Manchester office" persona="uk-office" {
    when { city "Manchester" }
}
"#;

const TESTS_KDL: &str = r#"
test "Sales rep" {
    user jobTitle="Sales Representative" usageLocation="GB"
    expect persona="uk-sales" range="london"
}
test "Sales group member" {
    user jobTitle="Coordinator" usageLocation="GB" {
        memberOf "SG-Sales"
    }
    expect persona="uk-sales"
}
test "Manchester clerk" {
    user jobTitle="Clerk" city="Manchester" usageLocation="GB"
    expect persona="uk-office" range="manchester"
}
test "Nobody matches" {
    user jobTitle="Clerk" city="Leeds" usageLocation="GB"
    expect unmatched=#true
}
test "Outside the UK" {
    user jobTitle="Sales Representative" usageLocation="US"
    expect out-of-scope=#true
}
test "Disabled account" {
    user jobTitle="Sales Representative" usageLocation="GB" accountEnabled=#false
    expect leaver=#true
}
"#;

const TESTS_TOML: &str = r#"
[[test]]
name = "Sales rep"
user = { jobTitle = "Sales Representative", usageLocation = "GB" }
expect = { persona = "uk-sales", range = "london" }

[[test]]
name = "Sales group member"
user = { jobTitle = "Coordinator", usageLocation = "GB", memberOf = ["SG-Sales"] }
expect = { persona = "uk-sales" }

[[test]]
name = "Manchester clerk"
user = { jobTitle = "Clerk", city = "Manchester", usageLocation = "GB" }
expect = { persona = "uk-office", range = "manchester" }

[[test]]
name = "Nobody matches"
user = { jobTitle = "Clerk", city = "Leeds", usageLocation = "GB" }
expect = { unmatched = true }

[[test]]
name = "Outside the UK"
user = { jobTitle = "Sales Representative", usageLocation = "US" }
expect = { out-of-scope = true }

[[test]]
name = "Disabled account"
user = { jobTitle = "Sales Representative", usageLocation = "GB", accountEnabled = false }
expect = { leaver = true }
"#;

fn parse(files: &[(&str, &str)]) -> Loaded {
    let mut sources = Sources::default();
    for (path, text) in files {
        sources.add(*path, *text);
    }
    manifest::parse(sources)
}

fn clean(files: &[(&str, &str)]) -> Loaded {
    let loaded = parse(files);
    assert!(
        loaded.diagnostics.items.is_empty(),
        "{}",
        loaded.diagnostics.render(&loaded.sources, false)
    );
    loaded
}

#[test]
fn passing_tests_pass_in_kdl_and_toml() {
    for tests in [("tests.kdl", TESTS_KDL), ("tests.toml", TESTS_TOML)] {
        let loaded = clean(&[("base.kdl", BASE_KDL), tests]);
        assert_eq!(loaded.manifest.tests.len(), 6, "{}", tests.0);
        let results = ruletest::run(&loaded.manifest);
        assert_eq!(results.len(), 6);
        assert!(
            ruletest::all_passed(&results),
            "{}:\n{}",
            tests.0,
            ruletest::render(&results)
        );
        let report = ruletest::render(&results);
        assert!(
            report.ends_with("6 tests: 6 passed, 0 failed\n"),
            "{report}"
        );
    }
}

#[test]
fn kdl_and_toml_tests_lower_into_equal_models() {
    let k = clean(&[("base.kdl", BASE_KDL), ("tests.kdl", TESTS_KDL)]);
    let t = clean(&[("base.kdl", BASE_KDL), ("tests.toml", TESTS_TOML)]);
    assert_eq!(k.manifest.tests, t.manifest.tests);
    assert_eq!(k.manifest, t.manifest);
    // Not equal because both are empty: every outcome is there.
    let outcomes: Vec<_> = k
        .manifest
        .tests
        .iter()
        .map(|t| &t.expect.as_ref().unwrap().outcome)
        .collect();
    assert!(matches!(outcomes[0], Expected::Persona(p) if p.value == "uk-sales"));
    assert_eq!(outcomes[3], &Expected::Unmatched);
    assert_eq!(outcomes[4], &Expected::OutOfScope);
    assert_eq!(outcomes[5], &Expected::Leaver);
    assert_eq!(k.manifest.tests[1].user.member_of, ["SG-Sales"]);
    assert!(!k.manifest.tests[5].user.account_enabled);
}

const FAILING_KDL: &str = r#"
test "Manchester sales rep is office staff" {
    user jobTitle="Sales Representative" city="Manchester" usageLocation="GB"
    expect persona="uk-office"
}
"#;

const FAILING_TOML: &str = r#"
[[test]]
name = "Manchester sales rep is office staff"
user = { jobTitle = "Sales Representative", city = "Manchester", usageLocation = "GB" }
expect = { persona = "uk-office" }
"#;

#[test]
fn a_failure_names_the_test_the_outcomes_the_rule_and_every_condition() {
    for tests in [("tests.kdl", FAILING_KDL), ("tests.toml", FAILING_TOML)] {
        let loaded = clean(&[("base.kdl", BASE_KDL), tests]);
        let results = ruletest::run(&loaded.manifest);
        assert!(!ruletest::all_passed(&results));
        let r = &results[0];
        assert_eq!(r.expected, "persona uk-office");
        assert_eq!(r.actual, "persona uk-sales (by rule \"Sales\")");
        assert_eq!(r.rule.as_deref(), Some("Sales"));
        let report = ruletest::render(&results);
        for want in [
            "FAILED  test \"Manchester sales rep is office staff\"",
            "expected: persona uk-office",
            "actual:   persona uk-sales (by rule \"Sales\")",
            "scope: in scope",
            "✓ usageLocation",
            "✓ rule \"Sales\" -> persona uk-sales",
            "✓ jobTitle contains",
            "1 test: 0 passed, 1 failed",
        ] {
            assert!(report.contains(want), "`{want}` missing in:\n{report}");
        }
    }
}

#[test]
fn a_wrong_first_range_fails_and_says_which_range_the_persona_draws() {
    let tests = r#"
test "Sales numbers from Manchester" {
    user jobTitle="Sales Representative" usageLocation="GB"
    expect persona="uk-sales" range="manchester"
}
"#;
    let loaded = clean(&[("base.kdl", BASE_KDL), ("tests.kdl", tests)]);
    let results = ruletest::run(&loaded.manifest);
    let failure = results[0].failure.as_deref().expect("fails");
    assert!(
        failure.contains("persona uk-sales draws from range london first"),
        "{failure}"
    );
}

#[test]
fn an_unmatched_user_expected_to_match_shows_every_rule_tried() {
    let tests = r#"
test "Leeds clerk is office staff" {
    user jobTitle="Clerk" city="Leeds" usageLocation="GB"
    expect persona="uk-office"
}
"#;
    let loaded = clean(&[("base.kdl", BASE_KDL), ("tests.kdl", tests)]);
    let results = ruletest::run(&loaded.manifest);
    assert_eq!(results[0].actual, "unmatched");
    assert_eq!(results[0].rule, None);
    let report = ruletest::render(&results);
    for want in [
        "✗ rule \"Sales\"",
        "✗ rule \"Manchester office\"",
        "✗ city",
        "(value: \"Leeds\")",
    ] {
        assert!(report.contains(want), "`{want}` missing in:\n{report}");
    }
}

#[test]
fn unknown_persona_range_and_attribute_in_a_test_are_diagnostics() {
    let tests = r#"
test "Typos" {
    user jobTitel="Sales"
    expect persona="uk-sails" range="londn"
}
"#;
    let loaded = parse(&[("base.kdl", BASE_KDL), ("tests.kdl", tests)]);
    let codes: Vec<_> = loaded.diagnostics.items.iter().map(|d| d.code).collect();
    for code in ["unknown-persona", "unknown-range", "unknown-attribute"] {
        assert!(codes.contains(&code), "{code} missing: {codes:?}");
    }
    let text = loaded.diagnostics.render(&loaded.sources, false);
    assert!(
        text.contains("test `Typos` names unknown persona `uk-sails`"),
        "{text}"
    );
    assert!(text.contains("uk-sales"), "did you mean: {text}");
}

#[test]
fn an_expectation_needs_exactly_one_outcome() {
    for tests in [
        "test \"none\" {\n    user city=\"Leeds\"\n    expect\n}\n",
        "test \"two\" {\n    user city=\"Leeds\"\n    expect persona=\"uk-sales\" unmatched=#true\n}\n",
        "test \"range without persona\" {\n    expect unmatched=#true range=\"london\"\n}\n",
        "test \"no expect\" {\n    user city=\"Leeds\"\n}\n",
    ] {
        let loaded = parse(&[("base.kdl", BASE_KDL), ("tests.kdl", tests)]);
        assert!(loaded.has_errors(), "{tests}");
    }
    let toml = "[[test]]\nname = \"two\"\nexpect = { leaver = true, out-of-scope = true }\n";
    let loaded = parse(&[("base.kdl", BASE_KDL), ("tests.toml", toml)]);
    assert!(
        loaded
            .diagnostics
            .items
            .iter()
            .any(|d| d.code == "bad-expect")
    );
}

const WORKFLOW_PASSING: &str = r#"
test "A sales rep gets uk-sales" {
    user jobTitle="Sales"
    expect persona="uk-sales" range="london"
}
"#;

const WORKFLOW_FAILING: &str = r#"
test "A sales rep is left alone" {
    user jobTitle="Sales"
    expect unmatched=#true
}
"#;

fn work_with(tests: &str) -> Work {
    let w = Work::new();
    std::fs::write(w.path("tests.kdl"), tests).unwrap();
    w
}

#[test]
fn roster_test_exits_0_when_all_pass_and_1_on_a_failure() {
    let w = work_with(WORKFLOW_PASSING);
    let out = w.run(&["test"]);
    let stdout = &out.stdout;
    assert_eq!(out.code, 0, "{stdout}");
    assert!(
        stdout.contains("ok      test \"A sales rep gets uk-sales\""),
        "{stdout}"
    );
    assert!(stdout.contains("1 test: 1 passed, 0 failed"), "{stdout}");

    let w = work_with(WORKFLOW_FAILING);
    let out = w.run(&["test"]);
    let stdout = &out.stdout;
    assert_eq!(out.code, 1, "{stdout}");
    assert!(
        stdout.contains("FAILED  test \"A sales rep is left alone\""),
        "{stdout}"
    );
    assert!(stdout.contains("expected: unmatched"), "{stdout}");
    assert!(
        stdout.contains("actual:   persona uk-sales (by rule \"Sales\")"),
        "{stdout}"
    );
    assert!(stdout.contains("✓ jobTitle"), "{stdout}");
}

#[test]
fn validate_and_plan_pass_with_passing_tests_and_refuse_failing_ones() {
    let w = work_with(WORKFLOW_PASSING);
    let out = w.run(&["validate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("rule tests: 1 test: 1 passed, 0 failed"),
        "{}",
        out.stdout
    );
    let plan = w.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "a plan with changes: {}", plan.stderr);

    let w = work_with(WORKFLOW_FAILING);
    let out = w.run(&["validate"]);
    let stderr = &out.stderr;
    assert_eq!(out.code, 1, "{stderr}");
    assert!(
        stderr.contains("FAILED  test \"A sales rep is left alone\""),
        "{stderr}"
    );
    assert!(stderr.contains("1 test: 0 passed, 1 failed"), "{stderr}");

    let out = w.run(&["plan"]);
    let stderr = &out.stderr;
    assert_eq!(out.code, 1, "{stderr}");
    assert!(out.stdout.is_empty(), "no plan is printed");
    assert!(
        stderr.contains("FAILED  test \"A sales rep is left alone\""),
        "{stderr}"
    );
    assert!(stderr.contains("fail 1 of 1 rule test"), "{stderr}");
}

#[test]
fn the_example_config_tests_pass() {
    let loaded = roster::config_dir::load(&crate::common::repo("examples/tenant-config")).unwrap();
    assert!(!loaded.has_errors());
    let results = ruletest::run(&loaded.manifest);
    assert!(results.len() >= 5);
    assert!(
        ruletest::all_passed(&results),
        "{}",
        ruletest::render(&results)
    );
}
