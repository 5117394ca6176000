//! `roster explain`: why one user gets what it gets, as data
//! ([`Explanation`]) and as text ([`Explanation::render`]).
//!
//! The verdict comes from [`desired::Engine::decide`] with traces, and the
//! desired policies and numbers from the same [`desired::compute`] the plan
//! uses, so the explanation cannot disagree with the plan; the licence
//! verdict comes from [`crate::licensing`], as the plan's. Pure: no I/O.

use std::fmt::Write as _;

use crate::desired::{self, Decision, DesiredState, DesiredUser, Verdict};
use crate::issue::Issue;
use crate::licensing::{Grant, Licences, Need};
use crate::live::LiveState;
use crate::manifest::Manifest;
use crate::rules::Trace;

/// Everything `explain` shows for one user.
pub struct Explanation<'a> {
    pub manifest: &'a Manifest,
    pub live: &'a LiveState,
    /// Index into `live.users`.
    pub user: usize,
    /// The decision, with every condition's verdict.
    pub decision: Decision<'a>,
    /// What the plan wants for the user (`None` when roster leaves the
    /// user alone: ignored, out of scope, unmatched).
    pub desired: Option<DesiredUser>,
    /// The plan's errors about this user.
    pub errors: Vec<Issue>,
}

/// Explain the user at `index` of `live.users`.
pub fn explain<'a>(manifest: &'a Manifest, live: &'a LiveState, index: usize) -> Explanation<'a> {
    let engine = desired::Engine::new(manifest, live);
    let state = desired::compute(manifest, live);
    explain_with(&engine, &state, live, index)
}

/// [`explain`] with the engine and the desired state already built (to
/// explain many users of one tenant).
pub fn explain_with<'a>(
    engine: &desired::Engine<'a>,
    state: &DesiredState,
    live: &'a LiveState,
    index: usize,
) -> Explanation<'a> {
    let upn = live.users[index].upn.as_str();
    Explanation {
        manifest: engine.manifest,
        live,
        user: index,
        decision: engine.decide(live, index, true),
        desired: state.users.iter().find(|d| d.user == index).cloned(),
        errors: state
            .errors
            .iter()
            .filter(|e| e.user.as_deref() == Some(upn))
            .cloned()
            .collect(),
    }
}

