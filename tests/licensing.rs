//! Teams Phone licensing (issue 13, item 4): a user who would get a number
//! without the licence for it is a plan error for that user and takes no
//! number, others go on; a snapshot without licence data plans as before;
//! the emulator refuses `assignNumber` as Teams does; Graph and the file
//! plan alike; `explain` shows the verdict; bad licence data is refused
//! naming its place.

use roster::apply;
use roster::live::LiveState;
use roster::manifest::{self, Loaded};
use roster::plan::{Action, Meta, Plan, TenantInfo};
use roster::provider::Provider;
use roster::provider::graph::Wanted;
use serde_json::{Value, json};

use crate::common::emu::{Emu, SECRET};
use crate::common::repo;
use crate::common::work::Work;

const TEAMS_PHONE_SKU: &str = "e43b5b99-8dfb-405f-9987-dc307f34bcbd";
const E5: &str = "06ebc4ee-1bb5-47dd-8120-11324bc54e06";
const E5_MCOEV: &str = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7";
const CALLING_PLAN_SKU: &str = "0dab259f-bf13-4952-b7f8-7db8f131b28d";

const CONFIG: &str = r#"
range "dr" type="direct-routing" {
    block "+442071230000" "+442071230009"
}
range "cp" type="calling-plan" {
    block "+35315550100" "+35315550109"
}
persona "desk" {
    number "dr"
}
persona "dublin" {
    number "cp"
}
rule "Dublin" persona="dublin" {
    when { city "Dublin" }
}
rule "Sales" persona="desk" {
    when { jobTitle "Sales" }
}
"#;

fn loaded(extra: &str) -> Loaded {
    let l = manifest::parse_str("config.kdl", &format!("{CONFIG}{extra}"));
    assert!(
        !l.has_errors(),
        "{}",
        l.diagnostics.render(&l.sources, false)
    );
    l
}

fn skus() -> Value {
    json!([
        {"skuId": E5, "skuPartNumber": "SPE_E5", "servicePlans": [
            {"servicePlanId": E5_MCOEV, "servicePlanName": "MCOEV"},
            {"servicePlanId": "57ff2da0-773e-42df-b2af-ffb7a2317929", "servicePlanName": "TEAMS1"}]},
        {"skuId": TEAMS_PHONE_SKU, "skuPartNumber": "MCOEV", "servicePlans": [
            {"servicePlanId": E5_MCOEV, "servicePlanName": "MCOEV"}]},
        {"skuId": CALLING_PLAN_SKU, "skuPartNumber": "MCOPSTN1", "servicePlans": [
            {"servicePlanId": "4ed3ff63-69d7-4fb7-b984-5aec7f605ca8", "servicePlanName": "MCOPSTN1"}]}
    ])
}

fn licence(sku: &str) -> Value {
    json!({"skuId": sku, "disabledPlans": []})
}

/// A user: `Sales`, in `city`, with these licences (`null`: the field is
/// left out).
fn user(i: u32, name: &str, city: &str, licences: Value) -> Value {
    let mut u = json!({
        "id": format!("00000000-0000-0000-0000-00000000000{i}"),
        "userPrincipalName": format!("{name}@contoso.com"),
        "displayName": name,
        "jobTitle": "Sales",
        "city": city,
        "usageLocation": if city == "Dublin" { "IE" } else { "GB" },
    });
    if !licences.is_null() {
        u["assignedLicenses"] = licences;
    }
    u
}

/// Amy and Cat licensed for Teams Phone, Bob for nothing (London); Dora
/// (Calling Plan too), Eve (Teams Phone only) and Finn (Calling Plan too)
/// in Dublin; inventory Calling Plan numbers for Dublin.
fn tenant(licensed: bool) -> Value {
    let mut numbers = Vec::new();
    for n in 0..3 {
        numbers.push(json!({
            "telephoneNumber": format!("+3531555010{n}"), "numberType": "callingPlan",
            "assignmentStatus": "unassigned", "capabilities": ["userAssignment"]
        }));
    }
    let mut t = json!({
        "format_version": 1,
        "tenantId": "contoso",
        "users": [
            user(1, "amy", "London", json!([licence(E5)])),
            user(2, "bob", "London", json!([])),
            user(3, "cat", "London", json!([licence(TEAMS_PHONE_SKU)])),
            user(4, "dora", "Dublin", json!([licence(E5), licence(CALLING_PLAN_SKU)])),
            user(5, "eve", "Dublin", json!([licence(E5)])),
            user(6, "finn", "Dublin", json!([licence(TEAMS_PHONE_SKU), licence(CALLING_PLAN_SKU)])),
        ],
        "numberAssignments": numbers,
    });
    if licensed {
        t["subscribedSkus"] = skus();
    }
    t
}

