//! The KDL and TOML spellings of one config lower into equal models, and a
//! config directory is read the way the contract says: recursively, in byte
//! order of the relative path, skipping hidden folders, `target/`, what
//! `.rosterignore` names and every file that is not `*.kdl`/`*.toml`.

use std::path::Path;

use roster::manifest::{self, Condition, Loaded, Manifest, NumberPolicy, Op};

use crate::common::fixture;

fn load_clean(dir: &Path) -> Loaded {
    let loaded = roster::config_dir::load(dir)
        .unwrap_or_else(|e| panic!("cannot load `{}`: {e}", dir.display()));
    assert!(
        loaded.diagnostics.items.is_empty(),
        "`{}` should load without diagnostics:\n{}",
        dir.display(),
        loaded.diagnostics.render(&loaded.sources, false)
    );
    loaded
}

/// Every condition, however deeply nested.
fn walk<'a>(conds: &'a [Condition], out: &mut Vec<&'a Condition>) {
    for c in conds {
        out.push(c);
        match c {
            Condition::All(cs, _) | Condition::Any(cs, _) | Condition::Not(cs, _) => walk(cs, out),
            Condition::Attr(_) => {}
        }
    }
}

/// Guards against two models that are equal because both are (nearly)
/// empty: the fixture must really use every feature.
fn assert_uses_every_feature(m: &Manifest) {
    let t = m.tenant.as_ref().expect("tenant settings");
    assert_eq!(t.name, "contoso");
    assert!(t.provider.is_some(), "provider");
    assert!(t.scope.is_some(), "scope");
    assert!(
        !t.leavers.release_number && t.leavers.reset_policies,
        "leavers"
    );
    assert_eq!(t.safety.max_changed_users, Some(500));
    assert_eq!(t.safety.max_changed_percent, Some(25));

    assert_eq!(m.ranges.len(), 3, "ranges");
    let london = m.range("london").expect("range london");
    assert_eq!(london.blocks.len(), 2);
    assert_eq!(london.reserve.len(), 2);
    assert!(london.location.is_some());

    assert_eq!(m.personas.len(), 5, "personas");
    let sales = m.persona("uk-sales").expect("persona uk-sales");
    assert!(sales.description.is_some());
    assert_eq!(sales.policies.len(), 5);
    // `Global`, `GLOBAL`: no direct assignment; type names in canonical case.
    let globals: Vec<_> = sales
        .policies
        .iter()
        .filter(|p| p.policy.is_none())
        .map(|p| p.policy_type.value.as_str())
        .collect();
    assert_eq!(globals, ["TeamsCallingPolicy", "TeamsMessagingPolicy"]);
    assert!(matches!(&sales.number, NumberPolicy::Ranges(r) if r.len() == 2));
    let no_phone = m.persona("no-phone").expect("persona no-phone");
    assert_eq!(no_phone.number, NumberPolicy::Forbidden);
    let baseline = m.persona("baseline").expect("persona baseline");
    assert_eq!(baseline.number, NumberPolicy::Unmanaged);
    assert_eq!(baseline.policies[0].policy, None, "lower-case `global`");

    assert_eq!(m.rules.len(), 5, "rules");
    assert!(m.rules.last().is_some_and(|r| r.when.is_empty()));
    let mut conds = Vec::new();
    for r in &m.rules {
        walk(&r.when, &mut conds);
    }
    let count = |f: fn(&Condition) -> bool| conds.iter().filter(|c| f(c)).count();
    assert!(
        count(|c| matches!(c, Condition::All(..))) >= 2,
        "nested all"
    );
    assert!(
        count(|c| matches!(c, Condition::Any(..))) >= 3,
        "nested any"
    );
    assert!(
        count(|c| matches!(c, Condition::Not(..))) >= 2,
        "nested not"
    );
    let ops: Vec<&str> = conds
        .iter()
        .filter_map(|c| match c {
            Condition::Attr(a) => Some(a),
            _ => None,
        })
        .flat_map(|a| a.ops.iter().map(|o| o.value.keyword()))
        .collect();
    for op in ["starts-with", "ends-with", "contains", "matches", "exists"] {
        assert!(ops.contains(&op), "operator `{op}` is not used");
    }
    assert!(
        conds.iter().any(|c| matches!(c,
        Condition::Attr(a) if a.values.len() == 1 && a.ops.len() == 2)),
        "values and operators on one condition"
    );
    assert!(conds.iter().any(|c| matches!(c,
        Condition::Attr(a) if a.ops.iter().any(|o| o.value == Op::Exists(false)))));

    assert_eq!(m.users.len(), 3, "user overrides");
    let ceo = &m.users[0];
    assert!(ceo.persona.is_some() && ceo.number.is_some());
    assert!(m.users[2].ignore);
}

