//! JSON batching: up to 20 Graph requests in one `POST /$batch`. Graph
//! throttles the items one by one, so an item refused with `429` is sent
//! again (in a later batch) after its `Retry-After`, and the write items of
//! a batch take their turns from the write pacer ([`super::pace`]) like
//! single writes; items that met a fault (`503`/`504`) are sent again with
//! backoff. A tenant that refuses the batch itself gets the items one by
//! one, from then on. This module only carries requests; what they mean is the caller's.

use std::sync::atomic::Ordering;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::GraphError;
use super::http::{Api, Reply, Retry, backoff, retry_after, share, write_refusal};

/// The most requests Graph takes in one `$batch`.
pub const MAX_BATCH: usize = 20;

/// One request of a batch; `url` is below the version root
/// (`/admin/teams/…`).
#[derive(Debug, Clone)]
pub struct Item {
    pub method: Method,
    pub url: String,
    pub body: Option<Value>,
}

impl Api {
    /// Send up to [`MAX_BATCH`] requests as one `$batch` and give each
    /// item's final answer, in order. A timeout of the batch is every
    /// item's [`GraphError::Timeout`] when `retry` says so.
    pub async fn batch(&self, items: &[Item], retry: Retry) -> Vec<Result<Reply, GraphError>> {
        self.batch_with(items, &[], retry).await
    }