fn live_of(t: &Value) -> LiveState {
    let snap = roster::snapshot::parse("tenant.json", &t.to_string()).unwrap();
    roster::snapshot::to_live("tenant.json", &snap).unwrap()
}

fn meta() -> Meta {
    Meta {
        created_at: "2026-01-01T00:00:00Z".into(),
        digest: "sha256:test".into(),
        git: None,
        tenant: TenantInfo {
            name: "contoso".into(),
            provider: "any".into(),
        },
        limit: Vec::new(),
    }
}

fn plan_of(l: &Loaded, live: &LiveState) -> Plan {
    roster::plan::diff(&roster::desired::compute(&l.manifest, live), live, meta())
}

/// The number each user is given (UPN prefix -> number).
fn given(p: &Plan) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for c in &p.changes {
        for a in &c.actions {
            if let Action::AssignNumber { number, .. } = a {
                let who = c.user.upn.split('@').next().unwrap().to_string();
                out.push((who, number.to_string()));
            }
        }
    }
    out
}

fn unlicensed(p: &Plan) -> Vec<(String, String)> {
    p.errors
        .iter()
        .filter(|e| e.code == "unlicensed-user")
        .map(|e| (e.user.clone().unwrap_or_default(), e.message.clone()))
        .collect()
}

#[test]
fn an_unlicensed_user_is_an_error_and_takes_no_number() {
    let l = loaded("");
    let p = plan_of(&l, &live_of(&tenant(true)));
    let errors = unlicensed(&p);
    let bob: Vec<&(String, String)> = errors
        .iter()
        .filter(|(u, _)| u == "bob@contoso.com")
        .collect();
    assert_eq!(bob.len(), 1, "{errors:?}");
    let message = &bob[0].1;
    assert!(
        message.starts_with(
            "`bob@contoso.com` would get a number from range `dr` but is not licensed for Teams Phone (`MCOEV`)"
        ),
        "{message}"
    );
    assert!(
        message.contains("assign a licence that includes Teams Phone"),
        "{message}"
    );
    // Bob takes no number: Cat, after him in UPN order, gets the one he
    // would have had. Eve has Teams Phone but no Calling Plan: the Calling
    // Plan number she would get goes to Finn.
    let want = [
        ("amy", "+442071230000"),
        ("cat", "+442071230001"),
        ("dora", "+35315550100"),
        ("finn", "+35315550101"),
    ];
    assert_eq!(given(&p), want.map(|(u, n)| (u.to_string(), n.to_string())));
    assert!(
        p.changes
            .iter()
            .all(|c| c.user.upn != "bob@contoso.com" && c.user.upn != "eve@contoso.com"),
        "no change for the unlicensed users"
    );
    // The plan has errors: it cannot be applied.
    assert!(p.has_errors());
}

#[test]
fn a_calling_plan_number_needs_a_calling_plan() {
    let l = loaded("");
    let p = plan_of(&l, &live_of(&tenant(true)));
    let eve: Vec<(String, String)> = unlicensed(&p)
        .into_iter()
        .filter(|(u, _)| u == "eve@contoso.com")
        .collect();
    assert_eq!(eve.len(), 1, "{:?}", p.errors);
    let message = &eve[0].1;
    assert!(
        message.starts_with(
            "`eve@contoso.com` would get a `callingPlan` number from range `cp` but is not licensed for a Calling Plan"
        ),
        "{message}"
    );
    assert!(
        message.contains("assign a Calling Plan licence"),
        "{message}"
    );
    // A pinned Calling Plan number is checked as well; a pinned Direct
    // Routing number is fine for her.
    let l = loaded("user \"eve@contoso.com\" number=\"+35315550102\"\n");
    let p = plan_of(&l, &live_of(&tenant(true)));
    let eve: Vec<String> = unlicensed(&p)
        .into_iter()
        .filter(|(u, _)| u == "eve@contoso.com")
        .map(|(_, m)| m)
        .collect();
    assert_eq!(eve.len(), 1, "{:?}", p.errors);
    assert!(
        eve[0].contains("the pinned `callingPlan` number `+35315550102`"),
        "{}",
        eve[0]
    );
    let l = loaded("user \"eve@contoso.com\" number=\"+442071230009\"\n");
    let p = plan_of(&l, &live_of(&tenant(true)));
    assert!(
        !unlicensed(&p).iter().any(|(u, _)| u == "eve@contoso.com"),
        "{:?}",
        p.errors
    );
    assert!(given(&p).contains(&("eve".to_string(), "+442071230009".to_string())));
}