#[test]
fn kdl_and_toml_spellings_give_equal_models() {
    let kdl = load_clean(&fixture("manifests/equiv-kdl"));
    let toml = load_clean(&fixture("manifests/equiv-toml"));
    assert!(kdl.sources.files.iter().all(|f| f.path.ends_with(".kdl")));
    assert!(toml.sources.files.iter().all(|f| f.path.ends_with(".toml")));
    assert_uses_every_feature(&kdl.manifest);
    assert_uses_every_feature(&toml.manifest);
    // Field by field first, for a readable failure; then the whole model.
    let (k, t) = (&kdl.manifest, &toml.manifest);
    assert_eq!(k.tenant, t.tenant, "tenant settings differ");
    assert_eq!(k.ranges, t.ranges, "ranges differ");
    assert_eq!(k.personas, t.personas, "personas differ");
    for (a, b) in k.rules.iter().zip(&t.rules) {
        assert_eq!(a, b, "rule `{}` differs", a.name.value);
    }
    assert_eq!(k.rules, t.rules, "rules differ");
    assert_eq!(k.users, t.users, "user overrides differ");
    assert_eq!(k, t);
}

#[test]
fn a_directory_mixing_both_formats_gives_the_same_model() {
    // The same config again, split over KDL and TOML files and a subfolder.
    let mixed = load_clean(&fixture("manifests/good-every-feature-mixed"));
    let kdl = load_clean(&fixture("manifests/equiv-kdl"));
    let formats: Vec<bool> = mixed
        .sources
        .files
        .iter()
        .map(|f| f.path.ends_with(".kdl"))
        .collect();
    assert!(formats.contains(&true) && formats.contains(&false));
    assert_uses_every_feature(&mixed.manifest);
    assert_eq!(mixed.manifest, kdl.manifest);
}

#[test]
fn a_changed_value_makes_the_models_differ() {
    // The equality above must not be vacuous: one changed character counts.
    let kdl = load_clean(&fixture("manifests/equiv-kdl"));
    let mut sources = kdl.sources.clone();
    let f = sources
        .files
        .iter_mut()
        .find(|f| f.path == "rules.kdl")
        .expect("rules.kdl");
    f.text = std::sync::Arc::new(f.text.replace("\"Leeds\"", "\"Leads\""));
    let changed = manifest::parse(sources);
    assert!(!changed.has_errors());
    assert_ne!(kdl.manifest, changed.manifest);
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn rule_kdl(name: &str) -> String {
    format!("rule \"{name}\" persona=\"p\" {{\n    when {{ city \"{name}\" }}\n}}\n")
}

fn rule_toml(name: &str) -> String {
    format!("[[rule]]\nname = \"{name}\"\npersona = \"p\"\nwhen = {{ city = \"{name}\" }}\n")
}

#[test]
fn a_mixed_directory_loads_in_byte_order_of_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    write(
        d,
        "persona.kdl",
        "persona \"p\" {\n    policies { TeamsCallingPolicy \"Global\" }\n}\n",
    );
    // Byte order: `B` (0x42) < `a` (0x61); `a-z` (`-` 0x2d) < `a.toml`
    // (`.` 0x2e) < `a/` (`/` 0x2f) < `a_` (0x5f).
    write(d, "a.toml", &rule_toml("a.toml"));
    write(d, "a/nested.kdl", &rule_kdl("a/nested.kdl"));
    write(d, "a/deeper/x.toml", &rule_toml("a/deeper/x.toml"));
    write(d, "a-z.kdl", &rule_kdl("a-z.kdl"));
    write(d, "a_z.toml", &rule_toml("a_z.toml"));
    write(d, "B.kdl", &rule_kdl("B.kdl"));
    write(
        d,
        "z.toml",
        &(rule_toml("z.toml 1") + &rule_toml("z.toml 2")),
    );
    // Skipped: hidden folders and files, `target/`, `.rosterignore`.
    write(d, ".git/config.kdl", &rule_kdl("hidden folder"));
    write(d, ".hidden.kdl", &rule_kdl("hidden file"));
    write(d, "target/debug/x.kdl", &rule_kdl("target"));
    write(d, "sub/target/x.toml", &rule_toml("nested target"));
    write(d, "drafts/wip.kdl", &rule_kdl("ignored folder"));
    write(d, "old.toml", &rule_toml("ignored file"));
    write(
        d,
        ".rosterignore",
        "# drafts are not live yet\ndrafts/\nold.toml\n",
    );
    // Ignored: anything that is not a manifest.
    write(d, "tenant.json", "{ \"users\": [] }");
    write(d, "README.md", "rule \"markdown\" persona=\"p\"");
    write(d, "notes.kdl.bak", &rule_kdl("backup"));

    let loaded = load_clean(d);
    let paths: Vec<&str> = loaded
        .sources
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "B.kdl",
            "a-z.kdl",
            "a.toml",
            "a/deeper/x.toml",
            "a/nested.kdl",
            "a_z.toml",
            "persona.kdl",
            "z.toml",
        ]
    );
    let rules: Vec<&str> = loaded
        .manifest
        .rules
        .iter()
        .map(|r| r.name.value.as_str())
        .collect();
    assert_eq!(
        rules,
        [
            "B.kdl",
            "a-z.kdl",
            "a.toml",
            "a/deeper/x.toml",
            "a/nested.kdl",
            "a_z.toml",
            "z.toml 1",
            "z.toml 2",
        ]
    );
}

#[test]
fn a_directory_without_manifests_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), "tenant.json", "{}");
    write(tmp.path(), ".hidden/a.kdl", &rule_kdl("hidden"));
    let err = roster::config_dir::load(tmp.path()).expect_err("no manifests");
    assert!(err.to_string().contains("no manifests"), "{err}");
}
