//! Table tests of the rule engine through `desired::compute`: every
//! operator, combinations, nesting, messy directory data, `memberOf`,
//! first-match order, scope, `ignore`, leavers and persona overrides.

use roster::desired::{self, DesiredState, Reason};
use roster::live::{Group, LiveState, User};
use roster::manifest::{self, Manifest};

/// Parse one KDL manifest that must have no errors.
pub fn manifest(kdl: &str) -> Manifest {
    let loaded = manifest::parse_str("test.kdl", kdl);
    assert!(
        !loaded.has_errors(),
        "manifest has errors:\n{}\n{kdl}",
        loaded.diagnostics.render(&loaded.sources, false)
    );
    loaded.manifest
}

/// A user with the given Graph attributes (`accountEnabled` true).
pub fn user(id: &str, upn: &str, attrs: &[(&str, &str)]) -> User {
    let mut u = User::new(id, upn);
    for (k, v) in attrs {
        u.set_attr(k, Some((*v).to_string()));
    }
    u
}

pub fn group(id: &str, name: &str, members: &[&str]) -> Group {
    Group {
        id: id.into(),
        display_name: name.into(),
        members: members.iter().map(|s| s.to_string()).collect(),
    }
}

pub fn live(users: Vec<User>, groups: Vec<Group>) -> LiveState {
    let mut live = LiveState {
        tenant_id: "t".into(),
        users,
        groups,
        ..LiveState::default()
    };
    live.finish();
    live
}

/// The persona `compute` gives a user (`None`: unmatched, out of scope,
/// ignored or a leaver).
pub fn persona_of(state: &DesiredState, live: &LiveState, upn: &str) -> Option<String> {
    state
        .users
        .iter()
        .find(|d| live.users[d.user].upn == upn)
        .and_then(|d| d.persona.clone())
}

pub fn is_unmatched(state: &DesiredState, live: &LiveState, upn: &str) -> bool {
    state.unmatched.iter().any(|&i| live.users[i].upn == upn)
}

/// Does one `when` body hold for a user with these attributes and groups?
fn holds_with(when: &str, attrs: &[(&str, &str)], groups: Vec<Group>) -> bool {
    let m = manifest(&format!(
        "persona \"p\" {{ }}\nrule \"r\" persona=\"p\" {{\n    when {{\n        {when}\n    }}\n}}\n"
    ));
    let l = live(vec![user("u1", "u@contoso.com", attrs)], groups);
    let state = desired::compute(&m, &l);
    let matched = persona_of(&state, &l, "u@contoso.com").is_some();
    assert_eq!(
        matched,
        !is_unmatched(&state, &l, "u@contoso.com"),
        "a user in scope is either matched or unmatched"
    );
    matched
}

fn holds(when: &str, attrs: &[(&str, &str)]) -> bool {
    holds_with(when, attrs, Vec::new())
}

/// One table row: a `when` body, the user's attributes, the expected verdict.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);