#[test]
fn a_plan_disabled_for_the_user_counts_as_unlicensed() {
    let mut t = tenant(true);
    // Amy's E5 with its Teams Phone plan turned off.
    t["users"][0]["assignedLicenses"][0]["disabledPlans"] = json!([E5_MCOEV.to_uppercase()]);
    let p = plan_of(&loaded(""), &live_of(&t));
    let amy: Vec<String> = unlicensed(&p)
        .into_iter()
        .filter(|(u, _)| u == "amy@contoso.com")
        .map(|(_, m)| m)
        .collect();
    assert_eq!(amy.len(), 1, "{:?}", p.errors);
    assert!(
        amy[0].contains("disabled in `disabledPlans` of `SPE_E5`"),
        "{}",
        amy[0]
    );
    // With Teams Phone Standard beside it, she is licensed again.
    t["users"][0]["assignedLicenses"]
        .as_array_mut()
        .unwrap()
        .push(licence(TEAMS_PHONE_SKU));
    let p = plan_of(&loaded(""), &live_of(&t));
    assert!(!unlicensed(&p).iter().any(|(u, _)| u == "amy@contoso.com"));
}

#[test]
fn a_snapshot_without_licence_data_plans_as_before() {
    // No `subscribedSkus`: nothing is checked, whatever `assignedLicenses`
    // say (Bob and Eve get numbers like everyone else).
    let l = loaded("");
    let p = plan_of(&l, &live_of(&tenant(false)));
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(given(&p).len(), 6);
    let mut bare = tenant(false);
    for u in bare["users"].as_array_mut().unwrap() {
        u.as_object_mut().unwrap().remove("assignedLicenses");
    }
    let p_bare = plan_of(&l, &live_of(&bare));
    assert_eq!(
        serde_json::to_string(&p).unwrap(),
        serde_json::to_string(&p_bare).unwrap()
    );

    // The example records no licences (its users carry `assignedLicenses`,
    // some empty): its plan is the one without them, and with an empty
    // `subscribedSkus` every user that would get a number is unlicensed.
    let example = roster::config_dir::load(&repo("examples/tenant-config")).unwrap();
    let text = std::fs::read_to_string(repo("examples/tenant-config/tenant.json")).unwrap();
    let mut t: Value = serde_json::from_str(&text).unwrap();
    let p = plan_of(&example, &live_of(&t));
    assert!(unlicensed(&p).is_empty());
    for u in t["users"].as_array_mut().unwrap() {
        u.as_object_mut().unwrap().remove("assignedLicenses");
    }
    assert_eq!(
        serde_json::to_string(&p).unwrap(),
        serde_json::to_string(&plan_of(&example, &live_of(&t))).unwrap()
    );
    t["subscribedSkus"] = json!([]);
    let p = plan_of(&example, &live_of(&t));
    assert!(!unlicensed(&p).is_empty());
    assert!(given(&p).is_empty(), "nobody is licensed for a number");
}