    /// [`Api::batch`] with `headers` on every item (in its `headers`, as
    /// Graph takes advanced-query headers such as `ConsistencyLevel`; and
    /// on each request when the items go one by one).
    pub async fn batch_with(
        &self,
        items: &[Item],
        headers: &[(&str, &str)],
        retry: Retry,
    ) -> Vec<Result<Reply, GraphError>> {
        debug_assert!(items.len() <= MAX_BATCH);
        let mut out: Vec<Option<Result<Reply, GraphError>>> = items.iter().map(|_| None).collect();
        let mut faults = vec![0u32; items.len()];
        let mut pending: Vec<usize> = (0..items.len()).collect();
        let deadline = Instant::now() + self.settings.throttle_budget;
        let max = self.settings.max_attempts.max(1);
        if self.no_batch.load(Ordering::Relaxed) {
            pending.clear();
            for (i, it) in items.iter().enumerate() {
                out[i] = Some(
                    self.send(it.method.clone(), &it.url, it.body.as_ref(), headers, retry)
                        .await,
                );
            }
        }
        while !pending.is_empty() {
            // No more writes at once than the write window holds.
            let most = self.pacer.most_at_once().unwrap_or(u32::MAX);
            let (mut writes, mut later) = (0u32, Vec::new());
            pending.retain(|&i| {
                if items[i].method == Method::GET {
                    true
                } else if writes < most {
                    writes += 1;
                    true
                } else {
                    later.push(i);
                    false
                }
            });
            let ticket = if writes > 0 {
                Some(self.pacer.acquire(writes).await)
            } else {
                None
            };
            let requests: Vec<Value> = pending
                .iter()
                .map(|&i| {
                    let it = &items[i];
                    let mut r =
                        json!({ "id": i.to_string(), "method": it.method.as_str(), "url": it.url });
                    let mut h: serde_json::Map<String, Value> = headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), Value::from(*v)))
                        .collect();
                    if let Some(b) = &it.body {
                        h.insert("Content-Type".into(), "application/json".into());
                        r["body"] = b.clone();
                    }
                    if !h.is_empty() {
                        r["headers"] = Value::Object(h);
                    }
                    r
                })
                .collect();
            let body = json!({ "requests": requests });
            let answer = match self
                .send(Method::POST, "/$batch", Some(&body), &[], retry)
                .await
            {
                Ok(r) => r.body.and_then(|mut b| match b.get_mut("responses") {
                    Some(Value::Array(a)) => Some(std::mem::take(a)),
                    _ => None,
                }),
                Err(GraphError::Timeout { .. }) => {
                    for &i in &pending {
                        out[i] = Some(Err(GraphError::Timeout {
                            route: self.item_route(&items[i]),
                        }));
                    }
                    pending = later;
                    continue;
                }
                Err(e) => {
                    if matches!(
                        e,
                        GraphError::Api {
                            status: 400 | 404 | 405 | 501,
                            ..
                        }
                    ) {
                        // This tenant does not take `$batch` (for these requests).
                        self.no_batch.store(true, Ordering::Relaxed);
                    }
                    tracing::debug!(error = %e, "the $batch failed; sending its requests one by one");
                    None
                }
            };
            let Some(responses) = answer else {
                // No batch answer: each item on its own (paced by `send`).
                drop(ticket);
                for &i in pending.iter().chain(&later) {
                    let it = &items[i];
                    out[i] = Some(
                        self.send(it.method.clone(), &it.url, it.body.as_ref(), headers, retry)
                            .await,
                    );
                }
                break;
            };
            let mut admitted = 0u32;
            let mut shares: Option<f64> = None;
            let mut wait = std::time::Duration::ZERO;
            let mut again = Vec::new();
            let mut refusals = Vec::new();
            for resp in responses {
                let Some(i) = resp
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<usize>().ok())
                    .filter(|i| pending.contains(i))
                else {
                    continue;
                };
                let status = resp.get("status").and_then(Value::as_u64).unwrap_or(0) as u16;
                let headers = header_map(resp.get("headers"));
                let body = resp.get("body").cloned();
                let write = items[i].method != Method::GET;
                match status {
                    429 if Instant::now() < deadline => {
                        self.counters
                            .throttled
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let after = retry_after(&headers)
                            .unwrap_or_else(|| backoff(faults[i] + 1, &self.settings));
                        match &ticket {
                            Some(_) if write && write_refusal(&headers) => refusals.push(after),
                            _ => {
                                self.limiter.throttled(after).await;
                                wait = wait.max(after);
                            }
                        }
                        again.push(i);
                    }
                    503 | 504 if faults[i] + 1 < max => {
                        faults[i] += 1;
                        let after = retry_after(&headers)
                            .unwrap_or_else(|| backoff(faults[i], &self.settings));
                        wait = wait.max(after);
                        again.push(i);
                    }
                    s => {
                        let code = StatusCode::from_u16(s).unwrap_or(StatusCode::BAD_GATEWAY);
                        if write && s != 429 {
                            admitted += 1;
                            if let Some(x) = share(&headers) {
                                shares = Some(shares.map_or(x, |s: f64| s.max(x)));
                            }
                        }
                        out[i] = Some(if code.is_success() {
                            Ok(Reply {
                                status: code,
                                headers,
                                body,
                            })
                        } else {
                            Err(self.item_error(
                                &items[i],
                                s,
                                &headers,
                                body.as_ref(),
                                faults[i] + 1,
                            ))
                        });
                    }
                }
            }
            // What fitted first: the pace is learnt from it at the first refusal.
            self.pacer.admitted(admitted, shares);
            if let Some(t) = &ticket {
                for after in refusals {
                    self.pacer.throttled(after, t.epoch);
                }
            }
            drop(ticket);
            // Items the answer did not mention are sent again.
            for &i in &pending {
                if out[i].is_none() && !again.contains(&i) {
                    faults[i] += 1;
                    if faults[i] >= max {
                        out[i] = Some(Err(GraphError::Unexpected(format!(
                            "the $batch answer has no response for `{}`",
                            self.item_route(&items[i])
                        ))));
                    } else {
                        again.push(i);
                    }
                }
            }
            again.extend(later);
            again.sort_unstable();
            pending = again;
            if !pending.is_empty() && !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(GraphError::Unexpected("no answer".into()))))
            .collect()
    }

    fn item_route(&self, it: &Item) -> String {
        super::http::route_name(&it.method, &self.url(&it.url))
    }

    fn item_error(
        &self,
        it: &Item,
        status: u16,
        headers: &HeaderMap,
        body: Option<&Value>,
        attempts: u32,
    ) -> GraphError {
        let route = self.item_route(it);
        let err = body.and_then(|b| b.get("error"));
        let field = |k: &str| {
            let v = err
                .and_then(|e| e.get(k))
                .and_then(Value::as_str)
                .unwrap_or(if k == "code" { "unknown" } else { "" });
            crate::redact::text(v).into_owned()
        };
        let (code, message) = (field("code"), field("message"));
        let request_id = super::http::request_id(headers, body);
        // The error a single request gets for the same answer (a 401 of an
        // item, whose batch had a valid token, stays an `Api` error).
        match status {
            403 => GraphError::Forbidden {
                permission: super::http::permission_for(&it.method, &self.url(&it.url)),
                route,
                code,
                message,
                request_id,
            },
            429 => GraphError::Throttled {
                route,
                code,
                message,
                attempts,
                request_id,
            },
            _ => GraphError::Api {
                route,
                status,
                code,
                message,
                attempts,
                request_id,
            },
        }
    }
}

/// A batch item's `headers` object as a header map (names lower-cased).
fn header_map(v: Option<&Value>) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in v.and_then(Value::as_object).into_iter().flatten() {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(k.to_ascii_lowercase()),
            HeaderValue::try_from(text),
        ) {
            h.insert(name, value);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_headers_become_a_header_map() {
        let h = header_map(Some(&json!({
            "Retry-After": "2.5",
            "Location": "http://x/op('1')",
            "x-ms-throttle-information": "WriteLimitExceeded",
            "n": 3
        })));
        assert_eq!(
            retry_after(&h),
            Some(std::time::Duration::from_millis(2500))
        );
        assert_eq!(h.get("location").unwrap(), "http://x/op('1')");
        assert!(write_refusal(&h));
        assert_eq!(h.get("n").unwrap(), "3");
        assert!(header_map(None).is_empty());
    }
}
