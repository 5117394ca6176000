//! Issue 14, the emulator's `/users/delta`: the initial sync pages with
//! `@odata.nextLink` and ends with an `@odata.deltaLink`; the link then
//! shows exactly the users changed through the test endpoints, deleted
//! ones as `@removed` tombstones; `$deltatoken=latest` starts from now; an
//! expired token is answered `410 Gone` with a `Location` to start over.

use serde_json::{Value, json};

use crate::common::emu::{Emu, SECRET};
use crate::common::http::request;

/// One HTTP/1.1 request to the emulator: (status, head, body).
pub fn http(
    emu: &Emu,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    request(emu.addr, method, path, headers, body)
}

fn token(emu: &Emu) -> String {
    let form = format!(
        "grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&client_id=app&client_secret={SECRET}"
    );
    let (status, _, body) = http(
        emu,
        "POST",
        "/contoso/oauth2/v2.0/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// GET a Graph URL (absolute, as links are, or a path): (status, head, JSON).
fn get(emu: &Emu, token: &str, url: &str) -> (u16, String, Value) {
    let path = url.strip_prefix(&emu.url()).unwrap_or(url);
    let auth = format!("Bearer {token}");
    let (status, head, body) = http(emu, "GET", path, &[("Authorization", &auth)], "");
    (
        status,
        head,
        serde_json::from_str(&body).unwrap_or(Value::Null),
    )
}

fn start(users: usize) -> (tempfile::TempDir, Emu) {
    let dir = tempfile::tempdir().unwrap();
    let users: Vec<Value> = (0..users)
        .map(|i| json!({ "id": format!("u{i:04}"), "userPrincipalName": format!("u{i:04}@contoso.com"), "city": "Leeds" }))
        .collect();
    let seed = dir.path().join("tenant.json");
    let tenant = json!({ "format_version": 1, "tenantId": "contoso", "users": users });
    std::fs::write(&seed, tenant.to_string()).unwrap();
    let emu = Emu::start(&seed, |_| {});
    (dir, emu)
}

fn ids(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_initial_sync_pages_then_the_delta_link_shows_only_changes() {
    let (_dir, emu) = start(450);
    let t = token(&emu);
    let mut url = "/v1.0/users/delta?$select=id,city".to_string();
    let mut seen = Vec::new();
    let link = loop {
        let (status, _, page) = get(&emu, &t, &url);
        assert_eq!(status, 200, "{page}");
        seen.extend(ids(&page));
        assert!(
            page["value"][0].get("userPrincipalName").is_none(),
            "{page}"
        );
        match (
            page["@odata.nextLink"].as_str(),
            page["@odata.deltaLink"].as_str(),
        ) {
            (Some(next), None) => url = next.to_string(),
            (None, Some(link)) => break link.to_string(),
            other => panic!("a page needs exactly one link: {other:?}"),
        }
    };
    assert_eq!(seen.len(), 450);
    // Nothing changed: nothing shown.
    let (_, _, page) = get(&emu, &t, &link);
    assert!(ids(&page).is_empty(), "{page}");

    let change = |method: &str, path: &str, body: Value| {
        let (status, _, text) = http(&emu, method, path, &[], &body.to_string());
        assert_eq!(status, 200, "{method} {path}: {text}");
    };
    change(
        "POST",
        "/_emulator/users",
        json!({ "users": [{ "id": "new1", "userPrincipalName": "new1@contoso.com", "city": "York" }] }),
    );
    change("PATCH", "/_emulator/users/u0007", json!({ "city": "Hull" }));
    change(
        "PATCH",
        "/_emulator/users/u0007",
        json!({ "department": "Sales" }),
    );
    change("DELETE", "/_emulator/users/u0009", json!({ "soft": true }));
    change("DELETE", "/_emulator/users/u0010", json!({}));
    change(
        "PATCH",
        "/_emulator/users",
        json!({ "users": [{ "id": "u0003", "city": "York" }, { "id": "u0002", "city": "York" }] }),
    );
    let (status, _, page) = get(&emu, &t, &link);
    assert_eq!(status, 200);
    assert_eq!(
        ids(&page),
        ["new1", "u0007", "u0009", "u0010", "u0003", "u0002"]
    );
    assert_eq!(page["value"][1], json!({ "id": "u0007", "city": "Hull" }));
    assert_eq!(page["value"][2]["@removed"]["reason"], "changed");
    assert_eq!(page["value"][3]["@removed"]["reason"], "deleted");
    let next = page["@odata.deltaLink"].as_str().unwrap().to_string();
    let (_, _, page) = get(&emu, &t, &next);
    assert!(ids(&page).is_empty(), "{page}");
    // The directory reads see the changes too.
    let (_, _, users) = get(&emu, &t, "/v1.0/users?$select=id&$top=999");
    assert_eq!(users["value"].as_array().unwrap().len(), 449);

    // `latest`: no users, a link from now (either spelling of the function).
    let (_, _, page) = get(
        &emu,
        &t,
        "/v1.0/users/microsoft.graph.delta()?$deltatoken=latest",
    );
    assert!(ids(&page).is_empty(), "{page}");
    let (_, _, page) = get(&emu, &t, "/v1.0/users/delta?$deltatoken=latest");
    assert!(ids(&page).is_empty());
    let latest = page["@odata.deltaLink"].as_str().unwrap().to_string();
    change("POST", "/_emulator/users/u0001/disable", json!({}));
    let (_, _, page) = get(&emu, &t, &latest);
    assert_eq!(page["value"][0]["accountEnabled"], false, "{page}");

    // Expired: 410 with a Location to start over.
    let (status, _, _) = http(&emu, "POST", "/_emulator/delta/expire", &[], "");
    assert_eq!(status, 204);
    let (status, head, body) = get(&emu, &t, &next);
    assert_eq!(status, 410, "{body}");
    assert_eq!(body["error"]["code"], "syncStateNotFound");
    let location = head
        .lines()
        .find_map(|l| l.strip_prefix("location: "))
        .expect("a Location header");
    assert!(
        location.contains("/v1.0/users/delta?%24select=id%2Ccity"),
        "{location}"
    );
    let (status, _, _) = get(&emu, &t, "/v1.0/users/delta?$deltatoken=garbage");
    assert_eq!(status, 410);
}

#[test]
fn test_endpoints_refuse_bad_input_with_a_reason() {
    let (_dir, emu) = start(2);
    let bad = |method: &str, path: &str, body: &str, want: u16, says: &str| {
        let (status, _, text) = http(&emu, method, path, &[], body);
        assert_eq!(status, want, "{method} {path}: {text}");
        assert!(text.contains(says), "{text}");
    };
    bad(
        "POST",
        "/_emulator/users",
        r#"{"city":"Leeds"}"#,
        400,
        "userPrincipalName",
    );
    bad(
        "POST",
        "/_emulator/users",
        r#"{"id":"u0000","userPrincipalName":"x@y"}"#,
        409,
        "exists",
    );
    bad("POST", "/_emulator/users", "{", 400, "invalid JSON");
    bad("PATCH", "/_emulator/users/nobody", "{}", 404, "nobody");
    bad(
        "PATCH",
        "/_emulator/users/u0001",
        r#"{"memberOf":["nogroup"]}"#,
        400,
        "nogroup",
    );
    bad("GET", "/_emulator/users", "", 404, "no test endpoint");
}
