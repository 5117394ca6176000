//! One resilient HTTP layer for every Graph call: bearer tokens (renewed on
//! 401 once), retries of 429/503/504 after `Retry-After` (whole or
//! fractional seconds) or exponential backoff with jitter, a bounded number
//! of attempts, request timeouts, and concurrency that backs off while
//! throttled (fewer requests in flight, and a shared pause); writes refused
//! for Graph's write limit wait exactly their `Retry-After` and are paced
//! from then on ([`super::pace`]). A bearer token
//! goes only to URLs [`super::transport`] allows, and what an answer says
//! is masked by [`crate::redact`] before it becomes an error.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

use super::auth::Auth;
use super::{GraphError, Settings};

/// A response that made it through the retries.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Option<Value>,
}

/// Concurrency with additive increase, multiplicative decrease, and a gate
/// every request waits for after a 429.
pub struct Limiter {
    permits: Arc<Semaphore>,
    limit: AtomicUsize,
    max: usize,
    successes: AtomicUsize,
    /// Permits to retire as they come back (they were in use when the
    /// limit was lowered).
    debt: AtomicUsize,
    gate: Mutex<Instant>,
}

impl Limiter {
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Limiter {
            permits: Arc::new(Semaphore::new(max)),
            limit: AtomicUsize::new(max),
            max,
            successes: AtomicUsize::new(0),
            debt: AtomicUsize::new(0),
            gate: Mutex::new(Instant::now()),
        }
    }

    async fn wait_gate(&self) {
        let until = *self.gate.lock().await;
        if until > Instant::now() {
            tokio::time::sleep_until(until).await;
        }
    }

    /// Throttled: pause everyone for `wait`, halve the requests in flight.
    pub async fn throttled(&self, wait: Duration) {
        {
            let mut gate = self.gate.lock().await;
            let until = Instant::now() + wait;
            if until > *gate {
                *gate = until;
            }
        }
        let current = self.limit.load(Ordering::SeqCst);
        let target = (current / 2).max(1);
        if current > target
            && self
                .limit
                .compare_exchange(current, target, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            // Retire the surplus now where permits are free, else as they return.
            for _ in target..current {
                match self.permits.clone().try_acquire_owned() {
                    Ok(p) => p.forget(),
                    Err(_) => {
                        self.debt.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
            self.successes.store(0, Ordering::SeqCst);
            tracing::debug!(limit = target, "throttled: fewer requests in flight");
        }
    }

    /// Give a permit back, or retire it while the limit is being lowered.
    fn release(&self, permit: tokio::sync::OwnedSemaphorePermit) {
        let retired = self
            .debt
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |d| d.checked_sub(1))
            .is_ok();
        if retired {
            permit.forget();
        }
    }

    fn succeeded(&self) {
        let limit = self.limit.load(Ordering::SeqCst);
        if limit < self.max && self.successes.fetch_add(1, Ordering::SeqCst) + 1 >= limit * 4 {
            self.successes.store(0, Ordering::SeqCst);
            self.limit.fetch_add(1, Ordering::SeqCst);
            self.permits.add_permits(1);
        }
    }

    pub fn current(&self) -> usize {
        self.limit.load(Ordering::SeqCst)
    }
}

/// Requests sent and 429 answers met, for the watcher's log and metrics.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: std::sync::atomic::AtomicU64,
    pub throttled: std::sync::atomic::AtomicU64,
}

pub struct Api {
    pub client: reqwest::Client,
    /// `{endpoint}/v1.0`
    pub base: String,
    pub auth: Auth,
    pub limiter: Limiter,
    /// Paces writes under Graph's write limit.
    pub pacer: super::pace::Pacer,
    /// The tenant refused a `$batch`: requests go one by one.
    pub no_batch: std::sync::atomic::AtomicBool,
    pub settings: Settings,
    pub counters: Counters,
}

