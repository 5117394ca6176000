//! Tests of the Graph read path's paging: taking a page apart, and the
//! fallback to a smaller `$top` against the in-process emulator.

use std::sync::Arc;

use serde_json::json;

use super::{first_page, split_page};
use crate::emulator::{Emulator, Options};
use crate::provider::graph::{Connection, Credential, GraphProvider, Secret, Settings, Wanted};

#[test]
fn a_page_splits_into_its_items_and_its_next_link() {
    let (items, link) = split_page(json!({
        "@odata.context": "x",
        "value": [{"id": "a"}, {"id": "b"}],
        "@odata.nextLink": "https://graph/next?$skiptoken=1",
    }));
    assert_eq!(items, vec![json!({"id": "a"}), json!({"id": "b"})]);
    assert_eq!(link.as_deref(), Some("https://graph/next?$skiptoken=1"));
    let (items, link) = split_page(json!({"value": []}));
    assert!(items.is_empty() && link.is_none());
    // No list at all: nothing, rather than a panic.
    let (items, link) = split_page(json!({"value": {"id": "a"}}));
    assert!(items.is_empty() && link.is_none());
}

#[test]
fn a_rejected_top_falls_back_to_the_next_then_to_none() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = dir.path().join("tenant.json");
    let users: Vec<_> = (0..150)
        .map(|i| json!({"id": format!("u{i}"), "userPrincipalName": format!("u{i}@x.com")}))
        .collect();
    std::fs::write(
        &tenant,
        json!({"format_version": 1, "tenantId": "t", "users": users}).to_string(),
    )
    .unwrap();
    let mut o = Options::new(tenant);
    o.listen = "127.0.0.1:0".parse().unwrap();
    o.client_id = Some("app".into());
    o.client_secret = Some("s".into());
    let emu = Emulator::new(o).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(emu.serve(
        async move {
            let _ = stopped.await;
        },
        move |a| tx.send(a).unwrap(),
    ));
    let addr = rx.recv().unwrap();
    let url = format!("http://{addr}");
    let provider = GraphProvider::new(
        Connection {
            tenant_id: "t".into(),
            client_id: "app".into(),
            credential: Credential::Secret(Secret::new("s")),
            endpoint: url.clone(),
            authority: url,
            settings: Settings::default(),
        },
        Wanted::default(),
    )
    .unwrap();
    let api = Arc::clone(&provider.api);
    let (big, fallback) = provider.rt.block_on(async {
        (
            first_page(&api, "/users?$select=id", &[1000, 999]).await,
            first_page(&api, "/users?$select=id", &[1000]).await,
        )
    });
    // `/users` takes at most 999: 1,000 is refused, 999 taken.
    let (page, top) = big.unwrap();
    assert_eq!(top, Some(999));
    assert_eq!(split_page(page).0.len(), 150);
    // Nothing taken: the endpoint's default page (100) and a next link.
    let (page, top) = fallback.unwrap();
    assert_eq!(top, None);
    let (items, link) = split_page(page);
    assert_eq!(items.len(), 100);
    assert!(link.is_some());
    stop.send(()).unwrap();
    rt.block_on(server).unwrap().unwrap();
}
