//! The emulator behaves like Graph under its published limits: `$batch`
//! items are throttled one by one (a `429` with an honest `Retry-After` and
//! the `x-ms-throttle-*` headers inside a `200` batch), admitted requests
//! say what they cost, and the provider reads single entities whether they
//! come bare (the default) or wrapped in `{"value": …}`.

use std::time::Duration;

use roster::emulator::throttle::Limits;
use roster::provider::graph::Wanted;
use serde_json::{Value, json};

use crate::common::emu::{Emu, SECRET};
use crate::provider_contract::{config, converge, write_tenant};

fn client() -> reqwest::Client {
    // One crypto provider for the process, as the Graph provider installs it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn token(c: &reqwest::Client, emu: &Emu) -> String {
    let tok: Value = c
        .post(format!("{}/contoso/oauth2/v2.0/token", emu.url()))
        .form(&[
            ("client_id", "app"),
            ("client_secret", SECRET),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tok["access_token"].as_str().unwrap().to_string()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn batch_items_over_the_limit_get_their_own_429() {
    let dir = tempfile::tempdir().unwrap();
    let seed = write_tenant(dir.path(), 30);
    let emu = Emu::start(&seed, |o| {
        o.limits = Some(Limits {
            resource_units: Some(5),
            resource_window: Duration::from_secs(60),
            ..Limits::default()
        })
    });
    let responses = block_on(async {
        let c = client();
        let token = token(&c, &emu).await;
        let requests: Vec<Value> = (1..=8)
            .map(|i| json!({ "id": i.to_string(), "method": "GET", "url": "/admin/teams/userConfigurations?$top=1" }))
            .collect();
        let r = c
            .post(format!("{}/v1.0/$batch", emu.url()))
            .bearer_auth(&token)
            .json(&json!({ "requests": requests }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "the batch itself is accepted");
        let body: Value = r.json().await.unwrap();
        body["responses"].as_array().unwrap().clone()
    });
    let statuses: Vec<u64> = responses
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    for r in &responses[..5] {
        assert_eq!(r["headers"]["x-ms-resource-unit"], "1", "{r}");
    }
    // The fifth fills the window: above 80% Graph says how full it is.
    assert_eq!(
        responses[4]["headers"]["x-ms-throttle-limit-percentage"],
        "1.00"
    );
    assert!(responses[3]["headers"]["x-ms-throttle-limit-percentage"].is_null());
    for r in &responses[5..] {
        let h = &r["headers"];
        let wait: f64 = h["Retry-After"].as_str().unwrap().parse().unwrap();
        // The window (60 s) has room once the first item leaves it.
        assert!(wait > 50.0 && wait <= 60.0, "{h}");
        assert_eq!(h["x-ms-throttle-information"], "ResourceUnitLimitExceeded");
        let scope = h["x-ms-throttle-scope"].as_str().unwrap();
        assert!(
            scope.starts_with("Tenant_Application/ReadWrite/app/"),
            "{scope}"
        );
        assert_eq!(r["body"]["error"]["code"], "TooManyRequests");
    }
}

#[test]
fn the_provider_reads_bare_and_wrapped_entities() {
    let loaded = config();
    for wrapped in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let seed = write_tenant(dir.path(), 60);
        let emu = Emu::start(&seed, |o| {
            o.api.wrap_single = wrapped;
            o.operation_delay = Duration::from_millis(20);
        });
        // The shape on the wire.
        let users = emu.live().users;
        let body: Value = block_on(async {
            let c = client();
            let token = token(&c, &emu).await;
            c.get(format!(
                "{}/v1.0/admin/teams/userConfigurations/{}",
                emu.url(),
                users[0].id
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
        });
        let entity = if wrapped { &body["value"] } else { &body };
        assert_eq!(
            entity["id"],
            users[0].id.as_str(),
            "wrapped={wrapped}: {body}"
        );
        // The provider polls number operations (single entities) and
        // converges either way.
        let mut graph = emu.provider(SECRET, Wanted::from_manifest(&loaded.manifest));
        converge(&loaded, &mut graph, 200);
        let polls = emu.count(
            "GET /admin/teams/telephoneNumberManagement/operations/{id}",
            Some(200),
        );
        assert!(polls > 0, "wrapped={wrapped}: operations were polled");
    }
}