/// What may be retried after a transport error or timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads and writes that are safe to repeat.
    Always,
    /// Writes whose repetition the caller must check first (number
    /// operations): a timeout is returned as [`GraphError::Timeout`].
    NotOnTimeout,
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Result<Value, GraphError> {
        let r = self
            .send(Method::GET, path, None, headers, Retry::Always)
            .await?;
        Ok(r.body.unwrap_or(Value::Null))
    }

    /// Send with retries. Non-2xx answers that are not retried come back as
    /// errors naming the route (and, for 403, the permission needed).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
        retry: Retry,
    ) -> Result<Reply, GraphError> {
        let (status, headers, text) = self
            .exchange(method, path, body, headers, retry, None)
            .await?;
        let body = if text.trim().is_empty() {
            None
        } else {
            serde_json::from_str(&text).ok()
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// A `GET` whose answer is read straight into `T` (a page of typed
    /// rows, without a JSON tree in between).
    pub async fn get_as<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<T, GraphError> {
        let mut body = Vec::new();
        self.get_bytes(path, headers, &mut body).await?;
        self.parse_as(path, &body)
    }

    /// A `GET` whose answer's bytes replace `into`'s content (its
    /// allocation reused: pages of a chain need no new buffer each).
    pub async fn get_bytes(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        into: &mut Vec<u8>,
    ) -> Result<(), GraphError> {
        self.exchange(Method::GET, path, None, headers, Retry::Always, Some(into))
            .await
            .map(drop)
    }

    /// The answer to `GET path`, read as `T`; an error naming the route
    /// when it does not fit.
    pub fn parse_as<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &[u8],
    ) -> Result<T, GraphError> {
        super::pages::from_page(body).map_err(|e| self.unexpected_shape(path, &e))
    }

    /// The error for an answer to `GET path` that does not read as
    /// expected (`e` says why).
    pub fn unexpected_shape(&self, path: &str, e: &serde_json::Error) -> GraphError {
        GraphError::Unexpected(format!(
            "the answer to `{}` does not have the expected shape: {e}",
            route_name(&Method::GET, &self.url(path))
        ))
    }

    /// [`Api::send`], answering the status, headers and text of a success;
    /// with `into`, the success's bytes go there instead of the text.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
        retry: Retry,
        mut into: Option<&mut Vec<u8>>,
    ) -> Result<(StatusCode, HeaderMap, String), GraphError> {
        let url = self.url(path);
        if url == path {
            // Not below the checked base but a link Graph gave
            // (`@odata.nextLink`, an operation's `Location`): the bearer
            // token goes with it.
            super::transport::check(&url, "a link in an answer of Graph")?;
            super::transport::same_origin(&url, &self.base)?;
        }
        let route = route_name(&method, &url);
        let max = self.settings.max_attempts.max(1);
        let mut reauthed = false;
        // Requests sent, and of those the ones that met a fault.
        let mut attempt = 0u32;
        let mut faults = 0u32;
        // Graph's guidance for 429: wait `Retry-After` and retry, as often as
        // it takes; bounded by time rather than by a small count.
        let throttle_deadline = Instant::now() + self.settings.throttle_budget;
        // One write (a `$batch` paces its items itself).
        let paced = method != Method::GET && !url.ends_with("/$batch");
        loop {
            attempt += 1;
            let ticket = if paced {
                Some(self.pacer.acquire(1).await)
            } else {
                None
            };
            self.limiter.wait_gate().await;
            let permit = self
                .limiter
                .permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| GraphError::Transport("request limiter closed".into()))?;
            let token = self.auth.token().await?;
            let mut req = self
                .client
                .request(method.clone(), &url)
                .bearer_auth(&token)
                .timeout(self.settings.timeout);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let sent = req.send().await;
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            self.limiter.release(permit);
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    if let Some(refused) =
                        super::transport::refused_redirect(&e, &format!("a redirect of `{route}`"))
                    {
                        return Err(refused);
                    }
                    let timeout = e.is_timeout();
                    if timeout && retry == Retry::NotOnTimeout {
                        return Err(GraphError::Timeout { route });
                    }
                    faults += 1;
                    if faults >= max {
                        return Err(GraphError::Transport(format!(
                            "{route}: {}",
                            without_url(&e)
                        )));
                    }
                    tracing::debug!(%route, attempt, error = %without_url(&e), "transport error; retrying");
                    tokio::time::sleep(backoff(faults, &self.settings)).await;
                    continue;
                }
            };
            let status = resp.status();
            let headers = resp.headers().clone();
            if status.is_success()
                && let Some(buf) = into.as_deref_mut()
            {
                super::pages::read_body(resp, buf).await;
                self.limiter.succeeded();
                return Ok((status, headers, String::new()));
            }
            let text = resp.text().await.unwrap_or_default();
            if status.is_success() {
                self.limiter.succeeded();
                if paced {
                    self.pacer.admitted(1, share(&headers));
                }
                return Ok((status, headers, text));
            }
            let body: Option<Value> = if text.trim().is_empty() {
                None
            } else {
                serde_json::from_str(&text).ok()
            };
            if status.as_u16() == 429 {
                self.counters.throttled.fetch_add(1, Ordering::Relaxed);
            }
            let (code, message) = error_parts(body.as_ref(), &text);
            let request_id = request_id(&headers, body.as_ref());
            match status.as_u16() {
                401 if !reauthed => {
                    // Expired or revoked token: get a new one, once.
                    tracing::debug!(%route, "401: renewing the token");
                    self.auth.invalidate().await;
                    reauthed = true;
                    attempt -= 1;
                    continue;
                }
                429 if Instant::now() < throttle_deadline
                    && let Some(t) = ticket.as_ref().filter(|_| write_refusal(&headers)) =>
                {
                    // Exactly `Retry-After`: the pacer holds every write until then.
                    let wait = retry_after(&headers).unwrap_or_else(|| backoff(1, &self.settings));
                    self.pacer.throttled(wait, t.epoch);
                    continue;
                }
                429 if Instant::now() < throttle_deadline => {
                    let wait = retry_after(&headers)
                        .map(|w| w.mul_f64(1.0 + fastrand::f64() * 0.25))
                        .unwrap_or_else(|| backoff(faults + 1, &self.settings));
                    self.limiter.throttled(wait).await;
                    tracing::debug!(%route, wait_ms = wait.as_millis() as u64, "throttled; retrying");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                503 | 504 if faults + 1 < max => {
                    faults += 1;
                    let wait =
                        retry_after(&headers).unwrap_or_else(|| backoff(faults, &self.settings));
                    tracing::debug!(%route, attempt, status = status.as_u16(), wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                401 => {
                    return Err(GraphError::Unauthorized {
                        route,
                        code,
                        message,
                        request_id,
                    });
                }
                403 => {
                    let permission = permission_for(&method, &url);
                    return Err(GraphError::Forbidden {
                        route,
                        code,
                        message,
                        permission,
                        request_id,
                    });
                }
                429 => {
                    return Err(GraphError::Throttled {
                        route,
                        code,
                        message,
                        attempts: attempt,
                        request_id,
                    });
                }
                s => {
                    return Err(GraphError::Api {
                        route,
                        status: s,
                        code,
                        message,
                        attempts: attempt,
                        request_id,
                    });
                }
            }
        }
    }

    /// Follow `@odata.nextLink` to the end, calling `each` on every item.
    pub async fn pages(
        &self,
        first: &str,
        headers: &[(&str, &str)],
        mut each: impl FnMut(Value) -> Result<(), GraphError>,
    ) -> Result<(), GraphError> {
        let mut next = Some(first.to_string());
        while let Some(url) = next {
            let page = self.get(&url, headers).await?;
            next = page
                .get("@odata.nextLink")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(Value::Array(items)) = page.get("value").cloned() {
                for item in items {
                    each(item)?;
                }
            }
        }
        Ok(())
    }
}