#[test]
fn graph_plans_a_licensed_tenant_as_the_file_does() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("tenant.json");
    std::fs::write(&seed, tenant(true).to_string()).unwrap();
    let l = loaded("");
    let file_live = roster::files::read_snapshot(&seed).unwrap().1;
    let emu = Emu::start(&seed, |_| {});
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&l.manifest));
    let graph_live = graph.fetch().expect("fetch through Graph");
    assert_eq!(graph_live.licensing, file_live.licensing);
    for (g, f) in graph_live.users.iter().zip(&file_live.users) {
        assert_eq!(g.licences, f.licences, "{}", g.upn);
    }
    let (a, b) = (plan_of(&l, &file_live), plan_of(&l, &graph_live));
    assert_eq!(
        serde_json::to_value(&a.changes).unwrap(),
        serde_json::to_value(&b.changes).unwrap()
    );
    assert_eq!(a.errors, b.errors);
    assert_eq!(unlicensed(&b).len(), 2);
    assert_eq!(
        emu.count("GET /subscribedSkus", Some(200)),
        1,
        "one request"
    );

    // A seed without licence data: every user is served the default
    // licence set, so Graph plans as the file does (no errors at all).
    std::fs::write(&seed, tenant(false).to_string()).unwrap();
    let file_live = roster::files::read_snapshot(&seed).unwrap().1;
    let emu = Emu::start(&seed, |_| {});
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&l.manifest));
    let graph_live = graph.fetch().unwrap();
    assert!(
        graph_live.licensing.is_some(),
        "Graph always has licence data"
    );
    let (a, b) = (plan_of(&l, &file_live), plan_of(&l, &graph_live));
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    assert_eq!(
        serde_json::to_value(&a.changes).unwrap(),
        serde_json::to_value(&b.changes).unwrap()
    );
    // The default set is served, never written.
    assert!(!emu.emu.snapshot_text().contains("subscribedSkus"));
}

#[test]
fn the_emulator_refuses_a_number_for_an_unlicensed_user() {
    // The plan comes from a file that does not record licences, so it
    // gives Bob and Eve numbers; the emulator's tenant does record them.
    let l = loaded("");
    let p = plan_of(&l, &live_of(&tenant(false)));
    assert!(p.errors.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("tenant.json");
    std::fs::write(&seed, tenant(true).to_string()).unwrap();
    let emu = Emu::start(&seed, |_| {});
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&l.manifest));
    let report = apply::execute(&p, &mut graph, 200, &mut |_, _| {}).unwrap();
    let failed: Vec<(&str, &Vec<String>)> = report
        .users
        .iter()
        .filter(|u| !u.errors.is_empty())
        .map(|u| (u.upn.as_str(), &u.errors))
        .collect();
    assert_eq!(report.failed, 2, "{failed:?}");
    let errors_of = |upn: &str| {
        failed
            .iter()
            .find(|(u, _)| *u == upn)
            .map(|(_, e)| e.join("; "))
            .unwrap_or_default()
    };
    assert!(
        errors_of("bob@contoso.com").contains(
            "User '00000000-0000-0000-0000-000000000002' lacks appropriate licenses to assign a 'DirectRouting' number"
        ),
        "{failed:?}"
    );
    assert!(
        errors_of("eve@contoso.com")
            .contains("lacks appropriate licenses to assign a 'CallingPlan' number"),
        "{failed:?}"
    );
    // The others were applied; Bob and Eve hold nothing.
    let live = emu.live();
    let held = live.numbers_by_holder();
    for (id, has) in [
        ("1", true),
        ("2", false),
        ("3", true),
        ("4", true),
        ("5", false),
    ] {
        let id = format!("00000000-0000-0000-0000-00000000000{id}");
        assert_eq!(held.contains_key(id.as_str()), has, "{id}");
    }
}

#[test]
fn without_the_licence_permission_the_read_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("tenant.json");
    std::fs::write(&seed, tenant(true).to_string()).unwrap();
    let emu = Emu::start(&seed, |o| {
        o.roles.retain(|r| r != "LicenseAssignment.Read.All");
    });
    let l = loaded("");
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&l.manifest));
    let err = graph.fetch().unwrap_err().to_string();
    assert!(err.contains("403"), "{err}");
    assert!(err.contains("LicenseAssignment.Read.All"), "{err}");
}

/// The workflow fixture with licences recorded: everyone has E5 but
/// `without`.
fn licensed_work(without: &str) -> Work {
    let w = Work::new();
    let mut t = w.tenant_json();
    for u in t["users"].as_array_mut().unwrap() {
        let lic = if u["userPrincipalName"] == without {
            json!([])
        } else {
            json!([licence(E5)])
        };
        u["assignedLicenses"] = lic;
    }
    t["subscribedSkus"] = skus();
    w.set_tenant(&t);
    w
}

