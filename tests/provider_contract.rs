//! The provider contract: plan, apply, plan again shows no changes, against
//! the file provider and against the Graph emulator over real HTTP on
//! loopback; the emulator ends in the state the file provider produces.
//! Plus the failure modes of the Graph client: throttling, faults, token
//! expiry, a wrong secret, a missing permission, paging, a failed number
//! operation, and batched policy writes.

use std::time::Duration;

use roster::apply;
use roster::live::LiveState;
use roster::manifest::{self, Loaded};
use roster::plan::{self, Meta, Plan, TenantInfo};
use roster::provider::Provider;
use roster::provider::file::FileProvider;
use roster::provider::graph::Wanted;
use serde_json::{Value, json};

use crate::common::emu::{Emu, SECRET};

/// A deterministic tenant: `n` users over a few cities and titles, some
/// disabled, some holding numbers (in range, out of range), some with
/// direct assignments, nested groups, and a resource account's number.
fn tenant(n: usize) -> Value {
    let cities = ["London", " london", "Manchester", "Dublin", "Paris", ""];
    let titles = ["Sales", "Engineer", "Sales Manager", "Support", "Executive"];
    let mut users = Vec::new();
    let mut numbers = Vec::new();
    let mut assignments = Vec::new();
    for i in 0..n {
        let id = format!("00000000-0000-0000-0000-{i:012}");
        let mut u = json!({
            "id": id,
            "userPrincipalName": format!("User{i:05}@contoso.com"),
            "displayName": format!("User {i}"),
            "accountEnabled": i % 17 != 3,
            "jobTitle": titles[i % titles.len()],
            "usageLocation": if i % 7 == 0 { "IE" } else { "GB" },
        });
        let city = cities[i % cities.len()];
        if !city.is_empty() {
            u["city"] = json!(city);
        }
        users.push(u);
        if i % 5 == 0 {
            // Holds a London number already: sticky, or wrong for its persona.
            numbers.push(json!({
                "telephoneNumber": format!("+44207123{:04}", i % 9000),
                "numberType": "directRouting", "assignmentTargetId": id,
                "assignmentCategory": "primary", "assignmentStatus": "userAssigned",
                "capabilities": ["userAssignment"]
            }));
        }
        if i % 4 == 1 {
            assignments.push(json!({ "userId": id, "policyType": "TeamsCallingPolicy", "policyName": "AllowCalling" }));
        }
        if i % 6 == 2 {
            assignments.push(json!({ "userId": id, "policyType": "TeamsMeetingPolicy", "policyName": "Default Meetings" }));
        }
    }
    // A resource account holds a number inside the London range.
    numbers.push(json!({
        "telephoneNumber": "+442071239998", "numberType": "directRouting",
        "assignmentTargetId": "aaaaaaaa-0000-0000-0000-000000000000",
        "assignmentCategory": "primary", "assignmentStatus": "voiceApplicationAssigned",
        "capabilities": ["voiceApplicationAssignment"]
    }));
    // Dublin calling-plan inventory.
    for k in 0..(n / 2 + 10) {
        numbers.push(json!({
            "telephoneNumber": format!("+35315550{:04}", k), "numberType": "callingPlan",
            "assignmentStatus": "unassigned", "capabilities": ["userAssignment"]
        }));
    }
    let members: Vec<String> = (0..n)
        .filter(|i| i % 10 == 4)
        .map(|i| format!("00000000-0000-0000-0000-{i:012}"))
        .collect();
    json!({
        "format_version": 1,
        "tenantId": "contoso",
        "users": users,
        "groups": [
            { "id": "11111111-0000-0000-0000-000000000001", "displayName": "Executives", "members": ["11111111-0000-0000-0000-000000000002"] },
            { "id": "11111111-0000-0000-0000-000000000002", "displayName": "Board", "members": members },
        ],
        "policies": [
            { "policyType": "TeamsCallingPolicy", "name": "AllowCalling", "policyId": "pc-allow" },
            { "policyType": "TeamsCallingPolicy", "name": "DisallowCalling", "policyId": "pc-deny" },
            { "policyType": "TeamsMeetingPolicy", "name": "Sales Meetings", "policyId": "pm-sales" },
            { "policyType": "TeamsMeetingPolicy", "name": "Default Meetings", "policyId": "pm-default" },
            { "policyType": "TenantDialPlan", "name": "London", "policyId": "dp-london" },
            { "policyType": "TenantDialPlan", "name": "Dublin", "policyId": "dp-dublin" },
        ],
        "policyAssignments": assignments,
        "numberAssignments": numbers,
    })
}

