//! The fast path against the slow one: the same live state from every
//! valid snapshot, and the same error (it steps aside) for every invalid one.

use serde_json::{Value, json};

use super::*;

/// A snapshot with a bit of everything.
fn base() -> Value {
    json!({
        "format_version": 1,
        "tenantId": "tenant-1",
        "comment": {"any": ["thing", 1, null]},
        "users": [
            {"id": "u2", "userPrincipalName": "bob@x.com", "accountEnabled": false,
             "jobTitle": "Sales \"EMEA\"", "city": "Zürich", "unknown": [1, {"a": 2}],
             "onPremisesExtensionAttributes": {"extensionAttribute3": "E3",
                 "extensionAttribute4": null, "extensionAttribute03": "again",
                 "department": "from ext", "other": "ignored"}},
            {"id": "u1", "userPrincipalName": "Amy@x.com", "displayName": "Amy",
             "accountEnabled": null, "mail": null,
             "assignedLicenses": [{"skuId": "s1", "disabledPlans": null, "x": 1}]},
            {"id": "u3", "userPrincipalName": "ÉMILE@x.com", "givenName": "\u{c9}mile"}
        ],
        "groups": [
            {"id": "g-outer", "displayName": "Outer", "members": ["g-inner", "u2"]},
            {"id": "g-inner", "displayName": "Inner", "members": ["u1", "u3"]}
        ],
        "policies": [{"policyType": "teamsmeetingpolicy", "name": "Sales", "policyId": "p1"}],
        "policyAssignments": [
            {"userId": "u1", "policyType": "tenantDialPlan", "policyName": "London"},
            {"userId": "u1", "policyType": "ContosoCustom", "policyName": "X"},
            {"userId": "u2", "policyType": "TenantDialPlan", "policyName": "Dublin", "extra": true}
        ],
        "groupPolicyAssignments": [
            {"groupId": "g-outer", "policyType": "TEAMSMEETINGPOLICY", "policyName": "Sales", "rank": 2}
        ],
        "numberAssignments": [
            {"id": "n1", "telephoneNumber": "+442071230001", "numberType": "directRouting",
             "assignmentTargetId": "u1", "assignmentCategory": "primary",
             "assignmentStatus": "userAssigned", "activationState": "activated",
             "isoCountryCode": "GB", "locationId": "loc"},
            {"telephoneNumber": "442071230002", "assignmentTargetId": "",
             "capabilities": ["userAssignment"]},
            {"telephoneNumber": "tel:+442071230003", "assignmentTargetId": "resource",
             "assignmentStatus": "conferenceAssigned"}
        ]
    })
}

fn with_licences() -> Value {
    let mut snap = base();
    snap["subscribedSkus"] = json!([{"skuId": "s1", "skuPartNumber": "MCOEV",
        "servicePlans": [{"servicePlanId": "sp1", "servicePlanName": "MCOEV"}]}]);
    snap
}

fn slow(text: &str) -> Result<LiveState, String> {
    parse("t.json", text)
        .and_then(|s| into_live("t.json", s))
        .map_err(|e| e.to_string())
}

/// The fast path takes `text` and agrees with the slow one, on one thread
/// and on three.
fn same(text: &str) -> LiveState {
    let want = slow(text).expect("a valid snapshot");
    for threads in [1, 3] {
        let got = fast(strip_bom(text), threads).expect("the fast path takes it");
        assert_eq!(got, want, "{threads} threads");
    }
    assert_eq!(parse_live("t.json", text).unwrap(), want);
    want
}

/// `parse_live` refuses `text` with the slow path's error.
fn same_error(text: &str) {
    let want = slow(text).expect_err("an invalid snapshot");
    let got = parse_live("t.json", text).expect_err("refused").to_string();
    assert_eq!(got, want);
}

#[test]
fn valid_snapshots_give_the_slow_paths_live_state() {
    let live = same(&base().to_string());
    assert_eq!(live.users.len(), 3);
    same(&serde_json::to_string_pretty(&base()).unwrap());
    same(&with_licences().to_string());
    same(&format!("\u{feff}{}", base()));
    // Escapes in keys of entries and in values, white space around UPNs.
    let text = base()
        .to_string()
        .replace("\"jobTitle\"", "\"job\\u0054itle\"")
        .replace("bob@x.com", "  bob@x.com ");
    same(&text);
    same(r#"{"format_version": 1, "users": []}"#);
    same(
        r#"{"users": [], "format_version": 1, "groups": [], "policyAssignments": [],
        "numberAssignments": [], "subscribedSkus": null, "tenantId": "t"}"#,
    );
}

