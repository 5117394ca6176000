//! The quick readers give what `serde` gives, or decline: on the example
//! tenant (where they must accept every element) and on objects written
//! every which way (where they may decline, but never differ).

use proptest::prelude::*;
use proptest::sample::select;

use super::*;
use crate::snapshot::direct::attribute_ids;
use crate::snapshot::fast::user_by_serde;

type NumberParts = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Vec<String>,
    Option<String>,
);

fn number_parts(n: NumberIn) -> NumberParts {
    (
        n.telephone_number.0.into_owned(),
        n.number_type.map(|t| t.0.into_owned()),
        n.assignment_target_id,
        n.assignment_category,
        n.assignment_status,
        n.capabilities,
        n.location_id,
    )
}

fn assignment_parts(a: AssignmentIn) -> (String, String, String) {
    (
        a.user_id.0.into_owned(),
        a.policy_type.0.into_owned(),
        a.policy_name,
    )
}

/// The elements of array `key` of the example tenant, as text.
fn example(key: &str) -> Vec<String> {
    let text = include_str!("../../../examples/tenant-config/tenant.json");
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::to_string_pretty(e).unwrap())
        .collect()
}

#[test]
fn reads_every_element_of_the_example_as_serde_does() {
    let ids = attribute_ids();
    for licences in [false, true] {
        let mut users = Users::new(&ids, licences);
        for e in example("users") {
            let quick = users.read(&e).unwrap_or_else(|| panic!("declined {e}"));
            assert_eq!(Some(quick), user_by_serde(&e, &ids, licences), "{e}");
        }
    }
    let mut numbers = Numbers::new();
    for e in example("numberAssignments") {
        let quick = numbers.read(&e).unwrap_or_else(|| panic!("declined {e}"));
        let serde: NumberIn = serde_json::from_str(&e).unwrap();
        assert_eq!(number_parts(quick), number_parts(serde), "{e}");
    }
    let mut assignments = Assignments::new();
    for e in example("policyAssignments") {
        let quick = assignments
            .read(&e)
            .unwrap_or_else(|| panic!("declined {e}"));
        let serde: AssignmentIn = serde_json::from_str(&e).unwrap();
        assert_eq!(assignment_parts(quick), assignment_parts(serde), "{e}");
    }
}

#[test]
fn declines_what_serde_must_decide() {
    let ids = attribute_ids();
    let mut users = Users::new(&ids, true);
    for e in [
        r#"{"id":"a","userPrincipalName":"a@x","city":"Par\u00eds"}"#,
        r#"{"id":"a","userPrincipalName":"a@x","id":"b"}"#,
        r#"{"id":"a","userPrincipalName":"a@x","nickname":"b"}"#,
        r#"{"id":"a","userPrincipalName":"a@x","accountEnabled":1}"#,
        r#"{"id":"a","userPrincipalName":"a@x","assignedLicenses":[{"skuId":" "}]}"#,
        r#"{"id":"a","userPrincipalName":"a@x","onPremisesExtensionAttributes":{"extensionAttribute1":"x","ExtensionAttribute1":"y"}}"#,
        r#"{"userPrincipalName":"a@x"}"#,
    ] {
        assert!(users.read(e).is_none(), "{e}");
    }
    assert!(
        users
            .read(r#"{"id":"a","userPrincipalName":"a@x"}"#)
            .is_some()
    );
}

/// A value as JSON text: of every type, plain or with escapes and
/// control characters.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-zA-Z0-9 @.üß+-]{0,8}".prop_map(|s| format!("\"{s}\"")),
        1 => "[a-z\\\\\"\t\n]{0,4}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        1 => Just("\"a\tb\"".to_string()),
        1 => Just("\"\\u0041\"".to_string()),
        2 => Just("null".to_string()),
        1 => select(vec!["true", "false", "1", "[]", "{}", "[\"a\",\"b\"]", "[null]"]).prop_map(str::to_string),
        1 => select(vec![
            r#"{"extensionAttribute1":"x","extensionAttribute15":null}"#,
            r#"{"extensionAttribute1":"x","extensionAttribute1":"y"}"#,
            r#"{"city":"x","other":"y"}"#,
            r#"[{"skuId":"s","disabledPlans":["p"]},{"skuId":"t","disabledPlans":null}]"#,
            r#"[{"skuId":"s","skuId":"t"}]"#,
            r#"[{"disabledPlans":[]}]"#,
            r#"[{"skuId":" "}]"#,
        ]).prop_map(str::to_string),
    ]
}

/// An object of `keys` (and a few others), in any order, some twice,
/// with white space here and there.
fn object(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    let key = prop_oneof![
        8 => select(keys).prop_map(str::to_string),
        1 => select(vec!["other", "ID", "i\\u0064"]).prop_map(str::to_string),
    ];
    let ws = select(vec!["", " ", "\n  ", "\t"]);
    proptest::collection::vec((key, value(), ws.clone(), ws), 0..12).prop_map(|fields| {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v, a, b)| format!("{a}\"{k}\"{b}:{a}{v}{b}"))
            .collect();
        format!("{{{}}}", body.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2048,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_user_read_quickly_is_the_user_serde_reads(
        mut text in object(&USER_FIELDS[..]),
        id in any::<bool>(),
        licences in any::<bool>(),
    ) {
        if id {
            // Most objects then have the required fields.
            text = format!("{{\"id\":\"u\",\"userPrincipalName\":\"u@x\",{}", &text[1..]);
            if text.ends_with(",}") {
                text = format!("{}}}", &text[..text.len() - 2]);
            }
        }
        let ids = attribute_ids();
        if let Some(quick) = Users::new(&ids, licences).read(&text) {
            prop_assert_eq!(Some(quick), user_by_serde(&text, &ids, licences), "{}", text);
        }
    }

    #[test]
    fn a_number_read_quickly_is_the_number_serde_reads(text in object(&NUMBER_FIELDS)) {
        if let Some(quick) = Numbers::new().read(&text) {
            let serde = serde_json::from_str::<NumberIn>(&text).map(number_parts);
            prop_assert_eq!(Ok(number_parts(quick)), serde.map_err(|e| e.to_string()), "{}", text);
        }
    }

    #[test]
    fn an_assignment_read_quickly_is_the_one_serde_reads(text in object(&ASSIGNMENT_FIELDS)) {
        if let Some(quick) = Assignments::new().read(&text) {
            let serde = serde_json::from_str::<AssignmentIn>(&text).map(assignment_parts);
            prop_assert_eq!(Ok(assignment_parts(quick)), serde.map_err(|e| e.to_string()), "{}", text);
        }
    }
}
