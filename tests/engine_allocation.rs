//! Table tests of number allocation (`manifests.md`, "Number allocation"):
//! sticky numbers, releases, reserves, pins, lowest-free order, range
//! order, what counts as taken, inventory rules for Calling Plan and
//! Operator Connect, exhaustion, `number #false`, and unknown policies.

use roster::desired;
use roster::live::{LiveState, NumberAssignment, User};
use roster::numbers::{E164, NumberType};
use roster::plan::{self, Plan};
use serde_json::{Value, json};

use crate::engine_rules::{live, manifest, meta, user};

fn e164(s: &str) -> E164 {
    E164::parse(s).unwrap()
}

/// A number held by `target` as its primary, Direct Routing.
fn hold(l: &mut LiveState, number: &str, target: &str) {
    hold_as(l, number, target, "userAssigned", NumberType::DirectRouting);
}

fn hold_as(l: &mut LiveState, number: &str, target: &str, status: &str, t: NumberType) {
    let n = e164(number);
    l.numbers.insert(
        n,
        NumberAssignment {
            number: n,
            number_type: Some(t),
            target: Some(target.into()),
            category: Some("primary".into()),
            status: status.into(),
            capabilities: vec!["userAssignment".into()],
            location_id: None,
        },
    );
}

/// An unassigned inventory number.
fn stock(l: &mut LiveState, number: &str, t: NumberType, capabilities: &[&str]) {
    let n = e164(number);
    l.numbers.insert(
        n,
        NumberAssignment {
            number: n,
            number_type: Some(t),
            target: None,
            category: None,
            status: "unassigned".into(),
            capabilities: capabilities.iter().map(|c| c.to_string()).collect(),
            location_id: None,
        },
    );
}

fn users(upns: &[&str]) -> Vec<User> {
    upns.iter()
        .enumerate()
        .map(|(i, upn)| user(&format!("id-{i}"), upn, &[]))
        .collect()
}

fn id_of(l: &LiveState, upn: &str) -> String {
    l.find_user(upn).unwrap().id.clone()
}

fn plan_of(kdl: &str, l: &LiveState) -> Plan {
    let m = manifest(kdl);
    plan::diff(&desired::compute(&m, l), l, meta())
}

/// The actions of one user's change, as JSON (`[]` when unchanged).
fn actions(plan: &Plan, upn: &str) -> Value {
    plan.changes
        .iter()
        .find(|c| c.user.upn.eq_ignore_ascii_case(upn))
        .map(|c| serde_json::to_value(&c.actions).unwrap())
        .unwrap_or_else(|| json!([]))
}

/// The number assigned to a user in this plan.
fn assigned(plan: &Plan, upn: &str) -> Option<String> {
    actions(plan, upn)
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["op"] == "assign-number")
        .map(|a| a["number"].as_str().unwrap().to_string())
}

fn codes(plan: &Plan) -> Vec<&str> {
    plan.errors.iter().map(|e| e.code.as_str()).collect()
}

