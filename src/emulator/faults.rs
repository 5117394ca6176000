//! What the emulator refuses on purpose, as Graph does under load: Graph's
//! published limits (the windows of [`super::throttle`], with the
//! `x-ms-resource-unit` and `x-ms-throttle-*` headers), the "chaos" knobs
//! (a per-client token bucket, `--throttle-rps`) and injected 503/504
//! faults, reproducible for a seed. It must not touch the tenant state.

use std::time::Instant;

use serde_json::json;

use super::api::Response;
use super::{Emulator, odata, throttle};

pub(super) struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Graph's `429` body.
fn too_many_requests() -> Response {
    Response::json(
        429,
        json!({ "error": {
            "code": "TooManyRequests",
            "message": "Please retry again later.",
            "innerError": { "code": "429", "date": odata::now_iso(), "message": "Please retry after", "request-id": uuid::Uuid::new_v4().to_string(), "status": "429" }
        }}),
    )
}

impl Emulator {
    /// Graph's published limits for `client`: the headers for an admitted
    /// request, or the `429` with `Retry-After` (the wait until the window
    /// has room) and `x-ms-throttle-scope`/`-information`.
    pub(super) fn graph_limits(
        &self,
        client: &str,
        method: &str,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Vec<(String, String)>, Response> {
        let mut guard = Self::lock(&self.limits);
        let Some(limits) = guard.as_mut() else {
            return Ok(Vec::new());
        };
        let cost = throttle::cost(method, path, query);
        match limits.admit(client, cost, throttle::is_write(method), Instant::now()) {
            Ok(share) => {
                let mut h = vec![("x-ms-resource-unit".to_string(), cost.to_string())];
                if share > 0.8 {
                    h.push((
                        "x-ms-throttle-limit-percentage".into(),
                        format!("{:.2}", share.min(1.8)),
                    ));
                }
                Ok(h)
            }
            Err(refusal) => {
                let mut r = too_many_requests();
                r.headers
                    .push(("Retry-After".into(), throttle::seconds(refusal.retry_after)));
                r.headers.push((
                    "x-ms-throttle-scope".into(),
                    format!(
                        "Tenant_Application/{}/{client}/{}",
                        refusal.limit, self.tenant_id
                    ),
                ));
                r.headers.push((
                    "x-ms-throttle-information".into(),
                    refusal.information.into(),
                ));
                Err(r)
            }
        }
    }

    /// A token bucket per client: `throttle_rps` per second, bursts of the same.
    pub(super) fn throttle(&self, client: &str) -> Option<Response> {
        let rps = self.opts.throttle_rps;
        if rps <= 0.0 {
            return None;
        }
        let mut buckets = Self::lock(&self.buckets);
        let now = Instant::now();
        let b = buckets.entry(client.to_string()).or_insert(Bucket {
            tokens: rps.max(1.0),
            last: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rps).min(rps.max(1.0));
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return None;
        }
        let wait = (1.0 - b.tokens) / rps;
        let retry = if wait < 1.0 {
            format!("{:.3}", wait.max(0.001))
        } else {
            format!("{}", wait.ceil() as u64)
        };
        let mut r = too_many_requests();
        r.headers.push(("Retry-After".into(), retry));
        Some(r)
    }

    /// Injected 503/504 faults, reproducible for a seed.
    pub(super) fn fault(&self) -> Option<Response> {
        if self.opts.fault_rate <= 0.0 {
            return None;
        }
        let mut rng = Self::lock(&self.rng);
        if rng.f64() >= self.opts.fault_rate {
            return None;
        }
        let (status, msg) = if rng.bool() {
            (
                503,
                "The service is temporarily unavailable. Please retry later.",
            )
        } else {
            (504, "Gateway timeout.")
        };
        let mut r = Response::error(status, "serviceNotAvailable", msg);
        if rng.bool() {
            r.headers
                .push(("Retry-After".into(), format!("0.{}", rng.u8(1..5))));
        }
        Some(r)
    }
}
