//! Unit tests of the key table ([`super::keys`]).

use super::*;

const ALL: &[Item] = &[
    Item::File,
    Item::Tenant,
    Item::Provider,
    Item::Leavers,
    Item::Safety,
    Item::Numbers,
    Item::State,
    Item::Range,
    Item::Persona,
    Item::Rule,
    Item::User,
    Item::Test,
    Item::TestUser,
    Item::Expect,
    Item::Operators,
];

#[test]
fn names_are_unique_in_each_item_and_in_each_form() {
    for item in ALL {
        let mut toml = item.toml_keys();
        toml.sort();
        toml.dedup();
        assert_eq!(toml.len(), item.keys().len(), "{item:?}");
        let mut kdl: Vec<_> = item.keys().iter().map(Key::kdl_name).collect();
        kdl.sort();
        kdl.dedup();
        assert_eq!(kdl.len(), item.keys().len(), "{item:?}");
    }
}

#[test]
fn every_nested_item_is_reached_once_from_the_file() {
    let mut reached = vec![Item::File, Item::Operators];
    let mut todo = vec![Item::File];
    while let Some(item) = todo.pop() {
        for k in item.keys() {
            if let Some(i) = k.ty.item() {
                assert!(!reached.contains(&i), "{i:?} reached twice");
                reached.push(i);
                todo.push(i);
            }
        }
    }
    assert_eq!(reached.len(), ALL.len());
}

#[test]
fn kdl_views() {
    assert_eq!(
        Item::File.kdl_children(),
        ["tenant", "range", "persona", "rule", "user", "test"]
    );
    assert_eq!(
        Item::Tenant.kdl_children(),
        [
            "provider", "scope", "leavers", "safety", "numbers", "state", "paused"
        ]
    );
    assert!(Item::Tenant.kdl_properties().is_empty());
    assert_eq!(Item::Range.kdl_properties(), ["type", "location"]);
    assert_eq!(Item::Range.kdl_children(), ["block", "reserve"]);
    assert_eq!(Item::Rule.kdl_properties(), ["persona"]);
    assert_eq!(Item::Test.kdl_children(), ["user", "expect"]);
    assert_eq!(
        Item::Expect.kdl_properties(),
        ["persona", "unmatched", "out-of-scope", "leaver", "range"]
    );
    assert_eq!(Item::TestUser.kdl_properties(), ["accountEnabled"]);
    assert_eq!(Item::TestUser.kdl_children(), ["memberOf"]);
    assert_eq!(Item::Provider.kdl_properties_for("file"), ["path"]);
    let graph = Item::Provider.kdl_properties_for("graph");
    assert_eq!(graph.len(), 11);
    assert!(!graph.contains(&"path") && !graph.contains(&"kind"));
    assert_eq!(Item::State.kdl_properties_for("file"), ["path"]);
    assert_eq!(
        Item::Operators.kdl_properties(),
        ["starts-with", "ends-with", "contains", "matches", "exists"]
    );
}

#[test]
fn toml_layout_puts_section_like_keys_last() {
    assert_eq!(
        Item::Persona.toml_order(),
        ["description", "number", "policies"]
    );
    assert_eq!(
        Item::Persona.toml_keys(),
        ["description", "policies", "number"]
    );
    assert_eq!(Item::Rule.toml_order(), Item::Rule.toml_keys());
}

#[test]
fn choices_are_what_the_lowering_reads() {
    for t in NUMBER_TYPES {
        assert!(
            crate::numbers::NumberType::from_manifest(t).is_some(),
            "{t}"
        );
    }
    assert_eq!(
        Item::Provider.key("kind").map(|k| k.ty),
        Some(PROVIDER_KIND)
    );
}

#[test]
fn operators_rank_in_order() {
    assert_eq!(operator_rank("starts-with"), 0);
    assert_eq!(operator_rank("exists"), 4);
    assert_eq!(operator_rank("equals"), 5);
    assert_eq!(operator_rank("nonsense"), 5);
}
