//! The importer on small hand-made tenants: what it infers, that a plan
//! after it changes nothing, KDL and TOML alike, the same bytes each time.

use super::*;
use crate::live::{NumberAssignment, User};
use crate::numbers::NumberType;

/// A tenant of `n` users per office: London sales (GB, department Sales),
/// London others, Dublin, plus one oddity with a bundle of its own.
fn tenant(n: usize) -> LiveState {
    let mut live = LiveState {
        tenant_id: "t".into(),
        ..LiveState::default()
    };
    for (t, name) in [
        ("TeamsCallingPolicy", "AllowCalling"),
        ("TenantDialPlan", "UK-London"),
        ("TenantDialPlan", "IE-Dublin"),
        ("CallingLineIdentity", "Sales-Hunt-Group"),
        ("TeamsMeetingPolicy", "Odd"),
    ] {
        live.add_policy(t, name, &format!("id-{name}"));
    }
    let mut next_number = [442071230000u64, 35315550000u64];
    let offices = [
        (
            "sales",
            "London",
            "GB",
            "Sales",
            Some("Sales-Hunt-Group"),
            "UK-London",
            0,
        ),
        ("lon", "London", "GB", "Finance", None, "UK-London", 0),
        ("dub", "Dublin", "IE", "Finance", None, "IE-Dublin", 1),
    ];
    for (tag, city, usage, dept, clid, plan, pool) in offices {
        for i in 0..n {
            let id = format!("{tag}-{i:03}");
            let mut u = User::new(id.clone(), format!("{id}@contoso.com"));
            u.display_name = Some(format!("Person {id}"));
            // Messy directory data: case and spaces.
            let city = if i % 7 == 0 {
                format!(" {} ", city.to_uppercase())
            } else {
                city.to_string()
            };
            u.set_attr("city", Some(city));
            u.set_attr("usageLocation", Some(usage.into()));
            u.set_attr("department", Some(dept.into()));
            u.policies
                .insert("TeamsCallingPolicy", "AllowCalling".into());
            u.policies.insert("TenantDialPlan", plan.into());
            if let Some(c) = clid {
                u.policies.insert("CallingLineIdentity", c.into());
            }
            let digits = next_number[pool];
            next_number[pool] += 1;
            let number = E164::parse(&format!("+{digits}")).unwrap();
            live.numbers.insert(
                number,
                NumberAssignment {
                    number,
                    number_type: Some(NumberType::DirectRouting),
                    target: Some(id.clone()),
                    category: Some("primary".into()),
                    status: "userAssigned".into(),
                    capabilities: vec!["userAssignment".into()],
                    location_id: Some(format!("loc-{pool}")),
                },
            );
            live.users.push(u);
        }
    }
    let mut odd = User::new("odd", "odd@contoso.com");
    odd.set_attr("city", Some("London".into()));
    odd.set_attr("usageLocation", Some("GB".into()));
    odd.set_attr("department", Some("Finance".into()));
    odd.policies.insert("TeamsMeetingPolicy", "Odd".into());
    live.users.push(odd);
    live.finish();
    live
}

fn options(format: Format) -> Options {
    Options {
        format,
        min_persona_users: None,
    }
}

fn file<'a>(imported: &'a Imported, name: &str) -> &'a str {
    imported
        .files
        .iter()
        .find(|(p, _)| p == name)
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| {
            panic!(
                "no {name} among {:?}",
                imported.files.iter().map(|f| &f.0).collect::<Vec<_>>()
            )
        })
}

#[test]
fn a_tenant_is_described_by_rules_with_no_change() {
    let live = tenant(20);
    let imported = import(&live, None, &options(Format::Kdl)).unwrap();
    let r = &imported.report;
    assert_eq!(r.described, 61);
    assert_eq!(r.personas, 3, "{}", file(&imported, "personas.kdl"));
    assert_eq!(r.ranges, 2);
    assert_eq!(r.by_rules, 60, "{}", file(&imported, "rules.kdl"));
    assert_eq!((r.overrides, r.ignored), (1, 1));
    assert_eq!(r.plan_changed, 0);
    assert_eq!(r.plan_errors, 0);
    assert_eq!(
        r.tests,
        3,
        "{}{}",
        file(&imported, "rules.kdl"),
        file(&imported, "tests.kdl")
    );
    // Dublin's users are in Finance too: its rule must come first.
    let rules = file(&imported, "rules.kdl");
    let at = |p: &str| {
        rules
            .find(&format!("persona=\"{p}\""))
            .unwrap_or_else(|| panic!("{rules}"))
    };
    assert!(at("dublin") < at("finance"), "{rules}");
    assert!(rules.contains("department \"Sales\""), "{rules}");
    let users = file(&imported, "users.kdl");
    assert!(
        users.contains("// the rules give `finance`, and no persona matches what it holds (TeamsMeetingPolicy Odd, no number): roster leaves it alone\nuser \"odd@contoso.com\" ignore=#true"),
        "{users}"
    );
    // Numbers: every persona draws from the range its users' numbers are in.
    let personas = file(&imported, "personas.kdl");
    assert!(personas.contains("number \"dr-dublin\""), "{personas}");
    assert!(personas.contains("number \"dr-london\""), "{personas}");
}

