//! What the emulator refuses on purpose, as Graph does under load:
//! per-client throttling (429 with `Retry-After`, a token bucket) and
//! injected 503/504 faults, reproducible for a seed. It must not touch the
//! tenant state.

use std::time::Instant;

use serde_json::json;

use super::api::Response;
use super::{Emulator, odata};

pub(super) struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Emulator {
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
        let mut r = Response::json(
            429,
            json!({ "error": {
                "code": "TooManyRequests",
                "message": "Please retry again later.",
                "innerError": { "code": "429", "date": odata::now_iso(), "message": "Please retry after", "request-id": uuid::Uuid::new_v4().to_string(), "status": "429" }
            }}),
        );
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