const CONFIG: &str = r#"
tenant "contoso" {
    leavers release-number=#true reset-policies=#true
    safety max-changed-percent=100
}
range "london" type="direct-routing" location="loc-london" {
    block "+442071230000" "+442071239999"
    reserve "+442071230000"
}
range "dublin" type="calling-plan" {
    block "+353155500000" "+353155509999"
}
persona "exec" {
    policies { TeamsCallingPolicy "AllowCalling"; TeamsMeetingPolicy "Sales Meetings" }
    number "london"
}
persona "uk" {
    policies { TenantDialPlan "London"; TeamsCallingPolicy "AllowCalling"; TeamsMeetingPolicy "global" }
    number "london"
}
persona "ie" {
    policies { TenantDialPlan "Dublin"; TeamsCallingPolicy "AllowCalling" }
    number "dublin"
}
persona "no-phone" {
    policies { TeamsCallingPolicy "DisallowCalling" }
    number #false
}
rule "Executives" persona="exec" { when { memberOf "Executives" } }
rule "Ireland" persona="ie" { when { usageLocation "IE" } }
rule "Support has no phone" persona="no-phone" { when { jobTitle contains="support" } }
rule "UK" persona="uk" { when { city "London" "Manchester" } }
"#;

pub(crate) fn config() -> Loaded {
    let l = manifest::parse_str("config.kdl", CONFIG);
    assert!(
        !l.has_errors(),
        "{}",
        l.diagnostics.render(&l.sources, false)
    );
    l
}

fn make_plan(loaded: &Loaded, p: &mut dyn Provider) -> Plan {
    let live = p.fetch().expect("fetch");
    let desired = roster::desired::compute(&loaded.manifest, &live);
    plan::diff(
        &desired,
        &live,
        Meta {
            created_at: "2026-01-01T00:00:00Z".into(),
            digest: loaded.digest(),
            git: None,
            tenant: TenantInfo {
                name: "contoso".into(),
                provider: "any".into(),
            },
            limit: Vec::new(),
        },
    )
}

pub(crate) fn write_tenant(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let path = dir.join("tenant.json");
    std::fs::write(&path, serde_json::to_string_pretty(&tenant(n)).unwrap()).unwrap();
    path
}

/// Plan, apply, plan again: empty. Returns the first plan and the report.
pub(crate) fn converge(
    loaded: &Loaded,
    p: &mut dyn Provider,
    batch: usize,
) -> (Plan, apply::Report) {
    let first = make_plan(loaded, p);
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert!(first.has_changes());
    let report = apply::execute(&first, p, batch, &mut |_, _| {}).expect("apply");
    assert_eq!(
        report.failed,
        0,
        "{:?}",
        report
            .users
            .iter()
            .filter(|u| !u.errors.is_empty())
            .collect::<Vec<_>>()
    );
    let again = make_plan(loaded, p);
    assert!(
        again.changes.is_empty(),
        "plan after apply is not empty: {}",
        again.to_json()
    );
    (first, report)
}

/// No number is held by two users, and every user holds at most one primary.
fn assert_numbers_sane(live: &LiveState) {
    let mut primaries = std::collections::HashMap::new();
    for n in live
        .numbers
        .values()
        .filter(|n| n.is_held() && n.is_primary())
    {
        *primaries.entry(n.target.clone()).or_insert(0) += 1;
    }
    for (user, count) in primaries {
        assert!(count <= 1, "{user:?} holds {count} primary numbers");
    }
}

fn comparable(live: &LiveState) -> Vec<String> {
    let mut out = Vec::new();
    for u in &live.users {
        out.push(format!("{} {:?}", u.id, u.policies));
    }
    for n in live.numbers.values() {
        out.push(format!(
            "{} {:?} {} {:?}",
            n.number, n.target, n.status, n.location_id
        ));
    }
    out
}

#[test]
fn file_and_emulator_converge_to_the_same_state() {
    let loaded = config();
    let dir = tempfile::tempdir().unwrap();
    let file_path = write_tenant(dir.path(), 240);
    let seed_dir = tempfile::tempdir().unwrap();
    let seed = write_tenant(seed_dir.path(), 240);

    let mut file = FileProvider::new(&file_path);
    let (file_plan, _) = converge(&loaded, &mut file, 200);

    let emu = Emu::start(&seed, |_| {});
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&loaded.manifest));
    let (graph_plan, _) = converge(&loaded, &mut graph, 200);

    // The same inputs give the same plan through either provider.
    assert_eq!(file_plan.changes, graph_plan.changes);
    assert_eq!(file_plan.unmatched, graph_plan.unmatched);
    // And the same end state.
    let after_file = roster::files::read_snapshot(&file_path).unwrap().1;
    let after_emu = emu.live();
    assert_eq!(comparable(&after_file), comparable(&after_emu));
    assert_numbers_sane(&after_emu);
    // Released numbers are not reused in the same plan, and the resource
    // account's number was never touched.
    let ra = after_emu
        .numbers
        .get(&"+442071239998".parse().unwrap())
        .unwrap();
    assert_eq!(
        ra.target.as_deref(),
        Some("aaaaaaaa-0000-0000-0000-000000000000")
    );
}