#[test]
fn kdl_and_toml_say_the_same_and_are_canonical() {
    let live = tenant(12);
    for format in [Format::Kdl, Format::Toml] {
        let imported = import(&live, None, &options(format)).unwrap();
        assert_eq!(imported.report.plan_changed, 0);
        for (path, text) in &imported.files {
            let formatted = crate::format::format_file(path, text).unwrap();
            assert_eq!(&formatted, text, "{path} is not canonical");
        }
    }
    let kdl = import(&live, None, &options(Format::Kdl)).unwrap();
    let toml = import(&live, None, &options(Format::Toml)).unwrap();
    assert_eq!(kdl.report, toml.report);
    let read = |i: &Imported| {
        let mut s = Sources::default();
        for (p, t) in &i.files {
            s.add(p.clone(), t.clone());
        }
        manifest::parse(s).manifest
    };
    let (a, b) = (read(&kdl), read(&toml));
    let names =
        |m: &Manifest| -> Vec<String> { m.rules.iter().map(|r| r.name.value.clone()).collect() };
    assert_eq!(names(&a), names(&b));
    assert_eq!(a.personas.len(), b.personas.len());
    assert_eq!(a.users.len(), b.users.len());
    assert_eq!(a.tests.len(), b.tests.len());
}

#[test]
fn the_same_tenant_gives_the_same_bytes() {
    let live = tenant(15);
    let a = import(&live, None, &options(Format::Toml)).unwrap();
    let b = import(&live, None, &options(Format::Toml)).unwrap();
    assert_eq!(a.files, b.files);
}

#[test]
fn tests_are_anonymised() {
    let live = tenant(10);
    let imported = import(&live, None, &options(Format::Kdl)).unwrap();
    let tests = file(&imported, "tests.kdl");
    assert!(!tests.contains("contoso.com"), "{tests}");
    assert!(!tests.contains("Person "), "{tests}");
    assert!(
        tests.contains("expect persona=\"sales\" range=\"dr-london\""),
        "{tests}"
    );
}

#[test]
fn a_bundle_under_the_threshold_is_no_persona() {
    let live = tenant(10);
    let opts = Options {
        format: Format::Kdl,
        min_persona_users: Some(11),
    };
    let imported = import(&live, None, &opts).unwrap();
    assert_eq!(imported.report.personas, 0);
    assert_eq!(imported.report.overrides, 31);
    assert_eq!(imported.report.ignored, 31);
    assert_eq!(imported.report.plan_changed, 0);
}

#[test]
fn the_tenant_settings_are_kept() {
    let mut live = tenant(8);
    let mut svc = User::new("svc", "svc-backup@contoso.com");
    svc.set_attr("usageLocation", Some("GB".into()));
    live.users.push(svc);
    live.finish();
    let text = "tenant \"contoso\" {\n    provider \"file\" path=\"tenant.json\"\n    scope {\n        usageLocation \"GB\" \"IE\"\n        not { userPrincipalName starts-with=\"svc-\" }\n    }\n    leavers release-number=#false reset-policies=#true\n    safety max-changed-users=10 max-changed-percent=5\n    numbers quarantine=\"3d\"\n}\n";
    let loaded = manifest::parse_str("tenant.kdl", text);
    assert!(!loaded.has_errors());
    for format in [Format::Kdl, Format::Toml] {
        let imported = import(&live, loaded.manifest.tenant.as_ref(), &options(format)).unwrap();
        let mut s = Sources::default();
        for (p, t) in &imported.files {
            s.add(p.clone(), t.clone());
        }
        let back = manifest::parse(s);
        let (a, b) = (
            back.manifest.tenant.unwrap(),
            loaded.manifest.tenant.clone().unwrap(),
        );
        assert_eq!(a.name, b.name);
        assert_eq!(a.provider.map(|p| p.value), b.provider.map(|p| p.value));
        assert_eq!(
            (a.leavers, a.safety, a.numbers),
            (b.leavers, b.safety, b.numbers)
        );
        assert_eq!(
            imported.report.described, 25,
            "the service account is out of scope"
        );
    }
}

#[test]
fn slugs() {
    assert_eq!(slug(" Sales & Marketing "), "sales-marketing");
    assert_eq!(slug("Zürich"), "zürich");
    assert_eq!(slug("--"), "");
    assert_eq!(slug(&"a".repeat(50)).chars().count(), 40);
}

#[test]
fn two_conditions_when_one_is_not_enough() {
    // Four personas, each the pair of a department and a country: no one
    // attribute tells them apart.
    let mut live = LiveState::default();
    for (dept, usage, plan) in [
        ("Sales", "GB", "UK-Sales"),
        ("Sales", "US", "US-Sales"),
        ("Finance", "GB", "UK-Finance"),
        ("Finance", "US", "US-Finance"),
    ] {
        live.add_policy("TenantDialPlan", plan, plan);
        for i in 0..12 {
            let id = format!("{plan}-{i}");
            let mut u = User::new(id.clone(), format!("{id}@contoso.com"));
            u.set_attr("department", Some(dept.into()));
            u.set_attr("usageLocation", Some(usage.into()));
            u.policies.insert("TenantDialPlan", plan.into());
            live.users.push(u);
        }
    }
    live.finish();
    let imported = import(&live, None, &options(Format::Toml)).unwrap();
    let r = &imported.report;
    assert_eq!(
        (r.personas, r.by_rules, r.overrides, r.plan_changed),
        (4, 48, 0, 0)
    );
    let rules = file(&imported, "rules.toml");
    assert!(
        rules.contains("when = { department = \"Sales\", usageLocation = \"GB\" }")
            || rules.contains("when = { department = \"Finance\", usageLocation = \"GB\" }"),
        "{rules}"
    );
    assert_eq!(r.tests, 4);
}
