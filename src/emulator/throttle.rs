//! Graph's published directory throttling, as the emulator applies it: a
//! budget of resource units per app (and tenant) per 10 s, where each
//! request costs what Microsoft's table says (`GET /users` 2, transitive
//! members of a group 5, a user's transitive groups 2, anything else 1;
//! `$select` and `$top` under 20 take one off, `$expand` adds one; never
//! under 1), and a budget of writes per 150 s. Both are sliding windows: a
//! request is refused with `429` when it does not fit, and `Retry-After`
//! says exactly when the window will have room for it. Pure: the caller
//! passes the time, so tests drive the clock; it must not read the clock,
//! the tenant or the network.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The limits per app (the emulator serves one tenant).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Resource units per window; `None`: by tenant size as published
    /// (3,500 under 50 users, 5,000 up to 500, 8,000 above).
    pub resource_units: Option<u32>,
    pub resource_window: Duration,
    /// Writes (POST, PATCH, PUT, DELETE) per window.
    pub writes: u32,
    pub write_window: Duration,
}

impl Default for Limits {
    /// The published identity limits per app and tenant.
    fn default() -> Self {
        Limits {
            resource_units: None,
            resource_window: Duration::from_secs(10),
            writes: 3000,
            write_window: Duration::from_secs(150),
        }
    }
}

impl Limits {
    /// The resource units per window for a tenant of `users` users.
    pub fn resource_units_for(&self, users: usize) -> u32 {
        self.resource_units.unwrap_or(match users {
            0..50 => 3500,
            50..=500 => 5000,
            _ => 8000,
        })
    }
}

/// The resource units a request costs (`path` below the version root,
/// normalised).
pub fn cost(method: &str, path: &str, query: &[(String, String)]) -> u32 {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let base: i64 = match (method, segs.as_slice()) {
        ("GET", ["users"]) | ("GET", ["users", "delta"]) => 2,
        ("GET", ["users", _, "transitiveMemberOf", ..]) => 2,
        ("GET", ["groups", _, "transitiveMembers", ..]) => 5,
        _ => 1,
    };
    let has = |k: &str| query.iter().any(|(q, _)| q.eq_ignore_ascii_case(k));
    let top_under_20 = query
        .iter()
        .find(|(q, _)| q.eq_ignore_ascii_case("$top"))
        .and_then(|(_, v)| v.parse::<u32>().ok())
        .is_some_and(|t| t < 20);
    let adjusted =
        base - i64::from(has("$select")) + i64::from(has("$expand")) - i64::from(top_under_20);
    adjusted.max(1) as u32
}

pub fn is_write(method: &str) -> bool {
    matches!(method, "POST" | "PATCH" | "PUT" | "DELETE")
}

/// What was spent in the last `span`, oldest first.
#[derive(Debug)]
struct Window {
    limit: u32,
    span: Duration,
    log: VecDeque<(Instant, u32)>,
    used: u32,
}

impl Window {
    fn new(limit: u32, span: Duration) -> Self {
        Window {
            limit: limit.max(1),
            span,
            log: VecDeque::new(),
            used: 0,
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(at, c)) = self.log.front() {
            if at + self.span > now {
                break;
            }
            self.used -= c;
            self.log.pop_front();
        }
    }

    /// How long until `cost` fits (zero: now). A cost above the limit
    /// waits for an empty window.
    fn wait(&self, cost: u32, now: Instant) -> Duration {
        let cost = cost.min(self.limit);
        let mut used = self.used;
        if used + cost <= self.limit {
            return Duration::ZERO;
        }
        for &(at, c) in &self.log {
            used -= c;
            if used + cost <= self.limit {
                return (at + self.span).saturating_duration_since(now);
            }
        }
        Duration::ZERO
    }

    fn take(&mut self, cost: u32, now: Instant) {
        self.used += cost;
        self.log.push_back((now, cost));
    }

    fn share(&self) -> f64 {
        f64::from(self.used) / f64::from(self.limit)
    }
}

#[derive(Debug)]
struct App {
    units: Window,
    writes: Window,
}

/// A refusal: how long to wait, and which limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub retry_after: Duration,
    /// `ResourceUnitLimitExceeded` or `WriteLimitExceeded`.
    pub information: &'static str,
    /// The `<Limit>` part of `x-ms-throttle-scope`: `ReadWrite` or `Write`.
    pub limit: &'static str,
}

/// The windows of every app.
#[derive(Debug)]
pub struct Throttle {
    limits: Limits,
    units: u32,
    apps: HashMap<String, App>,
}

impl Throttle {
    pub fn new(limits: Limits, users: usize) -> Self {
        Throttle {
            units: limits.resource_units_for(users),
            limits,
            apps: HashMap::new(),
        }
    }

    /// Admit a request of `cost` units (and one write when `write`) for
    /// `app` at `now`, spending from its windows; or refuse it, spending
    /// nothing. Admitted, it returns the share of the fuller window
    /// (0 to 1) after spending.
    pub fn admit(
        &mut self,
        app: &str,
        cost: u32,
        write: bool,
        now: Instant,
    ) -> Result<f64, Refusal> {
        let (units, span, writes, wspan) = (
            self.units,
            self.limits.resource_window,
            self.limits.writes,
            self.limits.write_window,
        );
        let a = self.apps.entry(app.to_string()).or_insert_with(|| App {
            units: Window::new(units, span),
            writes: Window::new(writes, wspan),
        });
        a.units.expire(now);
        a.writes.expire(now);
        let unit_wait = a.units.wait(cost, now);
        let write_wait = if write {
            a.writes.wait(1, now)
        } else {
            Duration::ZERO
        };
        if !unit_wait.is_zero() || !write_wait.is_zero() {
            return Err(if write_wait > unit_wait {
                Refusal {
                    retry_after: write_wait,
                    information: "WriteLimitExceeded",
                    limit: "Write",
                }
            } else {
                Refusal {
                    retry_after: unit_wait,
                    information: "ResourceUnitLimitExceeded",
                    limit: "ReadWrite",
                }
            });
        }
        a.units.take(cost.min(a.units.limit), now);
        if write {
            a.writes.take(1, now);
        }
        Ok(a.units
            .share()
            .max(if write { a.writes.share() } else { 0.0 }))
    }
}