impl Explanation<'_> {
    /// The persona the decision gives (`None` for leavers, unmatched,
    /// ignored and out-of-scope users).
    pub fn persona(&self) -> Option<&str> {
        self.decision.verdict.persona(self.manifest)
    }

    /// The explanation as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_user(&mut out);
        self.render_decision(&mut out);
        self.render_live(&mut out);
        self.render_desired(&mut out);
        out
    }

    fn render_user(&self, out: &mut String) {
        let user = &self.live.users[self.user];
        let _ = writeln!(out, "user {} ({})", user.upn, user.id);
        if let Some(n) = &user.display_name {
            let _ = writeln!(out, "  displayName: {n}");
        }
        let _ = writeln!(out, "  accountEnabled: {}", user.account_enabled);
    }

    /// The decision: scope, then each rule tried with every condition's
    /// verdict (also the trail of a failing rule test).
    pub fn render_decision(&self, out: &mut String) {
        let m = self.manifest;
        let trail = self.decision.trail.as_ref();
        if let Some((holds, trace)) = trail.and_then(|t| t.scope.as_ref()) {
            let verdict = if *holds { "in scope" } else { "out of scope" };
            let _ = writeln!(out, "\nscope: {verdict}");
            write_traces(out, trace, 2);
        }
        match self.decision.verdict {
            Verdict::Ignored => {
                let _ = writeln!(
                    out,
                    "\nignored by a user override: roster never touches this user."
                );
            }
            Verdict::OutOfScope => {
                let _ = writeln!(out, "\nout of scope: roster never touches this user.");
            }
            Verdict::Leaver => {
                let leavers = &m.settings().leavers;
                let _ = writeln!(
                    out,
                    "\nleaver (account disabled): rules are not evaluated; release-number={}, reset-policies={}",
                    leavers.release_number, leavers.reset_policies
                );
            }
            Verdict::Override(p) => {
                let _ = writeln!(
                    out,
                    "\npersona `{p}` from a user override (rules are not evaluated)"
                );
            }
            Verdict::Rule(_) | Verdict::Unmatched => {
                let _ = writeln!(out, "\nrules, in order:");
                for t in trail.map_or(&[][..], |t| &t.rules) {
                    let rule = &m.rules[t.rule];
                    let _ = writeln!(
                        out,
                        "  {} rule \"{}\" -> persona {}{}",
                        mark(t.holds),
                        rule.name.value,
                        rule.persona.value,
                        if rule.when.is_empty() {
                            " (no conditions: matches everyone)"
                        } else {
                            ""
                        }
                    );
                    write_traces(out, &t.conditions, 6);
                }
                if self.decision.verdict == Verdict::Unmatched {
                    let _ = writeln!(
                        out,
                        "\nunmatched: no rule matches, so roster leaves this user alone."
                    );
                }
            }
        }
    }

    fn render_live(&self, out: &mut String) {
        let live = self.live;
        let user = &live.users[self.user];
        let _ = writeln!(out, "\nlive direct assignments:");
        if user.policies.is_empty() {
            let _ = writeln!(out, "  (none: Global or group assignments apply)");
        }
        for (t, n) in &user.policies {
            let _ = writeln!(out, "  {t}: {n}");
        }
        let held = live.numbers_by_holder();
        let numbers = held.get(user.id.as_str()).cloned().unwrap_or_default();
        let numbers = if numbers.is_empty() {
            "(none)".to_string()
        } else {
            numbers
                .iter()
                .map(|n| {
                    let category = n.category.as_deref().unwrap_or("primary");
                    format!("{} ({category})", n.number)
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(out, "live numbers: {numbers}");
        render_licences(out, live, user);
        let groups: Vec<_> = live
            .group_policies
            .iter()
            .filter(|g| {
                user.groups
                    .iter()
                    .any(|&i| live.groups[i as usize].id == g.group_id)
            })
            .collect();
        if !groups.is_empty() {
            let _ = writeln!(
                out,
                "group policy assignments (apply where no direct assignment):"
            );
            for g in groups {
                let _ = writeln!(
                    out,
                    "  {}: {} (rank {}, group {})",
                    g.policy_type, g.policy_name, g.rank, g.group_id
                );
            }
        }
    }

    fn render_desired(&self, out: &mut String) {
        let user = &self.live.users[self.user];
        if let Some(d) = &self.desired {
            let _ = writeln!(
                out,
                "\ndesired (persona {}):",
                d.persona.as_deref().unwrap_or("-")
            );
            for (t, p) in d.policies.iter() {
                let live_v = user.policies.get(t).map(String::as_str).unwrap_or("Global");
                let want = p.as_deref().unwrap_or("Global");
                let mark = if live_v.eq_ignore_ascii_case(want) {
                    "="
                } else {
                    "~"
                };
                let _ = writeln!(out, "  {mark} {t}: {want} (live: {live_v})");
            }
            for n in &d.release {
                let _ = writeln!(out, "  - number {n} released");
            }
            if let Some(a) = &d.assign {
                let _ = writeln!(
                    out,
                    "  + number {} ({})",
                    a.number,
                    a.range.as_deref().unwrap_or("pinned")
                );
            }
        }
        for e in &self.errors {
            let _ = writeln!(out, "error: [{}] {}", e.code, e.message);
        }
    }
}

/// The licence verdict: what `unlicensed-user` errors are decided by.
fn render_licences(out: &mut String, live: &LiveState, user: &crate::live::User) {
    let Some(licences) = Licences::of(live) else {
        let _ = writeln!(
            out,
            "licences: not recorded for this tenant (licensing is not checked)"
        );
        return;
    };
    let skus: Vec<String> = user
        .licences
        .iter()
        .map(|l| match licences.part_number(&l.sku_id) {
            Some(part) => format!("{part} ({})", l.sku_id),
            None => format!("{} (not among subscribedSkus)", l.sku_id),
        })
        .collect();
    let skus = if skus.is_empty() {
        "(none)".to_string()
    } else {
        skus.join(", ")
    };
    let _ = writeln!(out, "licences: {skus}");
    for need in [Need::TeamsPhone, Need::CallingPlan] {
        let line = match licences.grant(user, need) {
            Grant::Enabled { sku, plan } => {
                format!("{} {}: `{plan}` from `{sku}`", mark(true), need.name())
            }
            Grant::Missing {
                disabled_in,
                unknown_skus,
            } => {
                let mut why = vec!["not enabled".to_string()];
                if !disabled_in.is_empty() {
                    why.push(format!("disabled in {}", disabled_in.join(", ")));
                }
                if !unknown_skus.is_empty() {
                    why.push(format!(
                        "not among subscribedSkus: {}",
                        unknown_skus.join(", ")
                    ));
                }
                format!("{} {}: {}", mark(false), need.name(), why.join("; "))
            }
        };
        let _ = writeln!(out, "  {line}");
    }
}

fn mark(holds: bool) -> &'static str {
    if holds { "✓" } else { "✗" }
}

fn write_traces(out: &mut String, traces: &[Trace], indent: usize) {
    for t in traces {
        let value = match &t.value {
            Some(v) => format!(" (value: {v:?})"),
            None if t.children.is_empty() => " (value: missing)".to_string(),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "{:indent$}{} {}{value}",
            "",
            mark(t.holds),
            t.test,
            indent = indent
        );
        write_traces(out, &t.children, indent + 2);
    }
}