const DR: &str = r#"
range "london" type="direct-routing" location="loc-ldn" {
    block "+442071230000" "+442071230009"
    reserve "+442071230000" "+442071230001"
}
range "overflow" type="direct-routing" {
    block "+441610000000" "+441610000002"
}
persona "sales" { number "london" "overflow" }
persona "quiet" { number #false }
persona "unmanaged" { }
rule "Everyone" persona="sales"
"#;

#[test]
fn a_valid_number_is_sticky() {
    let mut l = live(users(&["amy@x.com", "bob@x.com"]), vec![]);
    let amy = id_of(&l, "amy@x.com");
    hold(&mut l, "+442071230007", &amy);
    let p = plan_of(DR, &l);
    assert_eq!(actions(&p, "amy@x.com"), json!([]));
    // Bob gets the lowest free number: 00 and 01 are reserved.
    assert_eq!(
        actions(&p, "bob@x.com"),
        json!([{ "op": "assign-number", "number": "+442071230002",
                 "numberType": "directRouting", "range": "london", "locationId": "loc-ldn" }])
    );
    // A number of the second range is as valid as one of the first.
    let mut l = live(users(&["amy@x.com"]), vec![]);
    let amy = id_of(&l, "amy@x.com");
    hold(&mut l, "+441610000001", &amy);
    assert_eq!(actions(&plan_of(DR, &l), "amy@x.com"), json!([]));
}

#[test]
fn a_number_outside_the_ranges_is_released_and_replaced() {
    let mut l = live(users(&["amy@x.com"]), vec![]);
    let amy = id_of(&l, "amy@x.com");
    hold(&mut l, "+15551230000", &amy);
    let p = plan_of(DR, &l);
    assert_eq!(
        actions(&p, "amy@x.com"),
        json!([
            { "op": "release-number", "number": "+15551230000" },
            { "op": "assign-number", "number": "+442071230002",
              "numberType": "directRouting", "range": "london", "locationId": "loc-ldn" },
        ])
    );
    assert_eq!(p.summary.numbers_released, 1);
    assert_eq!(p.summary.numbers_assigned, 1);
}

#[test]
fn reserved_numbers_are_never_allocated_and_a_held_one_is_replaced() {
    let mut l = live(users(&["amy@x.com", "bob@x.com"]), vec![]);
    let amy = id_of(&l, "amy@x.com");
    hold(&mut l, "+442071230001", &amy);
    let p = plan_of(DR, &l);
    assert_eq!(
        actions(&p, "amy@x.com"),
        json!([
            { "op": "release-number", "number": "+442071230001" },
            { "op": "assign-number", "number": "+442071230002",
              "numberType": "directRouting", "range": "london", "locationId": "loc-ldn" },
        ])
    );
    assert_eq!(assigned(&p, "bob@x.com").as_deref(), Some("+442071230003"));
}

#[test]
fn a_reserved_number_can_be_pinned() {
    let kdl = format!("{DR}\nuser \"ceo@x.com\" number=\"+442071230000\"\n");
    let l = live(users(&["amy@x.com", "ceo@x.com"]), vec![]);
    let p = plan_of(&kdl, &l);
    assert_eq!(
        actions(&p, "ceo@x.com"),
        json!([{ "op": "assign-number", "number": "+442071230000",
                 "numberType": "directRouting", "range": "london", "locationId": "loc-ldn" }])
    );
    assert_eq!(assigned(&p, "amy@x.com").as_deref(), Some("+442071230002"));
    // Held already: nothing to do.
    let mut l = l;
    let ceo = id_of(&l, "ceo@x.com");
    hold(&mut l, "+442071230000", &ceo);
    assert_eq!(actions(&plan_of(&kdl, &l), "ceo@x.com"), json!([]));
}

#[test]
fn a_pin_wins_over_a_sticky_number() {
    let kdl = format!("{DR}\nuser \"ceo@x.com\" number=\"+442071230005\"\n");
    let mut l = live(users(&["ceo@x.com"]), vec![]);
    let ceo = id_of(&l, "ceo@x.com");
    hold(&mut l, "+442071230009", &ceo);
    let p = plan_of(&kdl, &l);
    assert_eq!(
        actions(&p, "ceo@x.com"),
        json!([
            { "op": "release-number", "number": "+442071230009" },
            { "op": "assign-number", "number": "+442071230005",
              "numberType": "directRouting", "range": "london", "locationId": "loc-ldn" },
        ])
    );
    assert_eq!(
        serde_json::to_value(&p.changes[0].reason).unwrap(),
        json!({ "kind": "rule", "name": "Everyone" }),
        "a pin alone does not change where the persona comes from"
    );
}

#[test]
fn a_pin_outside_every_range_is_allowed() {
    let kdl = format!("{DR}\nuser \"ceo@x.com\" number=\"+3531000000\"\n");
    let l = live(users(&["ceo@x.com"]), vec![]);
    assert_eq!(
        actions(&plan_of(&kdl, &l), "ceo@x.com"),
        json!([{ "op": "assign-number", "number": "+3531000000",
                 "numberType": "directRouting", "range": null, "locationId": null }])
    );
}

#[test]
fn pinned_numbers_are_never_given_to_others() {
    let kdl = format!("{DR}\nuser \"zed@x.com\" number=\"+442071230002\"\n");
    let l = live(users(&["amy@x.com", "zed@x.com"]), vec![]);
    let p = plan_of(&kdl, &l);
    assert_eq!(assigned(&p, "amy@x.com").as_deref(), Some("+442071230003"));
    assert_eq!(assigned(&p, "zed@x.com").as_deref(), Some("+442071230002"));
}

#[test]
fn a_pin_held_by_another_user_is_an_error() {
    let kdl = format!("{DR}\nuser \"ceo@x.com\" number=\"+442071230005\"\n");
    let mut l = live(users(&["amy@x.com", "ceo@x.com"]), vec![]);
    let amy = id_of(&l, "amy@x.com");
    hold(&mut l, "+442071230005", &amy);
    let p = plan_of(&kdl, &l);
    assert_eq!(codes(&p), vec!["pinned-number-taken"]);
    let e = &p.errors[0];
    assert_eq!(e.user.as_deref(), Some("ceo@x.com"));
    assert!(e.message.contains("+442071230005"), "{}", e.message);
    assert!(e.message.contains("amy@x.com"), "{}", e.message);
    assert!(p.has_errors());
    assert_eq!(assigned(&p, "ceo@x.com"), None);

    // Held by a resource account: also taken.
    let mut l = live(users(&["ceo@x.com"]), vec![]);
    hold_as(
        &mut l,
        "+442071230005",
        "resource-account-1",
        "voiceApplicationAssigned",
        NumberType::DirectRouting,
    );
    let p = plan_of(&kdl, &l);
    assert_eq!(codes(&p), vec!["pinned-number-taken"]);
    assert!(p.errors[0].message.contains("resource-account-1"));
}

#[test]
fn lowest_free_number_in_lower_cased_upn_order() {
    let mut l = live(
        users(&["Zed@x.com", "bob@x.com", "Amy@x.com", "carl@x.com"]),
        vec![],
    );
    let other = "someone-else";
    hold(&mut l, "+442071230003", other);
    let p = plan_of(DR, &l);
    assert_eq!(assigned(&p, "Amy@x.com").as_deref(), Some("+442071230002"));
    assert_eq!(assigned(&p, "bob@x.com").as_deref(), Some("+442071230004"));
    assert_eq!(assigned(&p, "carl@x.com").as_deref(), Some("+442071230005"));
    assert_eq!(assigned(&p, "Zed@x.com").as_deref(), Some("+442071230006"));
    // Changes are sorted by lower-cased UPN as well.
    let order: Vec<_> = p.changes.iter().map(|c| c.user.upn.as_str()).collect();
    assert_eq!(
        order,
        vec!["Amy@x.com", "bob@x.com", "carl@x.com", "Zed@x.com"]
    );
}

#[test]
fn ranges_are_tried_in_the_persona_order() {
    // `overflow` is numerically lower (+44161…) but listed second.
    let upns: Vec<String> = (0..11).map(|i| format!("u{i:02}@x.com")).collect();
    let refs: Vec<&str> = upns.iter().map(String::as_str).collect();
    let l = live(users(&refs), vec![]);
    let p = plan_of(DR, &l);
    let got: Vec<_> = upns
        .iter()
        .map(|u| assigned(&p, u).unwrap_or_else(|| "-".into()))
        .collect();
    assert_eq!(
        got,
        vec![
            "+442071230002",
            "+442071230003",
            "+442071230004",
            "+442071230005",
            "+442071230006",
            "+442071230007",
            "+442071230008",
            "+442071230009",
            "+441610000000",
            "+441610000001",
            "+441610000002",
        ]
    );
    assert!(p.errors.is_empty());
    let overflow = actions(&p, "u08@x.com");
    assert_eq!(overflow[0]["range"], "overflow");
    assert_eq!(overflow[0]["locationId"], Value::Null);

    // Reversed persona order: the other range first.
    let kdl = DR.replace(
        r#"number "london" "overflow""#,
        r#"number "overflow" "london""#,
    );
    let p = plan_of(&kdl, &l);
    assert_eq!(assigned(&p, "u00@x.com").as_deref(), Some("+441610000000"));
    assert_eq!(assigned(&p, "u03@x.com").as_deref(), Some("+442071230002"));
}

#[test]
fn blocks_are_used_lowest_first_whatever_their_written_order() {
    let kdl = r#"
range "r" type="direct-routing" {
    block "+442071239000" "+442071239001"
    block "+442071230000" "+442071230000"
}
persona "p" { number "r" }
rule "Everyone" persona="p"
"#;
    let l = live(users(&["a@x.com", "b@x.com", "c@x.com"]), vec![]);
    let p = plan_of(kdl, &l);
    assert_eq!(assigned(&p, "a@x.com").as_deref(), Some("+442071230000"));
    assert_eq!(assigned(&p, "b@x.com").as_deref(), Some("+442071239000"));
    assert_eq!(assigned(&p, "c@x.com").as_deref(), Some("+442071239001"));
}

#[test]
fn numbers_held_out_of_scope_or_by_resource_accounts_are_taken() {
    let kdl = format!(
        "tenant \"t\" {{ scope {{ usageLocation \"GB\" }} }}\n{DR}\nuser \"kiosk@x.com\" ignore=#true\n"
    );
    let mut us = vec![
        user("1", "amy@x.com", &[("usageLocation", "GB")]),
        user("2", "yank@x.com", &[("usageLocation", "US")]),
        user("3", "kiosk@x.com", &[("usageLocation", "GB")]),
    ];
    us[1].account_enabled = true;
    let mut l = live(us, vec![]);
    hold(&mut l, "+442071230002", "2"); // out of scope
    hold(&mut l, "+442071230003", "3"); // ignored
    hold_as(
        &mut l,
        "+442071230004",
        "auto-attendant",
        "voiceApplicationAssigned",
        NumberType::DirectRouting,
    );
    hold_as(
        &mut l,
        "+442071230005",
        "bridge",
        "conferenceAssigned",
        NumberType::DirectRouting,
    );
    let p = plan_of(&kdl, &l);
    assert_eq!(assigned(&p, "amy@x.com").as_deref(), Some("+442071230006"));
    assert_eq!(p.changes.len(), 1, "{:?}", p.changes);
}

#[test]
fn a_number_released_in_this_plan_is_not_reused() {
    let kdl = format!("{DR}\nuser \"amy@x.com\" persona=\"quiet\"\n");
    let mut gone = user("3", "gone@x.com", &[]);
    gone.account_enabled = false;
    let mut l = live(
        vec![
            user("1", "amy@x.com", &[]),
            user("2", "bob@x.com", &[]),
            gone,
        ],
        vec![],
    );
    hold(&mut l, "+442071230002", "1"); // amy: persona without numbers
    hold(&mut l, "+442071230003", "3"); // a leaver
    let p = plan_of(&kdl, &l);
    assert_eq!(
        actions(&p, "amy@x.com"),
        json!([{ "op": "release-number", "number": "+442071230002" }])
    );
    assert_eq!(
        actions(&p, "gone@x.com"),
        json!([{ "op": "release-number", "number": "+442071230003" }])
    );
    assert_eq!(assigned(&p, "bob@x.com").as_deref(), Some("+442071230004"));
}

const CP: &str = r#"
range "cp" type="calling-plan" {
    block "+442071230000" "+442071230009"
}
range "oc" type="operator-connect" location="loc-oc" {
    block "+442071240000" "+442071240009"
}
persona "cp" { number "cp" }
persona "oc" { number "oc" }
rule "CP" persona="cp" { when { department "cp" } }
rule "OC" persona="oc" { when { department "oc" } }
"#;

#[test]
fn calling_plan_and_operator_connect_use_acquired_inventory_only() {
    let us = vec![
        user("1", "a@x.com", &[("department", "cp")]),
        user("2", "b@x.com", &[("department", "cp")]),
        user("3", "c@x.com", &[("department", "oc")]),
    ];
    let mut l = live(us, vec![]);
    // +…0: not acquired (not in the inventory); +…1: no userAssignment;
    // +…2: held; +…3: assignable; +…4: assignable, but alternate casing.
    stock(
        &mut l,
        "+442071230001",
        NumberType::CallingPlan,
        &["conferenceAssignment"],
    );
    hold_as(
        &mut l,
        "+442071230002",
        "someone",
        "userAssigned",
        NumberType::CallingPlan,
    );
    stock(
        &mut l,
        "+442071230003",
        NumberType::CallingPlan,
        &["userAssignment"],
    );
    stock(
        &mut l,
        "+442071230004",
        NumberType::CallingPlan,
        &["UserAssignment", "voiceApplicationAssignment"],
    );
    stock(
        &mut l,
        "+442071240007",
        NumberType::OperatorConnect,
        &["userAssignment"],
    );
    let p = plan_of(CP, &l);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(
        actions(&p, "a@x.com"),
        json!([{ "op": "assign-number", "number": "+442071230003",
                 "numberType": "callingPlan", "range": "cp", "locationId": null }])
    );
    assert_eq!(assigned(&p, "b@x.com").as_deref(), Some("+442071230004"));
    assert_eq!(
        actions(&p, "c@x.com"),
        json!([{ "op": "assign-number", "number": "+442071240007",
                 "numberType": "operatorConnect", "range": "oc", "locationId": "loc-oc" }])
    );
}

#[test]
fn exhaustion_is_an_error_and_the_plan_cannot_be_applied() {
    let us = vec![
        user("1", "a@x.com", &[("department", "cp")]),
        user("2", "b@x.com", &[("department", "cp")]),
    ];
    let mut l = live(us, vec![]);
    stock(
        &mut l,
        "+442071230005",
        NumberType::CallingPlan,
        &["userAssignment"],
    );
    let p = plan_of(CP, &l);
    assert_eq!(assigned(&p, "a@x.com").as_deref(), Some("+442071230005"));
    assert_eq!(codes(&p), vec!["range-exhausted"]);
    assert_eq!(p.errors[0].user.as_deref(), Some("b@x.com"));
    assert!(
        p.errors[0].message.contains("`cp`"),
        "{}",
        p.errors[0].message
    );
    assert!(p.has_errors());
    assert_eq!(p.summary.errors, 1);

    // Direct Routing: both ranges full.
    let upns: Vec<String> = (0..12).map(|i| format!("u{i:02}@x.com")).collect();
    let refs: Vec<&str> = upns.iter().map(String::as_str).collect();
    let p = plan_of(DR, &live(users(&refs), vec![]));
    assert_eq!(codes(&p), vec!["range-exhausted"]);
    assert_eq!(p.errors[0].user.as_deref(), Some("u11@x.com"));
    assert!(
        p.errors[0].message.contains("`london`") && p.errors[0].message.contains("`overflow`"),
        "{}",
        p.errors[0].message
    );
    // The text view says it cannot be applied.
    let text = plan::render::text(&p, false);
    assert!(text.contains("cannot be applied"), "{text}");
}

#[test]
fn number_false_releases_every_number() {
    let kdl = format!("{DR}\nuser \"amy@x.com\" persona=\"quiet\"\n");
    let mut l = live(users(&["amy@x.com"]), vec![]);
    let amy = id_of(&l, "amy@x.com");
    hold(&mut l, "+442071230005", &amy);
    let n = e164("+3531000001");
    l.numbers.insert(
        n,
        NumberAssignment {
            number: n,
            number_type: Some(NumberType::DirectRouting),
            target: Some(amy.clone()),
            category: Some("private".into()),
            status: "userAssigned".into(),
            capabilities: vec![],
            location_id: None,
        },
    );
    let p = plan_of(&kdl, &l);
    assert_eq!(
        actions(&p, "amy@x.com"),
        json!([
            { "op": "release-number", "number": "+3531000001" },
            { "op": "release-number", "number": "+442071230005" },
        ])
    );
}

#[test]
fn a_persona_without_number_leaves_numbers_alone() {
    let kdl = format!("{DR}\nuser \"amy@x.com\" persona=\"unmanaged\"\n");
    let mut l = live(users(&["amy@x.com"]), vec![]);
    let amy = id_of(&l, "amy@x.com");
    hold(&mut l, "+15551230000", &amy);
    assert_eq!(actions(&plan_of(&kdl, &l), "amy@x.com"), json!([]));
}

#[test]
fn unknown_policy_names_are_errors_listing_what_exists() {
    let kdl = r#"
persona "sales" {
    policies {
        TeamsMeetingPolicy "Sales Meetngs"
        TeamsCallingPolicy "allowcalling"
        TenantDialPlan "Nowhere"
        OnlineVoiceRoutingPolicy "Global"
    }
}
rule "Everyone" persona="sales"
"#;
    let mut l = live(users(&["amy@x.com"]), vec![]);
    l.add_policy("TeamsMeetingPolicy", "Sales Meetings", "m1");
    l.add_policy("TeamsMeetingPolicy", "All Hands", "m2");
    l.add_policy("TeamsCallingPolicy", "AllowCalling", "c1");
    let p = plan_of(kdl, &l);
    assert_eq!(codes(&p), vec!["unknown-policy", "unknown-policy"]);
    let msgs: Vec<&str> = p.errors.iter().map(|e| e.message.as_str()).collect();
    let meeting = msgs.iter().find(|m| m.contains("Sales Meetngs")).unwrap();
    assert!(meeting.contains("`sales`"), "{meeting}");
    assert!(meeting.contains("TeamsMeetingPolicy"), "{meeting}");
    assert!(
        meeting.contains("`All Hands`") && meeting.contains("`Sales Meetings`"),
        "{meeting}"
    );
    let dial = msgs.iter().find(|m| m.contains("Nowhere")).unwrap();
    assert!(dial.contains("TenantDialPlan"), "{dial}");
    assert!(dial.contains("Global"), "{dial}");
    // A name in another case resolves to the tenant's spelling.
    let acts = actions(&p, "amy@x.com");
    assert!(
        acts.as_array().unwrap().iter().any(|a| a
            == &json!({ "op": "assign-policy", "policyType": "TeamsCallingPolicy",
                        "from": null, "to": "AllowCalling" })),
        "{acts}"
    );
}

#[test]
fn policy_actions_assign_change_and_remove() {
    let kdl = r#"
persona "sales" {
    policies {
        TeamsMeetingPolicy "Sales Meetings"
        TeamsCallingPolicy "AllowCalling"
        TenantDialPlan "Global"
        OnlineVoiceRoutingPolicy "UK"
    }
}
rule "Everyone" persona="sales"
"#;
    let mut us = users(&["amy@x.com"]);
    us[0]
        .policies
        .insert("TeamsCallingPolicy", "DisallowCalling".into());
    us[0].policies.insert("TenantDialPlan", "London".into());
    us[0]
        .policies
        .insert("OnlineVoiceRoutingPolicy", "uk".into());
    us[0]
        .policies
        .insert("TeamsMessagingPolicy", "Unmanaged".into());
    let mut l = live(us, vec![]);
    for (t, n) in [
        ("TeamsMeetingPolicy", "Sales Meetings"),
        ("TeamsCallingPolicy", "AllowCalling"),
        ("TeamsCallingPolicy", "DisallowCalling"),
        ("TenantDialPlan", "London"),
        ("OnlineVoiceRoutingPolicy", "UK"),
    ] {
        l.add_policy(t, n, n);
    }
    let p = plan_of(kdl, &l);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(
        actions(&p, "amy@x.com"),
        json!([
            { "op": "assign-policy", "policyType": "TeamsCallingPolicy", "from": "DisallowCalling", "to": "AllowCalling" },
            { "op": "assign-policy", "policyType": "TeamsMeetingPolicy", "from": null, "to": "Sales Meetings" },
            { "op": "remove-policy", "policyType": "TenantDialPlan", "from": "London" },
        ])
    );
    assert_eq!(p.summary.policies_assigned, 2);
    assert_eq!(p.summary.policies_removed, 1);
}

#[test]
fn a_number_reserved_by_any_range_is_reserved() {
    // `other` reserves a number that lies in a block of `overflow` (a
    // validation warning): it is still never given by rules, nor kept.
    let kdl = r#"
range "overflow" type="direct-routing" {
    block "+441610000000" "+441610000002"
}
range "other" type="direct-routing" {
    block "+441620000000" "+441620000000"
    reserve "+441610000000"
}
persona "p" { number "overflow" "other" }
rule "Everyone" persona="p"
"#;
    let mut l = live(users(&["amy@x.com", "bob@x.com"]), vec![]);
    let bob = id_of(&l, "bob@x.com");
    hold(&mut l, "+441610000000", &bob);
    let p = plan_of(kdl, &l);
    assert_eq!(assigned(&p, "amy@x.com").as_deref(), Some("+441610000001"));
    assert_eq!(
        actions(&p, "bob@x.com"),
        json!([
            { "op": "release-number", "number": "+441610000000" },
            { "op": "assign-number", "number": "+441610000002",
              "numberType": "directRouting", "range": "overflow", "locationId": null },
        ])
    );
}

#[test]
fn a_pin_held_as_a_private_line_becomes_the_primary_number() {
    let kdl = format!("{DR}\nuser \"ceo@x.com\" number=\"+442071230005\"\n");
    let mut l = live(users(&["ceo@x.com"]), vec![]);
    let ceo = id_of(&l, "ceo@x.com");
    hold(&mut l, "+442071230005", &ceo);
    l.numbers.get_mut(&e164("+442071230005")).unwrap().category = Some("private".into());
    let p = plan_of(&kdl, &l);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(
        actions(&p, "ceo@x.com"),
        json!([
            { "op": "release-number", "number": "+442071230005" },
            { "op": "assign-number", "number": "+442071230005",
              "numberType": "directRouting", "range": "london", "locationId": "loc-ldn" },
        ])
    );
}

#[test]
fn a_pinned_calling_plan_number_must_be_acquired() {
    let kdl = format!(
        "{CP}\nuser \"a@x.com\" number=\"+442071230001\"\nuser \"b@x.com\" number=\"+442071230002\"\nuser \"c@x.com\" number=\"+442071230003\"\n"
    );
    let us = vec![
        user("1", "a@x.com", &[("department", "cp")]),
        user("2", "b@x.com", &[("department", "cp")]),
        user("3", "c@x.com", &[("department", "cp")]),
    ];
    let mut l = live(us, vec![]);
    // 01: not acquired; 02: no userAssignment capability; 03: fine.
    stock(
        &mut l,
        "+442071230002",
        NumberType::CallingPlan,
        &["voiceApplicationAssignment"],
    );
    stock(
        &mut l,
        "+442071230003",
        NumberType::CallingPlan,
        &["userAssignment"],
    );
    let p = plan_of(&kdl, &l);
    assert_eq!(
        codes(&p),
        vec!["pinned-number-unavailable", "pinned-number-unavailable"]
    );
    assert!(
        p.errors[0].message.contains("inventory"),
        "{}",
        p.errors[0].message
    );
    assert!(
        p.errors[1].message.contains("userAssignment"),
        "{}",
        p.errors[1].message
    );
    assert_eq!(assigned(&p, "c@x.com").as_deref(), Some("+442071230003"));
}

#[test]
fn allocation_order_does_not_depend_on_the_order_users_are_listed() {
    let mut l = LiveState {
        tenant_id: "t".into(),
        users: users(&["zed@x.com", "Amy@x.com", "bob@x.com"]),
        ..LiveState::default()
    };
    // Deliberately not `finish()`ed: the users stay in the listed order.
    let p = plan_of(DR, &l);
    assert_eq!(assigned(&p, "Amy@x.com").as_deref(), Some("+442071230002"));
    assert_eq!(assigned(&p, "bob@x.com").as_deref(), Some("+442071230003"));
    assert_eq!(assigned(&p, "zed@x.com").as_deref(), Some("+442071230004"));
    l.finish();
    assert_eq!(plan_of(DR, &l), p);
}
