//! The lookups of a Graph read (issue 10, item 3): the policy names the
//! manifests use (`getPolicyId`) and the groups they name (by id or display
//! name) with their transitive members go 20 to a `$batch`, so N lookups
//! cost ceil(N / 20) requests; a tenant that refuses batches gets the same
//! read one request at a time; an item's refusal is the error the request
//! alone would get.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use roster::provider::graph::Wanted;
use roster::snapshot::Snapshot;
use serde_json::{Value, json};

use crate::common::emu::{Emu, SECRET};
use crate::common::http::{answer, read_request};

const USERS: usize = 1_100;
const POLICIES: usize = 45;
/// Groups named `Group 00` … `Group 20`; `Group 00` holds every user (two
/// pages of members at 999 a page).
const GROUPS: usize = 21;

fn user_id(i: usize) -> String {
    format!("00000000-0000-0000-0000-{i:012}")
}

fn group_id(k: usize) -> String {
    format!("22222222-0000-0000-0000-{k:012}")
}

/// `USERS` users, `POLICIES` meeting policies, `GROUPS` groups and two
/// more that share the name `Twins`.
fn tenant() -> Value {
    let users: Vec<Value> = (0..USERS)
        .map(|i| {
            json!({ "id": user_id(i), "userPrincipalName": format!("u{i:05}@contoso.com"),
                "displayName": format!("U {i}"), "accountEnabled": true, "usageLocation": "GB" })
        })
        .collect();
    let mut groups: Vec<Value> = (0..GROUPS)
        .map(|k| {
            let members: Vec<String> = (0..USERS)
                .filter(|i| k == 0 || i % GROUPS == k)
                .map(user_id)
                .collect();
            json!({ "id": group_id(k), "displayName": format!("Group {k:02}"), "members": members })
        })
        .collect();
    for (k, members) in [(GROUPS, [1, 2]), (GROUPS + 1, [3, 4])] {
        groups.push(json!({ "id": group_id(k), "displayName": "Twins",
            "members": members.map(user_id) }));
    }
    let policies: Vec<Value> = (0..POLICIES)
        .map(|k| json!({ "policyType": "TeamsMeetingPolicy", "name": format!("Meetings {k:02}"), "policyId": format!("pm-{k}") }))
        .collect();
    json!({
        "format_version": 1, "tenantId": "contoso", "users": users, "groups": groups,
        "policies": policies, "policyAssignments": [], "numberAssignments": [],
    })
}

/// Every policy and group of [`tenant`], one group also by its id, and a
/// policy and a group that do not exist: 46 policy and 24 group lookups.
fn wanted() -> Wanted {
    let mut w = Wanted::default();
    for k in 0..POLICIES {
        w.policies
            .insert(("TeamsMeetingPolicy".into(), format!("Meetings {k:02}")));
    }
    w.policies
        .insert(("TeamsMeetingPolicy".into(), "No Such Policy".into()));
    w.groups = (0..GROUPS).map(|k| format!("Group {k:02}")).collect();
    w.groups
        .extend([group_id(5), "Twins".into(), "Nobody".into()]);
    w
}

fn serve(tweak: impl FnOnce(&mut roster::emulator::Options)) -> (tempfile::TempDir, Emu) {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("tenant.json");
    std::fs::write(&seed, tenant().to_string()).unwrap();
    let emu = Emu::start(&seed, tweak);
    (dir, emu)
}

/// What the read found: each group with its sorted members, and the
/// policies, as comparable lines.
fn found(s: &Snapshot) -> Vec<String> {
    let mut out: Vec<String> = s
        .groups
        .iter()
        .map(|g| {
            let members: BTreeSet<&str> = g.members.iter().map(String::as_str).collect();
            format!("group {} {} {members:?}", g.id, g.display_name)
        })
        .collect();
    out.extend(
        s.policies
            .iter()
            .map(|p| format!("policy {} {} {}", p.policy_type, p.name, p.policy_id)),
    );
    out
}

/// What [`tenant`] holds for [`wanted`]: every group (the twins both),
/// every policy, nothing for the names that do not exist.
fn expected() -> Vec<String> {
    let t = tenant();
    let mut out: Vec<(String, String)> = t["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let members: BTreeSet<&str> = g["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap())
                .collect();
            let id = g["id"].as_str().unwrap().to_string();
            let line = format!(
                "group {id} {} {members:?}",
                g["displayName"].as_str().unwrap()
            );
            (id, line)
        })
        .collect();
    out.sort();
    let mut lines: Vec<String> = out.into_iter().map(|(_, l)| l).collect();
    lines
        .extend((0..POLICIES).map(|k| format!("policy TeamsMeetingPolicy Meetings {k:02} pm-{k}")));
    lines
}

fn fetch(emu: &Emu, endpoint: &str) -> Snapshot {
    emu.provider_via(endpoint, SECRET, wanted())
        .fetch_snapshot()
        .expect("fetch through Graph")
}

const POLICY_ROUTE: &str = "GET /admin/teams/policy/getPolicyId";
const FILTER_ROUTE: &str = "GET /groups";
const MEMBERS_ROUTE: &str = "GET /groups/{id}/transitiveMembers";