/// Exponential backoff with full jitter, capped.
pub fn backoff(attempt: u32, s: &Settings) -> Duration {
    let exp = s.backoff_base.as_secs_f64() * 2f64.powi(attempt.saturating_sub(1).min(16) as i32);
    let capped = exp.min(s.backoff_max.as_secs_f64());
    Duration::from_secs_f64(capped * (0.5 + fastrand::f64() * 0.5))
}

/// The fuller window's share Graph reports (`x-ms-throttle-limit-percentage`).
pub fn share(h: &HeaderMap) -> Option<f64> {
    h.get("x-ms-throttle-limit-percentage")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A `429` for Graph's write limit.
pub fn write_refusal(h: &HeaderMap) -> bool {
    let get = |k: &str| h.get(k).and_then(|v| v.to_str().ok());
    super::pace::write_limit(get("x-ms-throttle-information"), get("x-ms-throttle-scope"))
}

/// `Retry-After` as whole or fractional seconds.
pub fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let v = h
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()?;
    (v.is_finite() && v >= 0.0).then(|| Duration::from_secs_f64(v.min(300.0)))
}

/// The code and message of an error answer, masked: an answer may echo a
/// token or a secret.
fn error_parts(body: Option<&Value>, text: &str) -> (String, String) {
    let (code, message) = error_fields(body, text);
    (
        crate::redact::text(&code).into_owned(),
        crate::redact::text(&message).into_owned(),
    )
}