#[test]
fn throttling_and_faults_still_converge() {
    let loaded = config();
    let dir = tempfile::tempdir().unwrap();
    let seed = write_tenant(dir.path(), 200);
    let emu = Emu::start(&seed, |o| {
        // Writes go 20 to a `$batch`, polls too, so an apply makes fewer
        // requests than it did one by one: a bucket small enough to meet.
        o.throttle_rps = 50.0;
        o.fault_rate = 0.10;
        o.seed = 7;
    });
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&loaded.manifest));
    converge(&loaded, &mut graph, 50);
    assert_numbers_sane(&emu.live());
    let throttled = emu.count_status(429);
    let faults = emu.count_status(503) + emu.count_status(504);
    assert!(
        throttled > 0,
        "no request was throttled: {}",
        emu.emu.stats_json()
    );
    assert!(
        faults > 0,
        "no fault was injected: {}",
        emu.emu.stats_json()
    );
}

#[test]
fn a_token_that_expires_mid_apply_is_renewed() {
    let loaded = config();
    let dir = tempfile::tempdir().unwrap();
    let seed = write_tenant(dir.path(), 120);
    // Tokens die after 100 ms while the client is told they last an hour
    // (an apply of batched writes takes a few hundred milliseconds).
    let emu = Emu::start(&seed, |o| {
        o.token_lifetime = Duration::from_millis(100);
        o.token_reported_lifetime = Some(Duration::from_secs(3600));
        o.latency = Duration::from_millis(15);
    });
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&loaded.manifest));
    converge(&loaded, &mut graph, 10);
    assert!(
        emu.count("unauthenticated", Some(401)) > 0,
        "no request met an expired token"
    );
    assert!(
        emu.count("POST /{tenant}/oauth2/v2.0/token", Some(200)) > 1,
        "the token was never renewed"
    );
}

#[test]
fn a_wrong_secret_is_a_clear_error_without_the_secret() {
    let loaded = config();
    let dir = tempfile::tempdir().unwrap();
    let seed = write_tenant(dir.path(), 5);
    let emu = Emu::start(&seed, |_| {});
    let mut graph = emu.provider(
        "not-the-secret-xyz",
        Wanted::from_manifest(&loaded.manifest),
    );
    let err = graph.fetch().unwrap_err().to_string();
    assert!(err.contains("invalid_client"), "{err}");
    assert!(err.contains("client secret"), "{err}");
    assert!(
        !err.contains("not-the-secret-xyz"),
        "the secret leaked: {err}"
    );
}

#[test]
fn a_missing_permission_names_the_permission() {
    let loaded = config();
    let dir = tempfile::tempdir().unwrap();
    let seed = write_tenant(dir.path(), 30);
    let emu = Emu::start(&seed, |o| {
        o.roles = vec![
            "User.Read.All".into(),
            "GroupMember.Read.All".into(),
            "TeamsUserConfiguration.Read.All".into(),
            "TeamsPolicyUserAssign.ReadWrite.All".into(),
            "TeamsTelephoneNumber.Read.All".into(),
            "LicenseAssignment.Read.All".into(),
        ];
    });
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&loaded.manifest));
    let p = make_plan(&loaded, &mut graph);
    let report = apply::execute(&p, &mut graph, 200, &mut |_, _| {}).unwrap();
    assert!(report.failed > 0);
    let errors: Vec<&String> = report.users.iter().flat_map(|u| &u.errors).collect();
    assert!(
        errors
            .iter()
            .all(|e| e.contains("TeamsTelephoneNumber.ReadWrite.All")),
        "{errors:?}"
    );

    // Without the read permission, the fetch itself fails and says which.
    let emu = Emu::start(&seed, |o| {
        o.roles = vec!["User.Read.All".into(), "GroupMember.Read.All".into()]
    });
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&loaded.manifest));
    let err = graph.fetch().unwrap_err().to_string();
    assert!(err.contains("403"), "{err}");
    assert!(err.contains("application permission `Teams"), "{err}");
}

#[test]
fn paging_reads_every_page() {
    let loaded = config();
    let dir = tempfile::tempdir().unwrap();
    let seed = write_tenant(dir.path(), 2_100);
    let emu = Emu::start(&seed, |o| o.api.config_page = 100);
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&loaded.manifest));
    let live = graph.fetch().unwrap();
    assert_eq!(live.users.len(), 2_100);
    let file_live = roster::files::read_snapshot(&seed).unwrap().1;
    assert_eq!(comparable(&live), comparable(&file_live));
    assert_eq!(emu.count("GET /users", Some(200)), 3, "999 users a page");
    assert_eq!(
        emu.count("GET /admin/teams/userConfigurations", Some(200)),
        3,
        "999 configurations a page, whatever the tenant's default"
    );
    assert!(
        emu.count(
            "GET /admin/teams/telephoneNumberManagement/numberAssignments",
            Some(200)
        ) >= 2
    );
}