/// Seconds as Graph writes `Retry-After`: fractional, up to milliseconds
/// (`2.128`, `10`), never under one millisecond.
pub fn seconds(d: Duration) -> String {
    let ms = d.as_millis().max(1);
    let s = format!("{}.{:03}", ms / 1000, ms % 1000);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn requests_cost_what_the_published_table_says() {
        assert_eq!(cost("GET", "/users", &[]), 2);
        assert_eq!(cost("GET", "/users", &q(&[("$select", "id")])), 1);
        assert_eq!(
            cost("GET", "/users", &q(&[("$select", "id"), ("$top", "5")])),
            1
        );
        assert_eq!(cost("GET", "/users", &q(&[("$expand", "manager")])), 3);
        assert_eq!(
            cost(
                "GET",
                "/groups/g/transitiveMembers/microsoft.graph.user",
                &[]
            ),
            5
        );
        assert_eq!(
            cost(
                "GET",
                "/groups/g/transitiveMembers",
                &q(&[("$select", "id"), ("$top", "999")])
            ),
            4
        );
        assert_eq!(cost("GET", "/users/u/transitiveMemberOf", &[]), 2);
        assert_eq!(
            cost(
                "GET",
                "/admin/teams/userConfigurations",
                &q(&[("$top", "10")])
            ),
            1
        );
        assert_eq!(
            cost("POST", "/admin/teams/policy/userAssignments/assign", &[]),
            1
        );
        assert!(is_write("POST") && !is_write("GET"));
    }

    #[test]
    fn published_defaults_follow_tenant_size() {
        let l = Limits::default();
        assert_eq!(
            (
                l.resource_units_for(10),
                l.resource_units_for(200),
                l.resource_units_for(501)
            ),
            (3500, 5000, 8000)
        );
        assert_eq!((l.writes, l.write_window), (3000, Duration::from_secs(150)));
        assert_eq!(l.resource_window, Duration::from_secs(10));
    }

    #[test]
    fn retry_after_is_the_time_until_the_window_has_room() {
        let limits = Limits {
            resource_units: Some(10),
            ..Limits::default()
        };
        let mut t = Throttle::new(limits, 1000);
        let t0 = Instant::now();
        // 4 + 4 at t0, 2 at t0+3s: full.
        assert!(t.admit("app", 4, false, t0).is_ok());
        assert!(t.admit("app", 4, false, t0).is_ok());
        let share = t
            .admit("app", 2, false, t0 + Duration::from_secs(3))
            .unwrap();
        assert_eq!(share, 1.0);
        // One unit more at t0+4.5s must wait for the first two to leave
        // (t0+10s), 5.5 s; the refusal spends nothing.
        let r = t
            .admit("app", 1, false, t0 + Duration::from_millis(4500))
            .unwrap_err();
        assert_eq!(r.retry_after, Duration::from_millis(5500));
        assert_eq!(r.information, "ResourceUnitLimitExceeded");
        assert_eq!(seconds(r.retry_after), "5.5");
        // Five units need the t0 pair gone too: the same instant.
        let r = t
            .admit("app", 5, false, t0 + Duration::from_millis(4500))
            .unwrap_err();
        assert_eq!(r.retry_after, Duration::from_millis(5500));
        // At t0+10s the first two have left: 8 units free.
        assert!(
            t.admit("app", 8, false, t0 + Duration::from_secs(10))
                .is_ok()
        );
        // Another app has its own windows.
        assert!(t.admit("other", 10, false, t0).is_ok());
    }

    #[test]
    fn writes_have_their_own_window() {
        let limits = Limits {
            resource_units: Some(1000),
            writes: 2,
            write_window: Duration::from_secs(150),
            ..Limits::default()
        };
        let mut t = Throttle::new(limits, 1000);
        let t0 = Instant::now();
        assert!(t.admit("app", 1, true, t0).is_ok());
        assert!(
            t.admit("app", 1, true, t0 + Duration::from_secs(60))
                .is_ok()
        );
        let r = t
            .admit("app", 1, true, t0 + Duration::from_secs(100))
            .unwrap_err();
        assert_eq!(r.retry_after, Duration::from_secs(50));
        assert_eq!((r.information, r.limit), ("WriteLimitExceeded", "Write"));
        // Reads still pass.
        assert!(
            t.admit("app", 1, false, t0 + Duration::from_secs(100))
                .is_ok()
        );
        assert!(
            t.admit("app", 1, true, t0 + Duration::from_secs(150))
                .is_ok()
        );
    }

    #[test]
    fn retry_after_is_written_as_graph_does() {
        assert_eq!(seconds(Duration::from_millis(2128)), "2.128");
        assert_eq!(seconds(Duration::from_secs(10)), "10");
        assert_eq!(seconds(Duration::from_millis(250)), "0.25");
        assert_eq!(seconds(Duration::from_micros(10)), "0.001");
    }
}