/// Run a table of cases.
fn table(cases: &[Case<'_>]) {
    let mut failures = Vec::new();
    for (i, (when, attrs, want)) in cases.iter().enumerate() {
        let got = holds(when, attrs);
        if got != *want {
            failures.push(format!(
                "case {i}: `{when}` with {attrs:?}: expected {want}, got {got}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn values_mean_equals_one_of() {
    table(&[
        (r#"jobTitle "Sales""#, &[("jobTitle", "Sales")], true),
        (
            r#"jobTitle "Sales""#,
            &[("jobTitle", "Sales Manager")],
            false,
        ),
        (
            r#"jobTitle "Sales" "Sales Manager""#,
            &[("jobTitle", "Sales Manager")],
            true,
        ),
        (
            r#"jobTitle "Sales" "Sales Manager""#,
            &[("jobTitle", "Engineer")],
            false,
        ),
        (r#"jobTitle "Sales""#, &[], false),
        (r#"city "London""#, &[("jobTitle", "London")], false),
    ]);
}

#[test]
fn string_operators() {
    table(&[
        (
            r#"officeLocation starts-with="UK-""#,
            &[("officeLocation", "UK-London")],
            true,
        ),
        (
            r#"officeLocation starts-with="UK-""#,
            &[("officeLocation", "IE-Dublin")],
            false,
        ),
        (
            r#"officeLocation starts-with="UK-""#,
            &[("officeLocation", "X UK-London")],
            false,
        ),
        (
            r#"mail ends-with="@contoso.co.uk""#,
            &[("mail", "amy@contoso.co.uk")],
            true,
        ),
        (
            r#"mail ends-with="@contoso.co.uk""#,
            &[("mail", "amy@contoso.com")],
            false,
        ),
        (
            r#"department contains="sales""#,
            &[("department", "Inside Sales EMEA")],
            true,
        ),
        (
            r#"department contains="sales""#,
            &[("department", "Marketing")],
            false,
        ),
        // Operators on a missing attribute never hold.
        (r#"department contains="sales""#, &[], false),
        (r#"department starts-with="s""#, &[], false),
        (r#"department ends-with="s""#, &[], false),
        (r#"department matches=".*""#, &[], false),
    ]);
}

#[test]
fn matches_is_whole_value_and_ignores_case() {
    table(&[
        (
            r#"employeeId matches="[0-9]{5}""#,
            &[("employeeId", "12345")],
            true,
        ),
        // Whole value: a partial match is not enough.
        (
            r#"employeeId matches="[0-9]{5}""#,
            &[("employeeId", "123456")],
            false,
        ),
        (
            r#"employeeId matches="[0-9]{5}""#,
            &[("employeeId", "A12345")],
            false,
        ),
        (
            r#"jobTitle matches="sales( manager)?""#,
            &[("jobTitle", "SALES MANAGER")],
            true,
        ),
        (
            r#"jobTitle matches="SALES.*""#,
            &[("jobTitle", "sales engineer")],
            true,
        ),
        // Alternation is anchored as a whole.
        (
            r#"city matches="London|Leeds""#,
            &[("city", "Leeds Central")],
            false,
        ),
        (r#"city matches="London|Leeds""#, &[("city", "leeds")], true),
        // White space around the data is ignored, as for every operator.
        (
            r#"employeeId matches="[0-9]{5}""#,
            &[("employeeId", "  12345 ")],
            true,
        ),
    ]);
}

#[test]
fn exists() {
    table(&[
        (r#"mail exists=#true"#, &[("mail", "a@b.c")], true),
        (r#"mail exists=#true"#, &[], false),
        (r#"mail exists=#false"#, &[], true),
        (r#"mail exists=#false"#, &[("mail", "a@b.c")], false),
        // Empty and blank values count as missing.
        (r#"mail exists=#true"#, &[("mail", "")], false),
        (r#"mail exists=#true"#, &[("mail", "   ")], false),
        (r#"mail exists=#false"#, &[("mail", "")], true),
        (r#"mail exists=#false"#, &[("mail", " \t ")], true),
    ]);
}

#[test]
fn missing_and_empty_attributes_equal_nothing() {
    table(&[
        (r#"department """#, &[("department", "")], false),
        (r#"department """#, &[], false),
        (r#"department " ""#, &[("department", " ")], false),
        (r#"department "" "Sales""#, &[], false),
        (r#"not { department "Sales" }"#, &[], true),
        (r#"not { department "" }"#, &[("department", "")], true),
    ]);
}

#[test]
fn several_operators_on_one_condition_must_all_hold() {
    table(&[
        (
            r#"mail starts-with="amy" ends-with="@contoso.com""#,
            &[("mail", "amy.p@contoso.com")],
            true,
        ),
        (
            r#"mail starts-with="amy" ends-with="@contoso.com""#,
            &[("mail", "bob.p@contoso.com")],
            false,
        ),
        (
            r#"mail starts-with="amy" ends-with="@contoso.com""#,
            &[("mail", "amy.p@fabrikam.com")],
            false,
        ),
        // Values and operators together.
        (
            r#"jobTitle "Sales" "Sales Manager" ends-with="manager""#,
            &[("jobTitle", "Sales Manager")],
            true,
        ),
        (
            r#"jobTitle "Sales" "Sales Manager" ends-with="manager""#,
            &[("jobTitle", "Sales")],
            false,
        ),
        (
            r#"jobTitle exists=#true contains="sales" matches="[a-z ]+""#,
            &[("jobTitle", "Sales Lead")],
            true,
        ),
        (
            r#"jobTitle exists=#true contains="sales" matches="[a-z ]+""#,
            &[("jobTitle", "Sales Lead 2")],
            false,
        ),
    ]);
}

#[test]
fn case_and_white_space_are_ignored_in_data_and_manifest() {
    table(&[
        (r#"city "London""#, &[("city", "LONDON")], true),
        (r#"city "LONDON""#, &[("city", "london")], true),
        (r#"city "  London ""#, &[("city", "London")], true),
        (r#"city "London""#, &[("city", "\t London  ")], true),
        (r#"city "  london ""#, &[("city", " LONDON\t")], true),
        (
            r#"officeLocation starts-with=" uk-""#,
            &[("officeLocation", "  UK-London")],
            true,
        ),
        (
            r#"officeLocation ends-with="LONDON  ""#,
            &[("officeLocation", "uk-london ")],
            true,
        ),
        (
            r#"department contains=" SALES ""#,
            &[("department", "inside sales")],
            true,
        ),
        // The pattern is trimmed like every other manifest value.
        (
            r#"jobTitle matches=" sales.* ""#,
            &[("jobTitle", "Sales Manager")],
            true,
        ),
        // Inner white space still counts.
        (r#"city "New York""#, &[("city", "NewYork")], false),
        // Attribute names ignore case too.
        (r#"JOBTITLE "Sales""#, &[("jobTitle", "Sales")], true),
    ]);
}

#[test]
fn nesting_all_any_not_to_depth() {
    let sales_london: &[(&str, &str)] = &[("jobTitle", "Sales"), ("city", "London")];
    let sales_leeds: &[(&str, &str)] = &[("jobTitle", "Sales"), ("city", "Leeds")];
    let contractor: &[(&str, &str)] = &[
        ("jobTitle", "Sales"),
        ("city", "Leeds"),
        ("department", "Contractors"),
    ];
    let deep = r#"all {
            any {
                not { city "London" }
                all { jobTitle "Sales"; any { department "Nope"; not { not { city "London" } } } }
            }
            not { department "Contractors" }
        }"#;
    table(&[
        (r#"jobTitle "Sales"; city "London""#, sales_london, true),
        (r#"jobTitle "Sales"; city "London""#, sales_leeds, false),
        (r#"any { city "London"; city "Leeds" }"#, sales_leeds, true),
        (r#"any { city "Paris"; city "Rome" }"#, sales_leeds, false),
        (r#"not { city "London" }"#, sales_leeds, true),
        (r#"not { city "London" }"#, sales_london, false),
        // `not` is "not all of": it holds when any child fails.
        (
            r#"not { jobTitle "Sales"; city "London" }"#,
            sales_leeds,
            true,
        ),
        (
            r#"not { jobTitle "Sales"; city "London" }"#,
            sales_london,
            false,
        ),
        (
            r#"all { jobTitle "Sales"; city "Leeds" }"#,
            sales_leeds,
            true,
        ),
        (deep, sales_london, true),
        (deep, sales_leeds, true),
        (deep, contractor, false),
        (
            r#"not { not { not { not { city "leeds" } } } }"#,
            sales_leeds,
            true,
        ),
        (
            r#"not { not { not { city "leeds" } } }"#,
            sales_leeds,
            false,
        ),
    ]);
}

#[test]
fn extension_attributes() {
    table(&[
        (
            r#"extensionAttribute1 "EMEA""#,
            &[("extensionAttribute1", "emea")],
            true,
        ),
        (
            r#"extensionAttribute15 starts-with="cost-""#,
            &[("extensionAttribute15", "COST-4711")],
            true,
        ),
        (
            r#"extensionAttribute15 starts-with="cost-""#,
            &[("extensionAttribute14", "COST-4711")],
            false,
        ),
        (r#"extensionattribute7 exists=#false"#, &[], true),
    ]);
}

#[test]
fn every_attribute_can_be_tested() {
    for &name in roster::catalog::ATTRIBUTES {
        if name == "memberOf" || name == "userPrincipalName" {
            continue;
        }
        assert!(
            holds(&format!("{name} \"X-Value\""), &[(name, " x-value ")]),
            "{name}"
        );
        assert!(!holds(&format!("{name} \"X-Value\""), &[]), "{name}");
    }
}

#[test]
fn user_principal_name_and_display_name_can_be_tested() {
    let m = manifest(
        r#"
persona "p" { }
rule "by upn" persona="p" { when { userPrincipalName ends-with="@contoso.com" } }
"#,
    );
    // A user built without explicit attributes still has its UPN.
    let l = live(
        vec![
            User::new("1", "Amy@Contoso.com"),
            User::new("2", "bob@fabrikam.com"),
        ],
        vec![],
    );
    let state = desired::compute(&m, &l);
    assert_eq!(
        persona_of(&state, &l, "Amy@Contoso.com").as_deref(),
        Some("p")
    );
    assert!(is_unmatched(&state, &l, "bob@fabrikam.com"));

    let m = manifest(
        r#"
persona "p" { }
rule "by name" persona="p" { when { displayName "Amy Pond" } }
"#,
    );
    let mut amy = User::new("1", "amy@contoso.com");
    amy.display_name = Some("Amy Pond".into());
    let l = live(vec![amy], vec![]);
    let state = desired::compute(&m, &l);
    assert_eq!(
        persona_of(&state, &l, "amy@contoso.com").as_deref(),
        Some("p")
    );
}

fn nested_groups() -> Vec<Group> {
    vec![
        group("g-all", "All Staff", &["g-uk", "u-other"]),
        group("g-uk", "Sales-UK", &["g-ldn"]),
        group("g-ldn", "Sales London", &["u1"]),
        group("g-none", "Empty", &[]),
    ]
}

#[test]
fn member_of_by_name_and_id_through_nesting() {
    let groups = nested_groups;
    let cases: &[(&str, bool)] = &[
        (r#"memberOf "Sales London""#, true),
        (r#"memberOf "sales london ""#, true),
        (r#"memberOf "g-ldn""#, true),
        (r#"memberOf "G-LDN""#, true),
        // Through one and two levels of nesting.
        (r#"memberOf "Sales-UK""#, true),
        (r#"memberOf "g-uk""#, true),
        (r#"memberOf "All Staff""#, true),
        (r#"memberOf "Empty""#, false),
        (r#"memberOf "No Such Group""#, false),
        (r#"memberOf "Empty" "Sales-UK""#, true),
        (r#"memberOf starts-with="sales-""#, true),
        (r#"memberOf ends-with="staff""#, true),
        (r#"memberOf contains="lond""#, true),
        (r#"memberOf matches="sales-[a-z]{2}""#, true),
        (r#"memberOf matches="sales""#, false),
        (r#"memberOf exists=#true"#, true),
        (r#"memberOf exists=#false"#, false),
        (r#"not { memberOf "Empty" }"#, true),
    ];
    let mut failures = Vec::new();
    for (when, want) in cases {
        let got = holds_with(when, &[], groups());
        if got != *want {
            failures.push(format!("`{when}`: expected {want}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // A user in no group.
    assert!(holds_with(r#"memberOf exists=#false"#, &[], Vec::new()));
    assert!(!holds_with(r#"memberOf "Sales-UK""#, &[], Vec::new()));
}

const FIRST_MATCH: &str = r#"
persona "london" { }
persona "uk" { }
persona "baseline" { }
rule "London sales" persona="london" {
    when { jobTitle "Sales"; city "London" }
}
rule "UK" persona="uk" {
    when { usageLocation "GB" }
}
rule "Everyone" persona="baseline"
"#;

#[test]
fn first_matching_rule_wins_in_order() {
    let m = manifest(FIRST_MATCH);
    let l = live(
        vec![
            user(
                "1",
                "a@x.com",
                &[
                    ("jobTitle", "Sales"),
                    ("city", "London"),
                    ("usageLocation", "GB"),
                ],
            ),
            user(
                "2",
                "b@x.com",
                &[("jobTitle", "Sales"), ("usageLocation", "GB")],
            ),
            user("3", "c@x.com", &[("usageLocation", "US")]),
        ],
        vec![],
    );
    let state = desired::compute(&m, &l);
    assert_eq!(persona_of(&state, &l, "a@x.com").as_deref(), Some("london"));
    assert_eq!(persona_of(&state, &l, "b@x.com").as_deref(), Some("uk"));
    assert_eq!(
        persona_of(&state, &l, "c@x.com").as_deref(),
        Some("baseline")
    );
    let reasons: Vec<_> = state.users.iter().map(|d| d.reason.clone()).collect();
    assert_eq!(
        reasons,
        vec![
            Reason::Rule {
                name: "London sales".into()
            },
            Reason::Rule { name: "UK".into() },
            Reason::Rule {
                name: "Everyone".into()
            },
        ]
    );
    assert!(state.unmatched.is_empty());
}

#[test]
fn rule_order_follows_file_path_order() {
    let mut sources = manifest::Sources::default();
    sources.add(
        "b.kdl",
        r#"rule "second" persona="b" { when { city "London" } }"#,
    );
    sources.add(
        "a.kdl",
        r#"persona "a" { }
persona "b" { }
rule "first" persona="a" { when { jobTitle "Sales" } }"#,
    );
    // `config_dir::load` adds files in byte order; here the order given is the order.
    let loaded = manifest::parse(sources);
    assert!(!loaded.has_errors());
    let l = live(
        vec![user(
            "1",
            "a@x.com",
            &[("jobTitle", "Sales"), ("city", "London")],
        )],
        vec![],
    );
    let state = desired::compute(&loaded.manifest, &l);
    assert_eq!(persona_of(&state, &l, "a@x.com").as_deref(), Some("b"));
}

#[test]
fn unmatched_users_are_listed_and_left_alone() {
    let m = manifest(
        r#"
persona "p" { policies { TeamsCallingPolicy "AllowCalling" } }
rule "Sales" persona="p" { when { jobTitle "Sales" } }
"#,
    );
    let mut l = live(
        vec![
            user("1", "a@x.com", &[("jobTitle", "Sales")]),
            user("2", "b@x.com", &[("jobTitle", "Engineer")]),
            user("3", "c@x.com", &[]),
        ],
        vec![],
    );
    l.add_policy("TeamsCallingPolicy", "AllowCalling", "id1");
    let state = desired::compute(&m, &l);
    let unmatched: Vec<_> = state
        .unmatched
        .iter()
        .map(|&i| l.users[i].upn.as_str())
        .collect();
    assert_eq!(unmatched, vec!["b@x.com", "c@x.com"]);
    assert_eq!(state.users.len(), 1);
    assert_eq!(state.in_scope, 3);
}

const SCOPED: &str = r#"
tenant "contoso" {
    scope {
        usageLocation "GB" "IE"
        not { memberOf "Excluded" }
    }
}
persona "p" { }
rule "Everyone" persona="p"
"#;

#[test]
fn scope_limits_who_is_managed() {
    let m = manifest(SCOPED);
    let l = live(
        vec![
            user("1", "gb@x.com", &[("usageLocation", "gb")]),
            user("2", "ie@x.com", &[("usageLocation", " IE ")]),
            user("3", "us@x.com", &[("usageLocation", "US")]),
            user("4", "none@x.com", &[]),
            user("5", "excluded@x.com", &[("usageLocation", "GB")]),
        ],
        vec![group("gx", "Excluded", &["5"])],
    );
    let state = desired::compute(&m, &l);
    assert_eq!(state.in_scope, 2);
    let managed: Vec<_> = state
        .users
        .iter()
        .map(|d| l.users[d.user].upn.as_str())
        .collect();
    assert_eq!(managed, vec!["gb@x.com", "ie@x.com"]);
    // Out of scope is not "unmatched": those users are simply not managed.
    assert!(state.unmatched.is_empty());
}

#[test]
fn ignored_users_are_never_touched() {
    let m = manifest(
        r#"
tenant "t" { leavers release-number=#true reset-policies=#true }
persona "p" { policies { TeamsCallingPolicy "AllowCalling" } }
rule "Everyone" persona="p"
user "KIOSK@x.com" ignore=#true
user "gone@x.com" ignore=#true
"#,
    );
    let mut gone = user("2", "gone@x.com", &[]);
    gone.account_enabled = false;
    let mut l = live(vec![user("1", "kiosk@x.com", &[]), gone], vec![]);
    l.add_policy("TeamsCallingPolicy", "AllowCalling", "id1");
    let state = desired::compute(&m, &l);
    assert!(state.users.is_empty(), "{:?}", state.users);
    assert!(state.unmatched.is_empty());
    assert_eq!(state.in_scope, 0);
    assert!(state.warnings.is_empty(), "{:?}", state.warnings);
}

const LEAVERS: &str = r#"
tenant "t" { leavers release-number=#true reset-policies=#true }
range "r" type="direct-routing" { block "+441000000000" "+441000000099"; }
persona "sales" {
    policies {
        TeamsCallingPolicy "AllowCalling"
        TeamsMeetingPolicy "Sales"
    }
    number "r"
}
persona "exec" {
    policies {
        TenantDialPlan "London"
        TeamsMeetingPolicy "Global"
    }
}
rule "Everyone" persona="sales"
user "boss@x.com" persona="exec"
"#;

fn leaver_live() -> LiveState {
    use roster::live::NumberAssignment;
    use roster::numbers::{E164, NumberType};
    let mut gone = user("1", "gone@x.com", &[("jobTitle", "Sales")]);
    gone.account_enabled = false;
    gone.policies
        .insert("TeamsCallingPolicy", "AllowCalling".into());
    gone.policies.insert("TenantDialPlan", "London".into());
    gone.policies
        .insert("TeamsMessagingPolicy", "Chatty".into());
    let mut boss = user("2", "boss@x.com", &[]);
    boss.account_enabled = false;
    boss.policies.insert("TenantDialPlan", "London".into());
    let mut l = live(vec![gone, boss, user("3", "amy@x.com", &[])], vec![]);
    for (t, n) in [
        ("TeamsCallingPolicy", "AllowCalling"),
        ("TeamsMeetingPolicy", "Sales"),
        ("TenantDialPlan", "London"),
        ("TeamsMessagingPolicy", "Chatty"),
    ] {
        l.add_policy(t, n, n);
    }
    for (n, target, cat) in [
        ("+441000000005", "1", "primary"),
        ("+442000000001", "1", "private"),
    ] {
        let n = E164::parse(n).unwrap();
        l.numbers.insert(
            n,
            NumberAssignment {
                number: n,
                number_type: Some(NumberType::DirectRouting),
                target: Some(target.into()),
                category: Some(cat.into()),
                status: "userAssigned".into(),
                capabilities: vec!["userAssignment".into()],
                location_id: None,
            },
        );
    }
    l
}

#[test]
fn leavers_release_numbers_and_reset_every_managed_policy_type() {
    let m = manifest(LEAVERS);
    let l = leaver_live();
    let state = desired::compute(&m, &l);
    let gone = state
        .users
        .iter()
        .find(|d| l.users[d.user].upn == "gone@x.com")
        .unwrap();
    assert_eq!(gone.reason, Reason::Leaver);
    assert_eq!(gone.persona, None, "rules are not evaluated for leavers");
    // Every type some persona manages, and nothing else.
    let types: Vec<_> = gone.policies.keys().map(|t| t.as_str()).collect();
    assert_eq!(
        types,
        vec!["TeamsCallingPolicy", "TeamsMeetingPolicy", "TenantDialPlan"]
    );
    assert!(gone.policies.values().all(Option::is_none));
    let released: Vec<_> = gone.release.iter().map(|n| n.to_string()).collect();
    assert_eq!(released, vec!["+441000000005", "+442000000001"]);
    assert_eq!(gone.assign, None);

    // A leaver's override persona does not apply: leaver handling comes first.
    let boss = state
        .users
        .iter()
        .find(|d| l.users[d.user].upn == "boss@x.com")
        .unwrap();
    assert_eq!(boss.reason, Reason::Leaver);
    assert_eq!(boss.persona, None);

    // The plan removes exactly the managed direct assignments.
    let plan = roster::plan::diff(&state, &l, meta());
    let change = plan
        .changes
        .iter()
        .find(|c| c.user.upn == "gone@x.com")
        .unwrap();
    let json = serde_json::to_value(&change.actions).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            { "op": "remove-policy", "policyType": "TeamsCallingPolicy", "from": "AllowCalling" },
            { "op": "remove-policy", "policyType": "TenantDialPlan", "from": "London" },
            { "op": "release-number", "number": "+441000000005" },
            { "op": "release-number", "number": "+442000000001" },
        ])
    );
    assert_eq!(
        serde_json::to_value(&change.reason).unwrap(),
        serde_json::json!({ "kind": "leaver" })
    );
}

#[test]
fn leaver_defaults_release_the_number_and_keep_policies() {
    let m = manifest(&LEAVERS.replace(
        "tenant \"t\" { leavers release-number=#true reset-policies=#true }",
        "tenant \"t\" { }",
    ));
    let l = leaver_live();
    let state = desired::compute(&m, &l);
    let gone = state
        .users
        .iter()
        .find(|d| l.users[d.user].upn == "gone@x.com")
        .unwrap();
    assert!(gone.policies.is_empty());
    assert_eq!(gone.release.len(), 2);

    let m = manifest(&LEAVERS.replace(
        "leavers release-number=#true reset-policies=#true",
        "leavers release-number=#false reset-policies=#false",
    ));
    let state = desired::compute(&m, &l);
    let plan = roster::plan::diff(&state, &l, meta());
    assert!(
        !plan.changes.iter().any(|c| c.user.upn == "gone@x.com"),
        "{:?}",
        plan.changes
    );
}

#[test]
fn persona_override_beats_rules() {
    let m = manifest(
        r#"
persona "sales" { }
persona "exec" { }
rule "Sales" persona="sales" { when { jobTitle "Sales" } }
user "Amy@X.com " persona="exec"
user "bob@x.com" persona="exec"
"#,
    );
    let l = live(
        vec![
            user("1", "amy@x.com", &[("jobTitle", "Sales")]),
            user("2", "bob@x.com", &[("jobTitle", "Nothing a rule matches")]),
            user("3", "cat@x.com", &[("jobTitle", "Sales")]),
        ],
        vec![],
    );
    let state = desired::compute(&m, &l);
    for (upn, persona, reason) in [
        ("amy@x.com", "exec", Reason::Override),
        ("bob@x.com", "exec", Reason::Override),
        (
            "cat@x.com",
            "sales",
            Reason::Rule {
                name: "Sales".into(),
            },
        ),
    ] {
        let d = state
            .users
            .iter()
            .find(|d| l.users[d.user].upn == upn)
            .unwrap();
        assert_eq!(d.persona.as_deref(), Some(persona), "{upn}");
        assert_eq!(d.reason, reason, "{upn}");
    }
    assert!(state.unmatched.is_empty());
}

#[test]
fn override_persona_still_needs_scope() {
    let m = manifest(
        r#"
tenant "t" { scope { usageLocation "GB" } }
persona "exec" { }
user "amy@x.com" persona="exec"
"#,
    );
    let l = live(
        vec![user("1", "amy@x.com", &[("usageLocation", "US")])],
        vec![],
    );
    let state = desired::compute(&m, &l);
    assert!(state.users.is_empty());
}

#[test]
fn an_override_for_a_missing_user_is_a_warning() {
    let m = manifest(
        r#"
persona "exec" { }
user "ghost@x.com" persona="exec"
"#,
    );
    let l = live(vec![user("1", "amy@x.com", &[])], vec![]);
    let state = desired::compute(&m, &l);
    assert!(state.errors.is_empty());
    assert_eq!(state.warnings.len(), 1);
    assert_eq!(state.warnings[0].code, "unknown-user-override");
    assert!(state.warnings[0].message.contains("ghost@x.com"));
}

pub fn meta() -> roster::plan::Meta {
    roster::plan::Meta {
        created_at: "2026-01-01T00:00:00Z".into(),
        digest: "sha256:test".into(),
        git: None,
        tenant: roster::plan::TenantInfo {
            name: "contoso".into(),
            provider: "file".into(),
        },
        limit: Vec::new(),
    }
}

#[test]
fn explain_trace_shows_each_condition() {
    use roster::desired::Engine;
    let m = manifest(
        r#"
persona "p" { }
rule "r" persona="p" { when { jobTitle "Sales"; any { city "Leeds"; memberOf "Sales-UK" } } }
"#,
    );
    let l = live(
        vec![user(
            "u1",
            "a@x.com",
            &[("jobTitle", " Sales "), ("city", "London")],
        )],
        nested_groups(),
    );
    let engine = Engine::new(&m, &l);
    let subject = engine.subject(&l, 0);
    let trace = roster::rules::explain(&m.rules[0].when, &engine.rules[0], &subject);
    let json = serde_json::to_value(&trace).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            { "test": "jobTitle is one of \"Sales\"", "value": " Sales ", "holds": true },
            { "test": "any", "value": null, "holds": true, "children": [
                { "test": "city is one of \"Leeds\"", "value": "London", "holds": false },
                { "test": "memberOf is one of \"Sales-UK\"", "value": "All Staff, Sales-UK, Sales London", "holds": true },
            ]},
        ])
    );
}

#[test]
fn an_override_may_name_the_object_id() {
    let m = manifest(
        r#"
persona "sales" { }
persona "exec" { }
rule "Everyone" persona="sales"
user "5C802B19-3600-83f1-1767-7b9edc7f38ab" persona="exec"
"#,
    );
    let l = live(
        vec![
            user("5c802b19-3600-83f1-1767-7b9edc7f38ab", "amy@x.com", &[]),
            user("2", "bob@x.com", &[]),
        ],
        vec![],
    );
    let state = desired::compute(&m, &l);
    assert!(state.warnings.is_empty(), "{:?}", state.warnings);
    assert_eq!(persona_of(&state, &l, "amy@x.com").as_deref(), Some("exec"));
    assert_eq!(
        persona_of(&state, &l, "bob@x.com").as_deref(),
        Some("sales")
    );
}

#[test]
fn a_member_of_naming_no_group_is_a_warning() {
    let m = manifest(
        r#"
tenant "t" { scope { not { memberOf "Shared Mailboxes" } } }
persona "p" { }
rule "r" persona="p" { when { any { memberOf "Sales London" "Sales-UKK"; memberOf "g-uk" } } }
"#,
    );
    let l = live(vec![user("u1", "a@x.com", &[])], nested_groups());
    let state = desired::compute(&m, &l);
    let msgs: Vec<&str> = state.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(state.warnings.len(), 2, "{msgs:?}");
    assert!(state.warnings.iter().all(|w| w.code == "unknown-group"));
    assert!(
        msgs.iter()
            .any(|m| m.contains("rule `r`") && m.contains("Sales-UKK")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("scope") && m.contains("Shared Mailboxes")),
        "{msgs:?}"
    );
    // The rule still matches through the groups that exist.
    assert_eq!(persona_of(&state, &l, "a@x.com").as_deref(), Some("p"));
}

#[test]
fn overrides_match_upns_without_regard_to_unicode_case() {
    let m = manifest(
        r#"
persona "sales" { }
persona "exec" { }
rule "Everyone" persona="sales"
user "ÅSA.ÖBERG@x.com" persona="exec"
"#,
    );
    let l = live(vec![user("1", "åsa.öberg@x.com", &[])], vec![]);
    let state = desired::compute(&m, &l);
    assert!(state.warnings.is_empty(), "{:?}", state.warnings);
    assert_eq!(
        persona_of(&state, &l, "åsa.öberg@x.com").as_deref(),
        Some("exec")
    );
    assert!(l.find_user("ÅSA.ÖBERG@X.COM").is_some());
}