/// A tenant that takes smaller pages than Graph documents answers the
/// large `$top` with 400: the provider falls back to the endpoint's own
/// page size and reads the same tenant.
#[test]
fn a_refused_page_size_falls_back_to_the_default() {
    let loaded = config();
    let dir = tempfile::tempdir().unwrap();
    let seed = write_tenant(dir.path(), 450);
    let emu = Emu::start(&seed, |o| {
        o.api.config_page = 100;
        o.api.max_top = Some(200);
    });
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&loaded.manifest));
    let live = graph.fetch().unwrap();
    let file_live = roster::files::read_snapshot(&seed).unwrap().1;
    assert_eq!(comparable(&live), comparable(&file_live));
    assert!(emu.count("GET /users", Some(400)) >= 1, "999 was refused");
    assert!(
        emu.count("GET /admin/teams/userConfigurations", Some(400)) >= 1,
        "999 was refused"
    );
    assert_eq!(
        emu.count("GET /admin/teams/userConfigurations", Some(200)),
        5,
        "then 100 a page"
    );
}

#[test]
fn a_failed_number_operation_is_reported_and_the_rest_goes_on() {
    let loaded = config();
    let dir = tempfile::tempdir().unwrap();
    let seed = write_tenant(dir.path(), 60);
    let emu = Emu::start(&seed, |o| o.operation_delay = Duration::from_millis(20));
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&loaded.manifest));
    let p = make_plan(&loaded, &mut graph);
    // Someone else takes a number the plan is about to give.
    let (victim, number) = p
        .changes
        .iter()
        .find_map(|c| {
            c.actions.iter().find_map(|a| match a {
                roster::plan::Action::AssignNumber { number, .. } => {
                    Some((c.user.id.clone(), number.to_string()))
                }
                _ => None,
            })
        })
        .expect("the plan assigns a number");
    let other = p
        .changes
        .iter()
        .find(|c| c.user.id != victim)
        .unwrap()
        .user
        .id
        .clone();
    take_number(&emu, &number, &other);
    let report = apply::execute(&p, &mut graph, 200, &mut |_, _| {}).unwrap();
    let failed: Vec<_> = report
        .users
        .iter()
        .filter(|u| u.status == apply::Status::Failed)
        .collect();
    assert!(failed.iter().any(|u| u.id == victim), "{failed:?}");
    assert!(
        failed
            .iter()
            .any(|u| u.errors.iter().any(|e| e.contains("already been assigned"))),
        "{failed:?}"
    );
    assert!(report.applied > 10, "the other users were applied");
}

/// Assign `number` to `user` behind roster's back, through the emulator's API.
fn take_number(emu: &Emu, number: &str, user: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let tok: Value = c
            .post(format!("{}/contoso/oauth2/v2.0/token", emu.url()))
            .form(&[("client_id", "app"), ("client_secret", SECRET), ("grant_type", "client_credentials"), ("scope", "https://graph.microsoft.com/.default")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = tok["access_token"].as_str().unwrap();
        let r = c
            .post(format!("{}/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber", emu.url()))
            .bearer_auth(token)
            .json(&json!({ "telephoneNumber": number, "assignmentTargetId": user, "numberType": "directRouting" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        // Let the operation finish.
        tokio::time::sleep(Duration::from_millis(40)).await;
        let stats = c.get(format!("{}/_emulator/stats", emu.url())).send().await.unwrap();
        assert_eq!(stats.status(), 200);
    });
}

#[test]
fn policy_writes_are_batched() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = tenant(500);
    t["policyAssignments"] = json!([]);
    t["numberAssignments"] = json!([]);
    let seed = dir.path().join("tenant.json");
    std::fs::write(&seed, t.to_string()).unwrap();
    let loaded = manifest::parse_str(
        "c.kdl",
        r#"tenant "contoso" { safety max-changed-percent=100 }
           persona "all" { policies { TeamsMeetingPolicy "Sales Meetings" } }
           rule "Everyone" persona="all""#,
    );
    assert!(!loaded.has_errors());
    let emu = Emu::start(&seed, |_| {});
    let mut graph = emu.provider(SECRET, Wanted::from_manifest(&loaded.manifest));
    let (plan, report) = converge(&loaded, &mut graph, 200);
    assert_eq!(plan.summary.policies_assigned, 500 - 500 / 17 - 1);
    assert_eq!(report.failed, 0);
    let calls = emu.count("POST /admin/teams/policy/userAssignments/assign", Some(204));
    assert_eq!(calls, 3, "500 users in batches of 200 take 3 calls");
}