#[test]
fn plan_and_explain_show_the_verdict() {
    let w = licensed_work("amy@contoso.com");
    let out = w.run(&["plan"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("unlicensed-user"), "{out:?}");
    assert!(
        out.stdout.contains("`amy@contoso.com` would get"),
        "{out:?}"
    );

    let out = w.run(&["explain", "amy@contoso.com"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("licences: (none)"), "{out:?}");
    assert!(
        out.stdout.contains("✗ Teams Phone (`MCOEV`): not enabled"),
        "{out:?}"
    );
    assert!(out.stdout.contains("error: [unlicensed-user]"), "{out:?}");
    let out = w.run(&["explain", "dan@contoso.com"]);
    assert!(
        out.stdout.contains(&format!("licences: SPE_E5 ({E5})")),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains("✓ Teams Phone (`MCOEV`): `MCOEV` from `SPE_E5`"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("✗ a Calling Plan: not enabled"),
        "{out:?}"
    );

    // Without licence data, explain says licensing is not checked.
    let w = Work::new();
    let out = w.run(&["explain", "amy@contoso.com"]);
    assert!(
        out.stdout
            .contains("licences: not recorded for this tenant"),
        "{out:?}"
    );
}

#[test]
fn a_saved_plan_is_refused_once_its_user_lost_the_licence() {
    let w = licensed_work("nobody");
    let (out, plan) = w.save_plan("plan.json");
    assert_eq!(out.code, 0, "{out:?}");
    // Amy's licence is taken away before the apply.
    let mut t = w.tenant_json();
    for u in t["users"].as_array_mut().unwrap() {
        if u["userPrincipalName"] == "amy@contoso.com" {
            u["assignedLicenses"] = json!([]);
        }
    }
    w.set_tenant(&t);
    let before = w.tenant();
    let out = w.run(&["apply", plan.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("amy@contoso.com"), "{out:?}");
    assert!(out.stderr.contains("Teams Phone"), "{out:?}");
    assert_eq!(w.tenant(), before, "nothing was written");
}

#[test]
fn malformed_licence_data_is_refused_naming_the_place() {
    let w = Work::new();
    let mut t = w.tenant_json();
    t["users"][1]["assignedLicenses"] = json!([{"skuId": E5, "disabledPlans": "none"}]);
    w.set_tenant(&t);
    let out = w.run(&["plan"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("is malformed at `$.users[1].assignedLicenses[0].disabledPlans`"),
        "{out:?}"
    );

    let w = licensed_work("nobody");
    let mut t = w.tenant_json();
    t["subscribedSkus"][1]["skuId"] = json!(E5);
    w.set_tenant(&t);
    let out = w.run(&["plan"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("is inconsistent at `$.subscribedSkus[1].skuId`"),
        "{out:?}"
    );
    assert!(out.stderr.contains("hint:"), "{out:?}");
}

#[test]
fn a_saved_plan_may_not_swap_in_a_number_the_user_is_not_licensed_for() {
    // Eve's persona draws from `dr`, then `cp`: roster gives her a Direct
    // Routing number. A plan that gives her a free Calling Plan number of
    // `cp` instead would pass as "another number roster could have
    // picked", but she has no Calling Plan.
    let l = loaded(
        "persona \"both\" {\n    number \"dr\" \"cp\"\n}\nuser \"eve@contoso.com\" persona=\"both\"\n",
    );
    let live = live_of(&tenant(true));
    let fresh = plan_of(&l, &live);
    assert!(given(&fresh).contains(&("eve".to_string(), "+442071230002".to_string())));
    let mut edited = fresh.clone();
    let eve = edited
        .changes
        .iter_mut()
        .find(|c| c.user.upn == "eve@contoso.com")
        .unwrap();
    for a in &mut eve.actions {
        if let Action::AssignNumber {
            number,
            number_type,
            range,
            location_id,
        } = a
        {
            *number = roster::numbers::E164::parse("+35315550102").unwrap();
            *number_type = roster::numbers::NumberType::CallingPlan;
            *range = Some("cp".into());
            *location_id = None;
        }
    }
    let differences = roster::apply::verify::differences(
        &edited,
        &fresh,
        &l.manifest,
        &live,
        &Default::default(),
    );
    assert_eq!(
        differences,
        vec![(
            "eve@contoso.com".to_string(),
            "`number +35315550102 (callingPlan, range cp)` is a `callingPlan` number and the user is not licensed for a Calling Plan".to_string()
        )]
    );
    // The plan as roster makes it passes.
    assert!(
        roster::apply::verify::differences(&fresh, &fresh, &l.manifest, &live, &Default::default())
            .is_empty()
    );
}