fn error_fields(body: Option<&Value>, text: &str) -> (String, String) {
    match body.and_then(|b| b.get("error")) {
        Some(e) if e.is_object() => (
            e.get("code")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string(),
            e.get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ),
        _ => ("unknown".into(), text.chars().take(300).collect()),
    }
}

/// Graph's id of the request (`request-id` header, else the error body's
/// `innerError`), which Microsoft support asks for.
pub(super) fn request_id(headers: &HeaderMap, body: Option<&Value>) -> Option<String> {
    headers
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            body.and_then(|b| b.pointer("/error/innerError/request-id"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
}

/// The route of a URL, without host or query: safe to print.
pub fn route_name(method: &Method, url: &str) -> String {
    let path = url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| url.to_string());
    format!("{method} {path}")
}

fn path_below_version(url: &str) -> String {
    let path = url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    let rest = path
        .strip_prefix("/v1.0")
        .or_else(|| path.strip_prefix("/beta"))
        .unwrap_or(&path);
    super::routes::normalize_path(rest)
}

/// The least-privileged application permission a route needs.
pub fn permission_for(method: &Method, url: &str) -> String {
    super::routes::route(method.as_str(), &path_below_version(url))
        .and_then(|(_, perms)| perms.first().map(|p| p.to_string()))
        .unwrap_or_else(|| "(see the README's permission table)".into())
}

/// reqwest errors print the URL; keep the route only (no query strings).
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), u.path());
    }
    crate::redact::text(&s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_from_the_header_else_the_body() {
        let body = serde_json::json!({ "error": { "code": "x", "innerError": { "request-id": "from-body" } } });
        let mut headers = HeaderMap::new();
        assert_eq!(
            request_id(&headers, Some(&body)).as_deref(),
            Some("from-body")
        );
        headers.insert("request-id", "from-header".parse().unwrap());
        assert_eq!(
            request_id(&headers, Some(&body)).as_deref(),
            Some("from-header")
        );
        assert_eq!(request_id(&HeaderMap::new(), None), None);
    }

    #[test]
    fn error_parts_read_graph_errors_and_keep_other_text_short() {
        let body =
            serde_json::json!({ "error": { "code": "Request_BadRequest", "message": "no" } });
        assert_eq!(
            error_parts(Some(&body), ""),
            ("Request_BadRequest".to_string(), "no".to_string())
        );
        let long = "x".repeat(400);
        let (code, message) = error_parts(None, &long);
        assert_eq!((code.as_str(), message.len()), ("unknown", 300));
    }

    #[test]
    fn error_parts_mask_tokens_an_answer_echoes() {
        let body = serde_json::json!({ "error": { "code": "InvalidAuthenticationToken",
            "message": "token Bearer abcdef123456 rejected" } });
        let (code, message) = error_parts(Some(&body), "");
        assert_eq!(code, "InvalidAuthenticationToken");
        assert_eq!(message, "token Bearer [redacted] rejected");
        let (_, message) = error_parts(None, "access_token=abcdef123456&x=1");
        assert_eq!(message, "access_token=[redacted]&x=1");
    }
}