#[test]
fn lookups_go_twenty_to_a_batch() {
    let (_dir, emu) = serve(|_| {});
    let snap = fetch(&emu, &emu.url());
    assert_eq!(found(&snap), expected());

    // Every lookup answered inside a batch, the members with their
    // `ConsistencyLevel` (without it the cast to users is a 400).
    assert_eq!(emu.count(POLICY_ROUTE, Some(200)), 46);
    assert_eq!(emu.count(FILTER_ROUTE, Some(200)), 24);
    // 23 groups' first pages (`Group 05` is found twice, read once), and
    // the second page of `Group 00`'s 1,100 members.
    assert_eq!(emu.count(MEMBERS_ROUTE, Some(200)), 23 + 1);
    assert_eq!(emu.count(MEMBERS_ROUTE, None), 24);
    // ceil(46 / 20) policy batches, ceil(24 / 20) group lookups,
    // ceil(23 / 20) first member pages; the next page of a long list is
    // followed on its own.
    assert_eq!(emu.count("POST /$batch", Some(200)), 3 + 2 + 2);
    assert_eq!(emu.count("POST /$batch", None), 7);
}

/// A tenant that takes no page above 500: each group's first member page
/// is refused (400) inside its batch, and the group is read again at the
/// endpoint's own page size (100), in batches too. The same
/// tenant answers `getPolicyId` for an unknown name with 404: inside a
/// batch too, an unknown policy and no error.
#[test]
fn a_refused_member_page_size_falls_back_inside_the_batches() {
    let (_dir, emu) = serve(|o| {
        o.api.max_top = Some(500);
        o.api.policy_404 = true;
    });
    let snap = fetch(&emu, &emu.url());
    assert_eq!(found(&snap), expected());
    assert_eq!(emu.count(POLICY_ROUTE, Some(404)), 1);
    assert_eq!(emu.count(MEMBERS_ROUTE, Some(400)), 23);
    // 22 small groups in a page each, `Group 00` in 11.
    assert_eq!(emu.count(MEMBERS_ROUTE, Some(200)), 22 + 11);
    // Policies 3, groups 2, first member pages 2 and again 2.
    assert_eq!(emu.count("POST /$batch", Some(200)), 3 + 2 + 2 + 2);
}

/// A tenant that refuses `$batch` (a proxy in front of the emulator answers
/// it 400): the lookups go one by one and find the same.
#[test]
fn a_tenant_refusing_batches_gets_the_same_lookups_one_by_one() {
    let (_dir, emu) = serve(|_| {});
    let proxy = RefuseBatch::start(emu.addr);
    let snap = fetch(&emu, &proxy.url());
    assert_eq!(found(&snap), expected());
    assert!(proxy.refused.load(Ordering::SeqCst) >= 1);
    assert_eq!(emu.count("POST /$batch", None), 0);
    assert_eq!(emu.count(POLICY_ROUTE, Some(200)), 46);
    assert_eq!(emu.count(FILTER_ROUTE, Some(200)), 24);
    assert_eq!(emu.count(MEMBERS_ROUTE, Some(200)), 24);
}

/// An app without the permission `getPolicyId` needs: the batch item's
/// `403` fails the read with the error a single request gets, naming the
/// permission.
#[test]
fn a_refused_lookup_in_a_batch_names_the_permission() {
    let (_dir, emu) = serve(|o| {
        o.roles
            .retain(|r| r != "TeamsPolicyUserAssign.ReadWrite.All")
    });
    let err = emu
        .provider(SECRET, wanted())
        .fetch_snapshot()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("GET /v1.0/admin/teams/policy/getPolicyId"),
        "{err}"
    );
    assert!(err.contains("403 Authorization_RequestDenied"), "{err}");
    assert!(
        err.contains("application permission `TeamsPolicyUserAssign.ReadWrite.All`"),
        "{err}"
    );
    assert!(emu.count("POST /$batch", Some(200)) >= 1);
}

/// A loopback proxy to the emulator that answers every `POST …/$batch`
/// with `400`, as a tenant that does not take batches would; one request
/// per connection.
struct RefuseBatch {
    addr: std::net::SocketAddr,
    refused: Arc<AtomicU64>,
}

impl RefuseBatch {
    fn start(to: std::net::SocketAddr) -> RefuseBatch {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let refused = Arc::new(AtomicU64::new(0));
        let count = refused.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let (Ok(conn), count) = (conn, count.clone()) else {
                    continue;
                };
                std::thread::spawn(move || Self::pass(conn, to, &count));
            }
        });
        RefuseBatch { addr, refused }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn pass(mut conn: TcpStream, to: std::net::SocketAddr, refused: &AtomicU64) {
        let request = read_request(&mut conn);
        let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
            return;
        };
        let head = String::from_utf8_lossy(&request[..end]).to_string();
        if head.starts_with("POST ") && head.lines().next().unwrap_or("").contains("/$batch ") {
            refused.fetch_add(1, Ordering::SeqCst);
            let body =
                r#"{"error":{"code":"BadRequest","message":"Batch requests are not supported."}}"#;
            answer(&mut conn, 400, "", body);
            return;
        }
        // The same request, the connection closed after its answer (the
        // Host header kept: the emulator's links lead back here).
        let mut out: Vec<u8> = head
            .lines()
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
            .flat_map(|l| [l, "\r\n"])
            .collect::<String>()
            .into_bytes();
        out.extend_from_slice(b"Connection: close\r\n\r\n");
        out.extend_from_slice(&request[end + 4..]);
        let mut upstream = TcpStream::connect(to).unwrap();
        upstream.write_all(&out).unwrap();
        let mut reply = Vec::new();
        let _ = upstream.read_to_end(&mut reply);
        let _ = conn.write_all(&reply);
    }
}
