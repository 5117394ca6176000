//! Prometheus metrics of `reconcile --watch`: counters the watch loop
//! bumps after each round, and a small HTTP server (axum, on its own
//! thread) answering `GET /metrics` in the text exposition format, so an
//! operator can alert on a watcher that stopped converging. The text is
//! written by hand: six series do not need an encoding library. It must
//! not decide anything about rounds.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::reconcile::on_own_thread;

/// The watcher's counters (all monotonic but the timestamp).
#[derive(Debug, Default)]
pub struct Metrics {
    pub full_rounds: AtomicU64,
    pub delta_rounds: AtomicU64,
    /// Users changed by applied plans.
    pub changes: AtomicU64,
    /// Rounds that failed (an error, or writes that failed).
    pub failures: AtomicU64,
    /// Unix time (seconds) of the last round that ended converged or applied
    /// without failures; 0 before the first.
    pub last_success: AtomicU64,
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
}

impl Metrics {
    /// The metrics in the Prometheus text exposition format (0.0.4).
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, v) in samples {
                let _ = writeln!(out, "{name}{labels} {v}");
            }
        };
        family(
            "roster_rounds_total",
            "counter",
            "Reconcile rounds run, by kind (full: the whole tenant read; delta: only the users the directory changed).",
            &[
                ("{kind=\"full\"}", get(&self.full_rounds)),
                ("{kind=\"delta\"}", get(&self.delta_rounds)),
            ],
        );
        family(
            "roster_changes_total",
            "counter",
            "Users changed by applied plans.",
            &[("", get(&self.changes))],
        );
        family(
            "roster_failures_total",
            "counter",
            "Rounds that failed or had writes that failed.",
            &[("", get(&self.failures))],
        );
        family(
            "roster_last_success_timestamp_seconds",
            "gauge",
            "Unix time of the last round that ended converged or applied without failures.",
            &[("", get(&self.last_success))],
        );
        family(
            "roster_requests_total",
            "counter",
            "Graph requests sent (each $batch counts once).",
            &[("", get(&self.requests))],
        );
        family(
            "roster_throttled_responses_total",
            "counter",
            "Graph answers that were 429 Too Many Requests (batch sub-requests included).",
            &[("", get(&self.throttled))],
        );
        out
    }
}

/// Serve `GET /metrics` on `addr` from a thread of its own, for the life
/// of the process. Binding happens before this returns, so a taken port
/// is reported at start.
pub fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<SocketAddr, String> {
    let listener = std::net::TcpListener::bind(addr).map_err(|e| {
        format!(
            "cannot serve metrics on {addr}: {e}\nhint: pick a free address with `--metrics-addr 127.0.0.1:PORT`"
        )
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))?;
    on_own_thread("metrics", async move {
        let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
            return;
        };
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let m = metrics.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        m.render(),
                    )
                }
            }),
        );
        let _ = axum::serve(listener, app).await;
    })
    .map_err(|e| format!("cannot start the metrics server: {e}"))?;
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_has_help_type_and_labelled_samples() {
        let m = Metrics::default();
        m.delta_rounds.fetch_add(3, Ordering::Relaxed);
        m.throttled.fetch_add(2, Ordering::Relaxed);
        let text = m.render();
        assert!(
            text.contains("# TYPE roster_rounds_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("roster_rounds_total{kind=\"delta\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("roster_rounds_total{kind=\"full\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("roster_throttled_responses_total 2\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE roster_last_success_timestamp_seconds gauge\n"));
        assert!(text.ends_with('\n'));
    }
}