#[test]
fn many_users_on_threads_give_the_slow_paths_live_state() {
    let n = 3 * USERS_PER_CHUNK + 11;
    // Every other id a GUID in lower case (indexed as a number), the
    // others text; one GUID in upper case (text, and another id).
    let id = |i: usize| match i {
        7 => "0000000A-0000-4000-8000-00000000000A".to_string(),
        _ if i.is_multiple_of(2) => format!("{i:08x}-0000-4000-8000-{i:012x}"),
        _ => format!("u{i}"),
    };
    let users: Vec<Value> = (0..n)
        .map(|i| {
            let mut u = json!({"id": id(i), "userPrincipalName": format!("User{:05}@x.com", (i * 7919) % n),
                   "department": format!("d{}", i % 13), "accountEnabled": i % 3 != 0});
            if i % 1000 == 1 {
                // An escape: this user is read by serde, its chunk by the quick reader.
                u["displayName"] = json!("Zo\u{eb} \"Z\"");
            }
            u
        })
        .collect();
    // Two types of one user written together (the user looked up once),
    // for every other user.
    let mut assignments: Vec<Value> = (0..n)
        .step_by(2)
        .flat_map(|i| {
            [
                json!({"userId": id(i), "policyType": "TenantDialPlan", "policyName": format!("p{i}")}),
                json!({"userId": id(i), "policyType": "TeamsMeetingPolicy", "policyName": "m"}),
            ]
        })
        .collect();
    // A third type for some users, listed after the others, users of every chunk.
    assignments.extend(
        (0..n).rev().step_by(3).map(
            |i| json!({"userId": id(i), "policyType": "TeamsCallingPolicy", "policyName": "c"}),
        ),
    );
    let numbers: Vec<Value> = (0..ENTRIES_PER_CHUNK + 5)
        .map(|i| {
            let mut n = json!({"telephoneNumber": format!("+4420{:08}", (i * 31) % 100_000_000)});
            if i % 2 == 0 {
                n["assignmentTargetId"] = json!(id(i % 5000));
                n["assignmentStatus"] = json!("userAssigned");
            }
            n
        })
        .collect();
    let snap = json!({"format_version": 1, "users": users, "policyAssignments": assignments,
    "numberAssignments": numbers, "groups": [
        {"id": "g", "displayName": "G",
         "members": [id(5), id(9), id(n - 1), id(USERS_PER_CHUNK + 3)]},
        {"id": "h", "displayName": "H", "members": ["g", id(2 * USERS_PER_CHUNK + 1), id(9)]}
    ]});
    let live = same(&snap.to_string());
    assert_eq!(live.users.len(), n);
    assert_eq!(live.numbers.len(), ENTRIES_PER_CHUNK + 5);
    let in_groups = live.users.iter().filter(|u| !u.groups.is_empty()).count();
    assert_eq!(in_groups, 5);
    assert!(live.users.iter().any(|u| u.policies.len() == 3));
    assert!(
        live.users
            .iter()
            .any(|u| u.display_name.as_deref() == Some("Zo\u{eb} \"Z\""))
    );
}

#[test]
fn invalid_snapshots_get_the_slow_paths_error() {
    type Change = fn(&mut Value);
    let changes: &[Change] = &[
        |s| s["users"][1]["id"] = json!("u2"),
        |s| s["users"][1]["id"] = json!("  "),
        |s| s["users"][1]["userPrincipalName"] = json!(" BOB@x.com"),
        |s| s["users"][2]["userPrincipalName"] = json!("amy@X.com"),
        |s| s["users"][0]["jobTitle"] = json!(5),
        |s| s["users"][0]["accountEnabled"] = json!("yes"),
        |s| s["users"][0]["onPremisesExtensionAttributes"] = json!([]),
        |s| s["users"][0]["onPremisesExtensionAttributes"]["extensionAttribute1"] = json!(1),
        |s| s["users"][1]["assignedLicenses"] = json!([{"disabledPlans": []}]),
        |s| s["users"][1]["assignedLicenses"] = json!({"skuId": "s"}),
        |s| s["users"][1]["assignedLicenses"][0]["disabledPlans"] = json!([1]),
        |s| s["users"][0]["userPrincipalName"] = Value::Null,
        |s| s["users"] = Value::Null,
        |s| s["groups"] = Value::Null,
        |s| s["groups"][1]["id"] = json!("g-outer"),
        |s| s["policies"] = json!({}),
        |s| s["policyAssignments"][0]["userId"] = json!("ghost"),
        |s| s["policyAssignments"][1]["policyType"] = json!("TENANTDIALPLAN"),
        |s| s["policyAssignments"][1]["policyName"] = Value::Null,
        |s| s["numberAssignments"][0]["assignmentTargetId"] = json!("ghost"),
        |s| s["numberAssignments"][0]["assignmentTargetId"] = Value::Null,
        |s| s["numberAssignments"][0]["numberType"] = json!("pstn"),
        |s| s["numberAssignments"][1]["telephoneNumber"] = json!("+44 20"),
        |s| s["numberAssignments"][1]["telephoneNumber"] = json!("+442071230001"),
        |s| s["numberAssignments"][1]["activationState"] = json!(false),
        |s| s["numberAssignments"][1]["id"] = Value::Null,
        |s| s["format_version"] = json!(2),
        |s| s["tenantId"] = Value::Null,
        |s| {
            s.as_object_mut().unwrap().remove("users");
        },
        |s| {
            s.as_object_mut().unwrap().remove("format_version");
        },
    ];
    for (i, change) in changes.iter().enumerate() {
        for mut snap in [base(), with_licences()] {
            change(&mut snap);
            let text = snap.to_string();
            if slow(&text).is_ok() {
                // Licences are read only with `subscribedSkus`.
                assert!(snap.get("subscribedSkus").is_none(), "change {i}");
                same(&text);
            } else {
                same_error(&text);
            }
        }
    }
    let text = base().to_string();
    let repeated = text.replacen("\"tenantId\"", "\"users\": [], \"tenantId\"", 1);
    let user_field_twice = text.replacen("\"jobTitle\"", "\"city\": \"x\", \"jobTitle\"", 1);
    let deep = format!(
        "{{\"format_version\": 1, \"users\": [{{\"id\": \"u\", \"userPrincipalName\": \"u\", \"x\": {}{}}}]}}",
        "[".repeat(98),
        "]".repeat(98)
    );
    for text in [
        repeated.as_str(),
        user_field_twice.as_str(),
        &deep,
        &text[..text.len() - 1],
        &format!("{text} x"),
        &text.replacen("[", "[,", 1),
        &text.replacen("]", ",]", 1),
        "",
        "[]",
        "{}",
    ] {
        same_error(text);
    }
}
